"""Style cards: one per person, drawn from the `wachat stats --json` document."""
from __future__ import annotations

from typing import Iterable, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from .charts import columns, hbar
from ...display import safe

# message-length buckets (characters) for the length histogram
LENGTH_EDGES = (1, 5, 10, 20, 40, 80, 160)


def _hour_axis() -> str:
    axis = [" "] * 24
    for pos, label in ((0, "0"), (6, "6"), (12, "12"), (18, "18"), (22, "23")):
        for i, ch in enumerate(label):
            axis[pos + i] = ch
    return "".join(axis)


def length_histogram(lengths: Iterable[int]) -> list[int]:
    """Counts per bucket: 1-4, 5-9, 10-19, 20-39, 40-79, 80-159, 160+ characters."""
    counts = [0] * len(LENGTH_EDGES)
    for n in lengths:
        if n <= 0:
            continue
        i = len(LENGTH_EDGES) - 1
        while i > 0 and n < LENGTH_EDGES[i]:
            i -= 1
        counts[i] += 1
    return counts


def lengths_by_person(messages: Sequence) -> dict[str, list[int]]:
    """Characters per text message, per author (for the histogram)."""
    out: dict[str, list[int]] = {}
    for m in messages:
        if m.author and getattr(m, "kind", "text") == "text":
            out.setdefault(m.author, []).append(len(m.text))
    return out


def _pairs(value) -> list[tuple[str, float]]:
    if isinstance(value, dict):
        return [(str(k), float(v)) for k, v in value.items()]
    out = []
    for item in value or []:
        if isinstance(item, (list, tuple)) and len(item) >= 2:
            out.append((str(item[0]), float(item[1])))
    return out


def _get(d: dict, path: str, default=None):
    cur = d
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def _pct(v) -> str:
    return f"{v:.0%}" if isinstance(v, (int, float)) else "–"


def _secs(s) -> str:
    if not isinstance(s, (int, float)):
        return "–"
    if s < 90:
        return f"{s:.0f}s"
    if s < 5400:
        return f"{s / 60:.0f}m"
    return f"{s / 3600:.1f}h"


def person_card(name: str, p: dict, *, me: bool = False, lengths: Sequence[int] = ()) -> Group:
    head = Table.grid(expand=True)
    head.add_column()
    head.add_column(justify="right")
    head.add_row(Text.assemble((safe(name), "bold"), ("  you" if me else "", "italic green")),
                 Text.assemble((f"{p.get('messages', 0):,}", "bold"), " messages"))
    facts = Table.grid(padding=(0, 1))
    for _ in range(4):
        facts.add_column(no_wrap=True)
    dim = "dim"
    facts.add_row(Text("words", dim), f"{p.get('words', 0):,}",
                  Text("avg length", dim), f"{p.get('chars_mean', 0):.0f} ch")
    facts.add_row(Text("emoji/msg", dim), f"{_get(p, 'emoji.per_message', 0):.2f}",
                  Text("laughs in", dim), _pct(_get(p, "laughs.messages_with_laugh")))
    facts.add_row(Text("reply time", dim), _secs(p.get("reply_time_median_s")),
                  Text("msgs/turn", dim), f"{p.get('burst_mean', 0):.1f}")
    facts.add_row(Text("lowercase", dim), _pct(p.get("all_lowercase_ratio")),
                  Text("questions", dim), _pct(p.get("question_rate")))
    parts: list = [head, facts]

    hours = [float(h) for h in (p.get("hours") or [])]
    if len(hours) == 24 and sum(hours):
        parts.append(Text("\nactivity by hour", style=dim))
        parts.extend(Text(line, style="green") for line in columns(hours, height=3))
        parts.append(Text(_hour_axis(), style=dim))
    hist = length_histogram(lengths)
    if sum(hist):
        parts.append(Text("\nmessage length (characters)", style=dim))
        cells = []
        for line in columns(hist, height=2):
            cells.append(Text("".join(ch * 3 + " " for ch in line), style="cyan"))
        parts.extend(cells)
        parts.append(Text("".join(f"{e:<4}" for e in ("1", "5", "10", "20", "40", "80", "160+")),
                          style=dim))
    emoji = _pairs(_get(p, "emoji.top", []))[:6]
    laughs = _pairs(_get(p, "laughs.top", []))[:3]
    if emoji:
        line = Text("\nemoji  ", style=dim)
        for e, n in emoji:
            line.append(safe(e))
            line.append(f"{int(n)}  ", style=dim)
        parts.append(line)
    if laughs:
        line = Text("laughs ", style=dim)
        for w, n in laughs:
            line.append(safe(w))
            line.append(f" {int(n)}  ", style=dim)
        parts.append(line)
    phrases = _pairs(p.get("top_phrases"))[:5] or _pairs(p.get("top_words"))[:5]
    if phrases:
        hi = max(n for _, n in phrases) or 1
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True, min_width=14)
        table.add_column(no_wrap=True)
        for w, n in phrases:
            table.add_row(Text(safe(w[:18])), Text.assemble((hbar(n, hi, 10), "green"), (f" {int(n)}", dim)))
        parts.append(Text("\ntop phrases", style=dim))
        parts.append(table)
    return Group(*parts)


def chat_summary(chat: dict) -> Text:
    text = Text()
    first, last = str(chat.get("first", ""))[:10], str(chat.get("last", ""))[:10]
    items = []
    if first and last:
        items.append(("", f"{first} → {last}"))
    for key, label in (("days", "days"), ("messages", "messages"), ("sessions", "sessions"),
                       ("pairs", "pairs"), ("samples_train", "train samples"),
                       ("samples_validation", "validation samples")):
        v = chat.get(key)
        if isinstance(v, (int, float)):
            items.append((f"{int(v):,}", f" {label}"))
    for i, (num, label) in enumerate(items):
        if i:
            text.append("  ·  ", style="dim")
        text.append(num, style="bold")
        text.append(label)
    return text


class PersonCard(Static):
    """A card with one person's texting style."""

    def __init__(self, name: str, data: dict, *, me: bool = False, lengths: Sequence[int] = ()) -> None:
        super().__init__(person_card(name, data, me=me, lengths=lengths), classes="person-card")
        self.person = name
