"""Small helpers over reply texts shared by the metrics: bubbles, media tags, word n-grams.

A reply is one turn: bubbles joined by ``\\n``. Media the dataset could not keep appear as
tags (``<photo>``, ``<voice note>``, ``<sticker>`` …, see ``core.turns.MEDIA_TAGS``); a model
trained on them writes them too.
"""
from __future__ import annotations

import re
from typing import Iterable

from ..core.turns import KIND_TAGS, MEDIA_TAGS
from ..core.stats import words

_TAG_WORDS = sorted({tag.strip("<>") for tag in (*MEDIA_TAGS.values(), *KIND_TAGS.values())}, key=len, reverse=True)
# The dataset's own tags, plus WhatsApp's "<Media omitted>"-style placeholders a model may echo.
MEDIA_TAG_RE = re.compile(
    r"<(?:" + "|".join(re.escape(w) for w in _TAG_WORDS) + r"|image|[a-z ]{2,20} omitted)>", re.IGNORECASE)
_MEDIA_BUBBLE = re.compile(rf"^(?:\s*{MEDIA_TAG_RE.pattern}\s*)+$", re.IGNORECASE)


def bubbles(text: str) -> list[str]:
    """The non-empty bubbles (lines) of a reply, trimmed."""
    return [part.strip() for part in text.split("\n") if part.strip()]


def is_media_only(text: str) -> bool:
    """True when every bubble of the reply is a media tag and nothing else (``<photo>``)."""
    parts = bubbles(text)
    return bool(parts) and all(_MEDIA_BUBBLE.match(p) for p in parts)


def strip_media(text: str) -> str:
    """The reply without its media tags (captions kept), bubbles that held only a tag dropped."""
    kept = [MEDIA_TAG_RE.sub(" ", p).strip() for p in bubbles(text)]
    return "\n".join(p for p in kept if p)


def bubble_words(text: str) -> list[list[str]]:
    """Lowercased words of each bubble (``core.stats.words``: letters only, URLs dropped)."""
    return [w for w in (words(p) for p in bubbles(text)) if w]


def ngrams(tokens: list[str], n: int) -> Iterable[tuple[str, ...]]:
    return (tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
