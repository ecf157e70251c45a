"""`wachat parse FILE [--jsonl]`: read an export (WhatsApp, Telegram) and show what is in it."""
from __future__ import annotations

from ..display import safe

HELP = ("read an export (WhatsApp .txt/.zip, Telegram result.json): a summary, or every record "
        "as JSON lines")


def add_arguments(parser) -> None:
    parser.add_argument("file", help="the exported chat: the .txt or the .zip WhatsApp wrote, or "
                                     "Telegram Desktop's result.json")
    parser.add_argument("--jsonl", action="store_true",
                        help="print one JSON object per record: "
                             '{"time", "author", "text", "kind", …} in file order')
    parser.add_argument("--date-order", choices=["DMY", "MDY", "YMD"], type=str.upper,
                        help="day/month order of the dates (default: decided from the file)")
    parser.add_argument("--chat", metavar="NAME",
                        help="a full Telegram export holds several chats: only this one (default: all)")


def run(args) -> int:
    import sys

    from ..core.parse import iter_messages
    from ..core.sources import is_telegram_json, read_chats

    if not is_telegram_json(args.file):
        if args.jsonl and args.chat is None:   # streamed: a big WhatsApp export never sits in memory
            return _print_jsonl(iter_messages(args.file, date_order=args.date_order), sys.stdout)
    chats = read_chats(args.file, chat=args.chat, date_order=args.date_order)
    if args.jsonl:
        return _print_jsonl((m for c in chats for m in c.messages), sys.stdout)
    _reconfigure(sys.stdout, "replace")
    sys.stdout.write("\n".join(summary(c) for c in chats))
    return 0


def _reconfigure(stream, errors: str) -> None:
    try:
        if (stream.encoding or "").lower().replace("-", "") != "utf8":
            stream.reconfigure(encoding="utf-8", errors=errors)
    except (AttributeError, ValueError):  # not a TextIOWrapper (tests may pass a StringIO)
        pass


def _print_jsonl(messages, out) -> int:
    import json

    _reconfigure(out, "strict")
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    batch: list[str] = []
    for m in messages:
        batch.append(dumps(m.to_json()))
        if len(batch) >= 2000:
            batch.append("")
            out.write("\n".join(batch))
            batch.clear()
    if batch:
        batch.append("")
        out.write("\n".join(batch))
    out.flush()
    return 0


def summary(parsed) -> str:
    """The human-readable report of a parsed export (or of one chat of it)."""
    info = parsed.info
    msgs = parsed.messages
    lines = []
    w = lines.append
    title = getattr(parsed, "title", None) or info.chat_name
    kind = " (group)" if getattr(parsed, "is_group", False) else ""
    name = f" — chat “{safe(title)}”{kind}" if title else ""
    w(f"{safe(info.chat_file)}{name}")
    w(f"  format     {info.platform}, dates {info.date_order}, {info.time_format} clock, "
      f"{info.encoding}")
    if msgs:
        first = min(m.time for m in msgs)
        last = max(m.time for m in msgs)
        w(f"  period     {first:%Y-%m-%d %H:%M} → {last:%Y-%m-%d %H:%M}")
    system = info.counts_by_kind.get("system", 0)
    w(f"  records    {len(msgs):,} ({len(msgs) - system:,} messages, {system:,} system events)")
    if info.counts_by_author:
        w("  authors")
        width = max(len(safe(a)) for a in info.participants[:20])
        for a in info.participants[:20]:
            w(f"    {safe(a):<{width}}  {info.counts_by_author[a]:>8,}")
        if len(info.participants) > 20:
            w(f"    … and {len(info.participants) - 20} more")
    w("  kinds      " + ", ".join(f"{k} {n:,}" for k, n in
                                    sorted(info.counts_by_kind.items(), key=lambda kv: -kv[1])))
    edited = sum(1 for m in msgs if m.edited)
    if edited:
        w(f"  edited     {edited:,}")
    if info.date_conflicts:
        w(f"  warning    {info.date_conflicts} header date(s) only made sense in another day/month order")
    w(f"  unparsed   {len(info.unparsed)} line(s)")
    for line_no, text in info.unparsed[:10]:
        w(f"    line {line_no}: {safe(repr(text[:70]))}")
    if len(info.unparsed) > 10:
        w(f"    … {len(info.unparsed) - 10} more")
    return "\n".join(lines) + "\n"
