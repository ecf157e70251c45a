"""`wachat parse FILE [--jsonl]`: read a WhatsApp export and show what is in it."""
from __future__ import annotations

from ..display import safe

HELP = "read a WhatsApp export (.txt or .zip): a summary, or every record as JSON lines"


def add_arguments(parser) -> None:
    parser.add_argument("file", help="the exported chat: the .txt or the .zip WhatsApp wrote")
    parser.add_argument("--jsonl", action="store_true",
                        help="print one JSON object per record: "
                             '{"time", "author", "text", "kind", …} in file order')
    parser.add_argument("--date-order", choices=["DMY", "MDY", "YMD"], type=str.upper,
                        help="day/month order of the dates (default: decided from the file)")


def run(args) -> int:
    import sys

    from ..core.parse import iter_messages, parse_export

    if args.jsonl:
        return _print_jsonl(iter_messages(args.file, date_order=args.date_order), sys.stdout)
    parsed = parse_export(args.file, date_order=args.date_order)
    _reconfigure(sys.stdout, "replace")
    sys.stdout.write(summary(parsed))
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
    """The human-readable report of a parsed export."""
    info = parsed.info
    msgs = parsed.messages
    lines = []
    w = lines.append
    name = f" — chat “{safe(info.chat_name)}”" if info.chat_name else ""
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
