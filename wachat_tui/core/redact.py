"""Replace personal identifiers with tags before text goes into a training set.

``redact(text)`` returns the new text and how many of each kind it replaced:
URLs → ``<url>``, e-mail addresses → ``<email>``, card-like numbers (13–19 digits, plain or
in groups) → ``<card>``, phone numbers (7–15 digits, ``+``/``00`` prefixes, spaces, dashes,
parentheses) → ``<phone>``. Dates, times, prices and short numbers are left alone.
``find_identifiers(text)`` lists the same identifiers with a normalised form (what the eval's
leak check compares between training data and generated text).
"""
from __future__ import annotations

import re

KINDS = ("phone", "email", "url", "card")
TAGS = {kind: f"<{kind}>" for kind in KINDS}

_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"']+")
_URL_TRAIL = ".,;:!?)]}'\""
_EMAIL = re.compile(r"(?i)(?<![\w.+-])[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b")
# A run of digits with single separators (space, dash, parentheses), optionally led by + or 00.
_NUMBER = re.compile(r"(?<![\w+/.:,])(?:\+|\(\+?)?\d(?:(?:[ \-]|\)\s?|\s?\()?\d){6,22}(?![\w/]|[.,:]\d)")
_DATE_LIKE = re.compile(r"^\d{1,4}([-/. ])\d{1,2}\1\d{2,4}$")


def empty_counts() -> dict[str, int]:
    return {kind: 0 for kind in KINDS}


def _classify_number(match: str) -> str | None:
    digits = re.sub(r"\D", "", match)
    if _DATE_LIKE.match(match.strip()):
        return None
    if match.startswith(("+", "(+", "00")):
        return "phone" if 7 <= len(digits) <= 15 else None
    if 13 <= len(digits) <= 19:
        return "card"
    if 7 <= len(digits) <= 15:
        return "phone"
    return None


def redact(text: str, counts: dict[str, int] | None = None) -> tuple[str, dict[str, int]]:
    """Return ``text`` with identifiers replaced and the counts (added into ``counts`` if given)."""
    counts = empty_counts() if counts is None else counts
    if not text:
        return text, counts

    def url(m: re.Match) -> str:
        raw = m.group(0)
        trail = ""
        while raw and raw[-1] in _URL_TRAIL:
            trail = raw[-1] + trail
            raw = raw[:-1]
        counts["url"] += 1
        return TAGS["url"] + trail

    def email(m: re.Match) -> str:
        counts["email"] += 1
        return TAGS["email"]

    def number(m: re.Match) -> str:
        kind = _classify_number(m.group(0))
        if kind is None:
            return m.group(0)
        counts[kind] += 1
        return TAGS[kind]

    text = _URL.sub(url, text)
    text = _EMAIL.sub(email, text)
    text = _NUMBER.sub(number, text)
    return text, counts


def _normal_url(raw: str) -> str:
    value = raw.rstrip(_URL_TRAIL).lower()
    value = re.sub(r"^(?:https?://)?(?:www\.)?", "", value)
    return value.rstrip("/")


def find_identifiers(text: str) -> list[tuple[str, str, str]]:
    """Phone numbers, cards, e-mails and URLs in ``text``: ``(kind, as written, normalised)``."""
    found: list[tuple[str, str, str]] = []
    for m in _URL.finditer(text):
        found.append(("url", m.group(0).rstrip(_URL_TRAIL), _normal_url(m.group(0))))
    rest = _URL.sub(" ", text)
    for m in _EMAIL.finditer(rest):
        found.append(("email", m.group(0), m.group(0).lower()))
    rest = _EMAIL.sub(" ", rest)
    for m in _NUMBER.finditer(rest):
        kind = _classify_number(m.group(0))
        if kind is not None:
            digits = re.sub(r"\D", "", m.group(0))
            # the same phone written +44 7700…, 0044 7700… or 07700…: compare the subscriber part
            found.append((kind, m.group(0), digits[-9:] if kind == "phone" else digits))
    return found
