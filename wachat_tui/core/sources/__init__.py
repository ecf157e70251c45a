"""Every exporter a project can read, as the same records: one :class:`ChatSource` per chat.

* WhatsApp (``.txt`` / ``.zip``): :mod:`wachat_tui.core.parse`, one chat per file;
* Telegram Desktop (``result.json``): :mod:`.telegram`, one chat, or every chat of a full
  export (``chat`` picks one by name).

:func:`read_chats` is the one entry point the project, ``wachat parse`` and the Import pane use.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ...errors import ParseError
from ..names import matching_names
from ..parse import ExportInfo
from ..prompt import platform_label
from ..records import Message
from .telegram import TelegramChat, is_telegram_json, read_telegram

__all__ = ["ChatSource", "read_chats", "is_telegram_json", "PLATFORMS", "platform_label"]

PLATFORMS = ("whatsapp", "telegram")

# WhatsApp group notices that name the group (English exports; other languages fall back to
# the file name, and the user can give --title)
_GROUP_TITLE = re.compile(r'(?:created group|changed the (?:subject|group name) (?:from "[^"]*" )?to) "([^"]+)"')


@dataclass
class ChatSource:
    """One chat read from an export file: its records and what the file says about it."""

    platform: str
    """``"whatsapp"`` or ``"telegram"``."""
    title: str | None
    """The chat's name: the group's title, or the other person's name in a 1:1 chat (None when
    the export does not say)."""
    is_group: bool
    messages: list[Message]
    info: ExportInfo
    me: str | None = None
    """The exporting user's name, when the export says (Telegram)."""
    key: str = ""
    """Which chat of a multi-chat export this is (Telegram's chat id); empty for WhatsApp."""

    @property
    def participants(self) -> list[str]:
        return list(self.info.participants)


def read_chats(path: str | Path, *, chat: str | None = None, date_order: str | None = None) -> list[ChatSource]:
    """The chats in an export file: a Telegram ``.json`` (every chat, or the one named
    ``chat``), else a WhatsApp ``.txt``/``.zip``. ParseError (one line) when it is neither."""
    path = Path(path)
    if is_telegram_json(path):
        chats = [_from_telegram(c) for c in read_telegram(path)]
        if chat is not None:
            titles = [c.title or "" for c in chats]
            found = matching_names(chat, titles)
            if len(found) != 1:
                shown = ", ".join(t for t in titles if t) or "none with a name"
                what = "matches several chats" if found else "is not a chat of this export"
                raise ParseError(f"{chat!r} {what}", f"--chat must be one of: {shown}")
            chats = [c for c in chats if c.title == found[0]]
        return chats
    if chat is not None:
        raise ParseError("--chat picks a chat of a Telegram export; a WhatsApp export holds one chat",
                         "leave --chat out")
    from ..parse import parse_export

    parsed = parse_export(path, date_order=date_order)
    info = parsed.info
    messages = list(parsed.messages)
    group_title = _group_title(messages)   # one pass over the messages, not two
    title = info.chat_name or group_title
    is_group = len(info.participants) > 2 or group_title is not None
    return [ChatSource("whatsapp", title, is_group, messages, info)]


def _group_title(messages: list[Message]) -> str | None:
    """The group's name from WhatsApp's own notices ("X created group "Name"", renames: the last)."""
    title = None
    for m in messages:
        if m.author is None and '"' in m.text:
            found = _GROUP_TITLE.search(m.text)
            if found:
                title = found.group(1).strip() or title
    return title


def _from_telegram(chat: TelegramChat) -> ChatSource:
    return ChatSource("telegram", chat.title, chat.is_group, chat.messages, chat.info, chat.me, chat.chat_id)
