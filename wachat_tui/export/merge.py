"""Adapter + base → one set of merged weights (fp32 on the CPU), with peft's merge_and_unload."""
from __future__ import annotations

from pathlib import Path

from ..errors import ModelError


def load_tokenizer(tokenizer_dir: Path):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(str(tokenizer_dir))
    except (OSError, ValueError, TypeError) as exc:
        raise ModelError(f"cannot load the tokenizer from {tokenizer_dir}: {exc}".splitlines()[0],
                         hint="the base model folder is incomplete; train again or re-create it") from None


def load_merged(base_path: Path, adapter_dir: Path | None, threads: int | None = None):
    """The base model in fp32 with the LoRA adapter folded into its weights.

    Returns ``(model, info)``; ``info`` counts the merged LoRA layers so callers can report it.
    QLoRA adapters merge into the full-precision base the same way (their base was only
    quantized for training).
    """
    import time

    t0 = time.perf_counter()
    import torch
    from transformers import AutoModelForCausalLM

    if threads:
        torch.set_num_threads(threads)
    try:
        model = AutoModelForCausalLM.from_pretrained(str(base_path), dtype=torch.float32,
                                                     low_cpu_mem_usage=True)
    except MemoryError:
        raise ModelError("not enough memory to load the base model for merging",
                         hint="close other programs; merging needs about 4 bytes per parameter") from None
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelError(f"cannot load the base model from {base_path}: {exc}".splitlines()[0],
                         hint="the base model folder is incomplete; train again to re-create it") from None
    info = {"lora_layers": 0, "params": int(sum(p.numel() for p in model.parameters()))}
    if adapter_dir is not None:
        from peft import PeftModel

        info["load_s"] = round(time.perf_counter() - t0, 2)  # imports + base weights

        try:
            peft_model = PeftModel.from_pretrained(model, str(adapter_dir))
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise ModelError(f"the adapter in {adapter_dir} does not fit the base model: {exc}".splitlines()[0],
                             hint="export a run trained on this base model") from None
        info["lora_layers"] = sum(1 for name, _ in peft_model.named_modules() if name.endswith(".lora_A"))
        t1 = time.perf_counter()
        model = peft_model.merge_and_unload()
        info["merge_only_s"] = round(time.perf_counter() - t1, 2)
    model.eval()
    return model, info
