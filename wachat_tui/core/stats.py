"""A portrait of each person's texting style: pure functions over parsed messages.

``compute_stats(messages)`` returns a JSON-able document ``{"chat": {...}, "people": {name:
{...}}}`` — what ``wachat stats --json`` prints and the TUI draws. Text habits (length,
case, punctuation, emoji, laughs, words) are measured on text messages; counts and activity
on every message a person sent; reply times and bursts on turns inside sessions.
"""
from __future__ import annotations

import re
import statistics
from collections import Counter
from typing import Iterable, Sequence

from . import records
from .records import Message, Session

# ------------------------------------------------------------------ emoji

_BASE = (
    "\U0001F000-\U0001F1E5\U0001F200-\U0001F3FA\U0001F400-\U0001FAFF"  # pictographs (not tones/flags)
    "\u2600-\u27BF"            # misc symbols and dingbats (☀ ✨ ❤ ✔ …)
    "\u231A\u231B\u2328\u23CF\u23E9-\u23F3\u23F8-\u23FA"
    "\u2B05-\u2B07\u2B1B\u2B1C\u2B50\u2B55\u3030\u303D\u3297\u3299"
    "\u203C\u2049\u2139\u2194-\u2199\u21A9\u21AA\u24C2\u25AA\u25AB\u25B6\u25C0\u25FB-\u25FE"
    "\u2934\u2935"
)
_ELEMENT = (
    f"(?:[{_BASE}]|[\u00A9\u00AE\u2122]\uFE0F)"  # ©®™ only in their emoji presentation
    "[\uFE0E\uFE0F]?"
    "[\U0001F3FB-\U0001F3FF]?"                    # skin tone
    "[\U000E0020-\U000E007F]*"                    # tag sequences (subdivision flags)
)
EMOJI_RE = re.compile(
    "[\U0001F1E6-\U0001F1FF]{2}"                  # flags: a pair of regional indicators
    "|[0-9#*]\uFE0F?\u20E3"                       # keycaps
    f"|{_ELEMENT}(?:\u200D{_ELEMENT})*"           # ZWJ sequences (👩‍💻, 👨‍👩‍👧)
)


def find_emoji(text: str) -> list[str]:
    """Emoji in ``text``, one item per displayed emoji (variation selectors removed)."""
    return [m.group(0).replace("\uFE0F", "") for m in EMOJI_RE.finditer(text)]


# ------------------------------------------------------------------ laughs and words

LAUGH_EMOJI = ("😂", "🤣", "😹", "😆", "😅")
_LAUGH_WORD = re.compile(
    r"(?<![^\W\d_])(?:a?(?:ha){2,}h?|a?(?:ah){2,}|(?:he){2,}h?|(?:hi){2,}|(?:ja){2,}j?|(?:je){2,}|"
    r"(?:ka){3,}|k{3,}|(?:rs){2,}|lo+l+|lmf?a+o+|rofl|xd+)(?![^\W\d_])",
    re.IGNORECASE,
)
_EMOJI_END = re.compile(f"(?:{EMOJI_RE.pattern})$")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")

STOPWORDS = frozenset("""
a an the and or but if so of to in on at by for with from as is are was were be been being am
i me my mine we us our you your yours he him his she her hers it its it's they them their this
that these those there here then than too very just not no yes do does did done have has had
will would can could should shall may might must what which who whom whose when where why how
all any some each both few more most other such own same only into over under again about
up down out off also i'm i've i'll i'd you're you've you'll it'll that's there's don't didn't
can't won't isn't aren't wasn't weren't let's oh ok
""".split())


def find_laughs(text: str, emoji: list[str] | None = None) -> list[str]:
    """Laugh tokens (haha, hehe, lol, lmao, jaja, kkkk, 😂 …), lowercased."""
    out = [m.group(0).lower() for m in _LAUGH_WORD.finditer(text)]
    out += [e for e in (find_emoji(text) if emoji is None else emoji) if e in LAUGH_EMOJI]
    return out


def words(text: str) -> list[str]:
    return _WORD.findall(_URL.sub(" ", text).lower().replace("’", "'"))


def _ending(text: str, emoji: list[str] | None = None) -> str:
    """How a message ends: ".", "!", "?", "…", "emoji", "other" or "none" (a letter/digit)."""
    t = text.rstrip()
    if not t:
        return "none"
    if (emoji is None or emoji) and _EMOJI_END.search(t):
        return "emoji"
    if t.endswith("...") or t.endswith("…"):
        return "…"
    last = t[-1]
    if last in ".!?":
        return last
    if last.isalnum():
        return "none"
    return "other"


def _median(values: Sequence[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _mean(values: Sequence[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _ratio(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def _top(counter: Counter, n: int) -> list[list]:
    return [[k, v] for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def _top_phrases(grams: dict[int, Counter], n: int) -> list[list]:
    chosen: list[tuple[str, int]] = []
    candidates = [(p, c) for size in (3, 2) for p, c in grams[size].items() if c >= 2]
    candidates.sort(key=lambda pc: (-pc[1], -len(pc[0].split()), pc[0]))
    chosen_pairs: list[tuple[set[str], int]] = []
    for phrase, count in candidates:
        # a phrase overlapping one already chosen about as often is a piece of the same
        # longer phrase ("going to cook", "to cook now"): it adds nothing
        ws = phrase.split()
        pairs = {" ".join(ws[i:i + 2]) for i in range(len(ws) - 1)}
        if any(pairs & other and other_count >= 0.8 * count for other, other_count in chosen_pairs):
            continue
        chosen.append((phrase, count))
        chosen_pairs.append((pairs, count))
        if len(chosen) >= n:
            break
    return [[p, c] for p, c in chosen]


# ------------------------------------------------------------------ the document

# The chat section's training-set sizes: chat key -> key of report_counts (the one mapping
# from a dataset report to counts, shared with project.json's "counts"). Order is output order.
CHAT_COUNT_KEYS: tuple[tuple[str, str], ...] = (
    ("pairs", "pairs"),
    ("pairs_train", "pairs_train"),
    ("pairs_validation", "pairs_validation"),
    ("pairs_excluded", "excluded"),
    ("samples_train", "samples_train"),
    ("samples_validation", "samples_validation"),
    ("sessions_train", "sessions_train"),
    ("sessions_validation", "sessions_validation"),
)


def dataset_chat_counts(report: dict) -> dict:
    """The chat section's training-set sizes, derived from :func:`~wachat_tui.core.dataset.report_counts`."""
    from .dataset import report_counts

    return chat_counts(report_counts(report))


def chat_counts(counts: dict) -> dict:
    """The chat section's training-set sizes from a project's counts (``report_counts``)."""
    return {chat_key: counts[key] for chat_key, key in CHAT_COUNT_KEYS if key in counts}


def compute_stats(
    messages: Iterable[Message],
    sessions: Sequence[Session] | None = None,
    *,
    gap_minutes: float = 60,
    dataset: object | None = None,
    me: str | None = None,
    top_n: int = 10,
) -> dict:
    """The style document. ``sessions`` defaults to splitting ``messages`` by ``gap_minutes``;
    ``dataset`` (a :class:`~wachat_tui.core.dataset.DatasetResult` or its report dict) adds the
    training-set sizes to the chat section."""
    messages = list(messages)
    if sessions is None:
        from .dataset import split_sessions

        sessions = split_sessions(messages, gap_minutes)

    authored = [m for m in messages if m.author is not None and m.kind != records.SYSTEM]
    counts = Counter(m.author for m in authored)
    names = [name for name, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    # one pass to group by person (not a pass per person: a big group has hundreds)
    by_author: dict[str, list[Message]] = {name: [] for name in names}
    for m in authored:
        by_author[m.author].append(m)
    turns_by_author: dict[str, list] = {name: [] for name in names}
    replies_by_author: dict[str, list[float]] = {name: [] for name in names}
    for s in sessions:
        for t in s.turns:
            if t.author in turns_by_author:
                turns_by_author[t.author].append(t)
        for a, b in zip(s.turns, s.turns[1:]):
            if b.author != a.author and b.author in replies_by_author:
                replies_by_author[b.author].append((b.start - a.end).total_seconds())

    people: dict[str, dict] = {}
    for name in names:
        mine = by_author[name]
        texts = [m.text for m in mine if m.kind == records.TEXT and m.text.strip()]
        chars = [len(t) for t in texts]
        word_lists = [words(t) for t in texts]
        n_words = [len(w) for w in word_lists]

        emoji_counter: Counter = Counter()
        with_emoji = 0
        laugh_counter: Counter = Counter()
        with_laugh = 0
        endings: Counter = Counter()
        questions = 0
        cased = lower_all = 0
        starts = lower_start = 0
        all_words: Counter = Counter()
        laugh_words: Counter = Counter()
        pairs: Counter = Counter()
        triples: Counter = Counter()
        for text, ws in zip(texts, word_lists):
            found = find_emoji(text)
            if found:
                emoji_counter.update(found)
                with_emoji += 1
            laughs = find_laughs(text, found)
            if laughs:
                laugh_counter.update(laughs)
                with_laugh += 1
            endings[_ending(text, found)] += 1
            questions += "?" in text
            plain = _URL.sub(" ", text) if "://" in text or "www." in text else text
            if plain.lower() != plain.upper():  # has cased letters
                cased += 1
                lower_all += plain.islower()
            first = _LETTER.search(plain)
            if first is not None and (first.group(0).isupper() or first.group(0).islower()):
                starts += 1
                lower_start += first.group(0).islower()
            # counted in C here; stopwords, a text's own laughs and all-stopword phrases are
            # taken out once at the end (words hold no spaces: joining them is one-to-one)
            all_words.update(ws)
            if laughs:
                laugh_set = set(laughs)
                laugh_words.update(w for w in ws if w in laugh_set)
            if len(ws) > 1:
                pairs.update(zip(ws, ws[1:]))
                if len(ws) > 2:
                    triples.update(zip(ws, ws[1:], ws[2:]))
        word_counter = Counter({w: n - laugh_words[w] for w, n in all_words.items()
                                if w not in STOPWORDS and n > laugh_words[w]})
        # only phrases said at least twice can be top phrases (_top_phrases)
        grams = {size: Counter({" ".join(g): n for g, n in counted.items()
                                if n >= 2 and not all(w in STOPWORDS for w in g)})
                 for size, counted in ((2, pairs), (3, triples))}

        turns = turns_by_author[name]
        reply_secs = replies_by_author[name]
        media = Counter(m.media_type or "other" for m in mine if m.kind == records.MEDIA)
        kinds = Counter(m.kind for m in mine)
        hours = [0] * 24
        weekdays = [0] * 7
        for m in mine:
            hours[m.time.hour] += 1
            weekdays[m.time.weekday()] += 1
        n_text = len(texts)
        people[name] = {
            "messages": len(mine),
            "text_messages": n_text,
            "turns": len(turns),
            "words": sum(n_words),
            "chars_mean": _mean(chars),
            "chars_median": _median(chars),
            "words_mean": _mean(n_words),
            "words_median": _median(n_words),
            "emoji": {
                "total": sum(emoji_counter.values()),
                "per_message": _ratio(sum(emoji_counter.values()), n_text),
                "messages_with_emoji": _ratio(with_emoji, n_text),
                "top": _top(emoji_counter, top_n),
            },
            "laughs": {
                "total": sum(laugh_counter.values()),
                "messages_with_laugh": _ratio(with_laugh, n_text),
                "top": _top(laugh_counter, top_n),
            },
            "top_words": _top(word_counter, top_n),
            "top_phrases": _top_phrases(grams, top_n),
            "lowercase_start_ratio": _ratio(lower_start, starts),
            "all_lowercase_ratio": _ratio(lower_all, cased),
            "endings": {k: _ratio(endings.get(k, 0), n_text) for k in (".", "!", "?", "…", "emoji", "other", "none")},
            "question_rate": _ratio(questions, n_text),
            "reply_time_median_s": _median(reply_secs),
            "replies": len(reply_secs),
            "burst_mean": _mean([t.n_messages for t in turns]),
            "burst_median": _median([t.n_messages for t in turns]),
            "media": dict(sorted(media.items())),
            "kinds": dict(sorted(kinds.items())),
            "hours": hours,
            "weekdays": weekdays,
        }

    times = [m.time for m in messages]
    chat: dict = {
        "first": min(times).isoformat(timespec="seconds") if times else None,
        "last": max(times).isoformat(timespec="seconds") if times else None,
        "days": (max(times).date() - min(times).date()).days + 1 if times else 0,
        "messages": len(authored),
        "system_events": len(messages) - len(authored),
        "participants": names,
        "me": me,
        "kinds": dict(sorted(Counter(m.kind for m in authored).items())),
        "sessions": len(sessions),
        "turns": sum(len(s.turns) for s in sessions),
        "sessions_gap_minutes": gap_minutes,
    }
    report = getattr(dataset, "report", dataset)
    if isinstance(report, dict) and report.get("samples") is not None:
        chat.update(dataset_chat_counts(report))
        chat["personas"] = report.get("personas")
    return {"chat": chat, "people": people}


def project_stats(chats: Sequence, me: str, gap_minutes: float = 60, media: str = "tag") -> dict:
    """The style document of a project: :func:`compute_stats` over all its chats (each person
    once, resolved), and under ``"chats"`` the same document per chat id, with the chat's
    setting and its turn-taking (:func:`~wachat_tui.core.turntaking.turn_taking`).
    ``chats`` are :class:`~wachat_tui.core.chats.ChatData` (messages resolved to people)."""
    from .dataset import split_sessions
    from .turntaking import turn_taking

    all_messages: list[Message] = []
    all_sessions: list[Session] = []
    per_chat: dict[str, dict] = {}
    for chat in chats:
        sessions = split_sessions(chat.messages, gap_minutes, media)
        doc = compute_stats(chat.messages, sessions, gap_minutes=gap_minutes, me=me)
        entry = chat.entry
        doc["chat"].update({"id": entry.id, "title": entry.title, "platform": entry.platform,
                            "is_group": entry.is_group})
        doc["turn_taking"] = turn_taking(sessions).to_json()
        per_chat[entry.id] = doc
        all_messages.extend(chat.messages)
        all_sessions.extend(sessions)
    doc = compute_stats(all_messages, all_sessions, gap_minutes=gap_minutes, me=me)
    doc["chat"]["chats"] = len(per_chat)
    doc["chats"] = per_chat
    return doc
