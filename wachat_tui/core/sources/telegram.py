"""Telegram Desktop's JSON export (``result.json``) → :class:`~wachat_tui.core.records.Message` records.

Two shapes, per the export's schema: one chat ("Export chat history": ``name``, ``type``,
``id``, ``messages``) or the whole account ("Export Telegram data": ``personal_information``
and ``chats: {"list": [chat, …]}``). Each message is mapped onto the records contract the
WhatsApp parser fills:

* ``text`` is a string or a list of pieces (strings and ``{"type", "text"}`` entities: links,
  mentions, bold …) — the pieces are joined; ``text_entities`` stands in when ``text`` is absent.
* ``from``/``from_id`` give the author; one account keeps one name (the one it used most),
  a deleted account is "Deleted Account".
* ``date`` (local time, as WhatsApp's) or, failing that, ``date_unixtime``.
* ``type: "service"`` → ``system`` (author None), except calls (``phone_call``/``group_call``),
  which are ``call`` records of the caller, as WhatsApp's call notices are.
* ``photo`` → media ``photo``; ``media_type`` sticker / voice_message / video_file /
  video_message / audio_file / animation → sticker / voice / video / video / audio / gif; any
  other ``file`` → ``document``; ``location_information``, ``contact_information`` and
  ``poll`` → their kinds. The caption stays the text.
* ``edited`` → ``edited``; a forwarded text (``forwarded_from``) is not its sender's own words:
  it becomes media of type ``forwarded`` (its text kept as the caption). ``reply_to_message_id``
  needs nothing: the records keep no ids, and the reply's text is what it is.

Anything that is not such an export raises :class:`~wachat_tui.errors.ParseError` with one
line; a malformed message inside a real export is skipped and counted as unparsed.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ...errors import ParseError
from .. import records
from ..parse.parser import MAX_UNPARSED, ExportInfo
from ..records import Message

#: ``media_type`` values of the export → the records' media types
MEDIA_TYPES = {
    "sticker": "sticker",
    "voice_message": "voice",
    "video_message": "video",
    "video_file": "video",
    "audio_file": "audio",
    "animation": "gif",
}
CALL_ACTIONS = ("phone_call", "group_call")
DELETED_ACCOUNT = "Deleted Account"
#: where Telegram writes a file it did not include in the export
_NOT_INCLUDED = "(File not included"
MAX_BYTES = 2 * 1024 ** 3


@dataclass
class TelegramChat:
    """One chat of a Telegram export, as records."""

    title: str | None
    kind: str
    """The export's chat type (``personal_chat``, ``private_group``, ``private_supergroup`` …)."""
    chat_id: str
    messages: list[Message]
    info: ExportInfo
    me: str | None
    """The exporting user's name in this chat, when the export tells (full export, or the
    other side of a personal chat)."""

    @property
    def is_group(self) -> bool:
        return "group" in self.kind or "channel" in self.kind


def is_telegram_json(path: str | Path) -> bool:
    """Whether ``path`` is meant to be read as a Telegram export (by its name: ``.json``)."""
    return Path(path).suffix.lower() == ".json"


def read_telegram(path: str | Path) -> list[TelegramChat]:
    """Every chat of a Telegram JSON export, in the export's order."""
    path = Path(path)
    data = _load(path)
    if not isinstance(data, dict):
        raise ParseError(f"{path.name} is not a Telegram export (the JSON is not an object)",
                         "export the chat from Telegram Desktop as JSON (result.json)")
    me_id, me_name = _personal(data.get("personal_information"))
    if isinstance(data.get("messages"), list):
        chats = [data]
    else:
        chats_part = data.get("chats")
        listed = chats_part.get("list") if isinstance(chats_part, dict) else None
        if not isinstance(listed, list):
            raise ParseError(f"{path.name} is not a Telegram export (no \"messages\" and no \"chats\" list)",
                             "export the chat from Telegram Desktop as JSON (result.json)")
        chats = [c for c in listed if isinstance(c, dict) and isinstance(c.get("messages"), list)]
        if not chats:
            raise ParseError(f"{path.name} holds no chats with messages",
                             "export the chat history from Telegram Desktop as JSON")
    return [_chat(c, path, me_id, me_name, n) for n, c in enumerate(chats)]


def _load(path: Path) -> Any:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ParseError(f"{path.name} is larger than 2 GB", "export one chat at a time")
        with open(path, "rb") as fh:
            raw = fh.read()
        return json.loads(raw.decode("utf-8-sig"))
    except FileNotFoundError:
        raise ParseError(f"no such file: {path}", "give the path of Telegram's result.json") from None
    except IsADirectoryError:
        raise ParseError(f"{path} is a folder", "give the result.json inside it") from None
    except UnicodeDecodeError:
        raise ParseError(f"{path.name} is not UTF-8 text", "give the result.json Telegram Desktop wrote") from None
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"{path.name} is not valid JSON ({str(exc).splitlines()[0][:80]})",
                         "give the result.json Telegram Desktop wrote, unchanged") from None
    except OSError as exc:
        raise ParseError(f"cannot read {path.name}: {exc.strerror or exc}") from None


def _personal(info: Any) -> tuple[str | None, str | None]:
    """(from_id, name) of the exporting user in a full export."""
    if not isinstance(info, dict):
        return None, None
    user_id = info.get("user_id")
    from_id = f"user{user_id}" if isinstance(user_id, (int, str)) and not isinstance(user_id, bool) else None
    parts = [info.get("first_name"), info.get("last_name")]
    name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip()) or None
    return from_id, name


def _text(value: Any) -> str:
    """``text`` (or ``text_entities``) as one string: pieces joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        out = []
        for piece in value:
            if isinstance(piece, str):
                out.append(piece)
            elif isinstance(piece, dict) and isinstance(piece.get("text"), str):
                out.append(piece["text"])
        return "".join(out)
    return ""


def _time(row: dict) -> datetime | None:
    date = row.get("date")
    if isinstance(date, str):
        try:
            return datetime.fromisoformat(date).replace(tzinfo=None)
        except ValueError:
            pass
    stamp = row.get("date_unixtime")
    if isinstance(stamp, (str, int)) and not isinstance(stamp, bool):
        try:
            return datetime.fromtimestamp(int(stamp))
        except (ValueError, OverflowError, OSError):
            return None
    return None


def _name(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _sender_key(row: dict, who: str, who_id: str) -> str | None:
    sid = row.get(who_id)
    if isinstance(sid, str) and sid:
        return sid
    if isinstance(sid, int) and not isinstance(sid, bool):
        return str(sid)
    return _name(row.get(who))


def _chat(chat: dict, path: Path, me_id: str | None, me_name: str | None, index: int) -> TelegramChat:
    rows = chat["messages"]
    kind = chat.get("type") if isinstance(chat.get("type"), str) else "personal_chat"
    title = _name(chat.get("name"))
    raw_id = chat.get("id")
    chat_id = str(raw_id) if isinstance(raw_id, (int, str)) and not isinstance(raw_id, bool) else str(index)

    # one name per account: the name it used most (a deleted account has none)
    names: dict[str, Counter] = {}
    for row in rows:
        if not isinstance(row, dict):
            continue
        service = row.get("type") == "service"
        who, who_id = ("actor", "actor_id") if service else ("from", "from_id")
        key = _sender_key(row, who, who_id)
        if key is not None:
            names.setdefault(key, Counter())[_name(row.get(who)) or DELETED_ACCOUNT] += 1
    name_of = {key: counts.most_common(1)[0][0] for key, counts in names.items()}

    info = ExportInfo(platform="telegram", date_order="YMD", time_format="24h", encoding="utf-8",
                      chat_file=path.name, chat_name=title, source=str(path))
    messages: list[Message] = []
    for n, row in enumerate(rows, 1):
        msg = _message(row, name_of) if isinstance(row, dict) else None
        if msg is None:
            if len(info.unparsed) < MAX_UNPARSED:
                info.unparsed.append((n, _snippet(row)))
            continue
        messages.append(msg)
    by_kind: Counter = Counter(m.kind for m in messages)
    by_author: Counter = Counter(m.author for m in messages if m.author is not None)
    info.counts_by_kind = dict(by_kind)
    info.counts_by_author = dict(by_author)
    info.participants = [a for a, _ in sorted(by_author.items(), key=lambda kv: (-kv[1], kv[0]))]

    me = None
    if me_id is not None and me_id in name_of:
        me = name_of[me_id]
    elif me_name is not None and me_name in by_author:
        me = me_name
    elif kind == "personal_chat" and len(info.participants) == 2:
        # a personal chat's id is the other person's: the author who is not them is the exporter
        partner = name_of.get(f"user{chat_id}")
        if partner in info.participants:
            me = next(p for p in info.participants if p != partner)
    return TelegramChat(title, kind, chat_id, messages, info, me)


def _message(row: dict, name_of: dict[str, str]) -> Message | None:
    when = _time(row)
    if when is None:
        return None
    text = _text(row["text"]) if "text" in row else _text(row.get("text_entities"))
    edited = "edited" in row or "edited_unixtime" in row
    if row.get("type") == "service":
        key = _sender_key(row, "actor", "actor_id")
        actor = name_of.get(key) if key is not None else None
        action = row.get("action") if isinstance(row.get("action"), str) else "service"
        if action in CALL_ACTIONS and actor is not None:
            return Message(when, actor, _call_text(row), records.CALL)
        return Message(when, None, _service_text(row, actor, action), records.SYSTEM)
    if row.get("type") not in (None, "message"):
        return None
    key = _sender_key(row, "from", "from_id")
    author = name_of.get(key, DELETED_ACCOUNT) if key is not None else DELETED_ACCOUNT
    kind, media_type, attachment = records.TEXT, None, None
    if "photo" in row:
        kind, media_type, attachment = records.MEDIA, "photo", _attachment(row.get("photo"))
    elif "media_type" in row or "file" in row:
        raw_type = row.get("media_type")
        kind = records.MEDIA
        media_type = MEDIA_TYPES.get(raw_type, "document") if isinstance(raw_type, str) else "document"
        attachment = _attachment(row.get("file"))
    elif isinstance(row.get("location_information"), dict):
        kind = records.LOCATION
    elif isinstance(row.get("contact_information"), dict):
        kind = records.CONTACT
    elif isinstance(row.get("poll"), dict):
        kind = records.POLL
        question = row["poll"].get("question")
        text = text or (question if isinstance(question, str) else "")
    elif row.get("forwarded_from") is not None and text.strip():
        kind, media_type = records.MEDIA, "forwarded"
    return Message(when, author, text, kind, edited, attachment, media_type)


def _snippet(row: Any) -> str:
    try:
        return json.dumps(row, ensure_ascii=False, default=str)[:120]
    except (RecursionError, ValueError):
        return type(row).__name__


def _attachment(value: Any) -> str | None:
    if isinstance(value, str) and value and not value.startswith(_NOT_INCLUDED):
        return value
    return None


def _call_text(row: dict) -> str:
    seconds = row.get("duration_seconds")
    if row.get("discard_reason") == "missed":
        return "Missed call"
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        return f"Call ({int(seconds)} s)"
    return "Call"


def _service_text(row: dict, actor: str | None, action: str) -> str:
    words = action.replace("_", " ")
    title = row.get("title")
    members = row.get("members")
    text = f"{actor or 'Someone'} {words}"
    if isinstance(title, str) and title:
        text += f' "{title}"'
    if isinstance(members, list):
        named = [m for m in members if isinstance(m, str)]
        if named:
            text += ": " + ", ".join(named)
    return text
