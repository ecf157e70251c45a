"""The lines of a conversation: one ``ChatLine`` per bubble, and the turns they make up."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

from ..core.turns import KIND_TAGS, MEDIA_TAGS


def now() -> datetime:
    """Local time to the second: the precision the history is saved with."""
    return datetime.now().replace(microsecond=0)


@dataclass
class ChatLine:
    """One bubble of the conversation."""

    author: str
    """Participant name as it appears in the chat (e.g. "Leo")."""
    text: str
    """The bubble's text, one line (no newline)."""
    by_model: bool = False
    """True when the model wrote it, False for a human (or a real message from the export)."""
    time: datetime = field(default_factory=now)
    """When it was written (local time)."""


def split_bubbles(text: str) -> list[str]:
    """A turn's text → its bubbles: one per non-empty line, whitespace trimmed."""
    return [part.strip() for part in text.split("\n") if part.strip()]


#: How a media tag the model writes (the dataset's ``<photo>``, or WhatsApp's ``<Media omitted>``) is
#: shown: a model cannot send a photo, so the chat shows what it "sent" as a grey note, never the raw tag.
MEDIA_LABELS = {
    "photo": "📷 photo", "image": "📷 photo", "video": "🎥 video", "voice note": "🎤 voice note",
    "audio": "🎵 audio", "sticker": "💟 sticker", "gif": "GIF", "document": "📄 document",
    "forwarded": "↪ forwarded", "location": "📍 location", "contact": "👤 contact", "poll": "📊 poll",
    "media": "📎 media",
}
_TAG_WORDS = {tag.strip("<>") for tag in (*MEDIA_TAGS.values(), *KIND_TAGS.values())} | {"image"}
_LEADING_TAG = re.compile(r"^\s*<([A-Za-z ]{2,20}?)(?: omitted)?>", re.IGNORECASE)


def media_bubble(text: str) -> tuple[str, str] | None:
    """``(label, caption)`` when a bubble starts with a media tag (``<photo> my cat`` →
    ``("📷 photo", "my cat")``), else None. Any ``<… omitted>`` placeholder counts as media."""
    match = _LEADING_TAG.match(text)
    if match is None:
        return None
    word = match.group(1).strip().lower()
    if word not in _TAG_WORDS and not match.group(0).lower().endswith(" omitted>"):
        return None
    return MEDIA_LABELS.get(word, MEDIA_LABELS["media"]), text[match.end():].strip()


def show_bubble(text: str) -> str:
    """A bubble as plain text for a terminal: ``[📷 photo] my cat`` instead of ``<photo> my cat``."""
    media = media_bubble(text)
    if media is None:
        return text
    label, caption = media
    return f"[{label}]" + (f" {caption}" if caption else "")


def lines_from_reply(author: str, text: str, *, by_model: bool = True,
                     time: datetime | None = None) -> list[ChatLine]:
    """The ``ChatLine``s of one turn (one per bubble)."""
    when = time or now()
    return [ChatLine(author, part, by_model, when) for part in split_bubbles(text)]


def merge_turns(history: Sequence[ChatLine]) -> list[tuple[str, str]]:
    """Consecutive lines by one author → one turn ``(author, "line\\nline")``."""
    turns: list[tuple[str, list[str]]] = []
    for line in history:
        text = line.text.strip()
        if not text:
            continue
        if turns and turns[-1][0] == line.author:
            turns[-1][1].append(text)
        else:
            turns.append((line.author, [text]))
    return [(author, "\n".join(parts)) for author, parts in turns]
