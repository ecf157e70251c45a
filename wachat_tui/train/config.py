"""Typed training configuration: every knob of a run, with defaults that work per device.

Each field's docstring is its documentation *and* its ``--help`` text: :mod:`.flags` turns the
fields into the command-line options of both ``wachat train`` and the training process, so the
two can never drift apart. A field's ``metadata`` names its flag when the field name is not
what users type (``learning_rate`` → ``--lr``) and lists accepted aliases.

No torch import here: the TUI builds and validates a config before any heavy library loads.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal, get_args

from ..core import embedded
from ..core.embedded import DEFAULT as EMBEDDED_DEFAULT
from ..core.language import language_name
from ..errors import WachatError

EMBEDDED_BASE = EMBEDDED_DEFAULT.base_name
EMBEDDED_MULTILINGUAL_BASE = embedded.MULTILINGUAL.base_name
GPU_DEFAULT_BASE = "TinyLlama/TinyLlama-1.1B-Chat-v1.0"
"""The default base on a CUDA GPU for an English chat (or one whose language is unknown)."""
GPU_MULTILINGUAL_BASE = "Qwen/Qwen2.5-1.5B-Instruct"
"""The default base on a CUDA GPU for any other language: trained on 29+ languages, instruct-tuned
(a chat template to train with), small enough for QLoRA on an 8 GB GPU, and Apache-2.0."""
HUB_LICENCES = {GPU_DEFAULT_BASE: "Apache-2.0", GPU_MULTILINGUAL_BASE: "Apache-2.0"}
"""Licences of the hub models wachat picks by itself (any other is the user's choice)."""


def is_english(language: str | None) -> bool:
    """English, or not known (the English models are the smaller, better-tested defaults)."""
    return language in (None, "", "en")


def default_base(language: str | None = None, device: str | None = None) -> str:
    """The base a run trains when none is named: by device and by the chat's language.

    CPU: the embedded SmolLM2-135M for English, the embedded Gemma 3 270M (140+ languages)
    otherwise. CUDA: TinyLlama-1.1B-Chat for English, Qwen2.5-1.5B-Instruct otherwise (hub
    models; when they cannot be fetched the embedded model for the language is used).
    """
    if device == "cuda":
        return GPU_DEFAULT_BASE if is_english(language) else GPU_MULTILINGUAL_BASE
    return embedded.for_language(None if is_english(language) else language).base_name


def base_licence(name: str | None) -> str | None:
    """The licence of a base wachat knows (embedded models, its own hub defaults), else None."""
    known = embedded.lookup(name)
    if known is not None:
        return known.licence
    return HUB_LICENCES.get(name or "")


def describe_base(name: str | None, short: bool = False) -> str:
    """``Gemma 3 270M (embedded:gemma3-270m) · licence: Gemma Terms of Use``: how a base is named
    wherever the user picks one (a base wachat does not know gets "licence: see its model card");
    ``short`` leaves out the ``embedded:`` name (narrow columns)."""
    known = embedded.lookup(name)
    label = (known.label if short else f"{known.label} ({known.base_name})") if known is not None else str(name)
    return f"{label} · licence: {base_licence(name) or 'see its model card'}"


def default_base_reason(language: str | None, device: str | None) -> str:
    """Why :func:`default_base` chose what it chose, in a few words."""
    what = "an English chat" if language == "en" else (
        "a chat of unknown language" if is_english(language) else f"a {language_name(language)} chat")
    where = "a CUDA GPU" if device == "cuda" else "the CPU"
    return f"default for {what} on {where}"

Mode = Literal["qlora", "lora"]
Scheduler = Literal["cosine", "linear", "constant", "constant_with_warmup"]
Batching = Literal["auto", "grouped", "padding_free", "padded"]
Device = Literal["cuda", "cpu", "mps"]

MODES: tuple[str, ...] = get_args(Mode)

EVALUATIONS = 6
"""Evaluations in a default run (besides the one at step 0). Six, not the former eight: the
best-checkpoint rule (``train/best.py``) chooses among the last, low-loss evaluations — the last
one in every default benchmark run of two sessions — so the two dropped pauses (validation loss,
fidelity estimate, checkpoint) only cost time: ~1.5 of ~35 min on a default en_sam_noor run."""
SCHEDULERS: tuple[str, ...] = get_args(Scheduler)
BATCHING: tuple[str, ...] = get_args(Batching)
DEVICES: tuple[str, ...] = get_args(Device)


def flag(name: str | None = None, *aliases: str, metavar: str | None = None, switches: bool = False,
         repeat: bool = False) -> dict:
    """Field metadata for the generated command-line option (see :mod:`.flags`).

    ``switches``: an enumeration offered as one flag per value (``--lora`` / ``--qlora``);
    ``repeat``: a tuple given one value per flag (``--persona A --persona B``).
    """
    return {"flag": name, "aliases": aliases, "metavar": metavar, "switches": switches, "repeat": repeat}


class ConfigError(WachatError):
    """A training option is out of range or inconsistent."""


@dataclass
class TrainConfig:
    """Everything a training run needs besides the project. Defaults follow QLoRA-paper practice."""

    base: str | None = field(default=None, metadata=flag(metavar="MODEL"))
    """Base model: a hub id, a local HF checkpoint folder, ``embedded:smollm2-135m`` (Apache-2.0)
    or ``embedded:gemma3-270m`` (Gemma Terms of Use). Default by the chat's language: English →
    SmolLM2-135M-Instruct on the CPU, TinyLlama-1.1B-Chat on CUDA (Apache-2.0); any other →
    Gemma 3 270M on the CPU, Qwen2.5-1.5B-Instruct on CUDA (Apache-2.0)."""

    mode: Mode = field(default="lora", metadata=flag(switches=True))
    """``qlora``: a 4-bit NF4 base with double quantization + LoRA, the default on CUDA;
    ``lora``: a full-precision base (bf16 on a GPU, fp32 on the CPU) + LoRA, the default on the CPU."""

    learning_rate: float = field(default=2e-4, metadata=flag("--lr", "--learning-rate"))
    """Peak learning rate of the LoRA weights (default 2e-4 on a GPU, 4e-4 on the CPU)."""

    epochs: float = 3.0
    """Passes over the training samples (default 3 on a GPU, 2 on the CPU; ignored when max steps is set)."""

    max_steps: int | None = None
    """Stop after this many optimizer steps (overrides the epochs)."""

    rank: int = 16
    """LoRA rank r (default 64 on a GPU, 16 on the CPU)."""

    alpha: int | None = None
    """LoRA alpha; the update is scaled by alpha / r (default 2 × rank)."""

    dropout: float = 0.05
    """Dropout on the LoRA input (default 0.05)."""

    personas: tuple[str, ...] | None = field(default=None, metadata=flag("--persona", metavar="NAME", repeat=True))
    """Train only these personas (repeatable: --persona Lisa --persona Alex), on their samples from
    every chat of the project. Default: every persona of the project's dataset."""

    target_modules: tuple[str, ...] | None = field(default=None, metadata=flag(metavar="NAME"))
    """Layers that get adapters, by name (e.g. ``q_proj v_proj``). Default: every linear
    projection of the transformer blocks, whatever the architecture calls them (Llama's
    q/k/v/o/gate/up/down, Phi-3's fused qkv_proj/gate_up_proj …), never the LM head."""

    lr_scheduler: Scheduler = "cosine"
    """Learning-rate schedule after the warmup (default cosine)."""

    warmup_ratio: float = 0.05
    """Fraction of the optimizer steps spent warming the learning rate up from 0 (default 0.05)."""

    weight_decay: float = 0.0
    """AdamW weight decay on the LoRA weights (default 0)."""

    max_grad_norm: float = 1.0
    """Gradient clipping norm (default 1)."""

    batch_size: int = 8
    """Chat samples per batch (default 1 on the CPU, with 4 accumulated; 8 on a GPU)."""

    grad_accum: int = 1
    """Batches accumulated per optimizer step; the effective batch is batch size × this (default 4 on
    the CPU, 1 on a GPU)."""

    max_seq_len: int = field(default=1024, metadata=flag("--seq-len", "--max-seq-len", metavar="TOKENS"))
    """Longest training sample in tokens; longer ones keep their system prompt and their end
    (default 768 on the CPU, 1024 on a GPU)."""

    batching: Batching = "auto"
    """How samples of different lengths share a batch: ``grouped`` (similar lengths together,
    little padding), ``padding_free`` (concatenated; pays off with flash attention), ``padded``
    (plain TRL), ``auto``: padding_free on CUDA with flash-attn installed, else grouped."""

    gradient_checkpointing: bool | None = None
    """Recompute activations in the backward pass to save memory (default: on for CUDA, off on the CPU,
    where one-sample batches already keep a default run near 2.5 GB at no cost in speed)."""

    eval_steps: int | None = field(default=None, metadata=flag(metavar="N"))
    """Evaluate (validation loss, perplexity, fidelity estimate, sample replies) every N steps (default: 6 times per run)."""

    save_steps: int | None = field(default=None, metadata=flag(metavar="N"))
    """Write a resumable checkpoint every N steps (default: with each evaluation)."""

    save_total_limit: int = field(default=2, metadata=flag(metavar="N"))
    """Resumable checkpoints kept on disk; older ones are deleted, the best adapter is kept apart (default 2)."""

    eval_max_samples: int | None = field(default=None, metadata=flag("--eval-samples", "--eval-max-samples",
                                                                      metavar="N"))
    """Validation samples per evaluation, a fixed subset so evaluations compare (default 16 on the CPU, all on a GPU)."""

    early_stopping_patience: int | None = field(default=None, metadata=flag("--early-stopping", metavar="N"))
    """Stop after N evaluations without a better validation loss (default: never)."""

    style_card: bool = True
    """Tell the model each persona's texting habits — a line computed from their training replies
    (lowercase, length, laughs, signature words, emoji) — in the system prompt, in training and in
    chat alike (default on; ``--no-style-card``: the persona's name only)."""

    sample_every_eval: bool = True
    """Generate replies for a few held-out contexts at every evaluation (default on)."""

    n_samples: int = field(default=2, metadata=flag("--samples", metavar="N"))
    """Held-out replies generated at each evaluation (default 2 on the CPU, 3 on a GPU)."""

    sample_max_new_tokens: int = field(default=40, metadata=flag("--sample-tokens", metavar="N"))
    """Longest generated sample reply, in tokens, when no fidelity estimate runs (default 40)."""

    fidelity_cases: int = field(default=24, metadata=flag(metavar="N"))
    """Held-out replies generated at each evaluation for the fidelity estimate; the sample replies
    are the first of them (default 24; 0 = no estimate)."""

    fidelity_tokens: int = field(default=32, metadata=flag(metavar="N"))
    """Longest reply of the fidelity estimate, in tokens (default 32)."""

    best_within: float = field(default=0.05, metadata=flag(metavar="FRACTION"))
    """The best checkpoint is the most faithful evaluation whose validation loss is within this
    fraction of the lowest (default 0.05; 0 = the lowest loss, fidelity breaking exact ties only)."""

    seed: int = 42
    """Seed for the LoRA init, the data order and the samples; a resumed run continues the same order (default 42)."""

    logging_steps: int = field(default=1, metadata=flag(metavar="N"))
    """Report the training loss every N optimizer steps (default 1)."""

    device: Device | None = None
    """Where to train: cuda, cpu or mps (default: CUDA when available)."""

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
            # A capped validation subset keeps CPU runs interactive. One sample per batch, four
            # accumulated (the same effective batch of 4): on en_sam_noor's longest samples
            # (`benchmarks/train_bench.py --memory sam_noor`) peak RSS 2.5 GB vs 6.5 GB for batches
            # of 4 (unpadded, so no attention mask and no quadratic attention scores on the CPU) at
            # 1.05× the tokens per CPU-second; activation checkpointing reached only 3.2 GB at 0.71×.
            # Two epochs at twice the learning rate: on en_sam_noor (with style cards) fidelity 0.70
            # vs 0.57 for three epochs at 2e-4, in two thirds of the time (benchmarks/fidelity_bench.py).
            base = cls(mode="lora", rank=16, batch_size=1, grad_accum=4, max_seq_len=768, device=device,
                       eval_max_samples=16, n_samples=2, learning_rate=4e-4, epochs=2.0)
        clean = {k: v for k, v in overrides.items() if v is not None}
        unknown = set(clean) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown training option(s): {', '.join(sorted(unknown))}")
        for name in ("target_modules", "personas"):
            if name in clean:
                clean[name] = tuple(clean[name])
        return replace(base, **clean)

    @classmethod
    def from_dict(cls, row: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in row.items() if k in known}
        for name in ("target_modules", "personas"):
            if data.get(name) is not None:
                data[name] = tuple(data[name])
        return cls(**data)

    def to_dict(self) -> dict:
        row = asdict(self)
        row["target_modules"] = list(self.target_modules) if self.target_modules is not None else None
        row["personas"] = list(self.personas) if self.personas is not None else None
        return row

    def with_overrides(self, **overrides: Any) -> "TrainConfig":
        """A copy with the given options replaced (None values are ignored)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

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

    def total_steps(self, n_train_samples: int, world_size: int = 1) -> int:
        """Optimizer steps this config runs on ``n_train_samples`` samples (split over ``world_size`` processes)."""
        if self.max_steps:
            return self.max_steps
        per_epoch = max(1, math.ceil(n_train_samples / self.batch_size / self.grad_accum / max(1, world_size)))
        return max(1, math.ceil(per_epoch * self.epochs))

    def warmup_steps(self, total_steps: int) -> int:
        """The warmup in optimizer steps: ``warmup_ratio`` of ``total_steps``, rounded up.

        Passed to the trainer as a whole number of steps, which every transformers version
        reads the same way (a float ``warmup_steps`` only means a ratio from transformers 5).
        """
        return math.ceil(self.warmup_ratio * total_steps)

    def resolved_eval_steps(self, total_steps: int) -> int:
        if self.eval_steps:
            return self.eval_steps
        return max(1, math.ceil(total_steps / EVALUATIONS))

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
        if self.device is not None and self.device not in DEVICES:
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
        if self.personas is not None and not [p for p in self.personas if isinstance(p, str) and p.strip()]:
            bad("no persona given", "leave --persona out to train every persona of the project")
        if self.target_modules is not None and not [t for t in self.target_modules if t.strip()]:
            bad("no LoRA target modules given", "leave --target-modules out to adapt every linear projection")
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
        if self.fidelity_cases < 0:
            bad(f"fidelity cases must not be negative, got {self.fidelity_cases}", "0 turns the estimate off")
        if not (1 <= self.fidelity_tokens <= 1024):
            bad(f"fidelity reply length must be between 1 and 1024 tokens, got {self.fidelity_tokens}")
        if not (0 <= self.best_within <= 1):
            bad(f"best-within must be a fraction between 0 and 1, got {self.best_within}")
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
