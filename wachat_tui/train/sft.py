"""The training run: base model + (Q)LoRA + TRL's SFTTrainer, with callbacks turned into events.

Efficiency choices (see benchmarks/train_bench.py for their effect):
- samples are tokenized here, with labels only on the persona's replies (``data.py``), and
  handed to TRL pre-tokenized;
- batches waste no compute on padding: length-grouped batches on the CPU (attention stays
  per sample), padding-free concatenation with restarting position ids on CUDA;
- the LM head runs only on the positions that carry loss (the persona's tokens), not on the
  whole sequence — for a 135M model with a 49k vocabulary the head is a fifth of the FLOPs;
- no gradient checkpointing on the CPU, where memory is not the constraint.
"""
from __future__ import annotations

import functools
import json
import math
import os
import random
import shutil
import tempfile
import threading
import time
import types
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Sequence

import torch
import torch.nn.functional as F
from torch.utils.data import Sampler

from ..core.atomic import write_json, write_jsonl
from ..errors import ModelError, WachatError
from ..paths import ensure_private_dir
from . import data as chat_data
from .config import TrainConfig
from ..events import Checkpointed, Evaluated, Event, Failed, Finished, Log, Sampled, Started, Step
from .models import ResolvedBase, resolve_base
from .runner import new_run_id, pid_alive

OOM_HINT = "lower --batch-size, shorten --seq-len, or use --qlora"


class TrainingCancelled(Exception):
    pass


def out_of_memory(exc: BaseException) -> str | None:
    """A one-line error for an out-of-memory failure (GPU or CPU), else None."""
    text = str(exc).strip()
    first = text.splitlines()[0][:200] if text else ""
    if isinstance(exc, torch.OutOfMemoryError):
        return f"out of GPU memory ({first})" if first else "out of GPU memory"
    if isinstance(exc, MemoryError):
        return "out of memory (the system could not allocate more RAM)"
    low = text.lower()
    if "out of memory" in low or "can't allocate memory" in low or "cannot allocate memory" in low:
        return f"out of memory ({first})"
    return None


# =========================================================================== run files
@dataclass
class RunPaths:
    dir: Path

    @property
    def run_json(self) -> Path:
        return self.dir / "run.json"

    @property
    def events(self) -> Path:
        return self.dir / "events.jsonl"

    @property
    def metrics(self) -> Path:
        return self.dir / "metrics.json"

    @property
    def samples(self) -> Path:
        return self.dir / "samples.jsonl"

    @property
    def adapter(self) -> Path:
        return self.dir / "adapter"

    @property
    def checkpoints(self) -> Path:
        return self.dir / "checkpoints"


def last_checkpoint(checkpoints: Path) -> Path | None:
    """The newest checkpoint that was written completely (trainer_state.json is saved last)."""
    if not checkpoints.is_dir():
        return None
    found = []
    for p in checkpoints.iterdir():
        if p.is_dir() and p.name.startswith("checkpoint-") and (p / "trainer_state.json").exists():
            try:
                found.append((int(p.name.split("-", 1)[1]), p))
            except ValueError:
                continue
    return max(found)[1] if found else None


def is_main_process() -> bool:
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0")) or 0) == 0


class Emitter:
    """Writes each event as a JSON line on the event stream and appends it to events.jsonl.

    Only the main process of a distributed (``accelerate launch``) run emits."""

    def __init__(self, stream, events_path: Path | None = None, enabled: bool = True):
        self.stream = stream
        self.events_path = events_path
        self.enabled = enabled
        self._lock = threading.Lock()
        self.listeners: list[Callable[[Event], None]] = []

    def __call__(self, event: Event) -> None:
        if not self.enabled:
            return
        line = event.to_json()
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass  # a reader that went away must not kill the run
            if self.events_path is not None:
                ensure_private_dir(self.events_path.parent)
                fd = os.open(self.events_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(fd, "a", encoding="utf-8") as fh:
                    fh.write(line + "\n")
        for listener in self.listeners:
            listener(event)

    def log(self, message: str, level: str = "info") -> None:
        self(Log(message=message, level=level))


# =========================================================================== batching
class ChatCollator:
    """Pads (right) or concatenates pre-tokenized samples; labels are -100 outside the persona's replies."""

    def __init__(self, pad_id: int, padding_free: bool = False, pad_to_multiple_of: int | None = None):
        self.pad_id = pad_id
        self.padding_free = padding_free
        self.pad_to_multiple_of = pad_to_multiple_of

    def __call__(self, features: list[dict]) -> dict:
        ids = [list(f["input_ids"]) for f in features]
        labels = [list(f["labels"]) for f in features]
        if self.padding_free:
            flat_ids, flat_labels, pos, starts = [], [], [], [0]
            for a, b in zip(ids, labels):
                flat_ids += a
                flat_labels += [-100] + b[1:]  # never predict a sample's first token from the previous one
                pos += list(range(len(a)))
                starts.append(starts[-1] + len(a))
            cu = torch.tensor(starts, dtype=torch.int32)
            return {
                "input_ids": torch.tensor([flat_ids]),
                "labels": torch.tensor([flat_labels]),
                "position_ids": torch.tensor([pos]),
                "cu_seq_lens_q": cu, "cu_seq_lens_k": cu,
                "max_length_q": int(cu.diff().max()), "max_length_k": int(cu.diff().max()),
            }
        width = max(len(a) for a in ids)
        if self.pad_to_multiple_of:
            m = self.pad_to_multiple_of
            width = (width + m - 1) // m * m
        input_ids = torch.full((len(ids), width), self.pad_id, dtype=torch.long)
        lab = torch.full((len(ids), width), -100, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for i, (a, b) in enumerate(zip(ids, labels)):
            input_ids[i, : len(a)] = torch.tensor(a)
            lab[i, : len(b)] = torch.tensor(b)
            mask[i, : len(a)] = 1
        return {"input_ids": input_ids, "labels": lab, "attention_mask": mask}


class GroupedSampler(Sampler):
    """Random batches of similar length: shuffle, sort inside mega-batches, shuffle the batches.

    Seeded per epoch (``set_epoch``), so a resumed run replays the same order."""

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int, mega_mult: int = 16):
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.mega = max(batch_size, batch_size * mega_mult)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        rng = random.Random(self.seed * 1000003 + self.epoch)
        order = list(range(len(self.lengths)))
        rng.shuffle(order)
        batches = []
        for i in range(0, len(order), self.mega):
            mega = sorted(order[i: i + self.mega], key=lambda j: self.lengths[j], reverse=True)
            batches += [mega[k: k + self.batch_size] for k in range(0, len(mega), self.batch_size)]
        full = [b for b in batches if len(b) == self.batch_size]
        partial = [b for b in batches if len(b) != self.batch_size]
        rng.shuffle(full)
        for b in full + partial:  # a short batch only at the very end keeps the batch boundaries aligned
            yield from b


# =========================================================================== compact loss
def install_compact_loss(causal_lm) -> bool:
    """Let ``model(..., labels=…, wachat_nll=True)`` return the summed NLL over labelled positions,
    projecting only those hidden states through the LM head. Returns False (and installs
    nothing) for models whose logits need extra scaling."""
    cfg = causal_lm.config.get_text_config() if hasattr(causal_lm.config, "get_text_config") else causal_lm.config
    for attr in ("final_logit_softcapping", "logit_scale", "logits_scaling", "output_multiplier"):
        if getattr(cfg, attr, None) not in (None, 1, 1.0):
            return False
    original = causal_lm.forward
    prefix = causal_lm.base_model_prefix

    @functools.wraps(type(causal_lm).forward)
    def forward(self, *args, wachat_nll=False, **kwargs):
        if not wachat_nll:
            return original(*args, **kwargs)
        labels = kwargs.pop("labels")
        kwargs.pop("num_items_in_batch", None)
        kwargs["use_cache"] = False
        out = getattr(self, prefix)(*args, **kwargs)
        hidden = out.last_hidden_state[:, :-1]
        target = labels[:, 1:].to(hidden.device)
        mask = target != -100
        return {"nll_sum": chunked_nll(hidden[mask], target[mask], self.get_output_embeddings()),
                "n_tokens": mask.sum()}

    causal_lm.forward = types.MethodType(forward, causal_lm)
    return True


def _nll_chunk(h, y, weight, bias):
    logits = F.linear(h, weight, bias).float()
    return F.cross_entropy(logits, y, reduction="sum")


def chunked_nll(hidden: torch.Tensor, target: torch.Tensor, lm_head, max_elems: int = 1 << 27) -> torch.Tensor:
    """Summed cross entropy; large (tokens × vocab) problems run in chunks whose logits are
    recomputed in the backward pass instead of being stored."""
    weight, bias = lm_head.weight, lm_head.bias
    if hidden.shape[0] == 0:
        return hidden.sum() * 0.0 + weight.sum() * 0.0
    hidden = hidden.to(weight.dtype) if hidden.dtype != weight.dtype and weight.dtype.is_floating_point else hidden
    rows = max(1, max_elems // weight.shape[0])
    if hidden.shape[0] <= rows:
        return _nll_chunk(hidden, target, weight, bias)
    from torch.utils.checkpoint import checkpoint

    total = None
    for h, y in zip(hidden.split(rows), target.split(rows)):
        part = checkpoint(_nll_chunk, h, y, weight, bias, use_reentrant=False)
        total = part if total is None else total + part
    return total


# =========================================================================== model loading
def load_tokenizer(path: Path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    if not getattr(tok, "is_fast", True):
        raise ModelError(f"the tokenizer of {path} is not a fast tokenizer", "pick a model with tokenizer.json")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token or tok.unk_token
    if not tok.chat_template:
        raise ModelError(f"the base model at {path} has no chat template",
                         "use an instruct/chat model (it must define tokenizer.chat_template)")
    return tok


def load_base_model(path: Path, config: TrainConfig):
    """The base model in the requested precision (4-bit NF4 for QLoRA), frozen."""
    from transformers import AutoModelForCausalLM

    device = config.device or "cpu"
    kwargs: dict = {}
    if device == "cuda":
        compute = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        compute = torch.float32
    if config.mode == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
        )
        kwargs["dtype"] = compute
        if device == "cuda":
            kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))}
        else:
            kwargs["device_map"] = {"": "cpu"}
    else:
        kwargs["dtype"] = compute
    if device == "cuda":
        try:
            import flash_attn  # noqa: F401

            kwargs["attn_implementation"] = "flash_attention_2"
        except ImportError:
            kwargs["attn_implementation"] = "sdpa"
    else:
        kwargs["attn_implementation"] = "sdpa"
    try:
        model = AutoModelForCausalLM.from_pretrained(str(path), **kwargs)
    except (torch.OutOfMemoryError, MemoryError):
        raise
    except ImportError as exc:
        raise ModelError(f"cannot load the base model in {config.mode} mode: {exc}".splitlines()[0],
                         "install bitsandbytes for QLoRA, or use --lora") from None
    except Exception as exc:
        raise ModelError(f"cannot load base model from {path}: {type(exc).__name__}: {exc}".splitlines()[0],
                         "check the model folder or hub id") from None
    if config.mode == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=config.resolved_gradient_checkpointing(),
            gradient_checkpointing_kwargs={"use_reentrant": False})
    return model


def lora_config(config: TrainConfig, model):
    from peft import LoraConfig

    present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    targets = [t for t in config.target_modules if t in present]
    if not targets:
        raise WachatError(f"none of the LoRA target modules {list(config.target_modules)} exist in this model",
                          "pass --target-modules names from the model's Linear layers")
    return LoraConfig(r=config.rank, lora_alpha=config.lora_alpha, lora_dropout=config.dropout,
                      target_modules=targets, bias="none", task_type="CAUSAL_LM")


# =========================================================================== the trainer
def build_trainer_class():
    from trl import SFTTrainer

    class WachatSFTTrainer(SFTTrainer):
        """SFTTrainer with the compact persona-only loss, token counting and a token-weighted eval."""

        wachat_sampler_lengths: list[int] | None = None
        wachat_compact: bool = True

        def _get_train_sampler(self, train_dataset=None):
            if self.wachat_sampler_lengths is not None and self.args.world_size <= 1:
                return GroupedSampler(self.wachat_sampler_lengths, self.args.per_device_train_batch_size,
                                      self.args.seed)
            return super()._get_train_sampler(train_dataset)

        def _nll(self, model, inputs):
            if self.wachat_compact:
                out = model(**inputs, wachat_nll=True)
                return out["nll_sum"], out["n_tokens"]
            labels = inputs["labels"]
            logits = model(**{k: v for k, v in inputs.items() if k != "labels"}, use_cache=False).logits
            y = labels[:, 1:].to(logits.device)
            lg = logits[:, :-1][y != -100].float()
            return F.cross_entropy(lg, y[y != -100], reduction="sum"), (y != -100).sum()

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            inputs = dict(inputs)
            if model.training:
                n_real = inputs["attention_mask"].sum() if "attention_mask" in inputs else inputs["input_ids"].numel()
                self.wachat_tokens += int(n_real)
            nll, n = self._nll(model, inputs)
            denom = n if num_items_in_batch is None else num_items_in_batch
            loss = nll / torch.as_tensor(denom, device=nll.device).clamp(min=1)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None and model.training:
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
                    batch = self._prepare_inputs(batch)
                    nll, n = self._nll(model, batch)
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

    WachatSFTTrainer.wachat_tokens = 0
    return WachatSFTTrainer


# =========================================================================== trainer assembly
def build_trainer(model, tokenizer, train_tok, val_tok, cfg: TrainConfig, output_dir: Path, total_steps: int,
                  callbacks: Sequence = (), save: bool = True):
    """Our SFTTrainer for pre-tokenized samples: (Q)LoRA adapters, our batching and compact loss."""
    from datasets import Dataset
    from trl import SFTConfig

    device = cfg.device or "cpu"
    batching = resolve_batching(cfg)
    eval_steps = cfg.resolved_eval_steps(total_steps)
    save_steps = cfg.resolved_save_steps(total_steps)
    bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
    fp16 = device == "cuda" and not bf16
    gc = cfg.resolved_gradient_checkpointing()

    def to_ds(rows, sort=False):
        rows = sorted(rows, key=lambda t: len(t.input_ids)) if sort else rows
        return Dataset.from_dict({"input_ids": [t.input_ids for t in rows],
                                  "labels": [t.labels for t in rows]})

    train_ds = to_ds(train_tok)
    eval_ds = to_ds(val_tok, sort=True) if val_tok else None  # sorted: eval batches barely pad
    args = SFTConfig(
        output_dir=str(output_dir),
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.epochs,
        max_steps=total_steps,
        lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio,
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        logging_steps=cfg.logging_steps,
        eval_strategy="steps" if eval_ds is not None else "no",
        eval_steps=eval_steps,
        save_strategy="steps" if save else "no",
        save_steps=save_steps,
        save_total_limit=cfg.save_total_limit,
        seed=cfg.seed,
        data_seed=cfg.seed,
        bf16=bf16,
        fp16=fp16,
        activation_checkpointing=gc,
        activation_checkpointing_kwargs={"use_reentrant": False} if gc else None,
        report_to="none",
        disable_tqdm=True,
        use_cpu=device == "cpu",
        dataloader_pin_memory=device == "cuda",
        remove_unused_columns=False,
        max_length=None,
        dataset_kwargs={"skip_prepare_dataset": True},
        padding_free=False,  # our collator does it (TRL's refuses custom collators with it on)
        save_only_model=False,
        log_level="warning",
    )
    cls = build_trainer_class()
    collator = ChatCollator(tokenizer.pad_token_id, padding_free=batching == "padding_free",
                            pad_to_multiple_of=8 if device == "cuda" else None)
    trainer = cls(model=model, args=args, data_collator=collator, train_dataset=train_ds,
                  eval_dataset=eval_ds, processing_class=tokenizer,
                  peft_config=lora_config(cfg, model), callbacks=list(callbacks))
    if batching == "grouped":
        trainer.wachat_sampler_lengths = [len(t.input_ids) for t in train_tok]
    base_model = trainer.model.get_base_model() if hasattr(trainer.model, "get_base_model") else trainer.model
    trainer.wachat_compact = install_compact_loss(base_model)
    if device != "cuda":
        # TRL keeps QLoRA adapters in bf16 (paper recipe); CPUs do fp32 math much faster
        for p in trainer.model.parameters():
            if p.requires_grad and p.dtype != torch.float32:
                p.data = p.data.float()
    return trainer


def _load_checkpoint_weights(trainer, ckpt: Path) -> None:
    """Adapter weights and trainer state of a checkpoint, without training."""
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file
    from transformers import TrainerState

    weights = ckpt / "adapter_model.safetensors"
    set_peft_model_state_dict(trainer.model, load_file(str(weights), device=str(trainer.args.device)))
    trainer.state = TrainerState.load_from_json(str(ckpt / "trainer_state.json"))


def _quantization_info(model) -> dict | None:
    """How the base weights are stored: None for full precision, else the 4-bit layer count."""
    n4 = sum(1 for m in model.modules()
             if type(m).__name__ == "Linear4bit" and type(m).__module__.startswith("bitsandbytes"))
    if not n4:
        return None
    qc = getattr(getattr(model, "config", None), "quantization_config", None)
    return {"method": "bitsandbytes-nf4", "linear4bit_layers": n4,
            "double_quant": bool(qc.get("bnb_4bit_use_double_quant") if isinstance(qc, dict)
                                 else getattr(qc, "bnb_4bit_use_double_quant", False))}


def resolve_batching(cfg: TrainConfig) -> str:
    """``auto``: padding-free only where varlen attention kernels exist (flash-attn on CUDA);
    elsewhere length-grouped batches, whose attention stays per sample."""
    if cfg.batching != "auto":
        return cfg.batching
    if cfg.device == "cuda":
        import importlib.util

        if importlib.util.find_spec("flash_attn") is not None:
            return "padding_free"
    return "grouped"


# =========================================================================== generation
@torch.no_grad()
def generate_reply(model, tokenizer, messages: list[dict], max_new_tokens: int, seed: int) -> str:
    """The model's reply after ``messages``, sampled with a fixed seed (training RNG untouched)."""
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    enc = tokenizer(prompt, add_special_tokens=False, return_tensors="pt")
    device = next(p for p in model.parameters()).device
    enc = {k: v[:, -1536:].to(device) for k, v in enc.items()}
    was_training = model.training
    model.eval()
    eos = [tokenizer.eos_token_id]
    for token in ("<|im_end|>", "<|eot_id|>", "<|end|>", "</s>"):
        tid = tokenizer.convert_tokens_to_ids(token) if token in tokenizer.get_vocab() else None
        if tid is not None and tid not in eos:
            eos.append(tid)
    devices = [torch.cuda.current_device()] if device.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=True, temperature=0.7,
                                 top_p=0.9, repetition_penalty=1.1, eos_token_id=eos,
                                 pad_token_id=tokenizer.pad_token_id, use_cache=True)
    finally:
        if was_training:
            model.train()
    text = tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    return text.rstrip("\ufffd").strip()  # a reply cut mid-character (emoji) ends in U+FFFD


# =========================================================================== the job
@dataclass
class JobState:
    run_id: str
    project: str
    base_model: str
    base_path: str
    mode: str
    personas: list[str]
    config: dict
    created: str
    status: str = "running"
    best_eval_loss: float | None = None
    best_step: int | None = None
    base_eval_loss: float | None = None
    step: int = 0
    max_steps: int = 0
    device: str = "cpu"
    error: str | None = None
    updated: str = ""
    train_history: list[dict] = field(default_factory=list)
    eval_history: list[dict] = field(default_factory=list)
    samples: list[dict] = field(default_factory=list)
    dataset: dict = field(default_factory=dict)
    tokens_per_s: float | None = None
    train_seconds: float = 0.0
    peak_memory_mb: float | None = None
    pid: int | None = field(default_factory=os.getpid)

    def run_record(self) -> dict:
        return {
            "run_id": self.run_id, "project": self.project, "base_model": self.base_model,
            "base_path": self.base_path, "mode": self.mode, "personas": self.personas,
            "config": self.config, "status": self.status, "best_eval_loss": self.best_eval_loss,
            "best_step": self.best_step, "base_eval_loss": self.base_eval_loss, "step": self.step,
            "max_steps": self.max_steps, "device": self.device, "error": self.error,
            "created": self.created, "updated": self.updated, "pid": self.pid,
        }

    def metrics_record(self) -> dict:
        return {
            "best_eval_loss": self.best_eval_loss, "best_step": self.best_step,
            "base_eval_loss": self.base_eval_loss,
            "final_eval_loss": self.eval_history[-1]["eval_loss"] if self.eval_history else None,
            "best_perplexity": math.exp(self.best_eval_loss) if self.best_eval_loss is not None else None,
            "steps": self.step, "max_steps": self.max_steps, "tokens_per_s": self.tokens_per_s,
            "train_seconds": round(self.train_seconds, 2), "peak_memory_mb": self.peak_memory_mb,
            "dataset": self.dataset,
            "history": {"train": self.train_history, "eval": self.eval_history},
        }


def now_iso() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def peak_memory_mb(device: str) -> float | None:
    if device == "cuda" and torch.cuda.is_available():
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    try:
        import resource

        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux
    except Exception:
        return None


def save_adapter_atomically(model, target: Path) -> None:
    """Write the adapter into a temp dir beside ``target`` and swap it in."""
    ensure_private_dir(target.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(str(tmp))
        for p in tmp.rglob("*"):
            os.chmod(p, 0o600 if p.is_file() else 0o700)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.rename(target, old)
        os.rename(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


class TrainingJob:
    """One run of ``python -m wachat_tui.train``: prepare, train, evaluate, save, report."""

    def __init__(self, project_dir: Path, config: TrainConfig, emit: Emitter,
                 cancel: threading.Event, run_id: str | None = None, resume: bool = False):
        self.project_dir = Path(project_dir)
        self.config = config
        self.emit = emit
        self.cancel = cancel
        self.resume = resume
        self.run_id = run_id
        self.main = is_main_process()
        self.state: JobState | None = None
        self.paths: RunPaths | None = None
        self.model = None
        self.tokenizer = None
        self.trainer = None
        self.held_out: list[chat_data.HeldOut] = []

    # ------------------------------------------------------------------ persistence
    def save_state(self) -> None:
        if not self.main or self.state is None:
            return
        self.state.updated = now_iso()
        write_json(self.paths.run_json, self.state.run_record())
        write_json(self.paths.metrics, self.state.metrics_record())

    def save_samples(self) -> None:
        if self.main:
            write_jsonl(self.paths.samples, self.state.samples)

    # ------------------------------------------------------------------ project
    def _project_info(self) -> dict:
        pj = self.project_dir / "project.json"
        if not pj.exists():
            raise WachatError(f"{self.project_dir} is not a wachat project (no project.json)",
                              "create one with `wachat import EXPORT --me NAME`")
        try:
            return json.loads(pj.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise WachatError(f"cannot read {pj}: {exc}", "re-import the chat") from None

    # ------------------------------------------------------------------ main entry
    def run(self) -> int:
        info = self._project_info()
        runs_dir = self.project_dir / "runs"
        if self.resume:
            self._open_existing(runs_dir)
        else:
            self._create_new(runs_dir, info)
        self.emit.events_path = self.paths.events if self.main else None
        try:
            return self._run(info)
        except (TrainingCancelled, KeyboardInterrupt):
            return self._cancelled()
        except WachatError as exc:
            return self._failed(exc.message, exc.hint or "")
        except (MemoryError, RuntimeError) as exc:  # torch.OutOfMemoryError is a RuntimeError
            oom = out_of_memory(exc)
            if oom is None:
                raise
            return self._failed(oom, OOM_HINT)

    def _create_new(self, runs_dir: Path, info: dict) -> None:
        ensure_private_dir(runs_dir)
        run_id = self.run_id or new_run_id(runs_dir)
        self.paths = RunPaths(runs_dir / run_id)
        if self.main and self.paths.run_json.exists():
            raise WachatError(f"run {run_id} already exists", "pick another --run-id, or --resume it")
        ensure_private_dir(self.paths.dir)
        self.state = JobState(
            run_id=run_id, project=info.get("name") or self.project_dir.name,
            base_model=self.config.base or "", base_path="", mode=self.config.mode,
            personas=list(info.get("personas") or []), config=self.config.to_dict(),
            created=now_iso(), device=self.config.device or "cpu",
        )
        self.run_id = run_id
        self.save_state()

    def _open_existing(self, runs_dir: Path) -> None:
        run_dir = runs_dir / self.run_id
        rj = run_dir / "run.json"
        if not rj.exists():
            raise WachatError(f"no run {self.run_id!r} in this project", "see `wachat train P --list`")
        rec = json.loads(rj.read_text(encoding="utf-8"))
        if rec.get("status") == "running" and rec.get("pid") not in (None, os.getpid()) and pid_alive(rec["pid"]):
            raise WachatError(f"run {self.run_id} is still running (process {rec['pid']})",
                              "cancel it first, or wait for it to finish")
        if rec.get("status") == "finished":
            raise WachatError(f"run {self.run_id} already finished", "start a new run instead")
        metrics = {}
        if (run_dir / "metrics.json").exists():
            metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
        samples = []
        if (run_dir / "samples.jsonl").exists():
            samples = list(chat_data_read_jsonl(run_dir / "samples.jsonl"))
        self.paths = RunPaths(run_dir)
        stored = TrainConfig.from_dict(rec.get("config") or {})
        # the device may differ on resume (e.g. moved machines); everything else is the run's own
        stored.device = self.config.device or stored.device
        self.config = stored
        hist = metrics.get("history") or {}
        self.state = JobState(
            run_id=rec["run_id"], project=rec.get("project", self.project_dir.name),
            base_model=rec.get("base_model") or "", base_path=rec.get("base_path") or "",
            mode=rec.get("mode", stored.mode), personas=rec.get("personas") or [],
            config=stored.to_dict(), created=rec.get("created") or now_iso(), status="running",
            best_eval_loss=rec.get("best_eval_loss"), best_step=rec.get("best_step"),
            base_eval_loss=rec.get("base_eval_loss"), step=rec.get("step") or 0,
            max_steps=rec.get("max_steps") or 0, device=stored.device or "cpu",
            train_history=hist.get("train") or [], eval_history=hist.get("eval") or [],
            samples=samples, train_seconds=float(metrics.get("train_seconds") or 0.0),
        )

    # ------------------------------------------------------------------ the work
    def _run(self, info: dict) -> int:
        cfg = self.config
        cfg.validate()
        ckpt = last_checkpoint(self.paths.checkpoints) if self.resume else None
        if self.resume:
            if ckpt is None:
                self.emit.log("no complete checkpoint in this run yet: starting it over")
            else:
                self.emit.log(f"resuming from {ckpt.name}")
            self._forget_after(int(ckpt.name.split("-")[1]) if ckpt else -1)

        # data first: an empty project fails before any model loads
        train_rows = chat_data.read_samples(self.project_dir / "dataset" / "train.jsonl")
        val_rows = chat_data.read_samples(self.project_dir / "dataset" / "validation.jsonl")
        if not train_rows:
            raise chat_data.DatasetError(
                "the project has no training samples",
                "import a chat where the persona writes replies (see `wachat pairs P`), "
                "or include excluded pairs again")
        if not self.state.personas:
            seen: dict[str, int] = {}
            for r in train_rows:
                if r.get("persona"):
                    seen[r["persona"]] = seen.get(r["persona"], 0) + 1
            self.state.personas = sorted(seen, key=lambda k: -seen[k])

        base = self._resolve_base()
        self.state.base_model, self.state.base_path = base.name, str(base.path)
        if not cfg.base:
            cfg.base = base.name
            self.state.config = cfg.to_dict()
        self.save_state()
        self._check_cancel()

        tokenizer = load_tokenizer(base.path)
        train_tok, train_report = chat_data.tokenize_samples(tokenizer, train_rows, cfg.max_seq_len)
        val_tok, val_report = chat_data.tokenize_samples(tokenizer, val_rows, cfg.max_seq_len)
        if not train_tok:
            raise chat_data.DatasetError(
                "none of the training samples has a persona reply to learn from",
                "check the persona names and exclusions in `wachat pairs P`")
        if train_report.fallback_masking:
            self.emit.log(f"chat template does not render incrementally; masked {train_report.fallback_masking} "
                          "samples by text search", "warning")
        if train_report.truncated:
            self.emit.log(f"{train_report.truncated} training samples were longer than {cfg.max_seq_len} tokens "
                          "and were cut (system prompt and latest turns kept)", "warning")
        if not val_tok:
            self.emit.log("no validation samples: evaluation and best-checkpoint selection are off", "warning")
        if cfg.eval_max_samples and len(val_tok) > cfg.eval_max_samples:
            rng = random.Random(cfg.seed)
            val_tok = rng.sample(val_tok, cfg.eval_max_samples)
        self.state.dataset = {"train": train_report.to_dict(), "validation": val_report.to_dict(),
                              "validation_used": len(val_tok)}
        if cfg.sample_every_eval and cfg.n_samples and val_rows:
            self.held_out = chat_data.held_out_prompts(val_rows, cfg.n_samples, cfg.seed,
                                                       info.get("participants") or [])
        self._check_cancel()

        model = load_base_model(base.path, cfg)
        self.tokenizer = tokenizer
        self._check_cancel()
        total_steps = cfg.total_steps(len(train_tok))
        self.state.max_steps = total_steps
        trainer = self._build_trainer(model, tokenizer, train_tok, val_tok, total_steps)
        self.trainer = trainer
        self.model = trainer.model
        n_train = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
        n_total = sum(p.numel() for p in trainer.model.parameters())
        started_cfg = dict(cfg.to_dict(), base_model=base.name, base_path=str(base.path), run_id=self.run_id,
                           batching=resolve_batching(cfg), eval_steps=cfg.resolved_eval_steps(total_steps),
                           save_steps=cfg.resolved_save_steps(total_steps),
                           gradient_checkpointing=cfg.resolved_gradient_checkpointing(),
                           lora_alpha=cfg.lora_alpha, personas=self.state.personas,
                           resumed_from=ckpt.name if ckpt else None,
                           quantization=_quantization_info(trainer.model))
        self.emit(Started(config=started_cfg, device=cfg.device or "cpu", trainable_params=n_train,
                          total_params=n_total, train_samples=len(train_tok), validation_samples=len(val_tok),
                          max_steps=total_steps, run_dir=str(self.paths.dir)))
        self.save_state()

        if val_tok and ckpt is None and self.state.base_eval_loss is None:
            trainer.evaluate()  # step 0: the base model's loss, the yardstick for the rest
        self._check_cancel()

        ckpt_step = int(ckpt.name.split("-")[1]) if ckpt else 0
        if ckpt is not None and ckpt_step >= total_steps:
            # every step was done before the stop: load the weights and finish (Trainer would run one more)
            _load_checkpoint_weights(trainer, ckpt)
        else:
            self.callback.training = True
            trainer.train(resume_from_checkpoint=str(ckpt) if ckpt else None)
            self.callback.training = False

        step = trainer.state.global_step
        if self.callback.cancelled and step < total_steps:
            raise TrainingCancelled()
        if val_tok and (not self.state.eval_history or self.state.eval_history[-1]["step"] != step):
            trainer.evaluate()
        if self.main and (not val_tok or not self.paths.adapter.exists()):
            save_adapter_atomically(trainer.model, self.paths.adapter)
        self._save_tokenizer_note()
        self.state.status = "finished"
        self.state.step = step
        self.state.peak_memory_mb = peak_memory_mb(cfg.device or "cpu")
        self.save_state()
        metrics = self.state.metrics_record()
        metrics.pop("history", None)
        self.emit(Finished(path=str(self.paths.adapter), metrics=metrics))
        return 0

    def _forget_after(self, step: int) -> None:
        """On resume, history past the checkpoint is redone, so it is dropped (and best recomputed)."""
        st = self.state
        st.train_history = [h for h in st.train_history if h["step"] <= step]
        st.eval_history = [h for h in st.eval_history if h["step"] <= step]
        st.samples = [h for h in st.samples if h.get("step", 0) <= step]
        if step < 0:
            st.base_eval_loss = None
        trained = [h for h in st.eval_history if h["step"] > 0]
        best = min(trained, key=lambda h: h["eval_loss"], default=None)
        st.best_eval_loss = best["eval_loss"] if best else None
        st.best_step = best["step"] if best else None
        st.step = max(step, 0)

    def _resolve_base(self) -> ResolvedBase:
        name = self.config.base
        if self.resume and self.state.base_path and Path(self.state.base_path).exists():
            return ResolvedBase(self.state.base_model, Path(self.state.base_path))
        return resolve_base(name, self.config.device, log=self.emit.log)

    def _save_tokenizer_note(self) -> None:
        """Keep the base-model name with the adapter so export/chat know what to merge into."""
        if not self.main or not self.paths.adapter.exists():
            return
        note = {"run_id": self.run_id, "base_model": self.state.base_model, "base_path": self.state.base_path,
                "mode": self.state.mode, "personas": self.state.personas,
                "best_eval_loss": self.state.best_eval_loss, "best_step": self.state.best_step}
        write_json(self.paths.adapter / "wachat.json", note)

    def _build_trainer(self, model, tokenizer, train_tok, val_tok, total_steps):
        self.callback = EventCallback(self, total_steps, self.config.resolved_eval_steps(total_steps))
        return build_trainer(model, tokenizer, train_tok, val_tok, self.config, self.paths.checkpoints,
                             total_steps, callbacks=[self.callback])

    # ------------------------------------------------------------------ evaluation hooks
    def on_evaluated(self, step: int, metrics: dict, model) -> bool:
        """Record an evaluation; save the adapter when best; sample replies. Returns stop?"""
        loss = float(metrics["eval_loss"])
        ppl = float(metrics.get("eval_perplexity", math.exp(min(loss, 50))))
        st = self.state
        best = False
        if step == 0:
            st.base_eval_loss = loss
        elif st.best_eval_loss is None or loss < st.best_eval_loss - 1e-6:
            best = True
            st.best_eval_loss, st.best_step = loss, step
            if self.main:
                save_adapter_atomically(model, self.paths.adapter)
                self._save_tokenizer_note()
        st.eval_history = [h for h in st.eval_history if h["step"] != step]
        st.eval_history.append({"step": step, "eval_loss": round(loss, 5), "perplexity": round(ppl, 4),
                                "best": best, "time": round(time.time(), 1)})
        st.step = max(st.step, step)
        self.emit(Evaluated(step=step, eval_loss=loss, perplexity=ppl, best=best))
        if self.config.sample_every_eval and self.held_out and self.main:
            self._sample(step, model)
        self.save_state()
        patience = self.config.early_stopping_patience
        if patience and step > 0 and st.best_step is not None:
            evals_since = [h for h in st.eval_history if h["step"] > st.best_step]
            if len(evals_since) >= patience:
                self.emit.log(f"early stopping: no improvement for {patience} evaluations "
                              f"(best {st.best_eval_loss:.4f} at step {st.best_step})")
                return True
        return False

    def _sample(self, step: int, model) -> None:
        unwrapped = model
        if self.trainer is not None:
            try:
                unwrapped = self.trainer.accelerator.unwrap_model(model)
            except Exception:
                pass
        for i, h in enumerate(self.held_out):
            if self.cancel.is_set():
                return
            try:
                text = generate_reply(unwrapped, self.tokenizer, h.messages, self.config.sample_max_new_tokens,
                                      self.config.seed + i)
            except (torch.OutOfMemoryError, MemoryError):
                raise
            except Exception as exc:  # a sample must never kill the run
                self.emit.log(f"sample generation failed: {type(exc).__name__}: {exc}".splitlines()[0], "warning")
                return
            ev = Sampled(step=step, persona=h.persona, context=h.context, real=h.real, generated=text)
            self.state.samples.append({"step": step, "persona": h.persona, "context": h.context,
                                       "real": h.real, "generated": text})
            self.emit(ev)
        self.save_samples()

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise TrainingCancelled()

    # ------------------------------------------------------------------ endings
    def _cancelled(self) -> int:
        st = self.state
        step = self.trainer.state.global_step if self.trainer is not None else st.step
        st.step = max(st.step, step)
        st.status = "cancelled"
        adapter_note = ""
        if self.main and self.trainer is not None and not self.paths.adapter.exists() and step > 0:
            try:
                save_adapter_atomically(self.trainer.model, self.paths.adapter)
                self._save_tokenizer_note()
            except Exception:
                pass
        if self.paths.adapter.exists():
            adapter_note = f"the adapter so far is in {self.paths.adapter}; "
        self.save_state()
        self.emit(Failed(error="cancelled",
                         hint=f"{adapter_note}continue with `wachat train {st.project} --resume {st.run_id}`"))
        return 130

    def _failed(self, error: str, hint: str) -> int:
        if self.state is not None:
            self.state.status = "failed"
            self.state.error = error
            try:
                self.save_state()
            except OSError:
                pass
        self.emit(Failed(error=error, hint=hint))
        return 1


def chat_data_read_jsonl(path: Path) -> Iterable[dict]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue


# =========================================================================== callback → events
def make_event_callback_base():
    from transformers import TrainerCallback

    return TrainerCallback


class EventCallback(make_event_callback_base()):
    """Trainer hooks → events, best-adapter saving, sampling, early stopping and cancellation."""

    def __init__(self, job: TrainingJob, total_steps: int, eval_steps: int):
        self.job = job
        self.total_steps = total_steps
        self.eval_steps = eval_steps
        self.training = False
        self.cancelled = False
        self._step_started = None
        self._train_time = 0.0
        self._tokens_at_start = 0
        self._eval_time = 0.0
        self._n_evals = 0
        self._session_steps = 0

    # timing: only the optimizer steps, not evaluation or checkpoint writing
    def on_train_begin(self, args, state, control, **kw):
        self._train_time = 0.0
        self._session_steps = 0

    def on_step_begin(self, args, state, control, **kw):
        self._step_started = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        if self._step_started is not None:
            self._train_time += time.perf_counter() - self._step_started
            self._session_steps += 1
        flag = self.job.cancel.is_set()
        if args.world_size > 1 and torch.distributed.is_initialized():
            t = torch.tensor([1.0 if flag else 0.0], device=args.device)
            torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
            flag = bool(t.item())
        if flag:
            self.cancelled = True
            control.should_training_stop = True
            control.should_save = True
            control.should_evaluate = False
        return control

    def _rate(self) -> float | None:
        tokens = self.job.trainer.wachat_tokens if self.job.trainer is not None else 0
        if self._train_time <= 0 or tokens <= 0:
            return None
        return tokens / self._train_time

    def on_log(self, args, state, control, logs=None, **kw):
        logs = logs or {}
        if "loss" not in logs:
            return
        job = self.job
        step = state.global_step
        rate = self._rate()
        job.state.tokens_per_s = round(rate, 2) if rate else None
        remaining = max(0, self.total_steps - step)
        per_step = self._train_time / self._session_steps if self._session_steps else None
        eta = None
        if per_step is not None:
            evals_left = remaining // max(1, self.eval_steps)
            per_eval = self._eval_time / self._n_evals if self._n_evals else 0.0
            eta = remaining * per_step + evals_left * per_eval
        row = {"step": step, "epoch": round(float(state.epoch or 0), 4), "loss": float(logs["loss"]),
               "lr": logs.get("learning_rate"), "grad_norm": logs.get("grad_norm"),
               "tokens_per_s": job.state.tokens_per_s}
        job.state.train_history = [h for h in job.state.train_history if h["step"] < step]
        job.state.train_history.append(row)
        job.state.step = step
        job.emit(Step(step=step, max_steps=self.total_steps, epoch=row["epoch"], loss=row["loss"],
                      lr=row["lr"], grad_norm=_float(row["grad_norm"]), tokens_per_s=row["tokens_per_s"],
                      eta_s=round(eta, 1) if eta is not None else None))

    def on_evaluate(self, args, state, control, metrics=None, model=None, **kw):
        t0 = time.perf_counter()
        model = model if model is not None else self.job.trainer.model
        stop = self.job.on_evaluated(state.global_step, metrics or {}, model)
        if state.global_step > 0:
            self._eval_time += time.perf_counter() - t0 + float((metrics or {}).get("eval_runtime", 0))
            self._n_evals += 1
        if stop:
            control.should_training_stop = True
        return control

    def on_save(self, args, state, control, **kw):
        job = self.job
        path = job.paths.checkpoints / f"checkpoint-{state.global_step}"
        job.state.step = state.global_step
        job.state.train_seconds = round(job.state.train_seconds, 2)
        job.emit(Checkpointed(step=state.global_step, path=str(path)))
        job.save_state()

    def on_train_end(self, args, state, control, **kw):
        self.job.state.train_seconds += self._train_time


def _float(x):
    try:
        return None if x is None else float(x)
    except (TypeError, ValueError):
        return None
