"""The lines of a conversation: one ``ChatLine`` per bubble, and the turns they make up."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence


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
