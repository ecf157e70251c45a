"""Chat samples → token ids + labels that train only on the persona's replies.

The mask comes from the base model's own chat template, rendered message by message: the
characters a trained assistant message adds after the generation prompt (its text and the
end-of-turn marker) are the ones that carry loss; the template's role headers, the system
prompt, the partner's turns and assistant turns marked ``"train": false`` do not. Token
labels follow from the tokenizer's character offsets, so merges at boundaries are handled.

No torch import: this works on any Hugging Face fast tokenizer.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..errors import WachatError

IGNORE = -100


class DatasetError(WachatError):
    """The project's dataset is missing, empty or unreadable."""


@dataclass
class Tokenized:
    input_ids: list[int]
    labels: list[int]
    truncated: bool = False

    @property
    def n_trained(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


@dataclass
class TokenizeReport:
    samples: int = 0
    kept: int = 0
    truncated: int = 0
    dropped_no_target: int = 0
    tokens: int = 0
    trained_tokens: int = 0
    fallback_masking: int = 0
    lengths: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        row = {k: v for k, v in self.__dict__.items() if k != "lengths"}
        if self.lengths:
            s = sorted(self.lengths)
            row["mean_len"] = round(sum(s) / len(s), 1)
            row["max_len"] = s[-1]
        return row


# --------------------------------------------------------------------------- loading
def read_samples(path: Path) -> list[dict]:
    """Rows of a ``train.jsonl``/``validation.jsonl`` (sample dicts with ``messages``)."""
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(f"{path.name} line {n} is not valid JSON ({exc.msg})",
                                   "rebuild the dataset with `wachat import … --refresh`") from None
            if not isinstance(row, dict) or not isinstance(row.get("messages"), list):
                raise DatasetError(f"{path.name} line {n} has no 'messages' list",
                                   "rebuild the dataset with `wachat import … --refresh`")
            rows.append(row)
    return rows


def clean_messages(messages: Sequence[dict]) -> list[dict]:
    """Only role/content reach the template (extra keys like ``train`` confuse some templates)."""
    return [{"role": m["role"], "content": str(m.get("content", ""))} for m in messages]


def is_trained(message: dict) -> bool:
    return message.get("role") == "assistant" and message.get("train", True) is not False


# --------------------------------------------------------------------------- masking
def _render(tokenizer, messages: list[dict], add_generation_prompt: bool = False) -> str:
    if not messages:
        return ""
    return tokenizer.apply_chat_template(messages, tokenize=False,
                                         add_generation_prompt=add_generation_prompt)


def trained_char_spans(tokenizer, messages: Sequence[dict]) -> tuple[str, list[tuple[int, int]], bool]:
    """Render ``messages`` with the model's template; return (text, trained char spans, used_fallback).

    A trained span starts at the assistant message's text and ends after the template's
    end-of-turn marker (trailing whitespace after the marker is not trained).
    """
    clean = clean_messages(messages)
    full = _render(tokenizer, clean)
    spans: list[tuple[int, int]] = []
    for i, msg in enumerate(messages):
        if not is_trained(msg):
            continue
        prompt = _render(tokenizer, clean[:i], add_generation_prompt=True)
        upto = _render(tokenizer, clean[: i + 1])
        if not (full.startswith(upto) and upto.startswith(prompt)):
            return full, _fallback_spans(tokenizer, full, messages), True
        seg = upto[len(prompt):]
        content = clean[i]["content"]
        start = seg.find(content) if content else -1
        if start < 0:
            stripped = content.strip()
            start = seg.find(stripped) if stripped else -1
        if start < 0:
            start = len(seg) - len(seg.lstrip())
        end = len(seg.rstrip())
        if end > start:
            spans.append((len(prompt) + start, len(prompt) + end))
    return full, spans, False


def _fallback_spans(tokenizer, full: str, messages: Sequence[dict]) -> list[tuple[int, int]]:
    """For templates that do not render incrementally: find each message's text in order and
    train on a persona text plus an end-of-sequence marker right after it."""
    eos = getattr(tokenizer, "eos_token", None) or ""
    cursor = 0
    spans = []
    for msg in messages:
        content = str(msg.get("content", "")).strip()
        if not content:
            continue
        pos = full.find(content, cursor)
        if pos < 0:
            continue
        end = pos + len(content)
        cursor = end
        if is_trained(msg):
            rest = full[end:]
            if eos and rest.lstrip(" ").startswith(eos):
                end += rest.index(eos) + len(eos)
            spans.append((pos, end))
    return spans


def tokenize_sample(tokenizer, messages: Sequence[dict], max_len: int | None = None) -> tuple[Tokenized, bool]:
    """Token ids and labels (IGNORE outside the persona's trained replies) for one chat.

    Too-long chats keep their system prompt (when it is short) and their most recent tokens,
    so the last replies, which have the most context, are the ones trained.
    """
    text, spans, fallback = trained_char_spans(tokenizer, messages)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = list(enc["input_ids"])
    offsets = enc["offset_mapping"]
    labels = [IGNORE] * len(ids)
    si = 0
    for j, (s, e) in enumerate(offsets):
        if e <= s:
            continue
        while si < len(spans) and spans[si][1] <= s:
            si += 1
        if si < len(spans) and spans[si][0] <= s < spans[si][1]:
            labels[j] = ids[j]
    truncated = False
    if max_len is not None and len(ids) > max_len:
        truncated = True
        head = 0
        if messages and messages[0].get("role") == "system":
            sys_text = _render(tokenizer, clean_messages(messages[:1]))
            # tokens fully inside the rendered system message
            head = sum(1 for (s, e) in offsets if e <= len(sys_text))
            if head > max_len // 2:
                head = 0
        tail = max_len - head
        ids = ids[:head] + ids[-tail:]
        labels = [IGNORE] * head + labels[-tail:]
    return Tokenized(ids, labels, truncated), fallback


def tokenize_samples(tokenizer, samples: Iterable[dict], max_len: int) -> tuple[list[Tokenized], TokenizeReport]:
    report = TokenizeReport()
    out = []
    for row in samples:
        report.samples += 1
        tok, fallback = tokenize_sample(tokenizer, row["messages"], max_len)
        report.fallback_masking += int(fallback)
        if tok.n_trained == 0:
            report.dropped_no_target += 1
            continue
        report.kept += 1
        report.truncated += int(tok.truncated)
        report.tokens += len(tok.input_ids)
        report.trained_tokens += tok.n_trained
        report.lengths.append(len(tok.input_ids))
        out.append(tok)
    return out, report


# --------------------------------------------------------------------------- samples for generation
@dataclass
class HeldOut:
    """One held-out prompt: the chat up to a persona reply, and that real reply."""

    persona: str
    messages: list[dict]       # role/content, ends with a user (or untrained) turn
    real: str
    context: list[dict]        # [{"author","text"}] for display (last few turns)


def held_out_prompts(samples: Sequence[dict], n: int, seed: int, participants: Sequence[str] = (),
                     context_turns: int = 6, *, pairs: Mapping[str, Any] | Iterable[Any] = ()) -> list[HeldOut]:
    """Pick ``n`` validation chats (fixed by ``seed``) and cut each before its last persona reply.

    Personas alternate when several are trained (Maya, Leo, Maya, …) so each one is shown.
    The display context is structured data, never names parsed back out of text: the reply's
    review pair (``pairs``: the project's :class:`~wachat_tui.core.records.Pair` records or
    ``pairs.jsonl`` rows, found by the message's ``pair`` id) says who said what; without it,
    the row's ``partners`` name the other side of a 1:1 chat (``participants``, for rows
    written before rows named them). A group's user turn whose pair is unknown shows as
    ``"user"``.
    """
    by_id = _pairs_by_id(pairs)
    candidates = []
    for row in samples:
        msgs = row.get("messages") or []
        last = max((i for i, m in enumerate(msgs) if is_trained(m)), default=None)
        if last is None or last == 0 or not str(msgs[last].get("content", "")).strip():
            continue
        candidates.append((row, last))
    rng = random.Random(seed)
    rng.shuffle(candidates)
    by_persona: dict[str, list] = {}
    for cand in candidates:
        by_persona.setdefault(cand[0].get("persona") or "assistant", []).append(cand)
    order = []
    while len(order) < n and any(by_persona.values()):
        for name in sorted(by_persona):
            if by_persona[name] and len(order) < n:
                order.append(by_persona[name].pop(0))
    picked = []
    for row, last in order:
        msgs = row["messages"]
        persona = row.get("persona") or "assistant"
        prompt = clean_messages(msgs[:last])
        pair = by_id.get(msgs[last].get("pair"))
        if pair is not None:
            context = [{"author": author, "text": text} for author, text in pair]
        else:
            context = _row_context(row, last, persona, participants)
        picked.append(HeldOut(persona=persona, messages=prompt, real=msgs[last]["content"],
                              context=context[-context_turns:]))
    return picked


def _pairs_by_id(pairs) -> dict[str, list[tuple[str, str]]]:
    """pair id → its context as (author, text), from Pair records or pairs.jsonl rows."""
    items = pairs.values() if isinstance(pairs, Mapping) else pairs
    out = {}
    for p in items:
        if isinstance(p, dict):
            out[p.get("id")] = [(str(c.get("author", "")), str(c.get("text", ""))) for c in p.get("context") or ()]
        else:
            out[p.id] = [(u.author, u.text) for u in p.context]
    return out


def _row_context(row: dict, last: int, persona: str, participants: Sequence[str]) -> list[dict]:
    """The context of a reply from its row alone: the persona's messages, and the other
    side's when one person is on it."""
    partners = row.get("partners")
    if partners is None:
        partners = [p for p in participants if p != persona]
    other = partners[0] if len(partners) == 1 else "user"
    return [{"author": persona if m["role"] == "assistant" else other, "text": m["content"]}
            for m in clean_messages(row["messages"][:last]) if m["role"] != "system"]
