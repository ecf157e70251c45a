"""Typed export options (no heavy imports: the TUI builds and validates these before any work)."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import WachatError

QUANTS = ("q8_0", "q4_k_m", "f16")
"""Output types: ``q8_0`` (default; near-lossless, half of f16), ``q4_k_m`` (smallest, some loss),
``f16`` (the unquantized export; the one whose logits are checked against the merged model)."""


class ExportConfigError(WachatError):
    """An export option is invalid."""


@dataclass
class ExportConfig:
    """What to export and how strictly to check it."""

    quant: str = "q8_0"
    """Weight type of the final file: one of :data:`QUANTS`."""

    run_id: str | None = None
    """Training run to export; None = the newest finished run of the project."""

    out: Path | None = None
    """Output file; None = ``<project>/models/<run_id>-<quant>.gguf``."""

    lora_gguf: bool = False
    """Also write the adapter alone as a GGUF LoRA (``<run_id>-lora.gguf``) for llama.cpp's ``--lora``."""

    min_top1_agreement: float = 0.99
    """Logits check: share of prompt positions where llama.cpp's f16 top-1 next token must equal
    the merged HF model's."""

    max_turn_tokens: int = 160
    """End-of-turn check: a greedy reply must end on the end-of-turn token within this many tokens."""

    threads: int | None = None
    """CPU threads for torch and llama.cpp; None = half the cores (at least 1). Oversubscribed
    cores make both libraries' thread pools spin, which is far slower than fewer threads."""

    def validate(self) -> "ExportConfig":
        if self.quant not in QUANTS:
            raise ExportConfigError(f"unknown quantization {self.quant!r}",
                                    hint=f"choose one of {', '.join(QUANTS)}")
        if not 0.0 < self.min_top1_agreement <= 1.0:
            raise ExportConfigError("min_top1_agreement must be in (0, 1]")
        if self.max_turn_tokens < 8:
            raise ExportConfigError("max_turn_tokens must be at least 8")
        if self.out is not None:
            self.out = Path(self.out).expanduser()
            if self.out.suffix.lower() != ".gguf":
                raise ExportConfigError(f"output file {self.out} must end in .gguf")
            if self.out.exists() and self.out.is_dir():
                raise ExportConfigError(f"output {self.out} is a directory", hint="give a file name ending in .gguf")
        return self

    def resolved_threads(self) -> int:
        return int(self.threads) if self.threads else max(1, (os.cpu_count() or 2) // 2)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["out"] = str(self.out) if self.out else None
        return d
