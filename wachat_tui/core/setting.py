"""Where a chat with the model (or a simulation) takes place: one of the project's chats — a
1:1 or a group, on WhatsApp or Telegram — or a new one, for people who never wrote to each
other there. The persona prompt names the setting (:func:`~wachat_tui.core.prompt.system_prompt`),
as it did for the training samples of that chat.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from ..errors import ProjectError
from .prompt import platform_label

if TYPE_CHECKING:
    from .project import Project

NEW = "new"


@dataclass(frozen=True)
class Setting:
    """A conversation's place."""

    people: tuple[str, ...]
    """Everybody in it (resolved names): the chat's people, or the talkers of a new setting."""
    platform: str = "whatsapp"
    title: str | None = None
    """The group's name (None: a 1:1 chat, or a new group without a name)."""
    is_group: bool = False
    chat_id: str | None = None
    """The project's chat this is (None: a new setting)."""

    @property
    def chat_name(self) -> str | None:
        """What the prompt names the group by (None in a 1:1 chat)."""
        return self.title if self.is_group else None

    def label(self) -> str:
        app = platform_label(self.platform)
        if self.is_group:
            where = f'the group "{self.title}"' if self.title else "a new group"
            return f"{where} on {app}"
        return f"a 1:1 chat on {app}" + ("" if self.chat_id else " (new)")


def choose_setting(project: "Project", talkers: Sequence[str], ref: str | None = None) -> Setting:
    """The setting for ``talkers`` (resolved people): the chat ``ref`` names (id or title), a
    new one (``ref == "new"``), or by default the chat they all write in — their 1:1 chat for
    two people who have one, for three or more the shared group with the most messages, and in
    a project of one chat that chat — else a new 1:1 (two people) or group (more)."""
    talkers = list(dict.fromkeys(talkers))
    chats = project.chats
    members = project.people_in

    if ref is not None and ref.strip().casefold() == NEW:
        return new_setting(talkers, _platform(project, talkers))
    if ref is not None:
        chat = project.chat(ref)
        inside = members(chat)
        missing = [t for t in talkers if t not in inside]
        if missing:
            raise ProjectError(f"{', '.join(missing)} never wrote in {chat.title or chat.id!r}",
                               "pick a chat they are in, or --setting new")
        return Setting(tuple(inside), chat.platform, chat.title, chat.is_group, chat.id)
    shared = [c for c in chats if set(talkers) <= set(members(c))]
    if len(chats) == 1 and shared:
        chat = chats[0]
        return Setting(tuple(members(chat)), chat.platform, chat.title, chat.is_group, chat.id)
    if len(talkers) == 2:
        one_to_one = [c for c in shared if not c.is_group]
        if one_to_one:
            chat = one_to_one[0]
            return Setting(tuple(members(chat)), chat.platform, chat.title, False, chat.id)
        return new_setting(talkers, _platform(project, talkers))
    groups = sorted((c for c in shared if c.is_group), key=lambda c: -int(c.counts.get("messages", 0)))
    if groups:
        chat = groups[0]
        return Setting(tuple(members(chat)), chat.platform, chat.title, True, chat.id)
    return new_setting(talkers, _platform(project, talkers))


def new_setting(talkers: Sequence[str], platform: str = "whatsapp", title: str | None = None) -> Setting:
    """A chat that never happened: 1:1 for two people, a group for more."""
    talkers = tuple(dict.fromkeys(talkers))
    return Setting(talkers, platform, title, len(talkers) > 2 or title is not None, None)


def _platform(project: "Project", talkers: Sequence[str]) -> str:
    """The messenger every one of ``talkers`` uses in the project (else WhatsApp)."""
    common = None
    for person in talkers:
        mine = {c.platform for c in project.chats_of(person)}
        common = mine if common is None else common & mine
    return sorted(common)[0] if common and len(common) == 1 else "whatsapp"
