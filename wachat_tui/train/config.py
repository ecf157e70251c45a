"""Typed training configuration: every knob of a run, with defaults that work per device.

No torch import here: the TUI builds and validates a config before any heavy library loads.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..errors import WachatError

EMBEDDED_BASE = "embedded:smollm2-135m"
GPU_DEFAULT_BASE = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"

MODES = ("qlora", "lora")
SCHEDULERS = ("cosine", "linear", "constant", "constant_with_warmup")
BATCHING = ("auto", "grouped", "padding_free", "padded")
ALL_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class ConfigError(WachatError):
    """A training option is out of range or inconsistent."""


@dataclass
class TrainConfig:
    """Everything a training run needs besides the project. Defaults follow QLoRA-paper practice."""

    base: str | None = None
    """Base model: a hub id, a local HF checkpoint dir, or ``embedded:smollm2-135m``.
    None = TinyLlama-1.1B-Chat when a CUDA GPU is present, else the embedded SmolLM2-135M."""

    mode: str = "lora"
    """``qlora`` (4-bit NF4 base with double quantization + LoRA; default on CUDA) or ``lora``
    (bf16 base on a GPU, fp32 on the CPU)."""

    learning_rate: float = 2e-4
    """Peak learning rate of the LoRA weights."""

    epochs: float = 3.0
    """Passes over the training samples (ignored when ``max_steps`` is set)."""

    max_steps: int | None = None
    """Stop after this many optimizer steps (overrides ``epochs``)."""

    rank: int = 16
    """LoRA rank r (64 on a GPU, 16 on the CPU by default)."""

    alpha: int | None = None
    """LoRA alpha (scaling = alpha / r). None = 2 × rank."""

    dropout: float = 0.05
    """Dropout on the LoRA input."""

    target_modules: tuple[str, ...] = ALL_PROJECTIONS
    """Linear layers that get adapters: all attention and MLP projections by default."""

    lr_scheduler: str = "cosine"
    """Learning-rate schedule after warmup: cosine, linear, constant, constant_with_warmup."""

    warmup_ratio: float = 0.05
    """Fraction of the steps spent warming the learning rate up from 0."""

    weight_decay: float = 0.0
    """AdamW weight decay on the LoRA weights."""

    max_grad_norm: float = 1.0
    """Gradient clipping norm."""

    batch_size: int = 8
    """Chat samples per micro-batch."""

    grad_accum: int = 1
    """Micro-batches accumulated per optimizer step (effective batch = batch_size × grad_accum)."""

    max_seq_len: int = 1024
    """Longest training sequence in tokens; longer samples keep their system prompt and their end."""

    batching: str = "auto"
    """How samples of different lengths share a batch: ``grouped`` (length-grouped with minimal
    padding), ``padding_free`` (concatenated, position ids restart per sample; needs flash
    attention to pay off), ``padded`` (plain TRL default), ``auto`` = padding_free on CUDA with
    flash-attn installed, grouped otherwise."""

    gradient_checkpointing: bool | None = None
    """Recompute activations in the backward pass to save memory. None = on for CUDA, off on the CPU."""

    eval_steps: int | None = None
    """Evaluate (validation loss, perplexity, samples) every N steps. None = about 8 times per run."""

    save_steps: int | None = None
    """Write a resumable checkpoint every N steps. None = same as ``eval_steps``."""

    save_total_limit: int = 2
    """Resumable checkpoints kept on disk (older ones are deleted; the best adapter is kept apart)."""

    eval_max_samples: int | None = None
    """Validation samples used per evaluation (a fixed subset, so evaluations compare). None = all."""

    early_stopping_patience: int | None = None
    """Stop when the validation loss has not improved for this many evaluations. None = never."""

    sample_every_eval: bool = True
    """Generate replies for a few held-out contexts at every evaluation."""

    n_samples: int = 2
    """Held-out contexts to generate a reply for at each evaluation."""

    sample_max_new_tokens: int = 40
    """Longest generated sample reply, in tokens."""

    seed: int = 42
    """Seed for LoRA init, data order and sampling (a resumed run continues the same order)."""

    logging_steps: int = 1
    """Emit a `step` event every N optimizer steps."""

    device: str | None = None
    """``cuda``, ``cpu`` (or ``mps``). None = CUDA when available."""

    # ------------------------------------------------------------------ construction
    @classmethod
    def for_device(cls, device: str | None = None, **overrides: Any) -> "TrainConfig":
        """Defaults for ``device`` (``cuda``/``cpu``; None = detect), then ``overrides``.

        Overrides whose value is None are ignored, so CLI options can be passed straight through.
        """
        if device is None:
            device = detect_device()
        if device == "cuda":
            base = cls(mode="qlora", rank=64, batch_size=8, max_seq_len=1024, batching="auto",
                       device="cuda", n_samples=3)
        else:
            # Small batches and a capped validation subset keep CPU runs interactive.
            base = cls(mode="lora", rank=16, batch_size=4, max_seq_len=768, device=device,
                       eval_max_samples=16, n_samples=2)
        clean = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(clean) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown training option(s): {', '.join(sorted(unknown))}")
        if "target_modules" in clean:
            clean["target_modules"] = tuple(clean["target_modules"])
        return replace(base, **clean)

    @classmethod
    def from_dict(cls, row: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in row.items() if k in known}
        if "target_modules" in data and data["target_modules"] is not None:
            data["target_modules"] = tuple(data["target_modules"])
        return cls(**data)

    def to_dict(self) -> dict:
        row = asdict(self)
        row["target_modules"] = list(self.target_modules)
        return row

    # ------------------------------------------------------------------ derived values
    @property
    def lora_alpha(self) -> int:
        return self.alpha if self.alpha is not None else 2 * self.rank

    @property
    def effective_batch(self) -> int:
        return self.batch_size * self.grad_accum

    def resolved_gradient_checkpointing(self) -> bool:
        if self.gradient_checkpointing is not None:
            return self.gradient_checkpointing
        return self.device == "cuda"

    def total_steps(self, n_train_samples: int) -> int:
        """Optimizer steps this config runs on ``n_train_samples`` samples."""
        if self.max_steps:
            return self.max_steps
        per_epoch = max(1, math.ceil(n_train_samples / self.batch_size / self.grad_accum))
        return max(1, math.ceil(per_epoch * self.epochs))

    def resolved_eval_steps(self, total_steps: int) -> int:
        if self.eval_steps:
            return self.eval_steps
        return max(1, math.ceil(total_steps / 8))

    def resolved_save_steps(self, total_steps: int) -> int:
        if self.save_steps:
            return self.save_steps
        return self.resolved_eval_steps(total_steps)

    # ------------------------------------------------------------------ validation
    def validate(self) -> "TrainConfig":
        """Raise :class:`ConfigError` with one clear sentence on the first bad option."""

        def bad(msg: str, hint: str | None = None):
            raise ConfigError(msg, hint)

        if self.mode not in MODES:
            bad(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.device not in (None, "cuda", "cpu", "mps"):
            bad(f"device must be cuda, cpu or mps, not {self.device!r}")
        if not (0 < self.learning_rate <= 1):
            bad(f"learning rate must be in (0, 1], got {self.learning_rate}", "2e-4 is a good start for LoRA")
        if self.max_steps is not None and self.max_steps < 1:
            bad(f"max steps must be at least 1, got {self.max_steps}")
        if self.max_steps is None and not (self.epochs > 0):
            bad(f"epochs must be positive, got {self.epochs}")
        if not (1 <= self.rank <= 1024):
            bad(f"LoRA rank must be between 1 and 1024, got {self.rank}", "try 16 on the CPU, 64 on a GPU")
        if self.alpha is not None and self.alpha <= 0:
            bad(f"LoRA alpha must be positive, got {self.alpha}")
        if not (0 <= self.dropout < 1):
            bad(f"LoRA dropout must be in [0, 1), got {self.dropout}")
        if not self.target_modules:
            bad("no LoRA target modules given", "use the default: all attention and MLP projections")
        if self.lr_scheduler not in SCHEDULERS:
            bad(f"lr scheduler must be one of {', '.join(SCHEDULERS)}, not {self.lr_scheduler!r}")
        if not (0 <= self.warmup_ratio < 1):
            bad(f"warmup ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.weight_decay < 0:
            bad(f"weight decay must not be negative, got {self.weight_decay}")
        if self.max_grad_norm <= 0:
            bad(f"max grad norm must be positive, got {self.max_grad_norm}")
        if self.batch_size < 1:
            bad(f"batch size must be at least 1, got {self.batch_size}")
        if self.grad_accum < 1:
            bad(f"gradient accumulation must be at least 1, got {self.grad_accum}")
        if not (32 <= self.max_seq_len <= 131072):
            bad(f"sequence length must be between 32 and 131072 tokens, got {self.max_seq_len}")
        if self.batching not in BATCHING:
            bad(f"batching must be one of {', '.join(BATCHING)}, not {self.batching!r}")
        for name in ("eval_steps", "save_steps", "eval_max_samples", "early_stopping_patience"):
            value = getattr(self, name)
            if value is not None and value < 1:
                bad(f"{name.replace('_', ' ')} must be at least 1 (or unset), got {value}")
        if self.save_total_limit < 1:
            bad(f"save total limit must be at least 1, got {self.save_total_limit}")
        if self.n_samples < 0:
            bad(f"number of samples must not be negative, got {self.n_samples}")
        if not (1 <= self.sample_max_new_tokens <= 1024):
            bad(f"sample length must be between 1 and 1024 tokens, got {self.sample_max_new_tokens}")
        if self.logging_steps < 1:
            bad(f"logging steps must be at least 1, got {self.logging_steps}")
        if self.mode == "qlora" and self.device == "mps":
            bad("QLoRA needs bitsandbytes, which does not run on Apple's mps device", "use --lora")
        return self


def detect_device() -> str:
    """``cuda`` when a CUDA GPU is usable, else ``cpu`` (imports torch)."""
    try:
        import torch
    except ImportError:
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    return "cpu"
