"""A ``tokenizer.model`` for a SentencePiece-style tokenizer that only has its ``tokenizer.json``.

llama.cpp's converter reads SentencePiece vocabularies (Llama 2, Mistral, Gemma, Phi-3) from
``tokenizer.model``. A checkpoint that carries only ``tokenizer.json`` — for example one that
transformers converted from a GGUF, like the embedded Gemma base — makes it fall back to
reading ``tokenizer.json`` with every token scored alike, and llama.cpp then merges in another
order than the HF tokenizer (the export's token check fails). llama.cpp's SentencePiece tokenizer
merges the adjacent pair whose result scores highest, and the HF BPE merges by rank, so a model
with score = −(rank of the merge that makes the token) tokenizes the same. It is built with
sentencepiece's own protobuf schema and checked by loading it with sentencepiece.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import ModelError

_BYTE = re.compile(r"<0x[0-9A-Fa-f]{2}>")


def is_sentencepiece_json(tokenizer_json: dict) -> bool:
    """A BPE ``tokenizer.json`` with byte fallback: the shape transformers gives SentencePiece BPE."""
    model = tokenizer_json.get("model") or {}
    return model.get("type") == "BPE" and bool(model.get("byte_fallback"))


def _adds_dummy_prefix(tokenizer_json: dict) -> bool:
    """Whether the tokenizer puts "▁" in front of the text (legacy Prepend, or Metaspace)."""
    text = json.dumps([tokenizer_json.get("normalizer"), tokenizer_json.get("pre_tokenizer")])
    return '"Prepend"' in text or ('"Metaspace"' in text and '"prepend_scheme": "never"' not in text)


def build_sentencepiece_model(tokenizer_json: dict, hf_tokenizer) -> bytes:
    """Serialized SentencePiece BPE model equivalent to ``tokenizer_json`` (see module docstring)."""
    from sentencepiece import SentencePieceProcessor
    from sentencepiece import sentencepiece_model_pb2 as pb

    model = tokenizer_json["model"]
    merges = model.get("merges") or []
    score: dict[str, float] = {}
    for rank, merge in enumerate(merges):
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        score.setdefault(left + right, -float(rank))
    pieces: dict[int, str] = {i: t for t, i in model["vocab"].items()}
    added = {row["id"]: row for row in tokenizer_json.get("added_tokens") or []}
    pieces.update({i: row["content"] for i, row in added.items()})
    unk_id = hf_tokenizer.unk_token_id
    Piece = pb.ModelProto.SentencePiece

    proto = pb.ModelProto()
    spec = proto.trainer_spec
    spec.model_type = pb.TrainerSpec.BPE
    spec.vocab_size = max(pieces) + 1
    spec.byte_fallback = True
    spec.unk_id = unk_id if unk_id is not None else 0
    spec.bos_id = hf_tokenizer.bos_token_id if hf_tokenizer.bos_token_id is not None else -1
    spec.eos_id = hf_tokenizer.eos_token_id if hf_tokenizer.eos_token_id is not None else -1
    spec.pad_id = -1
    proto.normalizer_spec.name = "identity"
    proto.normalizer_spec.add_dummy_prefix = _adds_dummy_prefix(tokenizer_json)
    proto.normalizer_spec.remove_extra_whitespaces = False
    proto.normalizer_spec.escape_whitespaces = True
    for i in range(spec.vocab_size):
        text = pieces.get(i)
        item = proto.pieces.add()
        item.piece = text if text is not None else f"<unused{i}>"
        item.score = score.get(text, -float(len(merges) + i)) if text is not None else -1e9
        if text is None:
            item.type = Piece.UNUSED
        elif i == spec.unk_id:
            item.type = Piece.UNKNOWN
        elif i in added:
            item.type = Piece.CONTROL if added[i].get("special") else Piece.USER_DEFINED
        elif _BYTE.fullmatch(text):
            item.type = Piece.BYTE
        else:
            item.type = Piece.NORMAL
    data = proto.SerializeToString()
    try:
        SentencePieceProcessor(model_proto=data)
    except (RuntimeError, OSError) as exc:
        raise ModelError(f"the tokenizer cannot be expressed as a SentencePiece model ({exc})",
                         hint="put the base model's original tokenizer.model next to its tokenizer.json") from None
    return data


def write_sentencepiece_model(tokenizer_dir: Path, hf_tokenizer) -> bool:
    """Write ``tokenizer.model`` into ``tokenizer_dir`` when it has only an SPM-style
    ``tokenizer.json``; True when one was written."""
    tokenizer_dir = Path(tokenizer_dir)
    if (tokenizer_dir / "tokenizer.model").is_file() or not (tokenizer_dir / "tokenizer.json").is_file():
        return False
    tokenizer_json = json.loads((tokenizer_dir / "tokenizer.json").read_text(encoding="utf-8"))
    if not is_sentencepiece_json(tokenizer_json):
        return False
    (tokenizer_dir / "tokenizer.model").write_bytes(build_sentencepiece_model(tokenizer_json, hf_tokenizer))
    return True
