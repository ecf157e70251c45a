"""Messages → turns → sessions → persona-conditioned chat samples, split by time.

The pipeline is pure (no disk, no globals): ``build_dataset(messages, me, options)`` returns
the training and validation samples, the review "pairs" and a report. The TUI calls it live
when the user changes an option; :mod:`wachat_tui.core.project` writes its results to disk.

* A **turn** is consecutive messages by one person; its bubbles are joined with ``"\\n"``.
* A **session** starts after a silence longer than ``session_gap_minutes``.
* For each session and each persona, a **sample** is a chat in the ``messages`` format: the
  system prompt (:func:`system_prompt`), the other side as ``user`` and the persona as
  ``assistant``. Long sessions are cut into windows that fit ``max_context_tokens``; each
  window starts with a user turn and ends on an assistant turn.
* Every assistant message carries ``"train"``: ``False`` for context the model must not
  learn from (a pair excluded in review, a duplicate, a reply outside the length limits, or
  the overlap repeated from the previous window). System and user messages carry
  ``"train": False`` too, so every message has the same keys (Arrow/``datasets`` needs a
  consistent schema).
* The **split** is by time: the most recent sessions form the validation set; no session
  is ever cut across the boundary.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Iterable, Sequence

from ..errors import ProjectError
from . import records
from .records import Message, Session, Turn
from .names import resolve_name, slugify
from .prompt import system_prompt
from .redact import empty_counts, redact

MEDIA_TAGS: dict[str | None, str] = {
    "photo": "<photo>",
    "image": "<photo>",
    "video": "<video>",
    "voice": "<voice note>",
    "audio": "<audio>",
    "sticker": "<sticker>",
    "gif": "<gif>",
    "document": "<document>",
    None: "<media>",
}
KIND_TAGS = {
    records.LOCATION: "<location>",
    records.CONTACT: "<contact>",
    records.POLL: "<poll>",
    records.VIEW_ONCE: "<media>",
}
CHARS_PER_TOKEN = 3.5
MESSAGE_OVERHEAD_TOKENS = 4  # role markers of a chat template


@dataclass
class DatasetOptions:
    """How a chat becomes training data. Every field has a working default."""

    session_gap_minutes: int = 60
    """A silence longer than this (minutes) starts a new conversation (session)."""

    media: str = "tag"
    """``"tag"``: media, locations, contacts and polls become short tags such as ``<photo>``
    (a caption follows the tag); ``"drop"``: they are left out."""

    redact: bool = False
    """Replace phone numbers, e-mail addresses, URLs and card-like numbers with tags."""

    validation_fraction: float = 0.1
    """Share of sessions (the most recent ones) held out for validation; 0 disables it."""

    max_context_tokens: int = 768
    """Token budget of one sample (estimated as characters / 3.5); longer sessions are split."""

    min_reply_chars: int = 1
    """Replies shorter than this stay in the context but are not trained on."""

    max_reply_chars: int = 1000
    """Replies longer than this stay in the context (shortened) but are not trained on."""

    dedupe: bool = True
    """Train only once on a reply that repeats, word for word, an earlier reply to the same
    message (per persona)."""

    personas: list[str] | None = None
    """Whom the model learns to play. ``None``: you (``me``) and, in a one-to-one chat, the
    other person too, so the model can play either side."""

    def validate(self) -> "DatasetOptions":
        """Raise :class:`ProjectError` naming the first bad option; return ``self`` if fine."""

        def bad(name: str, why: str) -> ProjectError:
            return ProjectError(f"invalid dataset option {name}: {why}")

        if isinstance(self.session_gap_minutes, bool) or not isinstance(self.session_gap_minutes, (int, float)):
            raise bad("session_gap_minutes", "must be a number of minutes")
        if not 1 <= self.session_gap_minutes <= 7 * 24 * 60:
            raise bad("session_gap_minutes", f"{self.session_gap_minutes} is outside 1–10080 minutes")
        if self.media not in ("tag", "drop"):
            raise bad("media", f"{self.media!r} is not 'tag' or 'drop'")
        if not isinstance(self.redact, bool):
            raise bad("redact", "must be true or false")
        if isinstance(self.validation_fraction, bool) or not isinstance(self.validation_fraction, (int, float)) \
                or not 0 <= self.validation_fraction <= 0.5:
            raise bad("validation_fraction", f"{self.validation_fraction} is outside 0–0.5")
        if isinstance(self.max_context_tokens, bool) or not isinstance(self.max_context_tokens, int) \
                or not 64 <= self.max_context_tokens <= 32768:
            raise bad("max_context_tokens", f"{self.max_context_tokens} is outside 64–32768")
        for name in ("min_reply_chars", "max_reply_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise bad(name, "must be a whole number ≥ 0")
        if self.max_reply_chars < max(1, self.min_reply_chars):
            raise bad("max_reply_chars", f"must be at least min_reply_chars ({self.min_reply_chars})")
        if not isinstance(self.dedupe, bool):
            raise bad("dedupe", "must be true or false")
        if self.personas is not None:
            if isinstance(self.personas, str) or not all(isinstance(p, str) and p.strip() for p in self.personas):
                raise bad("personas", "must be a list of participant names")
            if not self.personas:
                raise bad("personas", "name at least one participant (or leave it unset)")
        return self

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "DatasetOptions":
        """Options from a stored dict; unknown keys (from a newer version) are ignored."""
        data = data or {}
        known = {f.name for f in fields(cls)}
        opts = cls(**{k: v for k, v in data.items() if k in known})
        if opts.personas is not None:
            opts.personas = list(opts.personas)
        return opts.validate()


def estimate_tokens(text: str) -> int:
    """Cheap token estimate (~3.5 characters per token for chat text)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_partners(persona: str, prompt: str) -> list[str]:
    """The partners named in ``prompt``, a :func:`system_prompt` for ``persona`` (the inverse).

    A sample's system message is the one place a dataset row names the other side. Returns
    ``[]`` when the names cannot be recovered exactly: not a prompt :func:`system_prompt`
    makes for ``persona``, no partners, or a group too big to list everyone ("and 3 others").
    Every answer is checked by rendering the prompt again; where two readings render the same
    (a name holding ", " or " and "), the plain split wins.
    """
    head = f"You are {persona}, texting "
    tail = f". Reply as {persona} would, in {persona}'s own texting style."
    if not (prompt.startswith(head) and prompt.endswith(tail)) or len(prompt) < len(head) + len(tail):
        return []
    middle = prompt[len(head):len(prompt) - len(tail)]
    candidates: list[tuple[list[str], str | None]] = []
    if middle.startswith("with ") and middle.endswith(" on WhatsApp"):
        candidates.append(([middle[len("with "):-len(" on WhatsApp")]], None))
    group_names: list[tuple[str, str | None]] = []
    if middle.startswith("in a WhatsApp group with "):
        group_names.append((middle[len("in a WhatsApp group with "):], None))
    if middle.startswith('in the WhatsApp group "'):
        rest = middle[len('in the WhatsApp group "'):]
        at = rest.rfind('" with ')
        while at != -1:  # the chat name may itself hold '" with ' (names seldom do): longest first
            group_names.append((rest[at + len('" with '):], rest[:at]))
            at = rest.rfind('" with ', 0, at)
    for names, chat_name in group_names:
        first, sep, last = names.rpartition(" and ")
        if not sep:
            continue
        others = first.split(", ") + [last]
        if len(others) == 6 and re.fullmatch(r"\d+ others", last):
            continue  # truncated list: the names after the fifth are unknown
        candidates.append((others, chat_name))
    for others, chat_name in candidates:
        if all(others) and persona not in others and system_prompt(persona, others, chat_name) == prompt:
            return others
    return []


# ------------------------------------------------------------------ cleaning and turns


@dataclass
class _Bubble:
    time: datetime
    author: str
    text: str  # as trained on (tags, redaction)
    raw: str   # before redaction: pair ids stay stable when redaction is toggled


@dataclass
class _Turn:
    author: str
    bubbles: list[_Bubble]

    @property
    def start(self) -> datetime:
        return self.bubbles[0].time

    @property
    def end(self) -> datetime:
        return self.bubbles[-1].time

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.bubbles)

    @property
    def raw(self) -> str:
        return "\n".join(b.raw for b in self.bubbles)

    def record(self) -> Turn:
        return Turn(self.author, self.start, self.end, self.text, len(self.bubbles))


_PLACEHOLDER_LINE = re.compile(
    r"^\s*(?:<[^<>]*>|.*\(file attached\)|.*\b(?:omitted|ausgelassen|omitido|omis|omessa)\b.*"
    r"|.*\.(?:jpe?g|png|webp|gif|mp4|3gp|opus|ogg|m4a|mp3|pdf|docx?|vcf|aac|heic)\b.*)\s*$",
    re.IGNORECASE,
)
_INVISIBLE = "\u200e\u200f\ufeff\u202a\u202b\u202c\u2066\u2067\u2068\u2069"


def media_caption(msg: Message) -> str:
    """The caption the sender typed under a photo/video, without the attachment line."""
    lines = msg.text.split("\n") if msg.text else []
    keep = []
    for line in lines:
        clean = line.strip(_INVISIBLE + " ")
        if msg.attachment and msg.attachment in clean:
            continue
        if _PLACEHOLDER_LINE.match(clean):
            continue
        keep.append(line)
    return "\n".join(keep).strip()


def media_tag(msg: Message) -> str:
    if msg.kind in KIND_TAGS:
        return KIND_TAGS[msg.kind]
    return MEDIA_TAGS.get(msg.media_type, "<media>")


def _clean(messages: Iterable[Message], options: DatasetOptions, report: dict) -> list[_Bubble]:
    """Drop system events, deletions and calls; tag or drop media; redact."""
    dropped = report["dropped"]
    redactions = report["redactions"]
    out: list[_Bubble] = []
    for msg in messages:
        report["messages"] += 1
        if msg.author is None or msg.kind == records.SYSTEM:
            dropped["system"] += 1
            continue
        if msg.kind == records.DELETED:
            dropped["deleted"] += 1
            continue
        if msg.kind == records.CALL:
            dropped["call"] += 1
            continue
        if msg.kind == records.MEDIA or msg.kind in KIND_TAGS:
            if options.media == "drop":
                dropped["media"] += 1
                continue
            caption = media_caption(msg) if msg.kind in (records.MEDIA, records.VIEW_ONCE) else ""
            raw = media_tag(msg) + (f" {caption}" if caption else "")
            report["media_tagged"] += 1
        else:
            raw = msg.text.strip("\n")
        if not raw.strip():
            dropped["empty"] += 1
            continue
        text = redact(raw, redactions)[0] if options.redact else raw
        out.append(_Bubble(msg.time, msg.author, text, raw))
    report["messages_used"] = len(out)
    return out


def _sessions(bubbles: list[_Bubble], gap_minutes: float) -> list[list[_Turn]]:
    gap = timedelta(minutes=gap_minutes)
    sessions: list[list[_Turn]] = []
    prev: _Bubble | None = None
    for b in bubbles:
        if prev is None or b.time - prev.time > gap:
            sessions.append([])
        turns = sessions[-1]
        if turns and turns[-1].author == b.author:
            turns[-1].bubbles.append(b)
        else:
            turns.append(_Turn(b.author, [b]))
        prev = b
    return sessions


def split_sessions(messages: Iterable[Message], gap_minutes: float = 60, media: str = "tag") -> list[Session]:
    """Turns and sessions of a chat (what stats and the review pane show), no samples."""
    opts = DatasetOptions(session_gap_minutes=gap_minutes, media=media).validate()
    report = _new_report()
    return [Session(i, tuple(t.record() for t in s))
            for i, s in enumerate(_sessions(_clean(messages, opts, report), opts.session_gap_minutes))]


# ------------------------------------------------------------------ samples


@dataclass
class _Entry:
    role: str                 # "user" | "assistant"
    turns: list[_Turn]
    content: str
    tokens: int = 0
    pair_id: str | None = None
    trainable: bool = True    # False: excluded / duplicate / length-filtered


@dataclass
class DatasetResult:
    """Everything one build produced. ``train``/``validation`` rows are what the JSONL files hold."""

    train: list[dict]
    validation: list[dict]
    pairs: list[dict]
    report: dict
    sessions: list[Session] = field(default_factory=list)
    personas: list[str] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)


def report_counts(report: dict) -> dict:
    """The flat counts of a dataset report (``build_dataset(...).report``).

    The one mapping from a report to numbers: ``project.json`` keeps it as ``"counts"``, and
    the stats document's chat section is derived from it
    (:func:`~wachat_tui.core.stats.dataset_chat_counts`, which renames ``excluded`` to
    ``pairs_excluded``). The key names are public output: keep them stable.
    """
    pairs, samples = report["pairs"], report["samples"]
    return {
        "messages": report["messages"],
        "messages_used": report["messages_used"],
        "sessions": report["sessions"],
        "sessions_train": report["sessions_train"],
        "sessions_validation": report["sessions_validation"],
        "pairs": pairs["total"],
        "pairs_train": pairs["train"],
        "pairs_validation": pairs["validation"],
        "excluded": pairs["excluded"],
        "samples_train": samples["train"],
        "samples_validation": samples["validation"],
        "filtered": report["filtered"],
        "redactions": report["redactions"],
        "dropped": report["dropped"],
        "media_tagged": report["media_tagged"],
        "tokens_estimate": report["tokens_estimate"],
    }


def pair_id(persona: str, time: datetime, raw_reply: str) -> str:
    """Stable id of one reply: exclusions made in review survive rebuilds and option changes."""
    key = f"{persona}\x1f{time.isoformat(timespec='seconds')}\x1f{raw_reply}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def _new_report() -> dict:
    return {
        "messages": 0,
        "messages_used": 0,
        "dropped": {"system": 0, "deleted": 0, "call": 0, "media": 0, "empty": 0},
        "media_tagged": 0,
        "redactions": empty_counts(),
    }


def _truncate_tail(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return "…" + text[-max(1, max_chars - 1):]


def _truncate_head(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[: max(1, max_chars - 1)] + "…"


def _participants(messages: Sequence[Message]) -> list[str]:
    counts = Counter(m.author for m in messages if m.author is not None and m.kind != records.SYSTEM)
    return [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def default_personas(me: str, participants: Sequence[str]) -> list[str]:
    if len(participants) == 2:
        return [me] + [p for p in participants if p != me]
    return [me]


def build_dataset(
    messages: Sequence[Message],
    me: str,
    options: DatasetOptions | None = None,
    exclusions: Iterable[str] = (),
    *,
    chat_name: str | None = None,
    participants: Sequence[str] | None = None,
) -> DatasetResult:
    """Turn parsed messages into train/validation samples, review pairs and a report."""
    options = (options or DatasetOptions()).validate()
    messages = list(messages)
    participants = list(participants) if participants else _participants(messages)
    me = resolve_name(me, participants)
    personas = [resolve_name(p, participants, "personas") for p in (options.personas or default_personas(me, participants))]
    personas = list(dict.fromkeys(personas))
    excluded_ids = set(exclusions)
    is_group = len(participants) > 2

    report = _new_report()
    bubbles = _clean(messages, options, report)
    sessions = _sessions(bubbles, options.session_gap_minutes)

    # The split: the most recent sessions that can give a sample at all.
    usable = [i for i, s in enumerate(sessions) if len({t.author for t in s}) >= 2]
    n_val = 0
    if options.validation_fraction > 0 and len(usable) >= 2:
        n_val = min(len(usable) - 1, max(1, round(len(usable) * options.validation_fraction)))
    val_sessions = set(usable[len(usable) - n_val:]) if n_val else set()

    budget = options.max_context_tokens
    seen: set[tuple] = set()
    filtered = {"duplicate": 0, "too_short": 0, "too_long": 0}
    train_rows: list[dict] = []
    val_rows: list[dict] = []
    pairs: list[dict] = []
    split_windows = 0
    tokens = {"train": 0, "validation": 0}
    by_persona = {p: {"train": 0, "validation": 0, "excluded": 0} for p in personas}

    for s_index in usable:
        turns = sessions[s_index]
        split = "validation" if s_index in val_sessions else "train"
        for persona in personas:
            if not any(t.author == persona for t in turns):
                continue
            partners = [p for p in participants if p != persona]
            sys_text = system_prompt(persona, partners, chat_name if is_group else None)
            sys_tokens = estimate_tokens(sys_text) + MESSAGE_OVERHEAD_TOKENS
            room = max(32, budget - sys_tokens)
            max_user_chars = int(room * 0.6 * CHARS_PER_TOKEN)
            max_ctx_reply_chars = int(room * 0.3 * CHARS_PER_TOKEN)

            entries: list[_Entry] = []
            for turn in turns:
                role = "assistant" if turn.author == persona else "user"
                if role == "user" and entries and entries[-1].role == "user":
                    entries[-1].turns.append(turn)
                else:
                    entries.append(_Entry(role, [turn], ""))
            while entries and entries[0].role == "assistant":
                entries.pop(0)
            while entries and entries[-1].role == "user":
                entries.pop()
            if not entries:
                continue

            for e in entries:
                if e.role == "user":
                    if is_group:
                        text = "\n".join(f"{t.author}: {b.text}" for t in e.turns for b in t.bubbles)
                    else:
                        text = "\n".join(t.text for t in e.turns)
                    e.content = _truncate_tail(text, max_user_chars)
                else:
                    turn = e.turns[0]
                    e.content = turn.text
                    e.pair_id = pair_id(persona, turn.start, turn.raw)
                    if len(e.content) < options.min_reply_chars:
                        e.trainable = False
                        filtered["too_short"] += 1
                    elif len(e.content) > options.max_reply_chars:
                        e.trainable = False
                        filtered["too_long"] += 1
                        e.content = _truncate_head(e.content, max_ctx_reply_chars)
                e.tokens = estimate_tokens(e.content) + MESSAGE_OVERHEAD_TOKENS

            # dedupe: same persona, same message answered, same reply → train once
            if options.dedupe:
                for k in range(1, len(entries), 2):
                    e = entries[k]
                    if not e.trainable:
                        continue
                    key = (persona, entries[k - 1].content.split("\n")[-1].strip().casefold(),
                           e.content.strip().casefold())
                    if key in seen:
                        e.trainable = False
                        e.pair_id = None  # not a reviewable pair: it repeats an earlier one
                        filtered["duplicate"] += 1
                    else:
                        seen.add(key)

            # windows: [start, first_new, end]; entries before first_new are repeated context
            windows: list[tuple[int, int, int]] = []
            i = 0
            n = len(entries)
            while i < n:
                start = i
                if windows and i >= 2:
                    overlap = entries[i - 2].tokens + entries[i - 1].tokens
                    if sys_tokens + overlap <= budget // 2:
                        start = i - 2
                total = sys_tokens + sum(e.tokens for e in entries[start:i])
                end = -1
                j = i
                while j + 1 < n:
                    cost = entries[j].tokens + entries[j + 1].tokens
                    if end >= 0 and total + cost > budget:
                        break
                    total += cost
                    end = j + 1
                    j += 2
                windows.append((start, i, end))
                i = end + 1
            if len(windows) > 1:
                split_windows += 1

            for w_no, (start, first_new, end) in enumerate(windows):
                msgs = [{"role": "system", "content": sys_text, "train": False}]
                context: list[dict] = []
                any_train = False
                for k in range(start, end + 1):
                    e = entries[k]
                    train = e.role == "assistant" and k >= first_new and e.trainable and e.pair_id not in excluded_ids
                    msgs.append({"role": e.role, "content": e.content, "train": train})
                    any_train = any_train or train
                    if e.role == "assistant" and k >= first_new and e.pair_id is not None and e.trainable:
                        excluded = e.pair_id in excluded_ids
                        turn = e.turns[0]
                        pairs.append({
                            "id": e.pair_id,
                            "persona": persona,
                            "session": s_index,
                            "split": split,
                            "time": turn.start.isoformat(timespec="seconds"),
                            "context": list(context),
                            "reply": e.content,
                            "excluded": excluded,
                        })
                        by_persona[persona]["excluded" if excluded else split] += 1
                    for t in e.turns:
                        context.append({"author": t.author, "text": t.text})
                if not any_train:
                    continue
                row = {"id": f"s{s_index}-{slugify(persona, fallback='p')}-w{w_no}", "persona": persona,
                       "session": s_index, "messages": msgs}
                tokens[split] += sum(estimate_tokens(m["content"]) + MESSAGE_OVERHEAD_TOKENS for m in msgs)
                (val_rows if split == "validation" else train_rows).append(row)

    n_excluded = sum(1 for p in pairs if p["excluded"])
    train_sessions = [i for i in usable if i not in val_sessions]
    report.update({
        "participants": participants,
        "personas": personas,
        "is_group": is_group,
        "session_gap_minutes": options.session_gap_minutes,
        "turns": sum(len(s) for s in sessions),
        "sessions": len(sessions),
        "sessions_used": len(usable),
        "sessions_train": len(train_sessions),
        "sessions_validation": len(val_sessions),
        "validation_starts": sessions[min(val_sessions)][0].start.isoformat(timespec="seconds") if val_sessions else None,
        "samples": {"train": len(train_rows), "validation": len(val_rows)},
        "pairs": {
            "total": len(pairs),
            "train": sum(1 for p in pairs if p["split"] == "train" and not p["excluded"]),
            "validation": sum(1 for p in pairs if p["split"] == "validation" and not p["excluded"]),
            "excluded": n_excluded,
            "by_persona": by_persona,
        },
        "filtered": filtered,
        "sessions_windowed": split_windows,
        "tokens_estimate": tokens,
    })
    return DatasetResult(
        train=train_rows,
        validation=val_rows,
        pairs=pairs,
        report=report,
        sessions=[Session(i, tuple(t.record() for t in s)) for i, s in enumerate(sessions)],
        personas=personas,
        participants=participants,
    )

