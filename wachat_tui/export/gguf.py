"""Merged Hugging Face weights → a GGUF file llama.cpp runs, written with the ``gguf`` package.

Mirrors what llama.cpp's own ``convert_hf_to_gguf.py`` does for the Llama family, without
needing a llama.cpp checkout: hyper-parameters as ``llama.*`` keys, tensors renamed through
``gguf.get_tensor_name_map``, ``q_proj``/``k_proj`` rows permuted back into llama.cpp's rotary
layout, the tokenizer (BPE with its pre-tokenizer name, or SentencePiece with scores) and the
special tokens / chat template through ``gguf.SpecialVocab``. Quantization then goes through
llama.cpp's own quantizer (``llama_model_quantize``) in llama-cpp-python.

Heavy imports (numpy, gguf, torch, llama_cpp) happen inside the functions.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..core.gguf_file import check_gguf_file
from ..errors import ModelError

# HF ``architectures`` names (and model_type fallbacks) we convert as llama.cpp's "llama" arch.
SUPPORTED_ARCHITECTURES = ("LlamaForCausalLM", "MistralForCausalLM")
SUPPORTED_MODEL_TYPES = ("llama", "mistral")
SUPPORTED_DESCRIPTION = ("Llama-family models (LlamaForCausalLM / MistralForCausalLM: SmolLM, SmolLM2, "
                         "TinyLlama, Llama 2, Llama 3.x, Mistral 7B)")

QUANT_FTYPES = {"f16": "LLAMA_FTYPE_MOSTLY_F16", "q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0",
                "q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M"}

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
    model_type = hparams.get("model_type")
    for arch in archs:
        if arch in SUPPORTED_ARCHITECTURES:
            return arch
    if not archs and model_type in SUPPORTED_MODEL_TYPES:
        return "LlamaForCausalLM" if model_type == "llama" else "MistralForCausalLM"
    what = archs[0] if archs else (model_type or "unknown")
    raise ModelError(f"cannot export a {what} model: GGUF export supports {SUPPORTED_DESCRIPTION}",
                     hint="train on a Llama-family base model (the default embedded SmolLM2 works)")


def _rope_params(hparams: Mapping[str, Any]) -> dict:
    """transformers ≥5 keeps rope settings in ``rope_parameters``; 4.x in rope_theta/rope_scaling."""
    params: dict = {}
    if isinstance(hparams.get("rope_scaling"), dict):
        params.update(hparams["rope_scaling"])
        if "type" in params and "rope_type" not in params:
            params["rope_type"] = params["type"]
    if "rope_theta" in hparams:
        params["rope_theta"] = hparams["rope_theta"]
    rp = hparams.get("rope_parameters")
    if isinstance(rp, dict):
        params.update(rp.get("full_attention", rp) if isinstance(rp.get("full_attention"), dict) else rp)
    return params


def _head_dim(hparams: Mapping[str, Any]) -> int:
    return int(hparams.get("head_dim") or hparams["hidden_size"] // hparams["num_attention_heads"])


def _add_hparams(writer, hparams: Mapping[str, Any]) -> None:
    import gguf

    n_ctx = hparams.get("max_position_embeddings") or 2048
    writer.add_context_length(int(n_ctx))
    writer.add_embedding_length(int(hparams["hidden_size"]))
    writer.add_feed_forward_length(int(hparams["intermediate_size"]))
    writer.add_block_count(int(hparams["num_hidden_layers"]))
    writer.add_head_count(int(hparams["num_attention_heads"]))
    writer.add_head_count_kv(int(hparams.get("num_key_value_heads") or hparams["num_attention_heads"]))
    writer.add_layer_norm_rms_eps(float(hparams.get("rms_norm_eps", 1e-5)))
    writer.add_vocab_size(int(hparams["vocab_size"]))
    writer.add_rope_dimension_count(_head_dim(hparams))
    if hparams.get("head_dim"):
        writer.add_key_length(int(hparams["head_dim"]))
        writer.add_value_length(int(hparams["head_dim"]))
    rope = _rope_params(hparams)
    if rope.get("rope_theta") is not None:
        writer.add_rope_freq_base(float(rope["rope_theta"]))
    rope_type = (rope.get("rope_type") or "default").lower()
    if rope_type == "linear" and rope.get("factor"):
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(float(rope["factor"]))
    elif rope_type not in ("default", "llama3"):
        raise ModelError(f"rope scaling type {rope_type!r} is not supported by the GGUF export",
                         hint=f"supported: {SUPPORTED_DESCRIPTION}")


def _llama3_rope_factors(hparams: Mapping[str, Any]):
    """Llama 3.1+ long-context rope: llama.cpp reads per-dimension factors from ``rope_freqs``."""
    import numpy as np

    rope = _rope_params(hparams)
    if (rope.get("rope_type") or "").lower() != "llama3":
        return None
    base = float(rope.get("rope_theta", 10000.0))
    dim = _head_dim(hparams)
    freqs = 1.0 / (base ** (np.arange(0, dim, 2, dtype=np.float64) / dim))
    factor = float(rope.get("factor", 8.0))
    low = float(rope.get("low_freq_factor", 1.0))
    high = float(rope.get("high_freq_factor", 4.0))
    old_ctx = float(rope.get("original_max_position_embeddings", 8192))
    low_wavelen, high_wavelen = old_ctx / low, old_ctx / high
    out = []
    for freq in freqs:
        wavelen = 2 * math.pi / freq
        if wavelen < high_wavelen:
            out.append(1.0)
        elif wavelen > low_wavelen:
            out.append(factor)
        else:
            smooth = (old_ctx / wavelen - low) / (high - low)
            out.append(1.0 / ((1 - smooth) / factor + smooth))
    return np.asarray(out, dtype=np.float32)


# --------------------------------------------------------------------------- tensors
def permute_rotary(weights, n_head: int, n_head_kv: int | None = None):
    """HF stores q/k rows as [first halves | second halves] per head; llama.cpp interleaves them."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    shape = weights.shape
    return (weights.reshape(n_head, 2, shape[0] // n_head // 2, *shape[1:])
            .swapaxes(1, 2)
            .reshape(shape))


@dataclass
class PlannedTensor:
    name: str              # GGUF name
    shape: tuple[int, ...]
    f16: bool              # stored as f16 (else f32)
    load: Callable[[], Any]  # → float32 numpy array in the final (permuted) layout

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * (2 if self.f16 else 4)


def plan_tensors(state_dict: Mapping[str, Any], hparams: Mapping[str, Any]) -> list[PlannedTensor]:
    """Map HF tensor names to GGUF names and decide each tensor's type (no conversion yet)."""
    import gguf

    n_layers = int(hparams["num_hidden_layers"])
    n_head = int(hparams["num_attention_heads"])
    n_head_kv = int(hparams.get("num_key_value_heads") or n_head)
    tied = bool(hparams.get("tie_word_embeddings", False))
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layers)
    planned: list[PlannedTensor] = []
    for name, tensor in state_dict.items():
        if name.endswith("rotary_emb.inv_freq"):
            continue  # computed at run time
        if name == "lm_head.weight" and tied:
            continue  # llama.cpp reuses token_embd when there is no output tensor
        new_name = tmap.get_name(name, try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise ModelError(f"unexpected tensor {name!r} in the merged model",
                             hint=f"GGUF export supports {SUPPORTED_DESCRIPTION}")

        def load(t=tensor, name=name):
            data = t.detach().to("cpu").float()
            if name.endswith(("q_proj.weight", "q_proj.bias")):
                data = permute_rotary(data, n_head, n_head)
            elif name.endswith(("k_proj.weight", "k_proj.bias")):
                data = permute_rotary(data, n_head, n_head_kv)
            return data.numpy()

        shape = tuple(int(s) for s in tensor.shape)
        planned.append(PlannedTensor(new_name, shape, f16=len(shape) > 1, load=load))
    factors = _llama3_rope_factors(hparams)
    if factors is not None:
        name = gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.ROPE_FREQS] + ".weight"
        planned.append(PlannedTensor(name, tuple(factors.shape), f16=False, load=lambda f=factors: f))
    names = [p.name for p in planned]
    if len(set(names)) != len(names):
        raise ModelError("two tensors map to the same GGUF name; the checkpoint layout is not supported")
    return planned


# --------------------------------------------------------------------------- tokenizer
@dataclass
class Vocab:
    model: str                       # "gpt2" (byte-level BPE) or "llama" (SentencePiece)
    pre: str                         # tokenizer.ggml.pre
    tokens: list = field(default_factory=list)
    types: list[int] = field(default_factory=list)
    scores: list[float] | None = None
    add_space_prefix: bool | None = None


def _token_looks_special(text: str) -> bool:
    return (text in ("<pad>", "<mask>") or (text.startswith("<|") and text.endswith("|>"))
            or (text.startswith("<unused") and text.endswith(">")))


def _load_tokenizer_json(tokenizer_dir: Path) -> dict | None:
    path = Path(tokenizer_dir) / "tokenizer.json"
    if not path.is_file():
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, json.JSONDecodeError):
        return None


_GPT2_REGEX_HINTS = ("'s|'t|'re|'ve|'m|'ll|'d", "?\\p{L}+")
_LLAMA3_REGEX = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"
                 "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")


def detect_bpe_pre(hf_tokenizer, tokenizer_json: dict | None) -> str:
    """The llama.cpp pre-tokenizer name for a byte-level BPE tokenizer.

    First the way llama.cpp's converter does it (hash of the token ids of a probe text), then,
    for tokenizers not in its table, by the shape of ``tokenizer.json``'s pre-tokenizer.
    """
    from .pretokenizers import CHECK_TEXT, PRE_TOKENIZERS

    ids = hf_tokenizer.encode(CHECK_TEXT)
    chkhsh = hashlib.sha256(str(ids).encode()).hexdigest()
    if chkhsh in PRE_TOKENIZERS:
        return PRE_TOKENIZERS[chkhsh]
    pre = (tokenizer_json or {}).get("pre_tokenizer") or {}
    if pre.get("type") == "ByteLevel" and pre.get("use_regex", True):
        return "gpt-2"  # plain GPT-2 regex split
    if pre.get("type") == "Sequence":
        parts = pre.get("pretokenizers") or []
        splits = [p for p in parts if p.get("type") == "Split"]
        bytelevel = [p for p in parts if p.get("type") == "ByteLevel"]
        if len(splits) == 1 and len(bytelevel) == 1 and not bytelevel[0].get("use_regex", True):
            regex = (splits[0].get("pattern") or {}).get("Regex", "")
            if regex == _LLAMA3_REGEX:
                return "llama-bpe"
    raise ModelError("the base model's BPE pre-tokenizer is not one llama.cpp knows",
                     hint=f"GGUF export supports {SUPPORTED_DESCRIPTION}")


def _bpe_vocab(hf_tokenizer, vocab_size: int, tokenizer_json: dict | None) -> Vocab:
    import gguf

    vocab = hf_tokenizer.get_vocab()
    if vocab and max(vocab.values()) >= vocab_size:
        raise ModelError(f"the tokenizer has ids up to {max(vocab.values())} but the model only "
                         f"{vocab_size} embeddings", hint="the adapter and tokenizer do not match the base model")
    reverse = {i: tok for tok, i in vocab.items()}
    added = hf_tokenizer.get_added_vocab()
    decoder = hf_tokenizer.added_tokens_decoder
    tokens: list[str] = []
    types: list[int] = []
    for i in range(vocab_size):
        tok = reverse.get(i)
        if tok is None:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        if tok in added:
            info = decoder.get(i)
            if info is not None and not info.normalized:
                # llama.cpp expects control / user-defined tokens pre-normalized
                tok = hf_tokenizer.decode(hf_tokenizer.encode(tok, add_special_tokens=False))
            if (info is not None and info.special) or _token_looks_special(tok):
                types.append(gguf.TokenType.CONTROL)
            else:
                tok = tok.replace("\u2581", " ")
                types.append(gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
        tokens.append(tok)
    return Vocab("gpt2", detect_bpe_pre(hf_tokenizer, tokenizer_json), tokens, types)


def _sentencepiece_vocab(tokenizer_dir: Path, vocab_size: int) -> Vocab:
    import gguf
    from sentencepiece import SentencePieceProcessor

    sp = SentencePieceProcessor()
    sp.LoadFromFile(str(Path(tokenizer_dir) / "tokenizer.model"))
    tokens: list[bytes] = [f"[PAD{i}]".encode() for i in range(vocab_size)]
    scores = [-10000.0] * vocab_size
    types = [int(gguf.TokenType.UNUSED)] * vocab_size
    for i in range(min(sp.vocab_size(), vocab_size)):
        kind = gguf.TokenType.NORMAL
        if sp.IsUnknown(i):
            kind = gguf.TokenType.UNKNOWN
        elif sp.IsControl(i):
            kind = gguf.TokenType.CONTROL
        elif sp.IsUnused(i):
            kind = gguf.TokenType.UNUSED
        elif sp.IsByte(i):
            kind = gguf.TokenType.BYTE
        tokens[i] = sp.IdToPiece(i).encode("utf-8")
        scores[i] = sp.GetScore(i)
        types[i] = int(kind)
    config_path = Path(tokenizer_dir) / "tokenizer_config.json"
    added_decoder: dict = {}
    if config_path.is_file():
        with open(config_path, encoding="utf-8") as fh:
            added_decoder = json.load(fh).get("added_tokens_decoder", {}) or {}
    tj = _load_tokenizer_json(tokenizer_dir)
    for row in (tj or {}).get("added_tokens", []):
        added_decoder.setdefault(str(row["id"]), row)
    for key, row in added_decoder.items():
        i = int(key)
        if i >= vocab_size:
            continue
        text = row["content"]
        if row.get("special") or _token_looks_special(text):
            types[i] = int(gguf.TokenType.CONTROL)
        else:
            text = text.replace("\u2581", " ")
            types[i] = int(gguf.TokenType.USER_DEFINED)
        scores[i] = -1000.0
        tokens[i] = text.encode("utf-8")
    return Vocab("llama", "default", tokens, types, scores)


def _spm_json_vocab(tj: dict, hf_tokenizer, vocab_size: int) -> Vocab:
    """SentencePiece-style BPE from ``tokenizer.json`` alone (no tokenizer.model).

    llama.cpp's SPM tokenizer merges the adjacent pair whose *result* has the highest score, so
    scores are rebuilt from the merge ranks (earlier merge → higher score); gguf's LlamaHfVocab
    gives every token the same score, which makes llama.cpp merge in the wrong order.
    """
    import re

    import gguf

    model = tj["model"]
    vocab: dict[str, int] = model["vocab"]
    merges = model.get("merges") or []
    score: dict[str, float] = {}
    for rank, merge in enumerate(merges):
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        score.setdefault(left + right, -float(rank))
    unk = model.get("unk_token")
    specials = {row["content"]: row for row in tj.get("added_tokens") or []}
    tokens: list[bytes] = [f"[PAD{i}]".encode() for i in range(vocab_size)]
    scores = [-10000.0] * vocab_size
    types = [int(gguf.TokenType.UNUSED)] * vocab_size
    for text, i in vocab.items():
        if i >= vocab_size:
            continue
        tokens[i] = text.encode("utf-8")
        scores[i] = score.get(text, -float(len(merges) + i))
        if text == unk:
            types[i] = int(gguf.TokenType.UNKNOWN)
        elif re.fullmatch(r"<0x[0-9A-Fa-f]{2}>", text):
            types[i] = int(gguf.TokenType.BYTE)
        else:
            types[i] = int(gguf.TokenType.NORMAL)
    for text, row in specials.items():
        i = int(row["id"])
        if i >= vocab_size:
            continue
        tokens[i] = text.encode("utf-8")
        scores[i] = -1000.0
        if text == unk:
            types[i] = int(gguf.TokenType.UNKNOWN)
        elif row.get("special") or _token_looks_special(text):
            types[i] = int(gguf.TokenType.CONTROL)
        else:
            types[i] = int(gguf.TokenType.USER_DEFINED)
    return Vocab("llama", "default", tokens, types, scores)


def build_vocab(tokenizer_dir: Path, hf_tokenizer, vocab_size: int) -> Vocab:
    """SentencePiece (tokenizer.model, or an SPM-style tokenizer.json) or byte-level BPE."""
    tokenizer_dir = Path(tokenizer_dir)
    tj = _load_tokenizer_json(tokenizer_dir)
    if (tokenizer_dir / "tokenizer.model").is_file():
        vocab = _sentencepiece_vocab(tokenizer_dir, vocab_size)
    elif tj and tj.get("model", {}).get("type") == "BPE" and tj["model"].get("byte_fallback"):
        vocab = _spm_json_vocab(tj, hf_tokenizer, vocab_size)
    elif tj and tj.get("model", {}).get("type") == "BPE":
        vocab = _bpe_vocab(hf_tokenizer, vocab_size, tj)
    else:
        kind = (tj or {}).get("model", {}).get("type", "unknown")
        raise ModelError(f"tokenizer type {kind!r} in {tokenizer_dir} cannot be exported",
                         hint="supported: SentencePiece (tokenizer.model) and byte-level BPE (tokenizer.json)")
    config_path = tokenizer_dir / "tokenizer_config.json"
    if config_path.is_file():
        with open(config_path, encoding="utf-8") as fh:
            prefix = json.load(fh).get("add_prefix_space")
        if prefix is not None:
            vocab.add_space_prefix = bool(prefix)
    return vocab


def _add_vocab(writer, vocab: Vocab, tokenizer_dir: Path, hf_tokenizer) -> None:
    import gguf

    writer.add_tokenizer_model(vocab.model)
    writer.add_tokenizer_pre(vocab.pre)
    writer.add_token_list(vocab.tokens)
    if vocab.scores is not None:
        writer.add_token_scores(vocab.scores)
    writer.add_token_types(vocab.types)
    if vocab.add_space_prefix is not None:
        writer.add_add_space_prefix(vocab.add_space_prefix)
    special = gguf.SpecialVocab(Path(tokenizer_dir), load_merges=vocab.model == "gpt2",
                                n_vocab=len(vocab.tokens))
    template = getattr(hf_tokenizer, "chat_template", None)
    if isinstance(template, str) and template.strip():
        special.chat_template = template  # what training used, even if only set in memory
    # The HF tokenizer is the reference for special ids when config files disagree.
    for kind in ("bos", "eos", "unk", "pad"):
        tid = getattr(hf_tokenizer, f"{kind}_token_id", None)
        if isinstance(tid, int) and 0 <= tid < len(vocab.tokens):
            special.special_token_ids[kind] = tid
    add_bos, add_eos = _adds_bos_eos(hf_tokenizer)
    if add_bos is not None:
        special.add_special_token["bos"] = add_bos
    if add_eos is not None:
        special.add_special_token["eos"] = add_eos
    if vocab.model == "gpt2" and not special.merges:
        raise ModelError(f"the BPE tokenizer in {tokenizer_dir} has no merges",
                         hint="the tokenizer files are incomplete; re-create the base model directory")
    special.add_to_gguf(writer, quiet=True)


def _adds_bos_eos(hf_tokenizer) -> tuple[bool | None, bool | None]:
    """Whether the HF tokenizer adds BOS/EOS to plain text (llama.cpp must do the same)."""
    try:
        plain = hf_tokenizer.encode("hello", add_special_tokens=False)
        full = hf_tokenizer.encode("hello", add_special_tokens=True)
    except Exception:
        return None, None
    bos, eos = hf_tokenizer.bos_token_id, hf_tokenizer.eos_token_id
    extra = len(full) - len(plain)
    add_bos = bool(extra > 0 and bos is not None and full[0] == bos and full[1:1 + len(plain)] == plain)
    add_eos = bool(extra > 0 and eos is not None and full[-1] == eos and full[-1 - len(plain):-1] == plain)
    return add_bos, add_eos


# --------------------------------------------------------------------------- writing
def write_gguf(path: Path, state_dict: Mapping[str, Any], hparams: Mapping[str, Any], *,
               tokenizer_dir: Path, hf_tokenizer, metadata: Mapping[str, Any] | None = None,
               name: str | None = None, progress: ProgressFn | None = None) -> dict:
    """Write an f16 GGUF of ``state_dict`` to ``path`` (the caller picks a temp name).

    Tensors are streamed one at a time (converted, written, dropped), so peak memory stays
    near the size of the merged model itself. Returns a small summary dict.
    """
    import gguf
    import numpy as np

    check_supported(hparams)
    vocab = build_vocab(tokenizer_dir, hf_tokenizer, int(hparams["vocab_size"]))
    planned = plan_tensors(state_dict, hparams)

    writer = gguf.GGUFWriter(str(path), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    try:
        writer.add_type(gguf.GGUFType.MODEL)
        if name:
            writer.add_name(name)
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
        writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
        _add_hparams(writer, hparams)
        _add_vocab(writer, vocab, tokenizer_dir, hf_tokenizer)
        for key, value in (metadata or {}).items():
            add_metadata_value(writer, key, value)
        for t in planned:
            dtype = np.float16 if t.f16 else np.float32
            writer.add_tensor_info(t.name, t.shape, np.dtype(dtype), t.nbytes)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        total = len(planned)
        if progress:
            progress(0, total)
        for i, t in enumerate(planned, 1):
            data = t.load()
            if t.f16:
                data = data.astype(np.float16)
                if not np.isfinite(data).all():
                    raise ModelError(f"tensor {t.name} overflows float16 (the merged weights are too large)",
                                     hint="the adapter may have diverged; export an earlier checkpoint")
            else:
                data = data.astype(np.float32)
            writer.write_tensor_data(np.ascontiguousarray(data))
            if progress:
                progress(i, total)
        writer.flush()
        for fh in writer.fout or []:
            os.fsync(fh.fileno())
    finally:
        writer.close()
    return {"tensors": len(planned), "tokenizer": vocab.model, "pre_tokenizer": vocab.pre,
            "vocab_size": len(vocab.tokens)}


def add_metadata_value(writer, key: str, value: Any) -> None:
    """Write one custom key: str/bool/int/float as such, anything else as a JSON string."""
    if value is None:
        return
    if isinstance(value, bool):
        writer.add_bool(key, value)
    elif isinstance(value, int):
        writer.add_int64(key, value)
    elif isinstance(value, float):
        writer.add_float64(key, value)
    elif isinstance(value, str):
        writer.add_string(key, value)
    else:
        writer.add_string(key, json.dumps(value, ensure_ascii=False))


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
    except Exception as exc:  # the reader raises assorted errors on garbage
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
        except Exception:
            out[key] = None
    return out
