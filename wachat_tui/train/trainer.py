"""The trainer: TRL's SFTTrainer on pre-tokenized samples, with the persona loss, our batching,
token counting and a token-weighted evaluation, and how it is built from a TrainConfig.

Samples are tokenized by ``data.py`` (labels only on the persona's replies) and handed to TRL
as they are; no gradient checkpointing on the CPU, where memory is not the constraint.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Sequence

import torch
from trl import SFTConfig, SFTTrainer

from .batching import ChatCollator, GroupedSampler, resolve_batching
from .config import TrainConfig
from .data import Tokenized
from .modeling import install_compact_loss, lora_config, persona_nll, seed_token_rows, untrained_token_ids


class PersonaTrainer(SFTTrainer):
    """SFTTrainer with the compact persona-only loss, token counting and a token-weighted eval."""

    def __init__(self, *args, sampler_lengths: Sequence[int] | None = None, **kwargs):
        self.sampler_lengths = list(sampler_lengths) if sampler_lengths is not None else None
        """Sample lengths for length-grouped batches (None: TRL's own sampler)."""
        self.tokens_seen = 0
        """Real (non-padding) tokens of the training batches this process has run."""
        super().__init__(*args, **kwargs)
        base = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
        self.compact_loss = install_compact_loss(base)
        """Whether the LM head runs only on labelled positions (not for models that scale logits)."""

    def _get_train_sampler(self, train_dataset=None):
        # a distributed run needs the default sampler, which shards the data between processes
        if self.sampler_lengths is not None and self.args.world_size <= 1:
            return GroupedSampler(self.sampler_lengths, self.args.per_device_train_batch_size, self.args.seed)
        return super()._get_train_sampler(train_dataset)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        if model.training:
            mask = inputs.get("attention_mask")
            self.tokens_seen += int(mask.sum()) if mask is not None else int(inputs["input_ids"].numel())
        nll, n = persona_nll(model, inputs, self.compact_loss)
        denom = n if num_items_in_batch is None else num_items_in_batch
        loss = nll / torch.as_tensor(denom, device=nll.device).clamp(min=1)
        if self.args.average_tokens_across_devices and num_items_in_batch is not None and model.training:
            # num_items_in_batch counts every process's tokens, and DDP averages the gradients
            loss = loss * self.accelerator.num_processes
        return (loss, {"loss": loss}) if return_outputs else loss

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
        """Token-weighted validation loss over all persona tokens (summed across processes)."""
        started = time.time()
        loader = self.get_eval_dataloader(eval_dataset)
        model = self.model_wrapped if self.model_wrapped is not None else self.model
        was_training = model.training
        model.eval()
        dev = self.args.device
        tot = torch.zeros(2, dtype=torch.float64, device=dev)
        with torch.no_grad():
            for batch in loader:
                nll, n = persona_nll(model, self._prepare_inputs(batch), self.compact_loss)
                tot[0] += nll.double().to(dev)
                tot[1] += n.double().to(dev)
        if self.accelerator.num_processes > 1:
            tot = self.accelerator.reduce(tot, reduction="sum")
        if was_training:
            model.train()
        loss = float(tot[0] / tot[1].clamp(min=1))
        metrics = {
            f"{metric_key_prefix}_loss": loss,
            f"{metric_key_prefix}_perplexity": math.exp(min(loss, 50.0)),
            f"{metric_key_prefix}_tokens": int(tot[1]),
            f"{metric_key_prefix}_runtime": round(time.time() - started, 3),
        }
        self.log(metrics)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
        return metrics


def training_arguments(cfg: TrainConfig, output_dir: Path, total_steps: int, *, evaluate: bool,
                       save: bool = True) -> SFTConfig:
    """TRL's arguments for this config; the warmup is given in whole steps (see ``warmup_steps``)."""
    device = cfg.device or "cpu"
    bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
    gc = cfg.resolved_gradient_checkpointing()
    return SFTConfig(
        output_dir=str(output_dir),
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.epochs,
        max_steps=total_steps,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_steps(total_steps),
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        logging_steps=cfg.logging_steps,
        eval_strategy="steps" if evaluate else "no",
        eval_steps=cfg.resolved_eval_steps(total_steps),
        save_strategy="steps" if save else "no",
        save_steps=cfg.resolved_save_steps(total_steps),
        save_total_limit=cfg.save_total_limit,
        seed=cfg.seed,
        data_seed=cfg.seed,
        bf16=bf16,
        fp16=device == "cuda" and not bf16,
        activation_checkpointing=gc,
        activation_checkpointing_kwargs={"use_reentrant": False} if gc else None,
        report_to="none",
        disable_tqdm=True,
        use_cpu=device == "cpu",
        dataloader_pin_memory=device == "cuda",
        ddp_find_unused_parameters=False,  # every LoRA weight takes part in every step
        remove_unused_columns=False,
        max_length=None,
        dataset_kwargs={"skip_prepare_dataset": True},
        padding_free=False,  # our collator does it (TRL's refuses custom collators with it on)
        save_only_model=False,
        log_level="warning",
    )


def build_trainer(model, tokenizer, train_tok: Sequence[Tokenized], val_tok: Sequence[Tokenized],
                  cfg: TrainConfig, output_dir: Path, total_steps: int, save: bool = True) -> PersonaTrainer:
    """Our trainer for pre-tokenized samples: (Q)LoRA adapters, our batching and the persona loss."""
    from datasets import Dataset

    device = cfg.device or "cpu"
    batching = resolve_batching(cfg)

    def to_dataset(rows):
        return Dataset.from_dict({"input_ids": [t.input_ids for t in rows], "labels": [t.labels for t in rows]})

    eval_ds = to_dataset(sorted(val_tok, key=lambda t: len(t.input_ids))) if val_tok else None  # sorted: little padding
    collator = ChatCollator(tokenizer.pad_token_id, padding_free=batching == "padding_free",
                            pad_to_multiple_of=8 if device == "cuda" else None)
    trainer = PersonaTrainer(
        model=model, args=training_arguments(cfg, output_dir, total_steps, evaluate=eval_ds is not None, save=save),
        data_collator=collator, train_dataset=to_dataset(train_tok), eval_dataset=eval_ds,
        processing_class=tokenizer, peft_config=lora_config(cfg, model, untrained_token_ids(cfg, tokenizer)),
        sampler_lengths=[len(t.input_ids) for t in train_tok] if batching == "grouped" else None)
    seed_token_rows(trainer.model, cfg, tokenizer)
    if device != "cuda":
        # TRL keeps QLoRA adapters in bf16 (paper recipe); CPUs do fp32 math much faster
        for p in trainer.model.parameters():
            if p.requires_grad and p.dtype != torch.float32:
                p.data = p.data.float()
    return trainer


def load_checkpoint_weights(trainer: PersonaTrainer, checkpoint: Path) -> None:
    """Adapter weights and trainer state of a checkpoint, without training."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import TrainerState

    weights = checkpoint / "adapter_model.safetensors"
    set_peft_model_state_dict(trainer.model, load_file(str(weights), device=str(trainer.args.device)))
    trainer.state = TrainerState.load_from_json(str(checkpoint / "trainer_state.json"))
