"""The language(s) a chat is written in, told from its messages at import.

It decides the default base model (an English chat trains SmolLM2, any other Gemma 3; see
:func:`wachat_tui.core.embedded.for_language`) and is shown on the Import pane and in
``wachat projects``.

How: the text messages, cleaned of links, e-mail addresses, @mentions, numbers and emoji, are
joined per author into chunks of a few hundred letters — one short chat message says little,
a paragraph of them says a lot — and each chunk is classified by py3langid (langid.py's
maintained fork: a naive Bayes model over byte n-grams of 97 languages, shipped inside the
wheel, no network). A language's share is the share of the analysed letters in chunks
classified as it; shares under :data:`MIN_SHARE` are dropped as noise. A chat with too few
letters of text (test exports, media-only chats) is judged by the language of WhatsApp's own
strings in it instead (encryption notice, "image omitted", "message deleted": the phone's
language), and says so (``source == "locale"``).

py3langid needs numpy; it is imported inside :func:`detect_language`, never at import time.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .records import TEXT, Message

CHUNK_LETTERS = 300
"""Letters per classified chunk: long enough for a reliable guess, short enough to see a switch."""
MIN_LETTERS = 300
"""Below this many letters of message text the export's locale decides."""
MIN_EVIDENCE = 80
"""Fewer letters than this in all (message text and WhatsApp's strings together): unknown."""
MIN_SHARE = 0.1
"""Languages with a smaller share of the letters are not reported."""
MAX_CHUNKS = 600
"""At most this many chunks are classified, spread evenly over the chat (bounds the time)."""
MAX_MESSAGES = 30_000
"""At most this many text messages are read, spread evenly over the chat: 600 chunks of 300
letters need far fewer, and cleaning every message of a 200k-message chat took longer than
parsing it."""

NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan", "cs": "Czech",
    "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "en": "English", "eo": "Esperanto",
    "es": "Spanish", "et": "Estonian", "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French",
    "ga": "Irish", "gl": "Galician", "gu": "Gujarati", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian",
    "hu": "Hungarian", "hy": "Armenian", "id": "Indonesian", "is": "Icelandic", "it": "Italian",
    "ja": "Japanese", "ka": "Georgian", "kk": "Kazakh", "km": "Khmer", "kn": "Kannada", "ko": "Korean",
    "lt": "Lithuanian", "lv": "Latvian", "mk": "Macedonian", "ml": "Malayalam", "mr": "Marathi",
    "ms": "Malay", "mt": "Maltese", "nb": "Norwegian", "ne": "Nepali", "nl": "Dutch", "no": "Norwegian",
    "pa": "Punjabi", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak",
    "sl": "Slovenian", "sq": "Albanian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil",
    "te": "Telugu", "th": "Thai", "tl": "Tagalog", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu",
    "vi": "Vietnamese", "zh": "Chinese",
}

_NOISE = re.compile(
    r"https?://\S+|www\.\S+|\S+@\S+\.\S+|@\S+|<[^>\n]{1,40}>|[\d\u0660-\u0669\u06f0-\u06f9]+")


def language_name(code: str | None) -> str:
    """``de`` → ``German``; unknown codes are shown as they are."""
    if not code:
        return "unknown"
    return NAMES.get(code, code)


@dataclass(frozen=True)
class LanguageReport:
    """What a chat is written in."""

    primary: str | None
    """ISO 639-1 code of the main language, None when there was nothing to tell it from."""
    shares: dict[str, float] = field(default_factory=dict)
    """Each language's share of the analysed letters (those of at least :data:`MIN_SHARE`), largest first."""
    letters: int = 0
    """Letters of text the verdict rests on."""
    source: str = "messages"
    """``messages`` (the chat's text) or ``locale`` (WhatsApp's own strings: too little text)."""

    @property
    def name(self) -> str:
        return language_name(self.primary)

    @property
    def summary(self) -> str:
        """One line for the UI: ``German``, ``German 70% · English 30%``, ``Czech (export language)``."""
        if self.primary is None:
            return "unknown (too little text)"
        if len(self.shares) > 1:
            text = " · ".join(f"{language_name(c)} {round(s * 100)}%" for c, s in self.shares.items())
        else:
            text = self.name
        if self.source == "locale":
            text += " (export language)"
        return text

    def to_dict(self) -> dict:
        return {"primary": self.primary, "shares": dict(self.shares), "letters": self.letters,
                "source": self.source}

    @classmethod
    def from_dict(cls, row: object) -> "LanguageReport | None":
        """The report stored in project.json (None when absent or not a report)."""
        if not isinstance(row, dict):
            return None
        primary = row.get("primary")
        shares = row.get("shares") if isinstance(row.get("shares"), dict) else {}
        return cls(primary=primary if isinstance(primary, str) and primary else None,
                   shares={str(k): float(v) for k, v in shares.items() if isinstance(v, (int, float))},
                   letters=int(row.get("letters") or 0), source=str(row.get("source") or "messages"))


_NOT_WORD = re.compile(r"[^\w'’ -]|[\d_]")
#: _NOISE, then _NOT_WORD, in one pass: a noise match is tried first at every position, so the
#: matches are those of the two passes (each becomes a space; runs of spaces are collapsed after)
_NOT_CLEAN = re.compile(f"{_NOISE.pattern}|{_NOT_WORD.pattern}")
_NOT_LETTER = re.compile(r"[\W\d_]+")


def clean_text(text: str) -> str:
    """The words of a message: links, addresses, mentions, numbers, placeholders and emoji removed."""
    return _NOT_CLEAN.sub(" ", text)


def count_letters(text: str) -> int:
    return len(_NOT_LETTER.sub("", text))


def script_share(text: str, script: str) -> float:
    """Share of the letters of ``text`` that belong to ``script`` (a Unicode name prefix:
    ``HEBREW``, ``ARABIC``, ``CYRILLIC``, ``LATIN``, ``DEVANAGARI`` …); 0 for no letters."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    prefix = script.upper()
    return sum(1 for ch in letters if unicodedata.name(ch, "").startswith(prefix)) / len(letters)


#: What :func:`clean_text` keeps of an ASCII text that none of _NOISE's patterns but the
#: numbers can match (no ``@``, ``<``, ``://``, ``www.``): letters, ``'``, `` ``, ``-``.
_ASCII_NOT_WORD = str.maketrans({c: " " for c in map(chr, range(128)) if not (c.isalpha() or c in "' -")})


def clean_words(raw: str) -> tuple[str, int]:
    """``" ".join(clean_text(raw).split())`` and its :func:`count_letters`; most chat texts
    (ASCII, no link, address or tag) without the regexes: a table turns what they would
    remove into spaces (a number, one space or several, is the same once spaces are collapsed)."""
    if raw.isascii():
        if "@" in raw or "<" in raw or "://" in raw or "www." in raw:
            text = " ".join(clean_text(raw).split())
        else:
            text = " ".join(raw.translate(_ASCII_NOT_WORD).split())
        # an ASCII text cleaned holds letters, "'", "-" and single spaces
        return text, len(text) - text.count(" ") - text.count("'") - text.count("-")
    text = " ".join(clean_text(raw).split())
    return text, count_letters(text)


#: ASCII bytes that are not letters (deleted to count the letters of an ASCII text)
_ASCII_NOT_LETTER = bytes(c for c in range(128) if not chr(c).isalpha())


def letter_count(raw: str) -> int:
    """``clean_words(raw)[1]`` without making the words: only a link, an address, a mention or
    a tag (``@``, ``<``, ``://``, ``www.``) can take letters away; the numbers and symbols the
    cleaning removes are not letters."""
    if "@" in raw or "<" in raw or "://" in raw or "www." in raw:
        return clean_words(raw)[1]
    if raw.isascii():
        return len(raw.encode("ascii").translate(None, _ASCII_NOT_LETTER))
    return count_letters(raw)


def _chunk_plan(texts: Sequence[tuple[str | None, str]], size: int = CHUNK_LETTERS) -> list[tuple[list[int], int]]:
    """What :func:`_chunks` makes of ``texts``, as (indices of the texts in it, letters), in the
    same order; counted, not cleaned (only the chunks classified need their words)."""
    pending: dict[str | None, tuple[list[int], int]] = {}
    out: list[tuple[list[int], int]] = []
    for i, (author, raw) in enumerate(texts):
        n = letter_count(raw)
        if not n:
            continue
        parts, letters = pending.get(author, ([], 0))
        parts.append(i)
        letters += n
        if letters >= size:
            out.append((parts, letters))
            parts, letters = [], 0
        pending[author] = (parts, letters)
    for parts, letters in pending.values():
        if letters:
            out.append((parts, letters))
    return out


def _chunk_texts(texts: Sequence[tuple[str | None, str]],
                 plan: Iterable[tuple[list[int], int]]) -> list[tuple[str, int]]:
    """The chunks of a plan: (their texts' words, letters)."""
    return [(" ".join(clean_words(texts[i][1])[0] for i in parts), letters) for parts, letters in plan]


def _chunks(texts: Iterable[tuple[str | None, str]], size: int = CHUNK_LETTERS) -> list[tuple[str, int]]:
    """(author, text) rows → chunks of about ``size`` letters, each from one author."""
    texts = texts if isinstance(texts, list) else list(texts)
    return _chunk_texts(texts, _chunk_plan(texts, size))


def _spread(chunks: list, most: int = MAX_CHUNKS) -> list:
    """At most ``most`` of ``chunks``, evenly spread."""
    if len(chunks) <= most:
        return chunks
    step = len(chunks) / most
    return [chunks[int(i * step)] for i in range(most)]


def _classify(chunks: Sequence[tuple[str, int]]) -> tuple[dict[str, float], int]:
    """Letter-weighted language shares of ``chunks`` (at most MAX_CHUNKS of them, evenly spread)."""
    chunks = _spread(chunks)
    if _surely_english(chunks):
        return {"en": 1.0}, sum(n for _, n in chunks)
    identifier = _identifier()
    weights: dict[str, int] = {}
    for text, letters in chunks:
        code, _score = identifier.classify(text)
        weights[code] = weights.get(code, 0) + letters
    total = sum(weights.values())
    return {code: w / total for code, w in weights.items()}, total


#: Frequent English words that are not words of another language the model knows (``is``,
#: ``me``, ``no``, ``to``, ``in``, ``was``, ``we``, ``my``, ``for``, ``do`` are).
_ENGLISH_ONLY = frozenset("""the you your that what this with have are just but not how why when where
it it's i'm don't that's yes yeah there they would about been like know think want going really she
them their from then than which who our out could should i'll i've didn't can't doesn't isn't won't""".split())
#: Frequent words of other languages written in Latin letters (Spanish, Portuguese, French,
#: Italian, German, Dutch, Scandinavian, Polish, Turkish, Indonesian, Tagalog, Swahili, Hindi/Urdu
#: in Latin letters…) that English chat hardly uses: a chat that mixes one of them into its
#: English is left to the model.
_FOREIGN = frozenset("""que los las es por pero muy una como está estoy eso esta não você eu uma mas
isso tá le je tu est pas et avec mais oui c'est moi che il non sono ma ciao sei ich du und der das
nicht ist ja auch bin wir ik het een niet en maar jij och jag det inte og ikke jeg nie jest się że
tak ale bir ve bu ne yang aku kamu tidak ini itu ga gak aja ang ng mga sa ko ka ba po lang yung naman
hai kya nahi tum hum kar ho ki ke yaar bhi ni kwa""".split())
ENGLISH_WORD_SHARE = 0.1
"""A chunk is surely English when at least this share of its words are English-only words
(English chunks of the fixtures, the corpus and the benchmark export: 0.06–0.45, median
0.13–0.44; German, Hebrew, Russian ones: 0) …"""
FOREIGN_WORD_SHARE = 0.02
"""… at most this share are another language's common words …"""
SURELY_ENGLISH = 0.95
"""… and a chat when at least this share of its analysed letters are in such chunks: whatever
the model says of the others, no language but English reaches :data:`MIN_SHARE`."""


def _surely_english(chunks: Sequence[tuple[str, int]]) -> bool:
    """True when py3langid would find nothing but English, told without loading its model
    (~0.4 s and ~70 MB: a fixed cost that was larger than parsing a 200k-message chat): every
    letter ASCII, English-only words frequent and no other language's common words."""
    sure = total = 0
    for text, letters in chunks:
        total += letters
        text = text.replace("’", "'")
        if not text.isascii():
            continue
        words = text.lower().split()
        english = foreign = 0
        for word in words:
            if word in _ENGLISH_ONLY:
                english += 1
            elif word in _FOREIGN:
                foreign += 1
        if english >= ENGLISH_WORD_SHARE * len(words) and foreign <= FOREIGN_WORD_SHARE * len(words):
            sure += letters
    return total > 0 and sure >= SURELY_ENGLISH * total


_IDENTIFIER = None


def _identifier():
    """py3langid's identifier over all its languages (loaded once per process, ~0.3 s)."""
    global _IDENTIFIER
    if _IDENTIFIER is None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        _IDENTIFIER = LanguageIdentifier.from_model_file(MODEL_FILE)
    return _IDENTIFIER


def _report(shares: dict[str, float], letters: int, source: str) -> LanguageReport:
    kept = {c: s for c, s in shares.items() if s >= MIN_SHARE}
    norm = sum(kept.values()) or 1.0
    ordered = dict(sorted(((c, round(s / norm, 3)) for c, s in kept.items()), key=lambda kv: -kv[1]))
    primary = next(iter(ordered), None)
    return LanguageReport(primary=primary, shares=ordered, letters=letters, source=source)


def detect_text(text: str) -> LanguageReport:
    """The language of one piece of text (e.g. a model's generated replies, joined)."""
    chunks = _chunks([(None, line) for line in text.splitlines()])
    if not chunks:
        return LanguageReport(primary=None)
    shares, letters = _classify(chunks)
    return _report(shares, letters, "messages")


def detect_language(messages: Iterable[Message]) -> LanguageReport:
    """The language(s) of a chat's text messages (see the module docstring)."""
    messages = messages if isinstance(messages, list) else list(messages)
    said = [m for m in messages if m.kind == TEXT and m.author is not None]
    if len(said) > MAX_MESSAGES:
        step = len(said) / MAX_MESSAGES
        said = [said[int(i * step)] for i in range(MAX_MESSAGES)]
    texts = [(m.author, m.text) for m in said]
    plan = _chunk_plan(texts)
    letters = sum(n for _, n in plan)
    if letters >= MIN_LETTERS:
        # only the chunks classified are cleaned (a 200k-message chat: 600 of ~3,500)
        shares, letters = _classify(_chunk_texts(texts, _spread(plan)))
        return _report(shares, letters, "messages")
    notices = [(None, m.text) for m in messages if m.text and not (m.kind == TEXT and m.author is not None)]
    locale_chunks = _chunks(notices) or _chunk_texts(texts, plan)
    if sum(n for _, n in locale_chunks) < MIN_EVIDENCE:
        return LanguageReport(primary=None, letters=letters)
    shares, total = _classify(locale_chunks)
    return _report(shares, total, "locale")
