"""The chats of a project: their entries in ``project.json``, and one dataset built from all of them.

Each chat keeps its own messages (``chats/<id>/messages.jsonl``, names as the export spells
them), its own sessions and its own time-ordered train/validation split; the project's dataset
is the chats' datasets one after the other, with every author resolved to a person
(:class:`~wachat_tui.core.people.People`) and each sample's prompt naming the chat's setting
(1:1 or which group, which messenger).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from typing import Sequence

from .dataset import DatasetOptions, DatasetResult, RowSinks, build_dataset, report_counts
from .names import slugify
from .people import People
from .records import Message

#: in a group chat, members who wrote at least this many messages become personas by default
MIN_GROUP_PERSONA_MESSAGES = 20


@dataclass
class ChatEntry:
    """One chat of a project: an item of ``project.json``'s ``chats`` list."""

    id: str
    platform: str = "whatsapp"
    title: str = ""
    is_group: bool = False
    source: dict = field(default_factory=dict)
    """``file``, ``sha256``, ``size`` of the export, and ``chat`` (which chat of a Telegram
    export with several) — re-adding the same chat changes nothing."""
    participants: list[str] = field(default_factory=list)
    """The authors as the export spells them, most active first."""
    me: str = ""
    """Which participant is the user (as spelled in this chat)."""
    parse: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    added: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, row: dict) -> "ChatEntry":
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in row.items() if k in known}
        data["participants"] = [str(p) for p in data.get("participants") or []]
        return cls(**data)

    @property
    def counts_by_author(self) -> dict[str, int]:
        return dict((self.parse or {}).get("counts_by_author") or {})

    def same_source(self, sha256: str, chat_key: str = "") -> bool:
        return self.source.get("sha256") == sha256 and str(self.source.get("chat") or "") == chat_key

    def label(self) -> str:
        """How lists show the chat: its title and whether it is a group, on which app."""
        from .prompt import platform_label

        kind = "group" if self.is_group else "1:1"
        return f"{self.title or self.id} ({kind}, {platform_label(self.platform)})"


def new_chat_id(title: str, taken: Sequence[str]) -> str:
    """A folder-safe id for a chat, unique in the project."""
    base = slugify(title or "chat", max_len=40)
    chat_id, n = base, 2
    while chat_id in taken:
        chat_id, n = f"{base}-{n}", n + 1
    return chat_id


def resolve_messages(messages: Sequence[Message], people: People) -> list[Message]:
    """The messages with each author replaced by the person they are (a new list; the very
    same messages where nobody is renamed, as in a chat just imported)."""
    names = {m.author for m in messages}
    names.discard(None)
    renamed = {}
    for name in names:
        person = people.resolve(name)
        if person != name:
            renamed[name] = person
    if not renamed:
        return list(messages)
    get = renamed.get
    return [m if (person := get(m.author)) is None else replace(m, author=person) for m in messages]


def resolved_participants(chat: ChatEntry, people: People) -> list[str]:
    """The chat's people (resolved), most active first."""
    counts: Counter = Counter()
    for name in chat.participants:
        counts[people.resolve(name)] += chat.counts_by_author.get(name, 0)
    return [p for p, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def default_personas(me: str, chats: Sequence[ChatEntry], people: People) -> list[str]:
    """Whom the model learns to play when the user did not say: you, everyone you have a 1:1
    chat with, and the members of your groups who wrote at least
    :data:`MIN_GROUP_PERSONA_MESSAGES` messages there."""
    chosen: Counter = Counter()
    for chat in chats:
        by_person: Counter = Counter()
        for name, n in chat.counts_by_author.items():
            by_person[people.resolve(name)] += n
        for person, n in by_person.items():
            if person != me and (not chat.is_group or n >= MIN_GROUP_PERSONA_MESSAGES):
                chosen[person] += n
    return [me] + [p for p, _ in sorted(chosen.items(), key=lambda kv: (-kv[1], kv[0]))]


@dataclass
class ChatData:
    """What building one chat's part of the dataset needs."""

    entry: ChatEntry
    messages: list[Message]
    """Resolved to people."""
    participants: list[str]
    """Resolved to people."""


def build_chats_dataset(chats: Sequence[ChatData], me: str, personas: Sequence[str],
                        options: DatasetOptions, exclusions=(), *, rows: RowSinks | None = None,
                        keep_pairs: bool = True) -> DatasetResult:
    """One dataset from several chats: each chat split by time on its own, its sessions
    numbered after the previous chat's, its prompts naming its setting. ``rows`` and
    ``keep_pairs``: as for :func:`~wachat_tui.core.dataset.build_dataset`."""
    exclusions = set(exclusions)
    parts: list[DatasetResult] = []
    offset = 0
    for chat in chats:
        entry = chat.entry
        in_chat = [p for p in personas if p in chat.participants]
        result = build_dataset(chat.messages, me, options, exclusions,
                               chat_name=entry.title if entry.is_group else None,
                               participants=chat.participants, is_group=entry.is_group,
                               platform=entry.platform, chat_id=entry.id, session_offset=offset,
                               personas=in_chat, rows=rows, keep_pairs=keep_pairs)
        offset += len(result.chat_turns)
        parts.append(result)
    return merge_results(parts, [c.entry.id for c in chats], list(personas))


def merge_results(parts: Sequence[DatasetResult], chat_ids: Sequence[str], personas: list[str]) -> DatasetResult:
    """The chats' datasets one after the other; the report adds up, with each chat's counts
    under ``report["chats"][chat_id]``."""
    if not parts:
        report = _empty_report()
        report["personas"] = personas
        report["chats"] = {}
        return DatasetResult([], [], [], report, personas, [])
    report = _sum_reports([p.report for p in parts])
    report["chats"] = {cid: report_counts(p.report) for cid, p in zip(chat_ids, parts)}
    participants = list(dict.fromkeys(name for p in parts for name in p.participants))
    used = [p for p in personas if any(p in part.personas for part in parts)]
    report["participants"] = participants
    report["personas"] = used
    report["is_group"] = any(p.report.get("is_group") for p in parts)
    starts = [p.report.get("validation_starts") for p in parts if p.report.get("validation_starts")]
    report["validation_starts"] = min(starts) if starts else None
    return DatasetResult(
        train=[row for p in parts for row in p.train],
        validation=[row for p in parts for row in p.validation],
        pairs=[pair for p in parts for pair in p.pairs],
        report=report,
        personas=used,
        participants=participants,
        chat_turns=[s for p in parts for s in p.chat_turns],
    )


_NOT_SUMMED = {"participants", "personas", "is_group", "validation_starts", "session_gap_minutes", "chats"}


def _sum_reports(reports: Sequence[dict]) -> dict:
    def add(into: dict, other: dict) -> None:
        for key, value in other.items():
            if key in _NOT_SUMMED:
                into.setdefault(key, value)
            elif isinstance(value, dict):
                add(into.setdefault(key, {}), value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                into[key] = into.get(key, 0) + value
            else:
                into.setdefault(key, value)

    total: dict = {}
    for r in reports:
        add(total, r)
    return total


def _empty_report() -> dict:
    """A report of nothing, with every key a real one has (a project whose last chat was removed)."""
    empty = build_dataset([Message(datetime(2000, 1, 1), "a", "x")], "a", DatasetOptions())
    return _zeroed(empty.report)


def _zeroed(value):
    if isinstance(value, dict):
        return {k: _zeroed(v) for k, v in value.items()}
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return 0

