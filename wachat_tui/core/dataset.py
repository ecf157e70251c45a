"""Messages → turns → sessions → persona-conditioned chat samples, split by time.

The pipeline is pure (no disk, no globals): ``build_dataset(messages, me, options)`` returns
the training and validation samples, the review pairs and a report. The TUI calls it live
when the user changes an option; :mod:`wachat_tui.core.project` writes its results to disk.

* Turns and sessions come from :mod:`wachat_tui.core.turns`.
* For each session and each persona, a **sample** is a chat in the ``messages`` format: the
  system prompt (:func:`~wachat_tui.core.prompt.system_prompt`), the other side as ``user``
  and the persona as ``assistant``. Long sessions are cut into windows that fit
  ``max_context_tokens``; each window starts with a user turn and ends on an assistant turn.
* A sample row is ``{"id", "persona", "session", "partners", "chat", "chat_id", "messages"}``:
  ``partners`` are the people the persona talks to, ``chat`` the chat's name, ``chat_id`` the
  project's id of the chat (None outside a project). Every message is
  ``{"role", "content", "train", "pair"}`` — the same keys everywhere, as Arrow/``datasets``
  needs one schema. ``train`` is ``False`` for context the model must not learn from (system
  and user messages, a pair excluded in review, a duplicate, a reply outside the length
  limits, the overlap repeated from the previous window); ``pair`` is the id of the
  :class:`~wachat_tui.core.records.Pair` an assistant message is the reply of (``None``
  elsewhere), whose context names who said what.
* The **split** is by time: the most recent sessions form the validation set; no session
  is ever cut across the boundary.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from typing import Iterable, Protocol, Sequence

from ..errors import ProjectError
from . import records
from .memory import gc_paused
from .names import resolve_name
from .prompt import system_prompt
from .records import Message, Pair, Session
from .samples import CHARS_PER_TOKEN, PAIR_CONTEXT_TURNS, SampleBuilder, pair_id
from .turns import ChatTurn, chat_sessions, media_caption, media_tag, new_report, session_records

__all__ = ["DatasetOptions", "DatasetResult", "build_dataset", "split_sessions", "report_counts",
           "pair_id", "estimate_tokens", "default_personas", "system_prompt", "media_caption",
           "media_tag", "PAIR_CONTEXT_TURNS"]

@dataclass
class DatasetOptions:
    """How a chat becomes training data. Every field has a working default."""

    session_gap_minutes: int = 60
    """A silence longer than this (minutes) starts a new conversation (session)."""

    media: str = "tag"
    """``"tag"``: media, locations, contacts and polls become short tags such as ``<photo>``
    (a caption follows the tag); ``"drop"``: they are left out."""

    media_targets: str = "drop"
    """``"drop"``: a training-split reply that is only media tags (``<photo>``, no caption) stays
    in the context but is not trained on; ``"keep"``: it is a target like any reply. Validation
    keeps every reply, so evaluation compares with how often the person really sends only media.
    Default ``drop``: trained on them, the model answered with a bare placeholder far more often
    than the person did (issue 10: over half the replies on a real chat, vs ~1 in 10; see the
    README's fidelity benchmark)."""

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
    other person too, so the model can play either side; in a project
    (:func:`~wachat_tui.core.chats.default_personas`) also the active members of your groups."""

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
        if self.media_targets not in ("drop", "keep"):
            raise bad("media_targets", f"{self.media_targets!r} is not 'drop' or 'keep'")
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


def split_sessions(messages: Iterable[Message], gap_minutes: float = 60, media: str = "tag") -> list[Session]:
    """Turns and sessions of a chat (what stats and the review pane show), no samples."""
    opts = DatasetOptions(session_gap_minutes=gap_minutes, media=media).validate()
    return session_records(chat_sessions(messages, opts.session_gap_minutes, opts.media, False, new_report()))


class RowSinks(Protocol):
    """Where :func:`build_dataset` puts the rows when not in the result: ``train`` and
    ``validation`` take ``append(row)`` and ``len()`` (rows so far)."""

    train: "RowSink"
    validation: "RowSink"


class RowSink(Protocol):
    def append(self, row: dict) -> None: ...

    def __len__(self) -> int: ...


@dataclass
class DatasetResult:
    """Everything one build produced. ``train``/``validation`` rows are what the JSONL files
    hold; ``pairs`` are the review pairs (``pairs.jsonl`` rows through ``Pair.to_json``)."""

    train: list[dict]
    validation: list[dict]
    pairs: list[Pair]
    report: dict
    personas: list[str] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    chat_turns: list[list[ChatTurn]] = field(default_factory=list, repr=False)

    @cached_property
    def sessions(self) -> list[Session]:
        """The sessions as records (made on first use: only stats and review need them)."""
        return session_records(self.chat_turns)


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


def _participants(messages: Sequence[Message]) -> list[str]:
    counts = Counter(m.author for m in messages if m.author is not None and m.kind != records.SYSTEM)
    return [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def default_personas(me: str, participants: Sequence[str]) -> list[str]:
    if len(participants) == 2:
        return [me] + [p for p in participants if p != me]
    return [me]


@gc_paused()
def build_dataset(
    messages: Sequence[Message],
    me: str,
    options: DatasetOptions | None = None,
    exclusions: Iterable[str] = (),
    *,
    chat_name: str | None = None,
    participants: Sequence[str] | None = None,
    is_group: bool | None = None,
    platform: str = "whatsapp",
    chat_id: str | None = None,
    session_offset: int = 0,
    personas: Sequence[str] | None = None,
    rows: "RowSinks | None" = None,
    keep_pairs: bool = True,
) -> DatasetResult:
    """Turn parsed messages into train/validation samples, review pairs and a report.

    ``chat_id``, ``platform`` and ``is_group`` describe the chat within a project (the prompt
    names the platform; rows and pairs carry the id); ``session_offset`` numbers this chat's
    sessions after those of the project's earlier chats. ``personas`` (may be empty) overrides
    ``options.personas``. ``rows``: where the train and validation rows go instead of the
    result's lists (an import writes them to disk as they are made); ``keep_pairs=False``: the
    pairs are counted, not kept."""
    options = (options or DatasetOptions()).validate()
    messages = messages if isinstance(messages, list) else list(messages)
    participants = list(participants) if participants else _participants(messages)
    me = resolve_name(me, participants)
    chosen = personas if personas is not None else (options.personas or default_personas(me, participants))
    personas = [resolve_name(p, participants, "personas") for p in chosen]
    personas = list(dict.fromkeys(personas))

    report = new_report()
    sessions = chat_sessions(messages, options.session_gap_minutes, options.media, options.redact, report)

    # The split: the most recent sessions that can give a sample at all.
    usable = [i for i, s in enumerate(sessions) if len({t.author for t in s}) >= 2]
    n_val = 0
    if options.validation_fraction > 0 and len(usable) >= 2:
        n_val = min(len(usable) - 1, max(1, round(len(usable) * options.validation_fraction)))
    val_sessions = set(usable[len(usable) - n_val:]) if n_val else set()

    builder = SampleBuilder(options, participants, personas, chat_name, set(exclusions), is_group=is_group,
                            platform=platform, chat_id=chat_id, keep_pairs=keep_pairs)
    if rows is not None:
        builder.train, builder.validation = rows.train, rows.validation
    n_train, n_val = len(builder.train), len(builder.validation)
    for s_index in usable:
        builder.add_session(session_offset + s_index, sessions[s_index],
                            "validation" if s_index in val_sessions else "train")

    pairs = builder.pairs
    by_persona = builder.by_persona.values()
    train_sessions = [i for i in usable if i not in val_sessions]
    report.update({
        "participants": participants,
        "personas": personas,
        "is_group": builder.is_group,
        "session_gap_minutes": options.session_gap_minutes,
        "turns": sum(len(s) for s in sessions),
        "sessions": len(sessions),
        "sessions_used": len(usable),
        "sessions_train": len(train_sessions),
        "sessions_validation": len(val_sessions),
        "validation_starts": sessions[min(val_sessions)][0].start.isoformat(timespec="seconds") if val_sessions else None,
        "samples": {"train": len(builder.train) - n_train, "validation": len(builder.validation) - n_val},
        "pairs": {
            # the per-persona counters count each pair once, by its split (or as excluded)
            "total": sum(c["train"] + c["validation"] + c["excluded"] for c in by_persona),
            "train": sum(c["train"] for c in by_persona),
            "validation": sum(c["validation"] for c in by_persona),
            "excluded": sum(c["excluded"] for c in by_persona),
            "by_persona": builder.by_persona,
        },
        "filtered": builder.filtered,
        "sessions_windowed": builder.split_windows,
        "tokens_estimate": builder.tokens,
    })
    return DatasetResult(
        train=builder.train if rows is None else [],
        validation=builder.validation if rows is None else [],
        pairs=pairs,
        report=report,
        personas=personas,
        participants=participants,
        chat_turns=sessions,
    )
