"""Small hand-made chats for the dataset/stats/project tests (B)."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from wachat_tui.core.records import Message

BASE = datetime(2024, 3, 4, 9, 0)  # a Monday


def chat(*lines: str, start: datetime = BASE) -> list[Message]:
    """Messages from ``"+MIN Name: text"`` lines; +MIN is minutes after the previous message
    (default 1). ``Name: [photo]`` etc. make media; ``- text`` makes a system event."""
    out: list[Message] = []
    t = start
    for i, line in enumerate(lines):
        gap = 1
        if line.startswith("+"):
            head, line = line.split(" ", 1)
            gap = int(head[1:])
        if i:
            t += timedelta(minutes=gap)
        if line.startswith("- "):
            out.append(Message(t, None, line[2:], "system"))
            continue
        author, text = line.split(": ", 1)
        if text.startswith("[") and text.endswith("]") and " " not in text:
            what = text[1:-1]
            if what == "deleted":
                out.append(Message(t, author, "This message was deleted", "deleted"))
            elif what == "location":
                out.append(Message(t, author, "location: https://maps.google.com/?q=1,2", "location"))
            elif what == "omitted":
                out.append(Message(t, author, "<Media omitted>", "media"))
            else:
                name = f"IMG-20240304-WA{i:04d}.jpg"
                out.append(Message(t, author, f"{name} (file attached)", "media", attachment=name, media_type=what))
            continue
        out.append(Message(t, author, text.replace("\\n", "\n")))
    return out


def conversation(n_sessions: int, exchanges: int = 3, a: str = "Ana", b: str = "Ben",
                 start: datetime = BASE) -> list[Message]:
    """``n_sessions`` sessions a day apart, each ``exchanges`` × (a then b)."""
    msgs: list[Message] = []
    for s in range(n_sessions):
        t = start + timedelta(days=s)
        for k in range(exchanges):
            msgs.append(Message(t, a, f"{a} says {k} in session {s}"))
            t += timedelta(minutes=2)
            msgs.append(Message(t, b, f"{b} answers {k} in session {s}"))
            t += timedelta(minutes=2)
    return msgs


def write_android(path: Path, messages: list[Message]) -> Path:
    """Write messages as an Android export (what the parser reads)."""
    rows = ["04/03/2024, 08:59 - Messages and calls are end-to-end encrypted. No one outside of this "
            "chat, not even WhatsApp, can read or listen to them. Tap to learn more."]
    for m in messages:
        stamp = m.time.strftime("%d/%m/%Y, %H:%M")
        rows.append(f"{stamp} - {m.author}: {m.text}" if m.author else f"{stamp} - {m.text}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def check_ground_truth(messages: list[Message], expected: dict) -> dict[str, list[Message]]:
    """A fixture chat's messages hold to its EXPECTED.json entry (counts, span, per-person kinds and
    edits); returns each expected person's messages for the format's own checks."""
    people = [m for m in messages if m.author is not None]
    assert len(people) == expected["messages"]
    assert sum(1 for m in messages if m.author is None) == expected["system"]
    assert messages[0].time.isoformat(timespec="minutes") == expected["first"]
    assert messages[-1].time.isoformat(timespec="minutes") == expected["last"]
    by_person = {}
    for person, exp in expected["people"].items():
        mine = by_person[person] = [m for m in people if m.author == person]
        assert len(mine) == exp["messages"], person
        assert dict(Counter(m.kind for m in mine)) == exp["kinds"], person
        assert sum(m.edited for m in mine) == exp.get("edited", 0), person
    return by_person
