"""The records every stage passes along: frozen dataclasses and named tuples (immutable,
typed); JSON in the parse contract.

Training samples are not a record type here: a sample is a row of ``dataset/train.jsonl`` —
``{"id", "persona", "session", "partners", "chat", "chat_id", "messages"}``, each message
``{"role", "content", "train", "pair"}`` — read as it is by ``datasets`` and the trainer
(see :mod:`wachat_tui.core.dataset`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from json.encoder import encode_basestring as _json_str   # the json module's own escaper
from typing import NamedTuple

def iso_seconds(time: datetime) -> str:
    """``time.isoformat(timespec="seconds")``; the plain ``isoformat()`` (half the cost) when it
    is the same, i.e. for the whole seconds of every exported message."""
    return time.isoformat() if not time.microsecond else time.isoformat(timespec="seconds")


# Message kinds (the `kind` field of `wachat parse --jsonl`).
TEXT = "text"
MEDIA = "media"          # photo/video/audio/sticker/document/gif, omitted or attached
DELETED = "deleted"      # "This message was deleted" / "You deleted this message"
LOCATION = "location"
CONTACT = "contact"      # shared contact card (.vcf)
POLL = "poll"
CALL = "call"            # missed voice/video call notices
VIEW_ONCE = "view_once"  # view-once media markers
SYSTEM = "system"        # WhatsApp's own notices; author is None
KINDS = (TEXT, MEDIA, DELETED, LOCATION, CONTACT, POLL, CALL, VIEW_ONCE, SYSTEM)


@dataclass(frozen=True, slots=True)
class Message:
    """One message or system event, in file order.

    ``media_type`` refines ``kind == "media"``: photo, video, audio, voice, sticker, gif,
    document or None when the export does not say.
    """

    time: datetime
    author: str | None
    text: str
    kind: str = TEXT
    edited: bool = False
    attachment: str | None = None
    media_type: str | None = None

    def to_json(self) -> dict:
        row = {
            "time": iso_seconds(self.time),
            "author": self.author,
            "text": self.text,
            "kind": self.kind,
        }
        if self.edited:
            row["edited"] = True
        if self.attachment:
            row["attachment"] = self.attachment
        if self.media_type:
            row["media_type"] = self.media_type
        return row

    def to_json_line(self) -> str:
        """``json.dumps(self.to_json(), ensure_ascii=False)``, character for character, at a
        third of the cost: ``messages.jsonl`` holds one line per message."""
        author = "null" if self.author is None else _json_str(self.author)
        line = (f'{{"time": "{iso_seconds(self.time)}", "author": {author}, '
                f'"text": {_json_str(self.text)}, "kind": {_json_str(self.kind)}')
        if self.edited:
            line += ', "edited": true'
        if self.attachment:
            line += f', "attachment": {_json_str(self.attachment)}'
        if self.media_type:
            line += f', "media_type": {_json_str(self.media_type)}'
        return line + "}"

    @classmethod
    def from_json(cls, row: dict) -> "Message":
        return cls(
            time=datetime.fromisoformat(row["time"]),
            author=row.get("author"),
            text=row.get("text", ""),
            kind=row.get("kind", TEXT),
            edited=bool(row.get("edited", False)),
            attachment=row.get("attachment"),
            media_type=row.get("media_type"),
        )


@dataclass(frozen=True, slots=True)
class Turn:
    """Consecutive messages by one author merged; ``text`` joins bubbles with ``\\n``."""

    author: str
    start: datetime
    end: datetime
    text: str
    n_messages: int


@dataclass(frozen=True, slots=True)
class Session:
    """Turns with no gap longer than the session gap."""

    index: int
    turns: tuple[Turn, ...]

    @property
    def start(self) -> datetime:
        return self.turns[0].start

    @property
    def end(self) -> datetime:
        return self.turns[-1].end


class Utterance(NamedTuple):
    """Who said what: one turn as review and the held-out prompts show it (``pairs.jsonl``'s
    context items)."""

    author: str
    text: str


class Pair(NamedTuple):
    """Context → reply: one persona turn the dataset trains on (or would, had review not
    excluded it). A row of ``dataset/pairs.jsonl``. (A named tuple rather than a frozen
    dataclass: a big chat has ~100k of them, and a tuple is made several times faster.)"""

    id: str
    """Stable id (persona, time, raw reply): exclusions survive rebuilds and option changes."""
    persona: str
    session: int
    split: str  # "train" | "validation"
    time: datetime
    """When the reply started."""
    context: tuple[Utterance, ...]
    """The turns before the reply in its sample (the last few, oldest first)."""
    reply: str
    """The reply as trained on (tags, redaction)."""
    excluded: bool = False
    chat_id: str = ""
    """The id of the project's chat the reply was written in ("" outside a project)."""

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "persona": self.persona,
            "session": self.session,
            "split": self.split,
            "time": iso_seconds(self.time),
            "context": [{"author": u.author, "text": u.text} for u in self.context],
            "reply": self.reply,
            "excluded": self.excluded,
            "chat_id": self.chat_id,
        }

    @classmethod
    def from_json(cls, row: dict) -> "Pair":
        return cls(
            id=str(row["id"]),
            persona=str(row.get("persona", "")),
            session=int(row.get("session", 0)),
            split=str(row.get("split", "train")),
            time=datetime.fromisoformat(row["time"]),
            context=tuple(Utterance(str(c.get("author", "")), str(c.get("text", "")))
                          for c in row.get("context") or ()),
            reply=str(row.get("reply", "")),
            excluded=bool(row.get("excluded", False)),
            chat_id=str(row.get("chat_id") or ""),
        )
