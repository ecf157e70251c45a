"""Build the realistic chat fixtures under tests/fixtures/chats/ from hand-written scene scripts.

    python tools/make_chat_fixtures.py            # write every fixture + EXPECTED.json
    python tools/make_chat_fixtures.py --check    # rebuild in memory, fail if a file differs

The *content* lives in ``tools/chat_scenes/*.txt``, written by hand line by line; this script
only adds what a phone adds: timestamps (seeded pauses and typing time), the export's own line
format for each platform and locale, placeholders for media, deletions, edits and calls.
The same seed always gives the same bytes.

Scene script format (one file per chat)::

    # a comment
    @ 2024-01-08 Mon 19:42         a scene starts (local time; the weekday is checked)
    S: text                        a message by the speaker with code S
    S: line one\\nline two          one message over two lines
    ~ 25m                          an extra pause before the next message (s, m, h)
    N: [photo] caption             media: photo video voice sticker gif doc (caption optional)
    N: [sticker 😂]                 Telegram keeps the sticker's emoji
    S: [deleted]                   a deleted message
    N: [missed voice]              a missed call (voice or video)
    S: some text [edited]          an edited message
    P: {re:2} text                 Telegram: a reply to the message 2 places back
    P: {fwd:Channel name} text     Telegram: forwarded from
    !: raw system notice           WhatsApp: a notice with no author, written as given
    !: {create_group A title=Name members=A,P,M}   Telegram service message
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
SCENES = ROOT / "tools" / "chat_scenes"
OUT = ROOT / "tests" / "fixtures" / "chats"
SEED = 20240314

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
    elif m := _MEDIA_RE.match(body):
        line.kind, line.media, line.detail, body = "media", m[1], m[2], m[3]
        line.text = body.replace("\\n", "\n")
    else:
        line.text = body.replace("\\n", "\n")
        if not line.text:
            raise SystemExit(f"{name}:{no}: empty message")
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


# ---------------------------------------------------------------------------------------------
# WhatsApp text exports
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WhatsAppLocale:
    stamp: callable                # datetime -> header text without the terminator
    ios: bool
    mark: str                      # LRM (left-to-right UI) or RLM (right-to-left UI)
    media: dict                    # media type -> placeholder (Android: one for all)
    deleted_other: str
    deleted_mine: str
    edited: str
    calls: dict
    encryption: str


def _android_us(t: datetime) -> str:
    h = t.hour % 12 or 12
    return f"{t.month}/{t.day}/{t:%y}, {h}:{t:%M}\u202f{'AM' if t.hour < 12 else 'PM'}"


def _android_gb(t: datetime) -> str:
    return f"{t:%d/%m/%Y, %H:%M}"


def _android_de(t: datetime) -> str:
    return f"{t:%d.%m.%y, %H:%M}"


def _ios_he(t: datetime) -> str:
    return f"{t.day}.{t.month}.{t.year}, {t.hour}:{t:%M:%S}"


_EN_ANDROID = dict(
    ios=False, mark="",
    media={m: "<Media omitted>" for m in MEDIA_TYPES},
    deleted_other="This message was deleted", deleted_mine="You deleted this message",
    edited="<This message was edited>",
    calls={"voice": "Missed voice call", "video": "Missed video call"},
    encryption="Messages and calls are end-to-end encrypted. No one outside of this chat, not even "
               "WhatsApp, can read or listen to them. Tap to learn more.",
)
LOCALES = {
    "en_US": WhatsAppLocale(stamp=_android_us, **_EN_ANDROID),
    "en_GB": WhatsAppLocale(stamp=_android_gb, **_EN_ANDROID),
    "de_DE": WhatsAppLocale(
        stamp=_android_de, ios=False, mark="",
        media={m: "<Medien ausgeschlossen>" for m in MEDIA_TYPES},
        deleted_other="Diese Nachricht wurde gelöscht", deleted_mine="Du hast diese Nachricht gelöscht",
        edited="<Diese Nachricht wurde bearbeitet>",
        calls={"voice": "Verpasster Sprachanruf", "video": "Verpasster Videoanruf"},
        encryption="Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Niemand außerhalb dieses "
                   "Chats kann sie lesen oder anhören, nicht einmal WhatsApp. Tippe, um mehr zu erfahren.",
    ),
    # iOS in Hebrew: the strings a Hebrew iPhone writes (see tests/fixtures/chats/README.md).
    "he_IL": WhatsAppLocale(
        stamp=_ios_he, ios=True, mark="\u200f",
        media={"photo": "התמונה הושמטה", "video": "סרטון הווידאו הושמט", "voice": "השמע הושמט",
               "sticker": "סטיקר הושמט", "gif": "GIF הושמט", "doc": "מסמך הושמט"},
        deleted_other="הודעה זו נמחקה", deleted_mine="מחקת את ההודעה הזו",
        edited="<ההודעה נערכה>",
        calls={"voice": "שיחה קולית שלא נענתה", "video": "שיחת וידאו שלא נענתה"},
        encryption="ההודעות והשיחות מוצפנות מקצה לקצה. לאף אחד מחוץ לצ'אט הזה, גם לא ל-WhatsApp, "
                   "אין אפשרות לקרוא אותן ולהאזין להן.",
    ),
}


def whatsapp_text(timed: list[Timed], spec: ChatSpec, loc: WhatsAppLocale) -> str:
    """The .txt WhatsApp writes for 'Export chat → Without media'."""
    rows: list[str] = []
    first = timed[0].time
    partner = next(c for c in spec.names if c not in ("!", spec.me))
    if loc.ios:
        # iOS puts the encryption notice in the partner's name, marked like every notice.
        rows.append(f"[{loc.stamp(first)}] {spec.names[partner]}: {loc.mark}{loc.encryption}")
    elif not spec.extra.get("group"):
        rows.append(f"{loc.stamp(first)} - {loc.encryption}")
    for item in timed:
        line, stamp = item.line, loc.stamp(item.time)
        if line.kind == "system":
            rows.append(f"{stamp} - {line.text}")
            continue
        name = spec.names[line.who]
        flagged = line.kind != "text"
        if line.kind == "media":
            body = loc.mark + loc.media[line.media]
            if line.text:
                body += "\n" + line.text
        elif line.kind == "deleted":
            body = loc.mark + (loc.deleted_mine if line.who == spec.me else loc.deleted_other)
        elif line.kind == "call":
            body = loc.mark + loc.calls[line.detail]
        else:
            body = line.text
        if line.edited:
            body += " " + loc.mark + loc.edited
            flagged = True
        if loc.ios:
            lead = loc.mark if flagged else ""
            rows.append(f"{lead}[{stamp}] {name}: {body}")
        else:
            rows.append(f"{stamp} - {name}: {body}")
    newline = "\r\n" if loc.ios else "\n"
    return newline.join(r.replace("\n", newline) for r in rows) + newline


# ---------------------------------------------------------------------------------------------
# Telegram Desktop JSON
# ---------------------------------------------------------------------------------------------

_NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
_ENTITY_RE = re.compile(
    r"(?P<link>https?://[^\s]+[^\s.,!?)])|(?P<email>[\w.+-]+@[\w-]+\.[\w.]+\w)"
    r"|(?P<mention>(?<![\w@])@[A-Za-z]\w{3,})|(?P<hashtag>(?<!\w)#\w+)"
    r"|\*\*(?P<bold>.+?)\*\*|__(?P<italic>.+?)__|`(?P<code>[^`]+)`")


def telegram_text(text: str) -> tuple[object, list[dict]]:
    """(``text``, ``text_entities``) as Telegram Desktop writes them: a plain string when the
    text is one plain run, else a list of strings and ``{"type", "text"}`` pieces."""
    parts: list[tuple[str, str]] = []
    pos = 0
    for m in _ENTITY_RE.finditer(text):
        if m.start() > pos:
            parts.append(("plain", text[pos:m.start()]))
        kind = m.lastgroup
        parts.append((kind, m[kind]))
        pos = m.end()
    if pos < len(text):
        parts.append(("plain", text[pos:]))
    entities = [{"type": k, "text": v} for k, v in parts]
    if not parts:
        return "", []
    if len(parts) == 1 and parts[0][0] == "plain":
        return parts[0][1], entities
    return [v if k == "plain" else {"type": k, "text": v} for k, v in parts], entities


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def _unix(t: datetime) -> str:
    return str(int(t.timestamp()))


def telegram_chat(timed: list[Timed], spec: ChatSpec, tz: ZoneInfo) -> dict:
    ids = spec.extra["user_ids"]
    rng = random.Random(spec.seed + 7)
    first_id = spec.extra.get("first_message_id", 1)
    out = []
    photo_no = 0
    for item in timed:
        line = item.line
        t = item.time.replace(tzinfo=tz)
        msg: dict = {"id": first_id + item.index,
                     "type": "service" if line.kind in ("service", "call") else "message",
                     "date": _iso(t), "date_unixtime": _unix(t)}
        if item.edited_at:
            e = item.edited_at.replace(tzinfo=tz)
            msg["edited"], msg["edited_unixtime"] = _iso(e), _unix(e)
        if line.kind == "service":
            s = dict(line.service)
            msg["actor"], msg["actor_id"] = spec.names[s.pop("actor")], "user" + str(ids[line.service["actor"]])
            msg["action"] = s.pop("action")
            if "title" in s:
                msg["title"] = s.pop("title")
            if "members" in s:
                msg["members"] = [spec.names[c] for c in s.pop("members").split(",")]
            msg.update(s)
            msg["text"], msg["text_entities"] = "", []
            out.append(msg)
            continue
        if line.kind == "call":
            msg["actor"], msg["actor_id"] = spec.names[line.who], "user" + str(ids[line.who])
            msg["action"] = "phone_call"
            msg["discard_reason"] = "missed"
            msg["text"], msg["text_entities"] = "", []
            out.append(msg)
            continue
        msg["from"], msg["from_id"] = spec.names[line.who], "user" + str(ids[line.who])
        if line.forwarded:
            msg["forwarded_from"] = line.forwarded
        if line.reply_back:
            msg["reply_to_message_id"] = first_id + item.index - line.reply_back
        if line.kind == "media":
            _telegram_media(msg, line, t, rng, photo_no := photo_no + (line.media == "photo"))
        text, entities = telegram_text(line.text)
        msg["text"], msg["text_entities"] = text, entities
        out.append(msg)
    return {"name": spec.extra["chat_name"], "type": spec.extra["chat_type"],
            "id": spec.extra["chat_id"], "messages": out}


def _telegram_media(msg: dict, line: Line, t: datetime, rng: random.Random, photo_no: int) -> None:
    kind = line.media
    if kind == "photo":
        msg["photo"] = f"photos/photo_{photo_no}@{t:%d-%m-%Y_%H-%M-%S}.jpg"
        msg["width"], msg["height"] = rng.choice([(1280, 960), (960, 1280), (1280, 720), (1179, 2556)])
        return
    msg["file"] = _NOT_INCLUDED
    if kind == "sticker":
        msg["thumbnail"] = _NOT_INCLUDED
        msg["media_type"] = "sticker"
        msg["sticker_emoji"] = line.detail or "👍"
        msg["width"], msg["height"] = 512, 512
    elif kind == "voice":
        msg["media_type"] = "voice_message"
        msg["mime_type"] = "audio/ogg"
        msg["duration_seconds"] = int(line.detail) if line.detail else rng.randint(4, 95)
    elif kind == "video":
        msg["thumbnail"] = _NOT_INCLUDED
        msg["media_type"] = "video_file"
        msg["mime_type"] = "video/mp4"
        msg["duration_seconds"] = rng.randint(4, 40)
        msg["width"], msg["height"] = 1080, 1920
    elif kind == "gif":
        msg["thumbnail"] = _NOT_INCLUDED
        msg["media_type"] = "animation"
        msg["mime_type"] = "video/mp4"
        msg["width"], msg["height"] = 480, 270
    else:
        msg["file"] = f"files/{line.detail or 'document.pdf'}"
        msg["mime_type"] = "application/pdf"


def telegram_dump(obj: dict) -> str:
    # Telegram Desktop indents one space per level and writes UTF-8 as is.
    return json.dumps(obj, ensure_ascii=False, indent=1) + "\n"


# ---------------------------------------------------------------------------------------------
# The fixtures
# ---------------------------------------------------------------------------------------------

LONDON = ZoneInfo("Europe/London")
IDS = {"A": 1937465012, "L": 6120459384, "P": 5281937446, "M": 2046671390}

CHATS = {
    "en_sam_noor.txt": ("en_US", ChatSpec("en_sam_noor.txt", {"S": "Sam", "N": "Noor"}, me="S",
                                          seed=SEED + 1)),
    "de_jonas_lena.txt": ("de_DE", ChatSpec("de_jonas_lena.txt", {"J": "Jonas", "L": "Lena"}, me="J",
                                            seed=SEED + 2)),
    "he_noa_itai.txt": ("he_IL", ChatSpec("he_noa_itai.txt", {"N": "נועה", "I": "איתי"}, me="I",
                                          seed=SEED + 3)),
    "multi/alex_lisa.txt": ("en_GB", ChatSpec("alex_lisa.txt", {"A": "Alex", "L": "Lisa"}, me="A",
                                              seed=SEED + 4)),
    "multi/friends_group.txt": ("en_GB", ChatSpec(
        "friends_group.txt", {"A": "Alex", "L": "Lisa M", "P": "Pete", "D": "Dani"}, me="A",
        seed=SEED + 5, extra={"group": True})),
}
TELEGRAM_PETER = ChatSpec(
    "alex_peter_telegram.txt", {"A": "Alex", "P": "Peter"}, me="A", seed=SEED + 6,
    extra={"chat_name": "Peter", "chat_type": "personal_chat", "chat_id": IDS["P"], "user_ids": IDS})
TELEGRAM_FULL = [
    ChatSpec("tg_full_marta.txt", {"A": "Alex", "M": "Marta"}, me="A", seed=SEED + 7,
             extra={"chat_name": "Marta", "chat_type": "personal_chat", "chat_id": IDS["M"],
                    "user_ids": IDS, "first_message_id": 3012}),
    ChatSpec("tg_full_climbing.txt", {"A": "Alex", "P": "Peter", "M": "Marta"}, me="A",
             seed=SEED + 8,
             extra={"chat_name": "Climbing Wednesdays", "chat_type": "private_group",
                    "chat_id": 4107733021, "user_ids": IDS, "first_message_id": 1}),
]
TELEGRAM_ABOUT = ("Here is the data you requested. Remember: Telegram is ad free, it doesn't use your "
                  "data for ad targeting and doesn't sell it to others. Telegram only keeps the "
                  "information it needs to function as a secure and feature-rich cloud service.\n\n"
                  "Check out Settings > Privacy & Security on Telegram's mobile apps for the relevant "
                  "settings.")


def _expected(timed: list[Timed], spec: ChatSpec) -> dict:
    """What a correct parser must read: messages per person and per kind (ground truth)."""
    people: dict[str, Counter] = {}
    for item in timed:
        line = item.line
        if line.kind in ("system", "service"):
            continue
        c = people.setdefault(spec.names[line.who], Counter())
        c["messages"] += 1
        c[line.kind] += 1
        if line.kind == "media":
            c["media:" + line.media] += 1
        if line.edited:
            c["edited"] += 1
    return {"first": timed[0].time.isoformat(timespec="minutes"),
            "last": timed[-1].time.isoformat(timespec="minutes"),
            "system": sum(1 for i in timed if i.line.kind in ("system", "service")),
            "people": {name: dict(sorted(c.items())) for name, c in people.items()}}


def build() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    expected: dict[str, dict] = {}
    for out_name, (locale, spec) in CHATS.items():
        timed = assign_times(parse_scenes(SCENES / spec.scenes), spec, spec.scenes)
        files[out_name] = whatsapp_text(timed, spec, LOCALES[locale]).encode("utf-8")
        expected[out_name] = _expected(timed, spec)
    timed = assign_times(parse_scenes(SCENES / TELEGRAM_PETER.scenes), TELEGRAM_PETER, "peter")
    files["multi/alex_peter_telegram.json"] = telegram_dump(
        telegram_chat(timed, TELEGRAM_PETER, LONDON)).encode("utf-8")
    expected["multi/alex_peter_telegram.json"] = _expected(timed, TELEGRAM_PETER)
    chats = []
    for spec in TELEGRAM_FULL:
        timed = assign_times(parse_scenes(SCENES / spec.scenes), spec, spec.scenes)
        chats.append(telegram_chat(timed, spec, LONDON))
        expected[f"multi/telegram_full_export.json#{spec.extra['chat_name']}"] = _expected(timed, spec)
    full = {
        "about": TELEGRAM_ABOUT,
        "personal_information": {"user_id": IDS["A"], "first_name": "Alex", "last_name": "Carter",
                                 "phone_number": "+44 7700 900123", "username": "@alexcarter",
                                 "bio": "climbing, coffee, bad puns"},
        "chats": {"about": "This page lists all chats from this export.", "list": chats},
    }
    files["multi/telegram_full_export.json"] = telegram_dump(full).encode("utf-8")
    files["EXPECTED.json"] = (json.dumps(expected, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="fail if a written fixture differs")
    args = ap.parse_args(argv)
    files = build()
    stale = []
    for rel, data in files.items():
        path = OUT / rel
        if args.check:
            if not path.exists() or path.read_bytes() != data:
                stale.append(rel)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"{rel:38} {len(data) / 1024:7.1f} KB")
    if stale:
        print("out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
