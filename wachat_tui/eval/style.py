"""Style distance: how far a set of replies is from a person's real ones, habit by habit.

:func:`style_profile` measures a set of replies (media tags removed first; bubbles counted
with them); :func:`style_distance` compares two profiles feature by feature, each distance
in [0, 1], and summarises them with their mean (features undefined on either side — e.g.
the lowercase share of replies without letters — are left out of the mean).

How each feature is normalised:

* **relative** (amounts per reply: characters, words, bubbles, emoji, laugh tokens):
  ``|a - b| / max(a, b)`` — 0 when equal, 0.5 when one is twice the other, 1 when one is 0.
* **share** (fractions of replies or bubbles: all-lowercase, final full stop, ``?``, ``!!``,
  ``...``, a habit phrase): ``|a - b|``.
* **distribution** (which emoji; which scripts the letters are in):
  ``1 - Σ min(p_i, q_i)`` (total-variation distance) — 0 for the same mix, 1 for nothing in
  common; 0 when neither side has any, 1 when only one side has some.

Emoji and laughs come from ``core.stats`` (``find_emoji``, ``find_laughs``), words from
``core.stats.words`` — the same definitions as the Stats pane. Language is measured through
its script (Latin, Cyrillic, Arabic …, from the Unicode name of each letter): a second
language in the same script is not told apart.
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from ..core.stats import STOPWORDS, find_emoji, find_laughs
from .replies import bubble_words, bubbles, ngrams, strip_media

RELATIVE, SHARE, DISTRIBUTION = "relative", "share", "distribution"

FEATURES: dict[str, tuple[str, str]] = {
    # key: (kind, label)
    "chars": (RELATIVE, "characters per reply"),
    "words": (RELATIVE, "words per reply"),
    "bubbles": (RELATIVE, "bubbles per reply"),
    "lowercase": (SHARE, "all-lowercase replies"),
    "emoji": (RELATIVE, "emoji per reply"),
    "top_emoji": (DISTRIBUTION, "which emoji"),
    "laughs": (RELATIVE, "laughs per reply"),
    "full_stop": (SHARE, "bubbles ending in a full stop"),
    "question": (SHARE, "replies with ?"),
    "double_bang": (SHARE, "replies with !!"),
    "ellipsis": (SHARE, "replies with ..."),
    "habit_phrases": (SHARE, "replies with a habit phrase"),
    "script": (DISTRIBUTION, "script (language) mix"),
}
TOP_EMOJI = 5
KEPT_EMOJI = 20
"""Emoji counts kept in the JSON report (the distance was computed on all of them)."""
HABIT_PHRASES = 20


@dataclass(frozen=True)
class StyleProfile:
    """The habits of one set of replies."""

    n: int
    values: dict[str, float | None]
    """Numeric features (every RELATIVE and SHARE key of :data:`FEATURES`)."""
    emoji: dict[str, int] = field(default_factory=dict)
    """Emoji counts."""
    scripts: dict[str, float] = field(default_factory=dict)
    """Share of letters per script."""

    def to_json(self) -> dict:
        out = {"n": self.n, **{k: _round(v) for k, v in self.values.items()}}
        out["top_emoji"] = [e for e, _ in Counter(self.emoji).most_common(TOP_EMOJI)]
        out["emoji_counts"] = dict(Counter(self.emoji).most_common(KEPT_EMOJI))
        out["script"] = {k: round(v, 3) for k, v in sorted(self.scripts.items(), key=lambda kv: -kv[1])}
        return out

    @classmethod
    def from_json(cls, row: dict) -> "StyleProfile":
        values = {k: row.get(k) for k, (kind, _) in FEATURES.items() if kind != DISTRIBUTION}
        return cls(int(row.get("n") or 0), values, {str(k): int(v) for k, v in (row.get("emoji_counts") or {}).items()},
                   {str(k): float(v) for k, v in (row.get("script") or {}).items()})


@dataclass(frozen=True)
class StyleDistance:
    """Per-feature distances in [0, 1] and their mean (``summary``)."""

    features: dict[str, float | None]
    summary: float | None

    def to_json(self) -> dict:
        return {"summary": _round(self.summary), "features": {k: _round(v) for k, v in self.features.items()}}

    @classmethod
    def from_json(cls, row: dict) -> "StyleDistance":
        return cls(dict(row.get("features") or {}), row.get("summary"))


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def habit_phrases(texts: Iterable[str], top: int = HABIT_PHRASES) -> frozenset[str]:
    """A person's habit phrases: their most frequent word 2- and 3-grams (inside one bubble,
    not made only of stopwords, seen at least twice) in their real train turns."""
    counts: Counter = Counter()
    for text in texts:
        for ws in bubble_words(strip_media(text)):
            for n in (2, 3):
                for gram in ngrams(ws, n):
                    if not all(w in STOPWORDS for w in gram):
                        counts[" ".join(gram)] += 1
    ranked = sorted(((p, c) for p, c in counts.items() if c >= 2), key=lambda pc: (-pc[1], pc[0]))
    return frozenset(p for p, _ in ranked[:top])


def _script(ch: str) -> str | None:
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return None
    first = name.split(" ", 1)[0]
    return "CJK" if first in ("CJK", "HIRAGANA", "KATAKANA") else first


def style_profile(texts: Sequence[str], habits: frozenset[str] = frozenset()) -> StyleProfile:
    """Measure the habits of ``texts`` (replies; bubbles joined by ``\\n``)."""
    n = len(texts)
    chars = n_words = n_bubbles = n_emoji = n_laughs = 0
    cased = lower = 0
    all_bubbles = stops = 0
    question = bang = ellipsis = with_habit = 0
    emoji_counts: Counter = Counter()
    scripts: Counter = Counter()
    for raw in texts:
        n_bubbles += len(bubbles(raw))
        text = strip_media(raw)
        found = find_emoji(text)
        emoji_counts.update(found)
        n_emoji += len(found)
        n_laughs += len(find_laughs(text, found))
        chars += len(text.replace("\n", ""))
        per_bubble = bubble_words(text)
        n_words += sum(len(ws) for ws in per_bubble)
        if text.lower() != text.upper():
            cased += 1
            lower += text == text.lower()
        for part in bubbles(text):
            all_bubbles += 1
            stripped = part.rstrip()
            stops += stripped.endswith(".") and not stripped.endswith("..")
        question += "?" in text
        bang += "!!" in text
        ellipsis += "..." in text or "…" in text
        if habits:
            grams = {" ".join(g) for ws in per_bubble for size in (2, 3) for g in ngrams(ws, size)}
            with_habit += bool(grams & habits)
        for ch in text:
            if ch.isalpha():
                script = _script(ch)
                if script:
                    scripts[script] += 1
    letters = sum(scripts.values())
    values: dict[str, float | None] = {
        "chars": chars / n if n else None,
        "words": n_words / n if n else None,
        "bubbles": n_bubbles / n if n else None,
        "lowercase": lower / cased if cased else None,
        "emoji": n_emoji / n if n else None,
        "laughs": n_laughs / n if n else None,
        "full_stop": stops / all_bubbles if all_bubbles else None,
        "question": question / n if n else None,
        "double_bang": bang / n if n else None,
        "ellipsis": ellipsis / n if n else None,
        "habit_phrases": with_habit / n if n and habits else None,
    }
    return StyleProfile(n, values, dict(emoji_counts),
                        {k: v / letters for k, v in scripts.items()} if letters else {})


def _relative(a: float, b: float) -> float:
    top = max(abs(a), abs(b))
    return abs(a - b) / top if top else 0.0


def _distribution(p: dict[str, float], q: dict[str, float]) -> float:
    if not p and not q:
        return 0.0
    if not p or not q:
        return 1.0
    sp, sq = sum(p.values()), sum(q.values())
    return 1.0 - sum(min(p[k] / sp, q.get(k, 0) / sq) for k in p)


def style_distance(model: StyleProfile, real: StyleProfile) -> StyleDistance:
    """Feature-by-feature distance between two profiles (see the module docstring)."""
    out: dict[str, float | None] = {}
    for key, (kind, _) in FEATURES.items():
        if kind == DISTRIBUTION:
            if not model.n or not real.n:
                out[key] = None
            elif key == "top_emoji":
                out[key] = _distribution(model.emoji, real.emoji)
            else:
                out[key] = _distribution(model.scripts, real.scripts)
            continue
        a, b = model.values.get(key), real.values.get(key)
        if a is None or b is None:
            out[key] = None
        else:
            out[key] = _relative(a, b) if kind == RELATIVE else abs(a - b)
    defined = [v for v in out.values() if v is not None]
    return StyleDistance(out, _mean(defined))
