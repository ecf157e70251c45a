"""`wachat stats P`: how each person texts (the numbers the TUI draws)."""
from __future__ import annotations

HELP = "show each person's texting style in a project, overall or in one chat (--json for the full document)"

_BARS = "▁▂▃▄▅▆▇█"


def add_arguments(parser) -> None:
    parser.add_argument("project", help="project name (see `wachat projects`)")
    parser.add_argument("--json", action="store_true", help="print the full stats document as JSON")
    parser.add_argument("--people", type=int, default=6, metavar="N",
                        help="show the N people who wrote most (default 6)")
    parser.add_argument("--chat", metavar="CHAT",
                        help="one chat of the project (its id or title; default: every chat, each person once)")


def spark(values: list[int]) -> str:
    top = max(values) if values else 0
    if not top:
        return " " * len(values)
    return "".join(_BARS[min(len(_BARS) - 1, round(v / top * (len(_BARS) - 1)))] if v else " " for v in values)


def _pct(x) -> str:
    return "–" if x is None else f"{x * 100:.0f}%"


def _num(x, digits: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and not x.is_integer():
        return f"{x:,.{digits}f}"
    return f"{int(x):,}"


def _duration(seconds) -> str:
    if seconds is None:
        return "–"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _top(items, n: int = 5) -> str:
    return " ".join(f"{k}×{v}" for k, v in items[:n]) or "–"


def _endings(e: dict) -> str:
    names = {".": "'.'", "!": "'!'", "?": "'?'", "…": "'…'", "emoji": "emoji", "none": "none", "other": "other"}
    ranked = sorted(((v or 0), k) for k, v in e.items())
    return " ".join(f"{names[k]} {v * 100:.0f}%" for v, k in reversed(ranked) if v >= 0.01) or "–"


def run(args) -> int:
    import json

    from ..core.project import Project, set_last_project

    project = Project.open(args.project)
    set_last_project(project.name)
    doc = project.stats()
    title = project.name
    if args.chat:
        entry = project.chat(args.chat)
        doc = doc["chats"][entry.id]
        title = f"{project.name} › {entry.label()}"
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0

    from rich.console import Console
    from rich.table import Table

    from ..display import safe_text

    console = Console()
    chat = doc["chat"]
    people = list(doc["people"].items())[: max(1, args.people)]

    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("chat", safe_text(f"{title} — {', '.join(chat['participants'][:6])}"
                                   + (f" +{len(chat['participants']) - 6}" if len(chat["participants"]) > 6 else "")))
    head.add_row("dates", f"{(chat['first'] or '')[:10]} → {(chat['last'] or '')[:10]} ({chat['days']} days)")
    head.add_row("messages", f"{chat['messages']:,} in {chat['sessions']:,} conversations ({chat['turns']:,} turns)")
    if "pairs" in chat:
        head.add_row("training", f"{chat['pairs']:,} pairs: train {chat['pairs_train']:,} · validation "
                     f"{chat['pairs_validation']:,}" + (f" · excluded {chat['pairs_excluded']}" if chat["pairs_excluded"] else "")
                     + f"; samples {chat['samples_train']:,}/{chat['samples_validation']:,}")
    console.print(head)
    console.print()

    table = Table(header_style="bold", show_lines=False)
    table.add_column("", style="bold")
    for name, _ in people:
        table.add_column(safe_text(name + (" (me)" if name == chat.get("me") else "")), overflow="fold")
    rows = [
        ("messages", lambda p: f"{p['messages']:,}"),
        ("turns", lambda p: f"{p['turns']:,}"),
        ("words", lambda p: f"{p['words']:,}"),
        ("length (chars)", lambda p: f"mean {_num(p['chars_mean'])} · median {_num(p['chars_median'])}"),
        ("length (words)", lambda p: f"mean {_num(p['words_mean'])} · median {_num(p['words_median'])}"),
        ("bubbles per turn", lambda p: f"mean {_num(p['burst_mean'], 2)} · median {_num(p['burst_median'])}"),
        ("reply time", lambda p: f"median {_duration(p['reply_time_median_s'])}"),
        ("all lowercase", lambda p: _pct(p["all_lowercase_ratio"])),
        ("lowercase start", lambda p: _pct(p["lowercase_start_ratio"])),
        ("ends with", lambda p: _endings(p["endings"])),
        ("questions", lambda p: _pct(p["question_rate"])),
        ("emoji", lambda p: f"{_pct(p['emoji']['messages_with_emoji'])} of messages  {_top(p['emoji']['top'])}"),
        ("laughs", lambda p: f"{_pct(p['laughs']['messages_with_laugh'])} of messages  {_top(p['laughs']['top'])}"),
        ("top words", lambda p: _top(p["top_words"], 8)),
        ("top phrases", lambda p: ", ".join(f"“{k}”" for k, _ in p["top_phrases"][:5]) or "–"),
        ("media", lambda p: " ".join(f"{k} {v}" for k, v in p["media"].items()) or "–"),
        ("by hour 0–23", lambda p: spark(p["hours"])),
        ("by day Mo–Su", lambda p: spark(p["weekdays"])),
    ]
    for label, get in rows:
        table.add_row(label, *[safe_text(get(p)) for _, p in people])  # words, emoji, phrases: untrusted
    console.print(table)
    turns = doc.get("turn_taking")
    if turns and len(chat["participants"]) > 2:
        console.print("who answers whom (turns that followed each person's):")
        for author, row in turns["transitions"].items():
            total = sum(row.values()) or 1
            console.print(safe_text(f"  after {author}: " + " · ".join(
                f"{b} {n / total:.0%}" for b, n in sorted(row.items(), key=lambda kv: -kv[1]))))
    if "chats" in doc and len(doc["chats"]) > 1:
        console.print(safe_text(f"{len(doc['chats'])} chats: --chat CHAT shows one ({', '.join(doc['chats'])})"))
    hidden = len(doc["people"]) - len(people)
    if hidden > 0:
        console.print(f"({hidden} more people; --people N shows more, --json shows all)")
    return 0
