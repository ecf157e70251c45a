"""The records every stage passes along. Frozen dataclasses; JSON in the parse contract."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
            "time": self.time.isoformat(timespec="seconds"),
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


@dataclass(frozen=True, slots=True)
class Pair:
    """Context → reply: the review view of one persona turn inside a training sample."""

    id: str
    session: int
    persona: str
    context: tuple[Turn, ...]
    reply: Turn
    split: str  # "train" | "validation"
    excluded: bool = False


@dataclass(frozen=True, slots=True)
class Sample:
    """One chat in the `messages` format for one persona (a session or a window of one)."""

    id: str
    persona: str
    session: int
    split: str
    messages: tuple[dict, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "persona": self.persona,
            "session": self.session,
            "messages": list(self.messages),
        }
