"""Degeneration: the ways small fine-tuned models fail that are not about style.

* **distinct-2** — distinct word bigrams / all word bigrams over a set of replies (low =
  the model says the same things again and again). Its flaw: the more text, the lower it
  gets, so a model with short replies looks more varied than a person with long ones.
* **EAD-2** (expectation-adjusted distinct, Liu et al. 2022, "Rethinking and Refining the
  Distinct Metric") divides the distinct count by the count *expected* if the same number of
  bigrams C were drawn uniformly from V possible ones, ``V · (1 - (1 - 1/V)^C)``. V is the
  number of distinct word bigrams in the chat's real train turns (the bigrams these people
  use). For short texts (C ≪ V) it equals distinct-2; as text grows the expectation falls
  below C and the score is lifted accordingly, so replies of different lengths compare.
* **empty** replies (nothing left after the chat's own clean-up),
* **run-on** replies that continue into another participant's turn (a line that starts with
  their ``Name:``; the chat engine cuts there, so a backend may also report it),
* **assistant-speak** — the base model's helpful-assistant voice ("As an AI…", "I'm sorry,
  but…", "How can I help…"), which no friend texts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from .replies import bubble_words, ngrams, strip_media

ASSISTANT_PHRASES = (
    r"as an ai\b", r"as a(?:n ai)? language model", r"i(?: am|'m|’m) (?:just )?(?:an? )?(?:ai|language model|"
    r"virtual assistant|assistant|chatbot)\b", r"i(?: am|'m|’m) sorry,? but", r"i apologi[sz]e,? but",
    r"how (?:can|may) i (?:help|assist)", r"i(?: am|'m|’m) here to help", r"is there anything else i can",
    r"i (?:can(?:no|')?t|am (?:not )?able to|am unable to) (?:assist|help) with", r"feel free to ask",
    r"i don(?:'|’)t have personal (?:opinions|experiences|feelings)",
)
ASSISTANT_SPEAK = re.compile(r"\b(?:" + "|".join(ASSISTANT_PHRASES) + ")", re.IGNORECASE)


def is_assistant_speak(text: str) -> bool:
    return ASSISTANT_SPEAK.search(text) is not None


def runs_on(text: str, others: Sequence[str]) -> bool:
    """True when a line of ``text`` starts with another participant's ``Name:``."""
    names = [re.escape(n) for n in others if n]
    if not names:
        return False
    pattern = re.compile(rf"^\s*(?:{'|'.join(names)})\s*:", re.IGNORECASE | re.MULTILINE)
    return pattern.search(text) is not None


def bigrams(texts: Iterable[str]) -> list[tuple[str, str]]:
    """Word bigrams inside each bubble (media tags removed)."""
    out: list[tuple[str, str]] = []
    for text in texts:
        for ws in bubble_words(strip_media(text)):
            out += list(ngrams(ws, 2))  # type: ignore[arg-type]
    return out


def distinct_2(texts: Sequence[str]) -> float | None:
    grams = bigrams(texts)
    return len(set(grams)) / len(grams) if grams else None


def expected_distinct(draws: int, vocabulary: int) -> float:
    """Distinct items expected among ``draws`` uniform draws from ``vocabulary`` types."""
    if vocabulary <= 1:
        return min(draws, vocabulary)
    return vocabulary * (1.0 - (1.0 - 1.0 / vocabulary) ** draws)


def ead_2(texts: Sequence[str], vocabulary: int) -> float | None:
    grams = bigrams(texts)
    if not grams:
        return None
    expected = expected_distinct(len(grams), max(vocabulary, len(set(grams))))
    return len(set(grams)) / expected if expected else None


def bigram_vocabulary(texts: Iterable[str]) -> int:
    return len(set(bigrams(texts)))


@dataclass(frozen=True)
class Degeneration:
    """Degeneration numbers of one set of replies (rates are shares of replies)."""

    distinct_2: float | None
    ead_2: float | None
    empty_rate: float | None
    run_on_rate: float | None
    assistant_speak_rate: float | None

    def to_json(self) -> dict:
        return {k: None if v is None else round(v, 4) for k, v in self.__dict__.items()}

    @classmethod
    def from_json(cls, row: dict) -> "Degeneration":
        return cls(*(row.get(k) for k in ("distinct_2", "ead_2", "empty_rate", "run_on_rate", "assistant_speak_rate")))


def degeneration(texts: Sequence[str], others: Sequence[Sequence[str]], *, vocabulary: int,
                 ran_on: Sequence[bool] | None = None) -> Degeneration:
    """Measure ``texts``; ``others[i]`` are the names reply ``i`` must not speak for;
    ``ran_on[i]`` says the backend cut reply ``i`` at another participant's turn."""
    n = len(texts)
    if not n:
        return Degeneration(None, None, None, None, None)
    flags = list(ran_on) if ran_on is not None else [False] * n
    run_on = sum(bool(cut) or runs_on(t, o) for t, o, cut in zip(texts, others, flags))
    return Degeneration(
        distinct_2=distinct_2(texts),
        ead_2=ead_2(texts, vocabulary),
        empty_rate=sum(not t.strip() for t in texts) / n,
        run_on_rate=run_on / n,
        assistant_speak_rate=sum(is_assistant_speak(t) for t in texts) / n,
    )
