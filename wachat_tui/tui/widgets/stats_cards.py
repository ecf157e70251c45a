"""Style cards: one per person, drawn from the `wachat stats --json` document."""
from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from .charts import columns, hbar

HOURS_LABEL = "0     6     12    18   23"


def _num(d: dict, *keys: str, default=None):
    for key in keys:
        cur: Any = d
        for part in key.split("."):
            if isinstance(cur, dict) and part in cur:
                cur = cur[part]
            else:
                cur = None
                break
        if cur is not None:
            return cur
    return default


def _pairs(value) -> list[tuple[str, float]]:
    """Accept {"x": n}, [["x", n], ...], [{"token"/"emoji"/"phrase"/"word": x, "count": n}]."""
    if isinstance(value, dict):
        return [(str(k), float(v)) for k, v in value.items()]
    out = []
    for item in value or []:
        if isinstance(item, (list, tuple)) and len(item) >= 2:
            out.append((str(item[0]), float(item[1])))
        elif isinstance(item, dict):
            label = next((item[k] for k in ("emoji", "phrase", "word", "token", "text", "name")
                          if k in item), None)
            count = next((item[k] for k in ("count", "n", "freq") if k in item), 0)
            if label is not None:
                out.append((str(label), float(count)))
        elif isinstance(item, str):
            out.append((item, 0.0))
    return out


def _hours(value) -> list[float]:
    if isinstance(value, dict):
        return [float(value.get(str(h), value.get(h, 0)) or 0) for h in range(24)]
    if isinstance(value, (list, tuple)) and len(value) == 24:
        return [float(v or 0) for v in value]
    return []


def _histogram(value) -> tuple[list[float], list[str]]:
    """A length histogram as (counts, bucket labels)."""
    if isinstance(value, dict):
        if "counts" in value:
            counts = [float(c) for c in value.get("counts") or []]
            edges = value.get("edges") or value.get("bins") or value.get("labels") or []
            return counts, [str(e) for e in edges]
        items = list(value.items())
        return [float(v) for _, v in items], [str(k) for k, _ in items]
    if isinstance(value, (list, tuple)):
        pairs = _pairs(value)
        if pairs:
            return [v for _, v in pairs], [k for k, _ in pairs]
        return [float(v) for v in value], []
    return [], []


def person_card(name: str, p: dict, *, me: bool = False) -> Group:
    title = Text.assemble((name, "bold"), ("  (you)" if me else "", "dim"))
    facts = Table.grid(padding=(0, 1))
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column(justify="right", no_wrap=True)
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column(justify="right", no_wrap=True)

    def fmt(v, spec="{:,}") -> str:
        if v is None:
            return "–"
        try:
            return spec.format(v)
        except (ValueError, TypeError):
            return str(v)

    msgs = _num(p, "messages", "n_messages")
    words = _num(p, "words", "n_words")
    mean_len = _num(p, "mean_length", "mean_chars", "length.mean", "mean_message_length")
    median_len = _num(p, "median_length", "median_chars", "length.median")
    emoji_rate = _num(p, "emoji_rate", "emoji.rate", "emoji_per_message")
    laugh = _num(p, "laugh_rate", "laughs.rate", "laugh_tokens", "laughs")
    reply = _num(p, "median_reply_seconds", "median_reply_s", "reply_time.median_s",
                 "median_reply_time_s", "median_reply_time")
    burst = _num(p, "burst_size", "mean_burst", "messages_per_turn", "burst.mean")
    lower = _num(p, "lowercase_rate", "lowercase_share", "habits.lowercase")
    facts.add_row("messages", fmt(msgs), "words", fmt(words))
    facts.add_row("mean len", fmt(mean_len, "{:.0f}ch"), "median", fmt(median_len, "{:.0f}ch"))
    facts.add_row("emoji/msg", fmt(emoji_rate, "{:.2f}"), "burst", fmt(burst, "{:.1f}"))
    laugh_s = fmt(laugh, "{:.2f}") if isinstance(laugh, float) else fmt(laugh)
    reply_s = _fmt_seconds(reply) if isinstance(reply, (int, float)) else fmt(reply, "{}")
    facts.add_row("laughs", laugh_s, "reply", reply_s)
    if lower is not None:
        facts.add_row("lowercase", fmt(lower, "{:.0%}") if isinstance(lower, float) else fmt(lower),
                      "", "")

    parts: list = [title, facts]
    hours = _hours(_num(p, "activity_by_hour", "hours", "by_hour", "activity.hour", default=[]))
    if hours and sum(hours):
        parts.append(Text("activity by hour", style="dim"))
        for line in columns(hours, height=3):
            parts.append(Text(line, style="green"))
        parts.append(Text(HOURS_LABEL[:24], style="dim"))
    hist, labels = _histogram(_num(p, "length_histogram", "length_hist", "lengths",
                                   "length.histogram", default=[]))
    if hist and sum(hist):
        parts.append(Text("message length", style="dim"))
        for line in columns(hist, height=2):
            parts.append(Text(line, style="cyan"))
        if labels:
            parts.append(Text(f"{labels[0]} … {labels[-1]} chars", style="dim"))
    emoji = _pairs(_num(p, "top_emoji", "emoji.top", default=[]))[:6]
    if emoji:
        line = Text("emoji  ", style="dim")
        for e, n in emoji:
            line.append(e)
            line.append(f"{int(n)} " if n else " ", style="dim")
        parts.append(line)
    phrases = _pairs(_num(p, "top_phrases", "phrases", default=[]))[:4]
    words_top = _pairs(_num(p, "top_words", "words_top", default=[]))[:5]
    top = phrases or words_top
    if top:
        hi = max((n for _, n in top), default=1) or 1
        parts.append(Text("top phrases" if phrases else "top words", style="dim"))
        for w, n in top:
            parts.append(Text.assemble((f"{w[:16]:<16} ", ""), (hbar(n, hi, 6), "green"),
                                       (f" {int(n)}" if n else "", "dim")))
    return Group(*parts)


def _fmt_seconds(s: float) -> str:
    s = float(s)
    if s < 90:
        return f"{s:.0f}s"
    if s < 5400:
        return f"{s / 60:.0f}m"
    return f"{s / 3600:.1f}h"


def chat_summary(chat: dict) -> Text:
    text = Text()
    items = []
    start = _num(chat, "first", "start", "date_range.0", "date_from", "from")
    end = _num(chat, "last", "end", "date_range.1", "date_to", "to")
    if start and end:
        items.append(("", f"{str(start)[:10]} → {str(end)[:10]}"))
    for key, label in (("messages", "messages"), ("sessions", "sessions"), ("pairs", "pairs"),
                       ("train_samples", "train"), ("validation_samples", "validation")):
        v = _num(chat, key, f"counts.{key}")
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

    def __init__(self, name: str, data: dict, *, me: bool = False) -> None:
        super().__init__(person_card(name, data, me=me), classes="person-card")
        self.person = name
