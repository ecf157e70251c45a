"""Merged Hugging Face weights → the f16 GGUF llama.cpp runs, written by llama.cpp's own converter.

The merged model is saved as a plain HF checkpoint in a hidden temp folder beside the output,
with the tokenizer files training used (put in the layout the converter reads: see
:func:`stage_tokenizer`), and ``convert_hf_to_gguf.py`` from the llama.cpp revision of the
installed llama-cpp-python writes the GGUF from it (:mod:`.converter`, :mod:`.convert`), adding
our ``wachat.*`` key-values. Quantization then goes through llama.cpp's own quantizer
(``llama_model_quantize``). Heavy imports (gguf, torch, llama_cpp) happen inside the functions.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping

from ..core.gguf_file import check_gguf_file
from ..errors import ModelError
from .convert import ConversionJob, run_conversion
from .sentencepiece_model import write_sentencepiece_model

# HF architectures whose export is verified by the test suite (tiny models of each, merged and LoRA):
# class name → family. The converter knows more, but only these are known to pass the checks.
SUPPORTED_ARCHITECTURES: dict[str, str] = {
    "LlamaForCausalLM": "llama", "MistralForCausalLM": "mistral", "Qwen2ForCausalLM": "qwen2",
    "Qwen3ForCausalLM": "qwen3", "Gemma2ForCausalLM": "gemma2", "Gemma3ForCausalLM": "gemma3",
    "Phi3ForCausalLM": "phi3",
}
_MODEL_TYPES = {"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM",
                "qwen3": "Qwen3ForCausalLM", "gemma2": "Gemma2ForCausalLM", "gemma3_text": "Gemma3ForCausalLM",
                "phi3": "Phi3ForCausalLM"}
SUPPORTED_DESCRIPTION = ("Llama-family (SmolLM2, TinyLlama, Llama 3.x), Mistral, Qwen2.5, Qwen3, Gemma 2, "
                         "Gemma 3 and Phi-3 models")

QUANT_FTYPES = {"f16": "LLAMA_FTYPE_MOSTLY_F16", "q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0",
                "q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M"}

# Files of an HF tokenizer, copied as they are into the folder the converter reads.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                   "added_tokens.json", "chat_template.jinja", "chat_template.json", "vocab.json", "merges.txt")
_WEIGHT_SUFFIXES = (".safetensors", ".bin")
_WEIGHT_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")

ProgressFn = Callable[[int, int], None]


# --------------------------------------------------------------------------- hyper-parameters
def read_hparams(model_dir: Path) -> dict:
    """The model's ``config.json`` as a dict (ModelError when missing or unreadable)."""
    path = Path(model_dir) / "config.json"
    try:
        with open(path, encoding="utf-8") as fh:
            hparams = json.load(fh)
    except FileNotFoundError:
        raise ModelError(f"{model_dir} has no config.json",
                         hint="point the run at a Hugging Face checkpoint directory") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from None
    if not isinstance(hparams, dict):
        raise ModelError(f"{path} is not a model config")
    if isinstance(hparams.get("text_config"), dict) and "num_hidden_layers" not in hparams:
        hparams = {**hparams, **hparams["text_config"]}
    return hparams


def check_supported(hparams: Mapping[str, Any]) -> str:
    """Return the HF architecture name, or raise a ModelError naming what is supported."""
    archs = list(hparams.get("architectures") or [])
    for arch in archs:
        if arch in SUPPORTED_ARCHITECTURES:
            return arch
    model_type = hparams.get("model_type")
    if not archs and model_type in _MODEL_TYPES:
        return _MODEL_TYPES[model_type]
    what = archs[0] if archs else (model_type or "unknown")
    raise ModelError(f"cannot export a {what} model: GGUF export supports {SUPPORTED_DESCRIPTION}",
                     hint="train on one of those base models (the default embedded SmolLM2 works)")


def gguf_model_name(name: str | None, hparams: Mapping[str, Any]) -> str | None:
    """``general.name`` for the file (None: the converter names it after the folder).

    llama.cpp decides some tokenizer behaviour by this name: for Phi-3 it strips the whitespace
    after special tokens only when the name says "phi-3", as the HF Phi-3 tokenizer does, so a
    Phi-3 export must say so in its name whatever the project or folder is called.
    """
    if SUPPORTED_ARCHITECTURES.get(check_supported(hparams)) == "phi3":
        lower = (name or "").lower()
        if "phi-3" not in lower and "phi3" not in lower:
            name = f"{name} (Phi-3)" if name else "Phi-3"
    return name


# --------------------------------------------------------------------------- staging
def adds_bos_eos(hf_tokenizer) -> tuple[bool | None, bool | None]:
    """Whether the HF tokenizer adds BOS/EOS to plain text (llama.cpp must do the same)."""
    try:
        plain = hf_tokenizer.encode("hello", add_special_tokens=False)
        full = hf_tokenizer.encode("hello", add_special_tokens=True)
    except (ValueError, TypeError, AttributeError):
        return None, None
    bos, eos = hf_tokenizer.bos_token_id, hf_tokenizer.eos_token_id
    extra = len(full) - len(plain)
    add_bos = bool(extra > 0 and bos is not None and full[0] == bos and full[1:1 + len(plain)] == plain)
    add_eos = bool(extra > 0 and eos is not None and full[-1] == eos and full[-1 - len(plain):-1] == plain)
    return add_bos, add_eos


def stage_tokenizer(hf_tokenizer, tokenizer_dir: Path, dest: Path) -> None:
    """Copy the tokenizer training used into ``dest``, with a ``tokenizer_config.json`` that says
    what the loaded HF tokenizer does.

    The converter reads special/added tokens from ``added_tokens_decoder``, the chat template,
    BOS/EOS and their ids from ``tokenizer_config.json`` the way transformers 4 wrote it;
    transformers 5 leaves most of that out (Gemma's ``<start_of_turn>`` then became a plain word
    in llama.cpp). The HF tokenizer object is the reference: its view is written back. A
    SentencePiece tokenizer that comes without ``tokenizer.model`` gets one
    (:mod:`.sentencepiece_model`).
    """
    tokenizer_dir, dest = Path(tokenizer_dir), Path(dest)
    for name in TOKENIZER_FILES:
        if (tokenizer_dir / name).is_file():
            shutil.copyfile(tokenizer_dir / name, dest / name)
    if not (dest / "tokenizer.json").is_file() and not (dest / "tokenizer.model").is_file():
        hf_tokenizer.save_pretrained(str(dest))  # a tokenizer that only exists in memory
    write_sentencepiece_model(dest, hf_tokenizer)  # SentencePiece-style tokenizer.json only
    config_path = dest / "tokenizer_config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    except (OSError, json.JSONDecodeError):
        config = {}
    config["added_tokens_decoder"] = {
        str(i): {"content": t.content, "lstrip": t.lstrip, "normalized": t.normalized, "rstrip": t.rstrip,
                 "single_word": t.single_word, "special": t.special}
        for i, t in sorted(hf_tokenizer.added_tokens_decoder.items())}
    config.setdefault("tokenizer_class", type(hf_tokenizer).__name__)
    for kind in ("bos", "eos", "unk", "pad"):
        token = getattr(hf_tokenizer, f"{kind}_token", None)
        if isinstance(token, str):
            config[f"{kind}_token"] = token
    add_bos, add_eos = adds_bos_eos(hf_tokenizer)
    if add_bos is not None:
        config["add_bos_token"], config["add_eos_token"] = add_bos, add_eos
    template = getattr(hf_tokenizer, "chat_template", None)
    if isinstance(template, str) and template.strip():
        config["chat_template"] = template  # what training used, even if it was only set in memory
    config_path.write_text(json.dumps(config, ensure_ascii=False, indent=1), encoding="utf-8")


def _link_checkpoint(checkpoint_dir: Path, dest: Path) -> None:
    """A saved checkpoint's weights, linked (not copied) into the staging folder."""
    items = sorted(Path(checkpoint_dir).iterdir())
    # safetensors when there are any (a folder may hold both formats; the converter would read both)
    suffix = next((s for s in _WEIGHT_SUFFIXES if any(i.suffix == s and i.is_file() for i in items)), None)
    for item in items:
        if item.suffix == suffix and item.is_file() and not item.name.startswith("training_args"):
            os.symlink(item.resolve(), dest / item.name)
        elif item.name in _WEIGHT_INDEXES and suffix and item.name.endswith(f"{suffix}.index.json"):
            shutil.copyfile(item, dest / item.name)
    if suffix is None:
        raise ModelError(f"no model weights (*.safetensors) in {checkpoint_dir}",
                         hint="the base model folder is incomplete; train again to re-create it")
    for name in ("config.json", "generation_config.json"):
        if (Path(checkpoint_dir) / name).is_file():
            shutil.copyfile(Path(checkpoint_dir) / name, dest / name)


def _check_space(folder: Path, needed: int) -> None:
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise ModelError(f"not enough disk space in {folder}: {needed / 1e6:.0f} MB needed, "
                         f"{free / 1e6:.0f} MB free", hint="free some space or choose another --out")


# --------------------------------------------------------------------------- writing
def write_gguf(path: Path, model=None, *, checkpoint_dir: Path | None = None, tokenizer_dir: Path,
               hf_tokenizer, metadata: Mapping[str, Any] | None = None, name: str | None = None,
               progress: ProgressFn | None = None, threads: int | None = None) -> dict:
    """Write an f16 GGUF to ``path`` (the caller picks a temp name) with llama.cpp's converter.

    The weights come from ``model`` (an in-memory model, e.g. the merged one: saved to a hidden
    temp folder first) or from ``checkpoint_dir`` (a saved checkpoint, e.g. the base model: linked).
    ``metadata`` adds key-values (``wachat.*``). Returns the converter's summary (architecture,
    tensors, tokenizer, pre_tokenizer, vocab_size, convert_s). Every temp file is removed.
    """
    if (model is None) == (checkpoint_dir is None):
        raise ValueError("write_gguf needs exactly one of model / checkpoint_dir")
    path = Path(path)
    hparams = model.config.to_dict() if model is not None else read_hparams(Path(checkpoint_dir))
    check_supported(hparams)
    if model is not None:
        n_params = sum(p.numel() for p in model.parameters())
        _check_space(path.parent, n_params * 6)  # fp32 checkpoint + f16 GGUF, side by side
    temp = path.parent / f".{path.name}.hf.{os.getpid()}.tmp"
    # The converter derives general.basename/size_label from the folder's name: give it the base's.
    origin = Path(str(hparams.get("_name_or_path") or checkpoint_dir or "model")).name
    staging = temp / (origin if origin and not origin.startswith(".") else "model")
    try:
        temp.mkdir(mode=0o700)
        staging.mkdir(mode=0o700)
        if model is not None:
            model.save_pretrained(str(staging), safe_serialization=True)
        else:
            _link_checkpoint(Path(checkpoint_dir), staging)
        stage_tokenizer(hf_tokenizer, Path(tokenizer_dir), staging)
        args = [str(staging), "--outfile", str(path), "--outtype", "f16"]
        model_name = gguf_model_name(name, hparams)
        if model_name:
            args += ["--model-name", model_name]
        summary = run_conversion(ConversionJob("model", args, dict(metadata or {})), threads=threads,
                                 progress=progress)
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return summary


# --------------------------------------------------------------------------- quantization
def quantize(src: Path, dst: Path, quant: str, threads: int | None = None) -> None:
    """llama.cpp's quantizer (the same code as ``llama-quantize``) via llama-cpp-python."""
    import llama_cpp

    if quant not in QUANT_FTYPES:
        raise ModelError(f"unknown quantization {quant!r}", hint=f"choose one of {', '.join(QUANT_FTYPES)}")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, QUANT_FTYPES[quant])
    params.nthread = int(threads or 0)
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0 or not Path(dst).is_file():
        raise ModelError(f"llama.cpp could not quantize the model to {quant} (code {rc})",
                         hint="try --quant f16, or check free disk space")


def read_metadata(path: Path) -> dict[str, Any]:
    """Key-value metadata of a GGUF file (arrays summarised as their length). ModelError if unreadable."""
    import gguf

    check_gguf_file(path)
    try:
        reader = gguf.GGUFReader(str(path))
    except (ValueError, IndexError, KeyError, OSError) as exc:  # what the reader raises on a damaged file
        raise ModelError(f"{path} is not a valid GGUF file ({type(exc).__name__}: {exc})",
                         hint="export it again") from None
    out: dict[str, Any] = {}
    for key, fld in reader.fields.items():
        if key.startswith("tokenizer.ggml.") and key in ("tokenizer.ggml.tokens", "tokenizer.ggml.merges",
                                                        "tokenizer.ggml.token_type", "tokenizer.ggml.scores"):
            out[key] = len(fld.data)
            continue
        try:
            out[key] = fld.contents()
        except (ValueError, IndexError, TypeError):  # a value type this gguf version cannot decode
            out[key] = None
    return out
