"""The export formats: WhatsApp's .txt per platform and locale, Telegram Desktop's JSON."""
from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from .script import MEDIA_TYPES, ChatSpec, Line, Timed

# ---------------------------------------------------------------------------------------------
# WhatsApp text exports
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WhatsAppLocale:
    stamp: Callable[[datetime], str]               # datetime -> header text without the terminator
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
    else:
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
            if line.detail.isdigit():
                msg["duration_seconds"] = int(line.detail)
                msg["discard_reason"] = "hangup"
            else:
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
