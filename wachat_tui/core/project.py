"""A project on disk: the chats of one person (WhatsApp, Telegram; 1:1 and groups), the people
in them, and the dataset, stats, runs and models made from them.

Where each file lives is :class:`~wachat_tui.core.layout.ProjectFiles`' business (folders
0700, files 0600, every file written atomically): ``project.json`` (name, me, people —
person → the names they appear under —, chats — id, platform, title, is_group, source file /
sha256 / size, participants as spelled, parse info, counts —, personas, dataset options,
counts, the detected language), ``chats/<id>/messages.jsonl`` (Message.to_json rows), ``dataset/``
(train, validation, and pairs — made on first use by :func:`ensure_pairs`), ``exclusions.json`` and ``stats.json``; ``<data_home>/state.json``
remembers the last project. Importing and adding chats is :mod:`.importing`'s work. One writer
at a time (:mod:`.lock`), and a write of several files is one transaction (``atomic.transaction``).

A project made before chats had folders (one ``messages.jsonl`` at the top) is moved into the
new layout when it is opened: the messages are copied into ``chats/<id>/``, then
``project.json`` is replaced, then the old file is removed — a crash at any point leaves a
project that opens (and finishes the move).

The style document (``stats.json``) is computed the first time it is asked for and kept
until the messages, the people, the session gap or the media option change; its training-set
sizes are always the project's current counts.
"""
from __future__ import annotations

import hashlib
import re
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from .. import paths
from ..errors import ProjectError, WachatError
from . import atomic
from .chats import ChatData, ChatEntry, build_chats_dataset, default_personas, new_chat_id, \
    resolve_messages, resolved_participants
from .dataset import DatasetOptions, DatasetResult, report_counts, split_sessions
from .language import LanguageReport
from .layout import ProjectFiles, read_json_object, state_file
from .lock import project_lock
from .memory import gc_paused
from .names import matching_names
from .parse.hotloop import message_json_lines
from .people import People
from .records import Message, Pair, Session

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: project.json's shape: 2 = chats in folders, people with aliases
FORMAT = 2


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def validate_name(name: str) -> str:
    """A project name is a folder name: letters, digits, ``.``, ``_``, ``-`` (max 64)."""
    if not isinstance(name, str) or not _NAME_RE.match(name) or name in (".", ".."):
        raise ProjectError(f"invalid project name {name!r}",
                           "use letters, digits, '.', '_' or '-' (at most 64, no spaces or slashes)")
    return name


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_object(path: Path) -> dict:
    """A JSON object file of the project (FileNotFoundError when absent, a one-line
    WachatError when damaged)."""
    return read_json_object(path)


class Project:
    """A project: open one with :meth:`open`; create one with :func:`import_export`."""

    def __init__(self, directory: Path, config: dict):
        self.files = ProjectFiles(directory)
        """Where this project's files are."""
        self.dir = self.files.dir
        self.config = config
        self.unchanged = False
        """Set by :func:`import_export` when the same file was imported again (a no-op)."""
        self.added: list[ChatEntry] = []
        """The chats the latest import/add in this process added."""
        self.last_result: DatasetResult | None = None
        """The dataset build of the latest import/rebuild in this process, if any."""

    # -- finding projects --------------------------------------------------------------
    @classmethod
    def open(cls, name: str) -> "Project":
        validate_name(name)
        files = ProjectFiles(paths.projects_dir() / name)
        if files.journal.exists():  # a multi-file write was interrupted: finish it before reading
            with project_lock(files, "finishing an interrupted write"):
                pass
        try:
            config = _read_object(files.project_json)
        except FileNotFoundError:
            raise ProjectError(f"no project named {name!r}",
                               "`wachat projects` lists them; `wachat import FILE --me NAME` creates one") from None
        return cls(files.dir, migrate(files, config))

    @classmethod
    def list(cls) -> list["Project"]:
        """Every readable project, most recently updated first."""
        root = paths.projects_dir()
        found = []
        if root.is_dir():
            for child in sorted(root.iterdir()):
                files = ProjectFiles(child)
                if child.name.startswith(".") or not files.is_project():
                    continue
                try:
                    found.append(cls(child, migrate(files, _read_object(files.project_json))))
                except (WachatError, FileNotFoundError, OSError):
                    continue   # damaged or half-deleted: not listed
        found.sort(key=lambda p: p.config.get("updated", ""), reverse=True)
        return found

    @classmethod
    def exists(cls, name: str) -> bool:
        return ProjectFiles(paths.projects_dir() / validate_name(name)).is_project()

    # -- configuration -----------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.config.get("name", self.dir.name)

    @property
    def me(self) -> str:
        return self.config["me"]

    @property
    def people(self) -> People:
        """The person table (a fresh copy: change it through :meth:`set_alias`). A bare
        project.json without one: each participant is a person of their own."""
        table = self.config.get("people")
        if table is None:
            table = {str(p): [str(p)] for p in self.config.get("participants") or []}
        return People.from_json(table)

    @property
    def chats(self) -> list[ChatEntry]:
        return [ChatEntry.from_json(row) for row in self.config.get("chats") or [] if isinstance(row, dict)]

    @property
    def personas(self) -> list[str]:
        return list(self.config.get("personas", []))

    @property
    def participants(self) -> list[str]:
        """Every person of the project (resolved), most active first."""
        return list(self.config.get("participants", []))

    @property
    def is_group(self) -> bool:
        """The project is one group chat (what a single-chat view of it needs)."""
        chats = self.chats
        return len(chats) == 1 and chats[0].is_group

    @property
    def chat_name(self) -> str | None:
        """The title of the project's only chat (None with several)."""
        chats = self.chats
        return chats[0].title if len(chats) == 1 else None

    @property
    def language(self) -> LanguageReport | None:
        """The language(s) the chat is written in, as detected at import (None for projects
        imported before wachat detected it: re-import with --refresh)."""
        return LanguageReport.from_dict(self.config.get("language"))

    @property
    def options(self) -> DatasetOptions:
        return DatasetOptions.from_dict(self.config.get("options"))

    @property
    def counts(self) -> dict:
        return dict(self.config.get("counts", {}))

    def chat(self, ref: str) -> ChatEntry:
        """A chat by id or title (the name matcher: case and surrounding spaces forgiven)."""
        chats = self.chats
        by_id = [c for c in chats if c.id == ref]
        if by_id:
            return by_id[0]
        ids = matching_names(ref, [c.id for c in chats])
        titles = matching_names(ref, [c.title for c in chats])
        found = [c for c in chats if c.id in ids] or [c for c in chats if c.title in titles]
        if len(found) == 1:
            return found[0]
        shown = ", ".join(f"{c.id} ({c.title})" for c in chats)
        what = "matches several chats" if found else "is not a chat of this project"
        raise ProjectError(f"{ref!r} {what}", f"chats of {self.name!r}: {shown}")

    def people_in(self, chat: ChatEntry) -> list[str]:
        """The people (resolved) who write in ``chat``, most active first."""
        people = self.people
        return list(dict.fromkeys(people.resolve(n) for n in chat.participants))

    def chats_of(self, person: str) -> list[ChatEntry]:
        """The chats ``person`` (resolved) writes in."""
        return [c for c in self.chats if person in self.people_in(c)]

    # -- paths (shortcuts to ``files``) -----------------------------------------------------
    @property
    def dataset_dir(self) -> Path:
        return self.files.dataset_dir

    @property
    def train_path(self) -> Path:
        return self.files.train

    @property
    def validation_path(self) -> Path:
        return self.files.validation

    @property
    def pairs_path(self) -> Path:
        return self.files.pairs

    @property
    def exclusions_path(self) -> Path:
        return self.files.exclusions

    @property
    def stats_path(self) -> Path:
        return self.files.stats

    @property
    def runs_dir(self) -> Path:
        return self.files.runs_dir

    @property
    def models_dir(self) -> Path:
        return self.files.models_dir

    # -- data ----------------------------------------------------------------------------
    def raw_messages(self, chat_id: str) -> list[Message]:
        """One chat's messages, names as the export spells them."""
        path = self.files.chat(chat_id).messages
        try:
            return [Message.from_json(row) for row in atomic.read_jsonl(path)]
        except FileNotFoundError:
            raise ProjectError(f"project {self.name!r}: chat {chat_id!r} has no messages.jsonl",
                               "remove the chat (`wachat chats P --remove CHAT`) and add it again") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ProjectError(f"project {self.name!r}: chat {chat_id!r} messages.jsonl is damaged ({exc})",
                               "re-import the chat with --refresh") from None

    def messages(self, chat: str | None = None) -> list[Message]:
        """The messages of one chat (id or title), or of every chat one chat after the other,
        each author resolved to the person they are. (Sessions are per chat: :meth:`sessions`.)"""
        people = self.people
        chats = [self.chat(chat)] if chat is not None else self.chats
        return [m for c in chats for m in resolve_messages(self.raw_messages(c.id), people)]

    def chat_data(self, chat: str | None = None) -> list[ChatData]:
        """What building the dataset needs, per chat (all chats, or the one named)."""
        people = self.people
        chats = [self.chat(chat)] if chat is not None else self.chats
        return [ChatData(c, resolve_messages(self.raw_messages(c.id), people), resolved_participants(c, people))
                for c in chats]

    def sessions(self, chat: str) -> list[Session]:
        """One chat's sessions (people resolved), cut by the project's session gap."""
        options = self.options
        return split_sessions(self.messages(chat), options.session_gap_minutes, options.media)

    def turn_taking(self, chat: str | None = None):
        """Who answers whom, bursts and pace (:mod:`~wachat_tui.core.turntaking`): in one chat,
        or over all chats (None)."""
        from .turntaking import merge, turn_taking

        chats = [self.chat(chat)] if chat is not None else self.chats
        return merge(turn_taking(self.sessions(c.id)) for c in chats)

    def pairs(self) -> list[Pair]:
        """The review pairs of the current dataset (``dataset/pairs.jsonl``, made on first use:
        :func:`ensure_pairs`)."""
        pairs = None
        for _attempt in range(3):   # a writer may remove the file between the check and the read
            try:
                pairs = [Pair.from_json(row) for row in atomic.read_jsonl(self.files.pairs)]
                break
            except FileNotFoundError:
                pairs = ensure_pairs(self.files)
                if pairs is not None:
                    break
            except (ValueError, KeyError, TypeError) as exc:
                raise ProjectError(f"project {self.name!r}: pairs.jsonl is damaged ({exc})",
                                   "rebuild it: wachat import … --refresh") from None
        pairs = pairs or []
        chats = self.chats
        if len(chats) == 1 and any(not p.chat_id for p in pairs):   # made before pairs named their chat
            pairs = [p if p.chat_id else p._replace(chat_id=chats[0].id) for p in pairs]
        return pairs

    def exclusions(self) -> list[str]:
        try:
            data = _read_object(self.files.exclusions)
        except FileNotFoundError:
            return []
        return [str(x) for x in data.get("pairs", [])]

    def set_excluded(self, ids: Iterable[str], excluded: bool = True) -> DatasetResult:
        """Exclude (or re-include) pairs by id and rebuild the dataset files."""
        with project_lock(self.files, "saving exclusions"), atomic.transaction(self.files.journal):
            current = self.exclusions()
            ids = [str(i) for i in ids]
            if excluded:
                merged = current + [i for i in ids if i not in current]
            else:
                drop = set(ids)
                merged = [i for i in current if i not in drop]
            atomic.write_json(self.files.exclusions, {"pairs": merged})
            return self.rebuild(exclusions=merged)  # exclusions.json is renamed at the end of the block

    def chosen_personas(self, options: DatasetOptions | None = None) -> list[str]:
        """Whom the model learns to play: the option's people (resolved), else the defaults."""
        options = options or self.options
        people = self.people
        if options.personas:
            return list(dict.fromkeys(people.find_person(p, "person") for p in options.personas))
        return default_personas(self.me, self.chats, people)

    def build(self, options: DatasetOptions | None = None, *,
              exclusions: list[str] | None = None) -> DatasetResult:
        """Build the dataset in memory (nothing written): what the TUI previews."""
        options = (options or self.options).validate()
        return build_chats_dataset(self.chat_data(), self.me, self.chosen_personas(options), options,
                                   self.exclusions() if exclusions is None else exclusions)

    @gc_paused()
    def rebuild(self, options: DatasetOptions | None = None, *, restyle: bool = False,
                exclusions: list[str] | None = None) -> DatasetResult:
        """Rebuild the dataset files (with new options if given); keeps exclusions (``exclusions``:
        the list being saved in the same transaction). ``restyle``: the messages or the people
        changed, so the style document is stale. One writer at a time, and the dataset files and
        project.json are replaced together."""
        options = (options or self.options).validate()
        with project_lock(self.files, "rebuilding the dataset"), atomic.transaction(self.files.journal):
            before = self.options
            result = self.build(options, exclusions=exclusions)
            _write_outputs(self.files, result)
            if restyle or _style_inputs(options) != _style_inputs(before):
                self.files.stats.unlink(missing_ok=True)
            self.config.update(project_summary(self.chats, result, options))
            atomic.write_json(self.files.project_json, self.config)
        self.last_result = result
        return result

    def stats(self) -> dict:
        """The style document: computed on first use and kept in stats.json (it only changes
        with the messages, the people, the session gap and the media option); the chat
        section's training-set sizes are the project's current counts. ``chats`` holds the
        same document per chat."""
        from .stats import chat_counts, project_stats

        try:
            doc = _read_object(self.files.stats)
            if "chats" not in doc:
                raise FileNotFoundError  # a document from before per-chat stats: make it again
        except (FileNotFoundError, WachatError):
            with project_lock(self.files, "writing the style document"):  # from the messages it was made of
                options = self.options
                doc = project_stats(self.chat_data(), self.me, options.session_gap_minutes, options.media)
                atomic.write_json(self.files.stats, doc)
        chat = doc.get("chat")
        if isinstance(chat, dict) and self.counts:
            chat.update(chat_counts(self.counts))
            chat["personas"] = self.personas
        for entry in self.chats:
            section = (doc.get("chats") or {}).get(entry.id, {}).get("chat")
            if isinstance(section, dict) and entry.counts:
                section.update(chat_counts(entry.counts))
        return doc

    # -- people ------------------------------------------------------------------------
    def set_alias(self, name: str, person: str) -> tuple[str, str]:
        """``name`` (a person, or one of the names a person appears under) is ``person`` from
        now on; the dataset and the style document are made again. Returns ``(was, now)``."""
        people = self.people
        was, now = people.alias(name, person)
        self._save_people(people, me=now if was == self.me else self.me)
        return was, now

    def unalias(self, name: str) -> str:
        """``name`` is a person of their own again."""
        people = self.people
        person = people.unalias(name)
        self._save_people(people, me=self.me)
        return person

    def _save_people(self, people: People, me: str) -> None:
        for chat in self.chats:
            where = chat.title or chat.id
            if people.resolve(chat.me) != me:
                raise ProjectError(f"{chat.me!r} is you in chat {where!r}: it stays {me}",
                                   "you are one person in every chat")
            mine = [n for n in chat.participants if people.resolve(n) == me]
            if len(mine) > 1:
                raise ProjectError(f"{' and '.join(mine)} would both be you in chat {where!r}",
                                   "you are one person in every chat")
        self.config["people"] = people.to_json()
        self.config["me"] = me
        options = self.options
        if options.personas:   # a persona merged into another person is that person now
            kept = [people.resolve(p) for p in options.personas if people.person_of(p) is not None]
            options.personas = list(dict.fromkeys(kept)) or None
            self.config["options"] = options.to_dict()
        self.rebuild(restyle=True)

    def __repr__(self) -> str:
        return f"Project({self.name!r})"


def project_summary(chats: list[ChatEntry], result: DatasetResult, options: DatasetOptions) -> dict:
    """The keys of project.json that follow from a dataset build."""
    per_chat = result.report.get("chats") or {}
    rows = []
    for chat in chats:
        chat.counts = per_chat.get(chat.id, chat.counts)
        rows.append(chat.to_json())
    return {
        "chats": rows,
        "options": options.to_dict(),
        "personas": result.personas,
        "participants": result.participants,
        "is_group": len(chats) == 1 and chats[0].is_group,
        "chat_name": chats[0].title if len(chats) == 1 else None,
        "counts": report_counts(result.report),
        "updated": _now(),
    }


def _style_inputs(options: DatasetOptions) -> tuple:
    """What the style document depends on besides the messages."""
    return options.session_gap_minutes, options.media


# ---------------------------------------------------------------------- writing


def _write_outputs(files: ProjectFiles, result: DatasetResult) -> None:
    """The dataset files of a rebuild's ``result`` (an import streams them: :func:`dataset_writer`)."""
    paths.ensure_private_dir(files.dir)
    paths.ensure_private_dir(files.dataset_dir)
    atomic.write_jsonl(files.train, result.train)
    atomic.write_jsonl(files.validation, result.validation)
    _drop_pairs(files)


def write_messages(files: ProjectFiles, messages: dict[str, list[Message]]) -> None:
    """Each chat's ``messages.jsonl``."""
    paths.ensure_private_dir(files.dir)
    for chat_id, chat_messages in messages.items():
        paths.ensure_private_dir(files.chats_dir)
        paths.ensure_private_dir(files.chat(chat_id).dir)
        atomic.write_blocks(files.chat(chat_id).messages, message_json_lines(chat_messages))


@dataclass
class DatasetRows:
    """The dataset files open for writing: rows go to disk as the build makes them."""

    train: atomic.JsonlSink
    validation: atomic.JsonlSink


@contextmanager
def dataset_writer(files: ProjectFiles) -> Iterator[DatasetRows]:
    """``train.jsonl`` and ``validation.jsonl`` written while the dataset is built
    (``build_chats_dataset(..., rows=...)``): a big chat's rows are never all in memory.
    The files are the ones :func:`_write_outputs` writes; replaced when the block ends (or with
    the transaction it is in), and left as they were if it fails."""
    paths.ensure_private_dir(files.dir)
    paths.ensure_private_dir(files.dataset_dir)
    with atomic.atomic_open(files.train, "wb") as train, atomic.atomic_open(files.validation, "wb") as validation:
        rows = DatasetRows(atomic.JsonlSink(train), atomic.JsonlSink(validation))
        yield rows
        rows.train.flush()
        rows.validation.flush()
    _drop_pairs(files)


def _drop_pairs(files: ProjectFiles) -> None:
    # the review pairs are made when first asked for (ensure_pairs): removed now, before the
    # new dataset is committed, so that no pairs.jsonl of an older dataset outlives it
    files.pairs.unlink(missing_ok=True)


@gc_paused()
def ensure_pairs(files: ProjectFiles) -> list[Pair] | None:
    """Write ``dataset/pairs.jsonl`` if the project has none: the review pairs of its current
    dataset (project.json, the chats' messages, exclusions.json as they are now). Returns the
    pairs it wrote, or None when the file was there already.

    The one way every reader (``Project.pairs``, eval, a training run's snapshot) gets the
    file: imports and rebuilds leave it out (half of a big chat's dataset bytes, which repeat
    the training rows) and remove a stale one. Under the project's write lock, like every
    writer, and written atomically."""
    if files.pairs.exists():
        return None
    with project_lock(files, "writing the review pairs"):
        if files.pairs.exists():   # another process wrote it while this one waited
            return None
        project = Project(files.dir, migrate(files, _read_object(files.project_json)))
        pairs = project.build().pairs
        paths.ensure_private_dir(files.dataset_dir)
        atomic.write_jsonl(files.pairs, (p.to_json() for p in pairs))
    return pairs


# ---------------------------------------------------------------------- the old layout


def migrate(files: ProjectFiles, config: dict) -> dict:
    """``config`` in the current shape; a project of the one-chat layout is moved into it
    (messages into ``chats/<id>/``, ``project.json`` rewritten, the old file removed last)."""
    if "chats" in config:
        if files.legacy_messages.exists() and all(files.chat(str(c.get("id"))).messages.exists()
                                                  for c in config["chats"] if isinstance(c, dict)):
            files.legacy_messages.unlink()      # a move interrupted after project.json was written
        return config
    if "me" not in config or not files.legacy_messages.exists():
        return config     # nothing to move (a bare project.json, e.g. runs copied from elsewhere)
    participants = [str(p) for p in config.get("participants") or []]
    me = str(config["me"])
    partner = next((p for p in participants if p != me), "")
    title = config.get("chat_name") or partner or files.name
    chat = ChatEntry(id=new_chat_id(title, []), platform="whatsapp", title=title,
                     is_group=bool(config.get("is_group")),
                     source={**(config.get("source") or {}), "chat": ""}, participants=participants,
                     me=me, parse=dict(config.get("parse") or {}), counts=dict(config.get("counts") or {}),
                     added=str(config.get("created") or ""))
    target = files.chat(chat.id).messages
    paths.ensure_private_dir(files.chats_dir)
    with open(files.legacy_messages, "rb") as src, atomic.atomic_open(target, "wb") as out:
        shutil.copyfileobj(src, out)
    new = {k: v for k, v in config.items() if k not in ("source", "parse")}
    new.update({"format": FORMAT, "people": {p: [p] for p in participants}, "chats": [chat.to_json()]})
    atomic.write_json(files.project_json, new)
    files.legacy_messages.unlink()
    return new


# ---------------------------------------------------------------------- importing


def import_export(path: str | Path, me: str | None = None, name: str | None = None,
                  options: DatasetOptions | None = None, refresh: bool = False, **more) -> Project:
    """Import an export as a project, or add it to one (see :func:`.importing.import_export`)."""
    from .importing import import_export as run

    return run(path, me, name, options, refresh, **more)


def unique_name(base: str) -> str:
    base = base[:56]
    if not Project.exists(base):
        return base
    n = 2
    while Project.exists(f"{base}-{n}"):
        n += 1
    return f"{base}-{n}"


# ---------------------------------------------------------------------- state


def _state_path() -> Path:
    return state_file(paths.data_home())


def last_project() -> str | None:
    """Name of the project used last (None if none, or if it has been deleted)."""
    try:
        name = _read_object(_state_path()).get("last_project")
    except (FileNotFoundError, WachatError):
        return None
    if isinstance(name, str) and _NAME_RE.match(name) and Project.exists(name):
        return name
    return None


def set_last_project(name: str) -> None:
    paths.ensure_private_dir(paths.data_home())
    state = {}
    try:
        state = _read_object(_state_path())
    except (FileNotFoundError, WachatError):
        pass
    state["last_project"] = name
    atomic.write_json(_state_path(), state)


DEMO_PROJECT = "demo"
DEMO_ME = "Maya"


def ensure_demo_project() -> Project:
    """The bundled demo chat as project "demo" (imported once, then simply opened)."""
    if Project.exists(DEMO_PROJECT):
        return Project.open(DEMO_PROJECT)
    return import_export(paths.demo_export(), DEMO_ME, name=DEMO_PROJECT)
