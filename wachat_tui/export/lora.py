"""The adapter alone as a GGUF LoRA, for ``llama-cli -m base.gguf --lora adapter.gguf`` (and the chat engine).

Written by llama.cpp's own ``convert_lora_to_gguf.py`` (see :mod:`.convert`) from the adapter
folder and the base model's config (no base weights needed). What that converter would refuse
with a traceback, or convert wrongly without a word, is checked here first and refused with one
sentence: adapters that are not plain LoRA (DoRA…), adapters that carry full tensors (trained
embeddings via ``modules_to_save``), per-module alphas. An rsLoRA adapter (scale alpha/√r) is
converted with the alpha that gives the same scale under llama.cpp's alpha/r.
"""
from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any, Mapping

from ..errors import ModelError
from .convert import ConversionJob, run_conversion

_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


def read_adapter_config(adapter_dir: Path) -> dict:
    path = Path(adapter_dir) / "adapter_config.json"
    try:
        with open(path, encoding="utf-8") as fh:
            config = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read {path}: {exc}", hint="export a run whose training finished") from None
    if not isinstance(config, dict):
        raise ModelError(f"{path} is not an adapter config")
    return config


def _tensor_names(adapter_dir: Path) -> list[str]:
    weights = Path(adapter_dir) / _WEIGHTS[0]
    if weights.is_file():
        from safetensors import safe_open

        with safe_open(str(weights), framework="pt") as fh:
            return list(fh.keys())
    if (Path(adapter_dir) / _WEIGHTS[1]).is_file():
        import torch

        return list(torch.load(str(Path(adapter_dir) / _WEIGHTS[1]), map_location="cpu", weights_only=True))
    raise ModelError(f"no adapter weights in {adapter_dir}", hint="export a run whose training finished")


def check_adapter(adapter_dir: Path) -> dict:
    """The adapter config, or a ModelError when the adapter cannot be a GGUF LoRA."""
    config = read_adapter_config(adapter_dir)
    if config.get("peft_type", "LORA") != "LORA" or config.get("use_dora"):
        kind = "DoRA" if config.get("use_dora") else config.get("peft_type")
        raise ModelError(f"a {kind} adapter cannot be written as a GGUF LoRA (only plain LoRA can)",
                         hint="use the merged GGUF instead")
    if config.get("alpha_pattern"):
        raise ModelError("the adapter uses per-module LoRA alphas, which a GGUF LoRA cannot express",
                         hint="use the merged GGUF instead")
    full = [n for n in _tensor_names(adapter_dir) if ".lora_A." not in n and ".lora_B." not in n]
    if full:
        raise ModelError(f"the adapter holds full tensors ({full[0]}, e.g. trained embeddings); "
                         "a GGUF LoRA can only hold LoRA matrices", hint="use the merged GGUF instead")
    return config


def _rslora_copy(adapter_dir: Path, config: dict, dest: Path) -> Path:
    """The adapter folder with ``lora_alpha`` rescaled so that llama.cpp's alpha/r equals alpha/√r."""
    dest.mkdir(mode=0o700)
    for name in _WEIGHTS:
        if (Path(adapter_dir) / name).is_file():
            os.symlink((Path(adapter_dir) / name).resolve(), dest / name)
    r = int(config.get("r", 8))
    fixed = {**config, "lora_alpha": float(config.get("lora_alpha", r)) * math.sqrt(r), "use_rslora": False}
    (dest / "adapter_config.json").write_text(json.dumps(fixed), encoding="utf-8")
    return dest


def write_lora_gguf(adapter_dir: Path, base_dir: Path, out: Path, *, metadata: Mapping[str, Any] | None = None,
                    threads: int | None = None) -> Path:
    """Convert ``adapter_dir`` (a peft LoRA trained on ``base_dir``) to ``out``, atomically, 0600."""
    adapter_dir, out = Path(adapter_dir), Path(out)
    config = check_adapter(adapter_dir)
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = out.parent / f".{out.name}.{os.getpid()}.tmp"
    rescaled = out.parent / f".{out.name}.adapter.{os.getpid()}.tmp"
    source = _rslora_copy(adapter_dir, config, rescaled) if config.get("use_rslora") else adapter_dir
    try:
        args = ["--base", str(base_dir), "--outfile", str(tmp), "--outtype", "f32", str(source)]
        run_conversion(ConversionJob("lora", args, dict(metadata or {})), threads=threads)
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
        shutil.rmtree(rescaled, ignore_errors=True)
    return out
