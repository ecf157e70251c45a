"""Names: the one slug rule (project folders, run and row ids) and the one participant matcher."""
from __future__ import annotations

import re
import unicodedata
from typing import Sequence

from ..errors import ProjectError

_CHAT_PREFIX = re.compile(r"(?i)^whatsapp chat (with|mit|con|avec|com|met|z|ile|с)\s+")


def slugify(text: str, *, max_len: int = 48, fallback: str = "chat") -> str:
    """A folder-safe name made of ``a-z``, ``0-9`` and ``-``: "Chat with José" → "chat-with-jose".

    Accents are folded to their base letter (NFKD); other scripts, which have no ASCII letters,
    give ``fallback``. The result always satisfies the project-name rule.
    """
    text = _CHAT_PREFIX.sub("", text.strip())
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.casefold()).strip("-")[:max_len].strip("-")
    return slug or fallback


def same_name(a: str, b: str) -> bool:
    """Whether two spellings name the same person: equal ignoring case and surrounding spaces."""
    return a.strip().casefold() == b.strip().casefold()


def matching_names(name: str, candidates: Sequence[str]) -> list[str]:
    """THE matcher: the candidates ``name`` stands for — itself when spelled exactly so, else
    every candidate equal to it ignoring case and surrounding spaces (several: ambiguous)."""
    if name in candidates:
        return [name]
    return [p for p in candidates if same_name(p, name)]


def find_name(name: str, candidates: Sequence[str]) -> str | None:
    """The one candidate ``name`` matches (:func:`matching_names`), else None."""
    found = matching_names(name, candidates)
    return found[0] if len(found) == 1 else None


def resolve_name(name: str, candidates: Sequence[str], what: str = "--me") -> str:
    """``name`` as spelled in the chat: an exact match, else the one case-insensitive match
    (surrounding spaces ignored); otherwise a :class:`ProjectError` listing the candidates."""
    folded = matching_names(name, candidates)
    if len(folded) == 1:
        return folded[0]
    shown = ", ".join(candidates[:20]) + (" …" if len(candidates) > 20 else "")
    if len(folded) > 1:
        raise ProjectError(f"{name!r} matches several participants ({', '.join(folded)})",
                           "spell the name exactly as it appears in the chat")
    raise ProjectError(f"{name!r} is not a participant of this chat",
                       f"{what} must be one of: {shown}" if candidates else "the chat has no messages by anyone")
