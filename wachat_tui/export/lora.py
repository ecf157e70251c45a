"""The adapter alone as a GGUF LoRA, for ``llama-cli -m base.gguf --lora adapter.gguf``.

Follows llama.cpp's ``convert_lora_to_gguf.py`` conventions: ``general.type = adapter``,
``adapter.type = lora``, ``adapter.lora.alpha``; per target weight two tensors
``<gguf name>.lora_a`` (r × in) and ``<gguf name>.lora_b`` (out × r). The q/k rotary
permutation acts on output rows, so it is applied to ``lora_b``.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Mapping

from ..errors import ModelError
from .gguf import add_metadata_value, permute_rotary


def _load_adapter(adapter_dir: Path) -> tuple[dict, dict]:
    cfg_path = adapter_dir / "adapter_config.json"
    try:
        with open(cfg_path, encoding="utf-8") as fh:
            cfg = json.load(fh)
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read {cfg_path}: {exc}") from None
    weights = adapter_dir / "adapter_model.safetensors"
    if weights.is_file():
        from safetensors.torch import load_file

        tensors = load_file(str(weights))
    elif (adapter_dir / "adapter_model.bin").is_file():
        import torch

        tensors = torch.load(str(adapter_dir / "adapter_model.bin"), map_location="cpu", weights_only=True)
    else:
        raise ModelError(f"no adapter weights in {adapter_dir}")
    return cfg, tensors


def write_lora_gguf(adapter_dir: Path, hparams: Mapping[str, Any], out: Path, base_model: str = "") -> Path:
    import gguf
    import numpy as np

    cfg, tensors = _load_adapter(Path(adapter_dir))
    if cfg.get("peft_type", "LORA") != "LORA" or cfg.get("use_dora"):
        raise ModelError("only plain LoRA adapters can be written as a GGUF LoRA (not DoRA or other types)")
    r = int(cfg.get("r", 8))
    alpha = float(cfg.get("lora_alpha", r))
    if cfg.get("use_rslora"):
        alpha = alpha * math.sqrt(r)  # llama.cpp scales by alpha / r; rsLoRA by alpha / sqrt(r)
    n_layers = int(hparams["num_hidden_layers"])
    n_head = int(hparams["num_attention_heads"])
    n_head_kv = int(hparams.get("num_key_value_heads") or n_head)
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layers)

    pairs: dict[str, dict[str, Any]] = {}
    for name, t in tensors.items():
        base = name.removeprefix("base_model.model.")
        for kind in ("lora_A", "lora_B"):
            marker = f".{kind}."
            if marker in base:
                module = base.split(marker)[0]
                pairs.setdefault(module, {})[kind] = t
                break
        else:
            raise ModelError(f"the adapter holds a full tensor {name!r} (e.g. trained embeddings); "
                             "it cannot be written as a GGUF LoRA", hint="use the merged GGUF instead")
    out.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = out.parent / f".{out.name}.{os.getpid()}.tmp"
    writer = gguf.GGUFWriter(str(tmp), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    try:
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
        add_metadata_value(writer, "wachat.base_model", base_model)
        for module, ab in sorted(pairs.items()):
            if "lora_A" not in ab or "lora_B" not in ab:
                raise ModelError(f"adapter layer {module} is missing its A or B matrix")
            new_name = tmap.get_name(module + ".weight", try_suffixes=(".weight",))
            if new_name is None:
                raise ModelError(f"adapter targets {module!r}, which has no GGUF counterpart")
            a = ab["lora_A"].float()
            b = ab["lora_B"].float()
            if module.endswith("q_proj"):
                b = permute_rotary(b, n_head, n_head)
            elif module.endswith("k_proj"):
                b = permute_rotary(b, n_head, n_head_kv)
            writer.add_tensor(new_name + ".lora_a", np.ascontiguousarray(a.numpy(), dtype=np.float32))
            writer.add_tensor(new_name + ".lora_b", np.ascontiguousarray(b.numpy(), dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.flush()
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    writer.close()
    os.chmod(tmp, 0o600)
    os.replace(tmp, out)
    return out
