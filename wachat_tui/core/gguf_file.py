"""A cheap look at a GGUF file before llama.cpp sees it (llama.cpp's own errors are unhelpful)."""
from __future__ import annotations

from pathlib import Path

from ..errors import ModelError

GGUF_MAGIC = b"GGUF"
_MIN_SIZE = 64  # header + counts: anything smaller cannot hold a model


def check_gguf_file(path: Path, hint: str = "export the model again with `wachat export`") -> Path:
    """Refuse a missing, folder, non-GGUF or truncated file with one clear line; return the path."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ModelError(f"model file not found: {path}", hint=hint)
    if path.is_dir():
        raise ModelError(f"{path} is a folder, not a GGUF model file", hint=hint)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror or exc}") from None
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path.name} is not a GGUF file (it does not start with the GGUF magic)",
                         hint=hint)
    if path.stat().st_size < _MIN_SIZE:
        raise ModelError(f"{path.name} is truncated", hint=hint)
    return path
