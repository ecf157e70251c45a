"""Did it learn? Validation loss of base vs fine-tuned, and the style of generated vs real replies.

Used by ``wachat eval``. Imports torch/transformers/peft (call from a command's ``run``).
"""
from __future__ import annotations

import math
import random
import time
from pathlib import Path
from typing import Callable, Sequence

import torch

from ..core.atomic import write_json
from ..core.layout import RunRecord, read_json_object
from ..core.stats import find_emoji, find_laughs, words
from ..errors import ModelError, WachatError
from . import data as chat_data
from .batching import ChatCollator
from .config import TrainConfig
from .modeling import generate_reply, install_compact_loss, load_tokenizer, persona_nll
from .models import resolve_base


# --------------------------------------------------------------------------- loss
@torch.no_grad()
def persona_loss(model, tokenized: Sequence[chat_data.Tokenized], pad_id: int, batch_size: int = 8,
                 compact: bool = True) -> tuple[float, int]:
    """Token-weighted mean NLL over the persona's reply tokens.

    ``compact``: the model has the compact persona loss installed (``install_compact_loss``)."""
    device = next(model.parameters()).device
    collate = ChatCollator(pad_id)
    rows = sorted(tokenized, key=lambda t: len(t.input_ids))
    total, count = 0.0, 0
    model.eval()
    for i in range(0, len(rows), batch_size):
        batch = collate([{"input_ids": t.input_ids, "labels": t.labels} for t in rows[i:i + batch_size]])
        nll, n = persona_nll(model, {k: v.to(device) for k, v in batch.items()}, compact)
        total += float(nll)
        count += int(n)
    return (total / max(count, 1), count)


# --------------------------------------------------------------------------- style
def style_metrics(texts: Sequence[str]) -> dict:
    """Per-reply habits: mean length, emoji per reply, share with a laugh, share all lowercase."""
    n = len(texts)
    if not n:
        return {"n": 0, "mean_chars": None, "emoji_per_reply": None, "laugh_rate": None, "lowercase_ratio": None}
    emoji = [find_emoji(t) for t in texts]
    letters = [t for t in texts if any(c.isalpha() for c in t)]
    return {
        "n": n,
        "mean_chars": round(sum(len(t) for t in texts) / n, 1),
        "emoji_per_reply": round(sum(len(e) for e in emoji) / n, 3),
        "laugh_rate": round(sum(1 for t, e in zip(texts, emoji) if find_laughs(t, e)) / n, 3),
        "lowercase_ratio": round(sum(1 for t in letters if t == t.lower()) / len(letters), 3) if letters else None,
    }


def vocab_overlap(generated: Sequence[str], reference: Sequence[str]) -> float | None:
    """Jaccard overlap of the word sets of the generated and the real replies."""
    a = {w for t in generated for w in words(t)}
    b = {w for t in reference for w in words(t)}
    if not a or not b:
        return None
    return round(len(a & b) / len(a | b), 3)


# --------------------------------------------------------------------------- the whole evaluation
def evaluate_run(run: RunRecord, *, n_samples: int = 8, max_samples: int | None = None,
                 device: str | None = None, log: Callable[[str], None] = lambda m: None) -> dict:
    """Compare the base model and the run's adapter on the validation samples the run trained with."""
    from peft import PeftModel
    from safetensors import SafetensorError
    from transformers import AutoModelForCausalLM

    files = run.files
    cfg = TrainConfig.from_dict(run.config)
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    base_path = Path(run.base_path or "")
    if not (base_path / "config.json").exists():
        base_path = resolve_base(run.base_model or None, device, log=log).path
    # the run's own copy of the dataset when it has one: the samples it was validated on
    validation = files.snapshot_validation if files.snapshot_validation.exists() else files.project.validation
    val_rows = chat_data.read_samples(validation)
    if not val_rows:
        raise WachatError("the project has no validation samples to evaluate on",
                          "rebuild the dataset with a validation fraction above 0")
    started = time.time()
    tok = load_tokenizer(base_path)
    val_tok, _ = chat_data.tokenize_samples(tok, val_rows, cfg.max_seq_len)
    if max_samples is not None and len(val_tok) > max_samples:
        val_tok = random.Random(cfg.seed).sample(val_tok, max_samples)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    log(f"loading {run.base_model or base_path}")
    try:
        model = AutoModelForCausalLM.from_pretrained(str(base_path), dtype=dtype).to(device)
    except (OSError, ValueError, KeyError, SafetensorError) as exc:
        raise ModelError(f"cannot load base model {base_path}: {exc}".splitlines()[0]) from None
    compact = install_compact_loss(model)
    participants = read_json_object(files.project.project_json, missing={}).get("participants") or []
    held = chat_data.held_out_prompts(val_rows, n_samples, cfg.seed, participants)

    log(f"base model: validation loss on {len(val_tok)} samples")
    base_loss, n_tokens = persona_loss(model, val_tok, tok.pad_token_id, cfg.batch_size, compact)
    log("base model: generating replies")
    base_gen = [generate_reply(model, tok, h.messages, cfg.sample_max_new_tokens, cfg.seed + i)
                for i, h in enumerate(held)]
    log("fine-tuned: loading the adapter")
    try:
        model = PeftModel.from_pretrained(model, str(run.adapter))
    except (OSError, ValueError, KeyError, SafetensorError) as exc:
        raise ModelError(f"cannot load the adapter of run {run.run_id}: {exc}".splitlines()[0],
                         "train again, or pick another run with --run") from None
    log("fine-tuned: validation loss")
    tuned_loss, _ = persona_loss(model, val_tok, tok.pad_token_id, cfg.batch_size, compact)
    log("fine-tuned: generating replies")
    tuned_gen = [generate_reply(model, tok, h.messages, cfg.sample_max_new_tokens, cfg.seed + i)
                 for i, h in enumerate(held)]
    real = [h.real for h in held]
    result = {
        "run_id": run.run_id, "base_model": run.base_model, "validation_samples": len(val_tok),
        "persona_tokens": n_tokens,
        "base": {"eval_loss": round(base_loss, 4), "perplexity": round(math.exp(base_loss), 3),
                 "style": style_metrics(base_gen), "vocab_overlap": vocab_overlap(base_gen, real)},
        "fine_tuned": {"eval_loss": round(tuned_loss, 4), "perplexity": round(math.exp(tuned_loss), 3),
                       "style": style_metrics(tuned_gen), "vocab_overlap": vocab_overlap(tuned_gen, real)},
        "real": {"style": style_metrics(real)},
        "loss_change": round(tuned_loss - base_loss, 4),
        "samples": [{"persona": h.persona, "context": h.context, "real": h.real, "base": b, "fine_tuned": t}
                    for h, b, t in zip(held, base_gen, tuned_gen)],
        "seconds": round(time.time() - started, 1),
    }
    write_json(files.eval_json, result)
    return result
