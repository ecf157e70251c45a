"""The model side of training: tokenizer and base model loading, the (Q)LoRA adapter settings,
the persona loss forward, sampling a reply, and saving the adapter.

The persona loss runs the LM head only on the positions that carry loss (the persona's
tokens), not on the whole sequence: for a 135M model with a 49k vocabulary the head is a
fifth of the FLOPs, and most positions of a chat sample are context.
"""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
import types
from pathlib import Path

import torch
import torch.nn.functional as F

from ..errors import ModelError, WachatError
from ..paths import ensure_private_dir
from .config import TrainConfig


# --------------------------------------------------------------------------- loading
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


def _load_kwargs(config: TrainConfig) -> dict:
    """from_pretrained arguments: precision, 4-bit quantization for QLoRA, attention kernel."""
    device = config.device or "cpu"
    if device == "cuda":
        compute = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        compute = torch.float32
    kwargs: dict = {"dtype": compute, "attn_implementation": "sdpa"}
    if config.mode == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
        )
        # each process of a multi-GPU run keeps its own 4-bit copy on its own GPU
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", "0"))} if device == "cuda" else {"": "cpu"}
    if device == "cuda":
        import importlib.util

        if importlib.util.find_spec("flash_attn") is not None:
            kwargs["attn_implementation"] = "flash_attention_2"
    return kwargs


def load_base_model(path: Path, config: TrainConfig):
    """The base model in the requested precision (4-bit NF4 for QLoRA), frozen."""
    from safetensors import SafetensorError
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(str(path), **_load_kwargs(config))
    except ImportError as exc:
        raise ModelError(f"cannot load the base model in {config.mode} mode: {exc}".splitlines()[0],
                         "install bitsandbytes for QLoRA, or use --lora") from None
    except (OSError, ValueError, KeyError, SafetensorError) as exc:
        # missing or damaged files, an architecture transformers does not know, a broken config
        raise ModelError(f"cannot load base model from {path}: {type(exc).__name__}: {exc}".splitlines()[0],
                         "check the model folder or hub id") from None
    if config.mode == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(
            model, use_gradient_checkpointing=config.resolved_gradient_checkpointing(),
            gradient_checkpointing_kwargs={"use_reentrant": False})
    return model


# --------------------------------------------------------------------------- the adapter
def linear_layer_names(model) -> list[str]:
    """Names of the model's linear layers (the last part of each path), the LM head left out."""
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, torch.nn.Linear) and module is not head})


def untrained_token_ids(config: TrainConfig, tokenizer) -> list[int]:
    """Ids of the chat-template tokens the base never learned (an embedded model's
    ``untrained_tokens``, e.g. Gemma 3 270M's turn markers): trained along with the adapter."""
    from ..core import embedded

    known = embedded.lookup(config.base)
    if known is None or not known.untrained_tokens:
        return []
    ids = tokenizer.convert_tokens_to_ids(list(known.untrained_tokens))
    if any(i is None or i == tokenizer.unk_token_id for i in ids):
        raise ModelError(f"the tokenizer of {known.label} lacks one of {', '.join(known.untrained_tokens)}",
                         "delete its converted copy in the cache folder so that it is converted again")
    return list(ids)


@torch.no_grad()
def seed_token_rows(peft_model, config: TrainConfig, tokenizer) -> list[str]:
    """Start each trained token row named in the embedded model's ``token_seeds`` as its source
    token's row (a fresh run only: a resumed one loads its trained rows afterwards)."""
    from ..core import embedded

    known = embedded.lookup(config.base)
    adapter = getattr(peft_model.get_input_embeddings(), "token_adapter", None)
    if known is None or not known.token_seeds or adapter is None:
        return []
    name = adapter.active_adapters[0]
    indices = list(adapter.token_indices[name])
    weight = adapter.base_layer.weight
    seeded = []
    for token, source in known.token_seeds:
        target, origin = tokenizer.convert_tokens_to_ids([token, source])
        if target in indices and isinstance(origin, int):
            adapter.trainable_tokens_delta[name][indices.index(target)] = weight[origin].to(
                adapter.trainable_tokens_delta[name].dtype)
            seeded.append(f"{token} ← {source}")
    return seeded


def lora_config(config: TrainConfig, model, token_ids: list[int] | None = None):
    """LoRA on every linear projection of the blocks (peft's ``all-linear``: whatever the
    architecture names them, never the LM head), or on the layers ``--target-modules`` names;
    ``token_ids``: embedding rows trained too (peft's trainable tokens; see :func:`untrained_token_ids`)."""
    from peft import LoraConfig

    if config.target_modules is None:
        targets: str | list[str] = "all-linear"
    else:
        present = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
        targets = [t for t in config.target_modules if t in present]
        if not targets:
            raise WachatError(f"none of the LoRA target modules {list(config.target_modules)} exist in this model",
                              f"its linear layers are: {', '.join(linear_layer_names(model))}")
    extra = {"trainable_token_indices": list(token_ids)} if token_ids else {}
    return LoraConfig(r=config.rank, lora_alpha=config.lora_alpha, lora_dropout=config.dropout,
                      target_modules=targets, bias="none", task_type="CAUSAL_LM", **extra)


def adapted_layer_names(model) -> list[str]:
    """The layers that got a LoRA adapter (last part of each path), as trained."""
    from peft.tuners.lora import LoraLayer

    return sorted({name.rsplit(".", 1)[-1] for name, module in model.named_modules()
                   if isinstance(module, LoraLayer)})


def quantization_info(model) -> dict | None:
    """How the base weights are stored: None for full precision, else the 4-bit layer count."""
    n4 = sum(1 for m in model.modules()
             if type(m).__name__ == "Linear4bit" and type(m).__module__.startswith("bitsandbytes"))
    if not n4:
        return None
    qc = getattr(getattr(model, "config", None), "quantization_config", None)
    return {"method": "bitsandbytes-nf4", "linear4bit_layers": n4,
            "double_quant": bool(qc.get("bnb_4bit_use_double_quant") if isinstance(qc, dict)
                                 else getattr(qc, "bnb_4bit_use_double_quant", False))}


def save_adapter_atomically(model, target: Path) -> None:
    """Write the adapter into a temp dir beside ``target``, then put it in place so that a whole
    adapter is there at every moment (a kill -9 at any point leaves the previous one or the new
    one): the first time by renaming the folder, later file by file, each an atomic replace.
    Within a run only the weights change between saves (the LoRA config is the same), so any mix
    of old and new files is a whole adapter."""
    ensure_private_dir(target.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(str(tmp))
        for p in tmp.rglob("*"):
            os.chmod(p, 0o600 if p.is_file() else 0o700)
        if not target.exists():
            os.rename(tmp, target)
            return
        for src in sorted(p for p in tmp.rglob("*") if p.is_file()):
            dest = target / src.relative_to(tmp)
            ensure_private_dir(dest.parent)
            os.replace(src, dest)
        shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --------------------------------------------------------------------------- the persona loss
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


def head_weight(lm_head) -> torch.Tensor:
    """The LM head's weight as the forward pass uses it: with trained token rows (peft's
    trainable tokens wrap the head tied to the embeddings) the rows' trained values."""
    adapter = getattr(lm_head, "token_adapter", None)
    if adapter is not None and not adapter.disable_adapters and adapter.active_adapters and not adapter.merged:
        return adapter.get_merged_weights(adapter.active_adapters)
    return lm_head.weight


def chunked_nll(hidden: torch.Tensor, target: torch.Tensor, lm_head, max_elems: int = 1 << 27) -> torch.Tensor:
    """Summed cross entropy; large (tokens × vocab) problems run in chunks whose logits are
    recomputed in the backward pass instead of being stored."""
    weight, bias = head_weight(lm_head), getattr(lm_head, "bias", None)
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


def persona_nll(model, batch: dict, compact: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(summed NLL over the labelled tokens, their count) for one collated batch."""
    if compact:
        out = model(**batch, wachat_nll=True)
        return out["nll_sum"], out["n_tokens"]
    labels = batch["labels"]
    logits = model(**{k: v for k, v in batch.items() if k != "labels"}, use_cache=False).logits
    y = labels[:, 1:].to(logits.device)
    lg = logits[:, :-1][y != -100].float()
    return F.cross_entropy(lg, y[y != -100], reduction="sum"), (y != -100).sum()


# --------------------------------------------------------------------------- generation
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
    vocab = tokenizer.get_vocab()
    for token in ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "</s>"):
        tid = vocab.get(token)
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
