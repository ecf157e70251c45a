"""Scene scripts (tools/chat_scenes/*.txt) → timed lines. The format is described in
tools/make_chat_fixtures.py."""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

MEDIA_TYPES = ("photo", "video", "voice", "sticker", "gif", "doc")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_SCENE_RE = re.compile(r"^@\s+(\d{4}-\d{2}-\d{2})\s+(\w{3})\s+(\d{1,2}:\d{2})$")
_PAUSE_RE = re.compile(r"^~\s*(\d+(?:\.\d+)?)\s*([smh])$")
_MEDIA_RE = re.compile(r"^\[(photo|video|voice|sticker|gif|doc)(?: ([^\]]+))?\]\s*(.*)$")


@dataclass
class Line:
    """One scripted message (or notice) before it gets a time."""

    who: str
    text: str = ""
    kind: str = "text"             # text, media, deleted, call, system, service
    media: str | None = None       # one of MEDIA_TYPES
    detail: str | None = None      # sticker emoji / call type / file name
    edited: bool = False
    reply_back: int | None = None  # Telegram: reply to the message this many places back
    forwarded: str | None = None
    service: dict | None = None
    pause: float | None = None     # explicit pause before this line, seconds
    scene_start: datetime | None = None
    source_line: int = 0


@dataclass
class Timed:
    line: Line
    time: datetime
    index: int
    edited_at: datetime | None = None


@dataclass
class ChatSpec:
    """How one scene file becomes one export."""

    scenes: str
    names: dict[str, str]
    me: str                        # speaker code of the person who exported the chat
    seed: int
    pace: float = 1.0              # >1: slower replies (a busier person, a slower chat)
    extra: dict = field(default_factory=dict)


def parse_scenes(path: Path) -> list[Line]:
    lines: list[Line] = []
    pending_pause: float | None = None
    pending_start: datetime | None = None
    for no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        if m := _SCENE_RE.match(s):
            day = datetime.strptime(m[1] + " " + m[3], "%Y-%m-%d %H:%M")
            if _WEEKDAYS[day.weekday()] != m[2]:
                raise SystemExit(f"{path.name}:{no}: {m[1]} is a {_WEEKDAYS[day.weekday()]}, not {m[2]}")
            pending_start, pending_pause = day, None
            continue
        if m := _PAUSE_RE.match(s):
            pending_pause = float(m[1]) * {"s": 1, "m": 60, "h": 3600}[m[2]]
            continue
        who, sep, body = raw.partition(":")
        if not sep or not who.strip() or len(who.strip()) > 3:
            raise SystemExit(f"{path.name}:{no}: not a scene line: {raw!r}")
        line = _parse_body(who.strip(), body.strip(), path.name, no)
        line.pause, line.scene_start, line.source_line = pending_pause, pending_start, no
        pending_pause = pending_start = None
        lines.append(line)
    return _scenes_in_time_order(lines)


def _scenes_in_time_order(lines: list[Line]) -> list[Line]:
    """Scenes may be written in any order (small everyday scenes are kept apart from the
    story ones); the chat plays them by start time."""
    scenes: list[list[Line]] = []
    for line in lines:
        if line.scene_start is not None or not scenes:
            scenes.append([])
        scenes[-1].append(line)
    scenes.sort(key=lambda s: s[0].scene_start or datetime.min)
    return [line for scene in scenes for line in scene]


def _parse_body(who: str, body: str, name: str, no: int) -> Line:
    line = Line(who=who)
    if who == "!":
        if body.startswith("{") and body.endswith("}"):
            line.kind, line.service = "service", _service(body[1:-1])
        else:
            line.kind, line.text = "system", body
        return line
    while body.startswith("{"):
        tag, _, body = body[1:].partition("}")
        key, _, value = tag.partition(":")
        if key == "re":
            line.reply_back = int(value)
        elif key == "fwd":
            line.forwarded = value
        else:
            raise SystemExit(f"{name}:{no}: unknown tag {{{tag}}}")
        body = body.lstrip()
    if body.endswith("[edited]"):
        line.edited, body = True, body[: -len("[edited]")].rstrip()
    if body == "[deleted]":
        line.kind = "deleted"
    elif body.startswith("[missed "):
        line.kind, line.detail = "call", body[len("[missed "):-1]
    elif body.startswith("[call "):
        # a call that was answered, with its length in seconds (Telegram keeps these)
        line.kind, line.detail = "call", body[len("[call "):-1]
    elif m := _MEDIA_RE.match(body):
        line.kind, line.media, line.detail, body = "media", m[1], m[2], m[3]
        line.text = body.replace("\\n", "\n")
    else:
        line.text = body.replace("\\n", "\n")
        if not line.text:
            raise SystemExit(f"{name}:{no}: empty message")
        if line.text.startswith("POLL:\n"):
            line.kind = "poll"
    return line


def _service(spec: str) -> dict:
    action, actor, *rest = spec.split(" ", 2)
    out = {"action": action, "actor": actor}
    for part in re.findall(r"(\w+)=((?:[^ ]| (?!\w+=))+)", rest[0] if rest else ""):
        out[part[0]] = part[1]
    return out


# ---------------------------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------------------------

def assign_times(lines: list[Line], spec: ChatSpec, name: str) -> list[Timed]:
    """Give every line a time: scene starts as written, then pauses a phone would show.

    A burst by one person is seconds apart plus typing time; a reply takes from seconds to
    most of an hour; long messages take longer to type."""
    rng = random.Random(spec.seed)
    out: list[Timed] = []
    t: datetime | None = None
    prev: Line | None = None
    for i, line in enumerate(lines):
        if line.scene_start is not None:
            start = line.scene_start + timedelta(seconds=rng.randint(0, 50))
            if t is not None and start <= t:
                # a lively scene ran long: the next one starts a little after it, as written
                # scenes are only ever a few minutes late (checked: a day's order is kept)
                late = t - start
                if late > timedelta(hours=2):
                    raise SystemExit(f"{name}:{line.source_line}: scene starts {line.scene_start} "
                                     f"but the previous one runs until {t:%Y-%m-%d %H:%M}")
                start = t + timedelta(seconds=rng.randint(120, 900))
            t = start
        elif t is None:
            raise SystemExit(f"{name}: the first line needs a scene start (@ …)")
        else:
            t += timedelta(seconds=round(_gap(rng, prev, line, spec.pace)))
        edited_at = t + timedelta(seconds=rng.randint(20, 400)) if line.edited else None
        out.append(Timed(line, t, i, edited_at))
        prev = line
    return out


def _gap(rng: random.Random, prev: Line, line: Line, pace: float) -> float:
    if line.pause is not None:
        return line.pause + rng.uniform(0, 40)
    typing = len(line.text) / rng.uniform(3.0, 5.5)
    if line.kind == "media":
        typing = rng.uniform(3, 25) + len(line.text) / 4
    if line.who == prev.who or line.who == "!" or prev.who == "!":
        return rng.uniform(2, 15) + typing * 0.8
    r = rng.random()
    if r < 0.65:
        wait = rng.uniform(5, 60)
    elif r < 0.92:
        wait = rng.uniform(60, 240)
    else:
        wait = rng.uniform(240, 1200)
    return wait * pace + typing
