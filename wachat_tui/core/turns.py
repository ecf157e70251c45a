"""Messages → what training sees of each one → turns → sessions.

* System events, deletions and calls are dropped; media, locations, contacts and polls become
  short tags (``<photo> caption``) or are dropped (``media="drop"``); redaction applies here.
* A **turn** is consecutive messages by one person; its bubbles are joined with ``"\\n"``.
* A **session** starts after a silence longer than the session gap.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Iterable

from . import records
from .records import Message, Session, Turn, Utterance
from .redact import redact

MEDIA_TAGS: dict[str | None, str] = {
    "photo": "<photo>",
    "image": "<photo>",
    "video": "<video>",
    "voice": "<voice note>",
    "audio": "<audio>",
    "sticker": "<sticker>",
    "gif": "<gif>",
    "document": "<document>",
    "forwarded": "<forwarded>",
    None: "<media>",
}
KIND_TAGS = {
    records.LOCATION: "<location>",
    records.CONTACT: "<contact>",
    records.POLL: "<poll>",
    records.VIEW_ONCE: "<media>",
}

_TAG_SET = frozenset((*MEDIA_TAGS.values(), *KIND_TAGS.values()))


def is_tag_only(text: str) -> bool:
    """True when every bubble of a turn is one of the dataset's media tags (``<photo>``), no caption."""
    if text.lstrip()[:1] != "<":    # every tag starts with "<": most turns are told here
        return False
    parts = [p.strip() for p in text.split("\n") if p.strip()]
    return bool(parts) and all(p in _TAG_SET for p in parts)


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


def new_report() -> dict:
    """The counters :func:`chat_sessions` fills (the start of a dataset report)."""
    from .redact import empty_counts

    return {
        "messages": 0,
        "messages_used": 0,
        "dropped": {"system": 0, "deleted": 0, "call": 0, "media": 0, "empty": 0},
        "media_tagged": 0,
        "redactions": empty_counts(),
    }


#: Utterance(...) without the named tuple's Python-level __new__
_new_utterance = tuple.__new__


class ChatTurn:
    """A turn while the dataset is built: ``bubbles`` as trained on, ``raws`` before redaction
    (``None`` when nothing is redacted: the bubbles are the raw text); once finished, ``text``
    and ``raw`` join them; ``said`` is the turn as pairs show it (made on first use);
    ``fold`` is ``text`` stripped and casefolded, as the dataset's dedupe compares replies
    (``None`` until the dataset makes it)."""

    __slots__ = ("author", "start", "end", "bubbles", "raws", "text", "raw", "tokens", "_said", "fold")

    def __init__(self, author: str, time: datetime, bubble: str, raw: str | None):
        self.author = author
        self.start = self.end = time
        self.bubbles = [bubble]
        self.raws = None if raw is None else [raw]
        self._said = self.fold = None

    def finish(self) -> None:
        """Join the bubbles: ``text`` as trained on, ``raw`` before redaction."""
        b = self.bubbles
        self.text = b[0] if len(b) == 1 else "\n".join(b)
        r = self.raws
        self.raw = self.text if r is None else (r[0] if len(r) == 1 else "\n".join(r))
        #: estimated tokens of ``text`` as one chat message (ceil(len / 3.5) + role markers)
        self.tokens = -(-len(self.text) * 2 // 7) + 4

    @property
    def said(self) -> Utterance:
        s = self._said
        if s is None:
            s = self._said = _new_utterance(Utterance, (self.author, self.text))
        return s

    def record(self) -> Turn:
        return Turn(self.author, self.start, self.end, self.text, len(self.bubbles))


def chat_sessions(messages: Iterable[Message], gap_minutes: float, media: str, redacting: bool,
                  report: dict) -> list[list[ChatTurn]]:
    """The sessions of a chat, each a list of finished turns; fills ``report``'s counters."""
    dropped = report["dropped"]
    redactions = report["redactions"]
    gap = timedelta(minutes=gap_minutes)
    drop_media = media == "drop"
    text_kind, system_kind = records.TEXT, records.SYSTEM
    sessions: list[list[ChatTurn]] = []
    turns: list[ChatTurn] = []
    turn: ChatTurn | None = None
    prev: datetime | None = None
    n = used = tagged = 0
    for msg in messages:
        n += 1
        author = msg.author
        kind = msg.kind
        if author is None or kind == system_kind:
            dropped["system"] += 1
            continue
        if kind == text_kind:
            raw = msg.text.strip("\n")
        elif kind == records.DELETED:
            dropped["deleted"] += 1
            continue
        elif kind == records.CALL:
            dropped["call"] += 1
            continue
        elif kind == records.MEDIA or kind in KIND_TAGS:
            if drop_media:
                dropped["media"] += 1
                continue
            caption = media_caption(msg) if kind in (records.MEDIA, records.VIEW_ONCE) else ""
            raw = media_tag(msg) + (f" {caption}" if caption else "")
            tagged += 1
        else:
            raw = msg.text.strip("\n")
        if not raw or raw.isspace():
            dropped["empty"] += 1
            continue
        used += 1
        t = msg.time
        if t is not prev:      # messages of one minute often share their time
            if prev is None or t - prev > gap:
                if turn is not None:
                    turn.finish()
                    turn = None
                turns = []
                sessions.append(turns)
            prev = t
        text = redact(raw, redactions)[0] if redacting else raw
        if turn is not None and turn.author == author:
            turn.bubbles.append(text)
            if redacting:
                turn.raws.append(raw)
            turn.end = t
        else:
            if turn is not None:   # finished as the next one starts: one pass over the messages
                turn.finish()
            turn = ChatTurn(author, t, text, raw if redacting else None)
            turns.append(turn)
    if turn is not None:
        turn.finish()
    report["messages"] += n
    report["messages_used"] = used
    report["media_tagged"] += tagged
    return sessions


def session_records(sessions: list[list[ChatTurn]]) -> list[Session]:
    return [Session(i, tuple(t.record() for t in s)) for i, s in enumerate(sessions)]
