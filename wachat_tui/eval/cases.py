"""What the measure is taken on: held-out cases and the real training turns.

A :class:`Case` is one graded persona turn of the validation split: who speaks, the turns
before it, what the person really wrote, and who else is in the chat. The model is asked to
write that turn; the real one is the reference. A :class:`RealTurn` is one real turn of the
train split (any author): the attribution classifier learns from them, and the copy detector
looks for generated text that repeats them.

Both come from the project's ``pairs.jsonl`` rows through ONE adapter,
:func:`case_from_pair_row` — the place to switch when pairs become typed records.
"""
from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Sequence

from ..core.layout import ProjectFiles, read_json_object
from ..core.project import ensure_pairs
from ..errors import WachatError

DEFAULT_CAP = 200
"""Held-out cases measured by default (balanced over personas)."""
TRAIN = "train"
VALIDATION = "validation"


@dataclass(frozen=True)
class Case:
    """One held-out persona turn: the model writes ``persona``'s reply to ``context``."""

    id: str
    persona: str
    context: tuple[tuple[str, str], ...]
    """The turns before the reply, oldest first, as ``(author, text)``; bubbles joined by ``\\n``."""
    reply: str
    """What the person really wrote (bubbles joined by ``\\n``)."""
    partners: tuple[str, ...]
    """Everybody else in the chat (what the persona prompt names)."""
    chat: str | None = None
    """The group's name (``None`` for a 1:1 chat)."""
    session: int = 0
    split: str = VALIDATION
    chat_id: str = ""
    """The project's chat the turn was written in (the eval reports per chat)."""
    platform: str = "whatsapp"
    """The chat's messenger (the persona prompt names it)."""


@dataclass(frozen=True)
class ChatSetting:
    """What the persona prompt of a case says about its chat: who else is in it, the group's
    name, the messenger (from ``project.json``'s ``chats``, people resolved)."""

    people: tuple[str, ...]
    title: str | None
    platform: str = "whatsapp"


@dataclass(frozen=True)
class RealTurn:
    """One real turn of the train split."""

    author: str
    text: str
    session: int


@dataclass(frozen=True)
class EvalData:
    """Everything the measure needs from a project, read once."""

    personas: tuple[str, ...]
    participants: tuple[str, ...]
    chat: str | None
    held_out: tuple[Case, ...]
    """Every graded (not excluded) persona turn of the validation split, in file order."""
    train_turns: tuple[RealTurn, ...]
    """Real train-split turns of every author (persona replies and the others' context turns)."""

    def turns_by_author(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for turn in self.train_turns:
            out[turn.author].append(turn.text)
        return dict(out)


# --------------------------------------------------------------------------- the adapter
def case_from_pair_row(row: dict, participants: Sequence[str], chat: str | None,
                       settings: dict[str, ChatSetting] | None = None) -> Case:
    """THE adapter from a ``pairs.jsonl`` row (``{id, persona, session, split, time,
    context: [{author, text}], reply, excluded, chat_id}``) to a :class:`Case`.

    Rows that carry ``partners``/``chat`` themselves (the restructured dataset) win over the
    project-wide values; a row's ``chat_id`` picks its chat's setting from ``settings``.
    """
    persona = str(row["persona"])
    chat_id = str(row.get("chat_id") or "")
    setting = (settings or {}).get(chat_id)
    if setting is not None:
        participants, chat = setting.people, setting.title
    partners = row.get("partners")
    if partners is None:
        partners = [p for p in participants if p != persona]
    return Case(
        id=str(row["id"]),
        persona=persona,
        context=tuple((str(t["author"]), str(t["text"])) for t in row.get("context") or ()),
        reply=str(row.get("reply") or ""),
        partners=tuple(str(p) for p in partners if p != persona),
        chat=row.get("chat", chat),
        session=int(row.get("session") or 0),
        split=str(row.get("split") or TRAIN),
        chat_id=chat_id,
        platform=setting.platform if setting is not None else "whatsapp",
    )


def split_cases(cases: Iterable[Case], excluded: set[str] | frozenset[str] = frozenset()
                ) -> tuple[list[Case], list[RealTurn]]:
    """Held-out cases (validation split) and real train turns (train split), excluded pairs left out.

    A train row gives its reply as the persona's turn, and the other authors' turns of its
    context (people who are not personas have no rows of their own). A turn seen in several
    rows' contexts is kept once per session.
    """
    held: list[Case] = []
    turns: list[RealTurn] = []
    seen: set[tuple[int, str, str]] = set()
    context_turns: list[RealTurn] = []
    personas: set[str] = set()
    for case in cases:
        if case.id in excluded:
            continue
        if case.split == VALIDATION:
            held.append(case)
            continue
        personas.add(case.persona)
        turns.append(RealTurn(case.persona, case.reply, case.session))
        for author, text in case.context:
            key = (case.session, author, text)
            if key not in seen:
                seen.add(key)
                context_turns.append(RealTurn(author, text, case.session))
    # persona turns come from replies (never truncated); contexts add everybody else
    turns += [t for t in context_turns if t.author not in personas]
    return held, turns


# --------------------------------------------------------------------------- reading a project
def load_eval_data(project_dir: Path | ProjectFiles, pairs: Path | None = None) -> EvalData:
    """Read a project's held-out cases and train turns (``project.json`` + ``pairs.jsonl``).

    ``pairs``: another copy of ``pairs.jsonl`` to read — a run's snapshot (``RunFiles.snapshot_pairs``),
    so that a run is measured on the split it trained with, whatever the project's dataset is now.
    """
    files = project_dir if isinstance(project_dir, ProjectFiles) else ProjectFiles(project_dir)
    meta = read_json_object(files.project_json, missing=None)
    if meta is None:
        raise WachatError(f"{files.dir} is not a wachat project", "import a chat first: `wachat import FILE`")
    participants = [str(p) for p in meta.get("participants") or []]
    personas = [str(p) for p in meta.get("personas") or []]
    chat = meta.get("chat_name") if meta.get("is_group") else None
    settings = chat_settings(meta)
    if pairs is None:
        ensure_pairs(files)   # the project's pairs are made on first use
    rows = _read_rows(pairs if pairs is not None else files.pairs)
    excluded = {str(row.get("id")) for row in rows if row.get("excluded")}
    cases = [case_from_pair_row(row, participants, chat, settings) for row in rows]
    if len(settings) == 1:   # a one-chat project's pairs made before they named their chat
        only = next(iter(settings))
        cases = [c if c.chat_id else replace(c, chat_id=only) for c in cases]
    held, turns = split_cases(cases, excluded)
    if not personas:
        personas = sorted({c.persona for c in cases})
    return EvalData(tuple(personas), tuple(participants), chat, tuple(held), tuple(turns))


def chat_settings(meta: dict) -> dict[str, ChatSetting]:
    """Each chat's setting from ``project.json`` (its participants resolved through ``people``)."""
    from ..core.people import People

    try:
        people = People.from_json(meta.get("people"))
    except WachatError:
        people = People()
    out = {}
    for chat in meta.get("chats") or ():
        if not isinstance(chat, dict) or not chat.get("id"):
            continue
        names = tuple(dict.fromkeys(people.resolve(str(n)) for n in chat.get("participants") or ()))
        title = chat.get("title") if chat.get("is_group") else None
        out[str(chat["id"])] = ChatSetting(names, title, str(chat.get("platform") or "whatsapp"))
    return out


def _read_rows(path: Path) -> list[dict]:
    rows = []
    try:
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    rows.append(json.loads(line))
    except FileNotFoundError:
        raise WachatError("the project has no dataset yet (pairs.jsonl is missing)",
                          "re-import the chat with --refresh") from None
    except (OSError, ValueError) as exc:
        raise WachatError(f"cannot read {path.name}: {exc}".splitlines()[0],
                          "the dataset is damaged; re-import the chat with --refresh") from None
    return rows


# --------------------------------------------------------------------------- choosing cases
def select_cases(cases: Sequence[Case], cap: int | None = DEFAULT_CAP, *, seed: int = 0,
                 personas: Sequence[str] | None = None) -> list[Case]:
    """Up to ``cap`` cases balanced over personas: each persona's cases shuffled (seeded), then
    taken round-robin, so a persona with few turns gives all it has and the others fill the rest.

    ``personas`` fixes the order and which personas count (default: as they first appear).
    """
    if cap is not None and cap < 1:
        raise WachatError(f"the number of cases must be at least 1, got {cap}")
    order = list(personas) if personas is not None else list(dict.fromkeys(c.persona for c in cases))
    queues: dict[str, list[Case]] = {p: [] for p in order}
    for case in cases:
        if case.persona in queues:
            queues[case.persona].append(case)
    for persona in order:
        # one stream per persona, so adding a persona does not reshuffle the others' cases
        random.Random(f"{seed}:{persona}").shuffle(queues[persona])
    chosen: list[Case] = []
    depth = 0
    limit = cap if cap is not None else sum(len(q) for q in queues.values())
    while len(chosen) < limit:
        took = False
        for persona in order:
            queue = queues[persona]
            if depth < len(queue) and len(chosen) < limit:
                chosen.append(queue[depth])
                took = True
        if not took:
            break
        depth += 1
    return chosen
