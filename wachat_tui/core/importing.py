"""Chats into projects: import an export as a new project, add a chat to a project, refresh
one, remove one (and everything derived from it).

Every chat's participants are matched to the project's people (:mod:`.people`); "me" is one
person in every chat: named with ``me`` (as the export spells it), else found among the
names the user already has, else the one the export names as its owner (Telegram).
A new project is assembled in a hidden temporary folder (named with the importing process's
pid) and renamed into place, so an import that fails leaves nothing behind, and the folders of
imports that were killed are swept by the next one; in an existing project the write holds the
project's lock and every file is replaced in one transaction (a kill leaves the old project or
the new one). The chat's language (:mod:`.language`) is told from all the project's messages.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

from .. import paths
from ..errors import ProjectError
from . import atomic
from . import project as project_mod
from .chats import ChatData, ChatEntry, build_chats_dataset, default_personas, new_chat_id, \
    resolve_messages, resolved_participants
from .dataset import DatasetOptions
from .language import detect_language
from .layout import ProjectFiles, pid_alive
from .lock import project_lock
from .memory import gc_paused
from .names import resolve_name, slugify
from .people import People
from .project import FORMAT, Project, _now, file_sha256, project_summary, set_last_project, unique_name, \
    validate_name
from .sources import ChatSource, read_chats


@gc_paused()   # millions of short-lived rows: see core/memory.py
def import_export(path: str | Path, me: str | None = None, name: str | None = None,
                  options: DatasetOptions | None = None, refresh: bool = False, *, add: bool = False,
                  chat: str | None = None, title: str | None = None) -> Project:
    """Import an export (WhatsApp .txt/.zip, Telegram result.json) as a project, or ``add`` its
    chat(s) to project ``name``; return the project.

    Importing (or adding) a chat the project already holds changes nothing (``unchanged``)
    unless ``refresh`` is true; a refresh re-reads the file, keeps the exclusions made in review
    and, when no ``options`` are given, the project's options. ``chat`` picks one chat of a
    Telegram export with several (default: all); ``title`` names the chat.
    """
    path = Path(path)
    if not path.is_file():
        raise ProjectError(f"no such file: {path}",
                           "give the path of a WhatsApp .txt/.zip export or a Telegram result.json")
    if name is not None:
        validate_name(name)
    sha = file_sha256(path)

    existing: Project | None = None
    if name is not None and Project.exists(name):
        existing = Project.open(name)
    elif name is None and not add:
        existing = next((p for p in Project.list() if any(c.source.get("sha256") == sha for c in p.chats)), None)

    if add:
        if existing is None:
            if name is None:
                raise ProjectError("--add needs the project to add the chat to", "name it with --project P")
            raise ProjectError(f"no project named {name!r}",
                               "create it first: `wachat import FILE --me NAME --project P`")
        return _add(existing, path, sha, me, chat, title, options, refresh)

    if existing is not None and not refresh:
        if any(c.source.get("sha256") == sha for c in existing.chats):
            set_last_project(existing.name)
            existing.unchanged = True
            return existing
        raise ProjectError(f"project {existing.name!r} already exists for a different export",
                           "add this chat with --add, replace its messages with --refresh, "
                           "or choose another --project name")

    sources = _read(path, chat)
    if existing is not None:
        return _refresh(existing, path, sha, sources, me, title, options)
    return _create(path, sha, sources, me, name, title, options)


# --------------------------------------------------------------------------- the steps
def _read(path: Path, chat: str | None) -> list[ChatSource]:
    sources = read_chats(path, chat=chat)
    with_people = [s for s in sources if s.participants]
    if not with_people:
        raise ProjectError(f"{path.name} has no messages from anyone", "export the chat again")
    return with_people


def _me_in(source: ChatSource, me: str | None, people: People, me_person: str | None) -> str:
    """Which participant of ``source`` is the user, as the export spells it."""
    names = source.participants
    if me:
        return resolve_name(me, names)
    if me_person is not None:
        mine = [n for n in names if people.person_of(n) == me_person]
        if len(mine) == 1:
            return mine[0]
    if source.me in names:
        return source.me
    shown = ", ".join(names[:20])
    where = f"chat {source.title!r}" if source.title else "this chat"
    raise ProjectError(f"which participant of {where} is you?", f"add --me NAME (one of: {shown})")


def _entries(sources: Sequence[ChatSource], path: Path, sha: str, people: People, me: str | None,
             me_person: str | None, title: str | None, taken: list[str],
             keep_ids: dict[str, str] | None = None) -> tuple[list[ChatEntry], dict[str, list], str]:
    """New chat entries (and their messages by id) for ``sources``; fills ``people``.
    Returns ``(entries, messages, me_person)``."""
    if title is not None and len(sources) > 1:
        raise ProjectError("--title names one chat, and this export holds several", "pick one with --chat NAME")
    entries, messages = [], {}
    now = _now()
    for source in sources:
        me_raw = _me_in(source, me, people, me_person)
        me_person = people.add(me_raw, me_person or me_raw)
        for name in source.participants:
            if name != me_raw:
                people.add(name)
        chat_title = title or source.title or _partner(source, me_raw, people) or path.stem
        chat_id = (keep_ids or {}).get(source.key) or new_chat_id(chat_title, taken)
        taken.append(chat_id)
        info = source.info
        entries.append(ChatEntry(
            id=chat_id, platform=source.platform, title=chat_title, is_group=source.is_group,
            source={"file": str(path.resolve()), "sha256": sha, "size": path.stat().st_size, "chat": source.key},
            participants=source.participants, me=me_raw,
            parse={"platform": info.platform, "date_order": info.date_order, "time_format": info.time_format,
                   "encoding": info.encoding, "chat_file": info.chat_file, "unparsed": len(info.unparsed),
                   "counts_by_kind": dict(info.counts_by_kind), "counts_by_author": dict(info.counts_by_author)},
            added=now))
        messages[chat_id] = source.messages
    return entries, messages, me_person


def _partner(source: ChatSource, me_raw: str, people: People) -> str | None:
    if source.is_group:
        return None
    others = [n for n in source.participants if n != me_raw]
    return people.resolve(others[0]) if len(others) == 1 else None


def _options(options: DatasetOptions | None, base: DatasetOptions | None, people: People) -> DatasetOptions:
    options = options or base or DatasetOptions()
    options.validate()
    if options.personas:
        options.personas = list(dict.fromkeys(people.find_person(p, "participant") for p in options.personas))
    return options


def _build(entries: list[ChatEntry], messages: dict[str, list], stored: Project | None, people: People,
           me: str, options: DatasetOptions, exclusions: Sequence[str], files: ProjectFiles):
    """The dataset over ``entries`` (messages of new chats given, the others read), its rows
    written to ``files`` as they are made; the pairs only counted (made on first use)."""
    data = []
    for entry in entries:
        raw = messages[entry.id] if entry.id in messages else stored.raw_messages(entry.id)
        data.append(ChatData(entry, resolve_messages(raw, people), resolved_participants(entry, people)))
    personas = (options.personas if options.personas else default_personas(me, entries, people))
    with project_mod.dataset_writer(files) as rows:
        return build_chats_dataset(data, me, personas, options, exclusions, rows=rows, keep_pairs=False)


def _config(name: str, created: str, me: str, people: People, entries: list[ChatEntry], result,
            options: DatasetOptions, messages: dict[str, list]) -> dict:
    config = {"name": name, "format": FORMAT, "created": created, "me": me, "people": people.to_json()}
    config.update(project_summary(entries, result, options))
    config["language"] = _language(entries, messages, None)
    return config


def _language(entries: list[ChatEntry], messages: dict[str, list], stored: Project | None) -> dict:
    """The detected language of every message of ``entries`` (new ones given, the others read)."""
    every: list = []
    for entry in entries:
        every += messages[entry.id] if entry.id in messages else stored.raw_messages(entry.id)
    return detect_language(every).to_dict()


_IMPORTING_RE = re.compile(r"^\..+\.(?P<pid>\d+)\.[^.]+\.importing$")


def _sweep_interrupted_imports(root: Path) -> None:
    """Remove the half-assembled folders of imports whose process is gone (killed mid-import)."""
    for folder in root.glob(".*.importing"):
        m = _IMPORTING_RE.match(folder.name)
        if m and folder.is_dir() and not pid_alive(int(m.group("pid"))):
            shutil.rmtree(folder, ignore_errors=True)


def _create(path: Path, sha: str, sources: list[ChatSource], me: str | None, name: str | None,
            title: str | None, options: DatasetOptions | None) -> Project:
    people = People()
    entries, messages, me_person = _entries(sources, path, sha, people, me, None, title, [])
    options = _options(options, None, people)
    if name is None:
        name = unique_name(slugify(entries[0].title if len(entries) == 1 else path.stem))
    root = paths.ensure_private_dir(paths.projects_dir())
    final = root / name
    # assemble in a hidden folder, then rename: a failed import leaves nothing behind
    _sweep_interrupted_imports(root)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.{os.getpid()}.", suffix=".importing", dir=root))
    try:
        tmp.chmod(0o700)
        files = ProjectFiles(tmp)
        result = _build(entries, messages, None, people, me_person, options, [], files)
        project_mod.write_messages(files, messages)
        config = _config(name, _now(), me_person, people, entries, result, options, messages)
        atomic.write_json(files.exclusions, {"pairs": []})
        atomic.write_json(files.project_json, config)
        if final.exists():
            # a folder without project.json (an interrupted, older import): replace it
            if ProjectFiles(final).is_project():
                raise ProjectError(f"project {name!r} already exists", "choose another --project name")
            shutil.rmtree(final)
        try:
            tmp.rename(final)
        except OSError:  # another import created it meanwhile
            raise ProjectError(f"project {name!r} already exists", "choose another --project name") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    set_last_project(name)
    project = Project(final, config)
    project.last_result, project.added = result, entries
    return project


def _save(project: Project, entries: list[ChatEntry], messages: dict[str, list], people: People,
          options: DatasetOptions, dropped: Sequence[str] = ()) -> Project:
    """Write an existing project's new state: new messages and the dataset, then project.json
    (last), then the folders of chats no longer in it. One writer; every file replaced together."""
    files = project.files
    with project_lock(files, "importing a chat"), atomic.transaction(files.journal):
        # exclusions read under the lock: one saved while this import parsed is kept
        result = _build(entries, messages, project, people, project.me, options, project.exclusions(), files)
        project_mod.write_messages(files, messages)
        files.stats.unlink(missing_ok=True)      # new messages: the style document is stale
        if not files.exclusions.exists():
            atomic.write_json(files.exclusions, {"pairs": []})
        config = {**project.config, "format": FORMAT, "people": people.to_json()}
        config.update(project_summary(entries, result, options))
        config["language"] = _language(entries, messages, project)
        atomic.write_json(files.project_json, config)
    for chat_id in dropped:
        if chat_id not in {e.id for e in entries}:
            shutil.rmtree(files.chat(chat_id).dir, ignore_errors=True)
    set_last_project(project.name)
    saved = Project(project.dir, config)
    saved.last_result = result
    return saved


def _add(project: Project, path: Path, sha: str, me: str | None, chat: str | None, title: str | None,
         options: DatasetOptions | None, refresh: bool) -> Project:
    sources = _read(path, chat)
    held = {c.source.get("chat") or "": c for c in project.chats if c.source.get("sha256") == sha}
    new = [s for s in sources if s.key not in held]
    if not new and not refresh:
        set_last_project(project.name)
        project.unchanged = True
        return project
    if not new:
        return _refresh(project, path, sha, sources, me, title, options)
    people = project.people
    added, messages, _ = _entries(new, path, sha, people, me, project.me, title, [c.id for c in project.chats])
    saved = _save(project, project.chats + added, messages, people, _options(options, project.options, people))
    saved.added = added
    return saved


def _refresh(project: Project, path: Path, sha: str, sources: list[ChatSource], me: str | None,
             title: str | None, options: DatasetOptions | None) -> Project:
    """Read the chats of ``path`` again into ``project`` (the chats of that file, or the
    project's only chat when it came from another file)."""
    chats = project.chats
    same = [c for c in chats if c.source.get("sha256") == sha or c.source.get("file") == str(path.resolve())]
    if not same:
        if len(chats) != 1:
            raise ProjectError(f"project {project.name!r} holds {len(chats)} chats and none of them is {path.name}",
                               "add it with --add, or remove a chat first (`wachat chats P --remove CHAT`)")
        same = chats
    replaced = {c.id for c in same}
    keep_ids = {(c.source.get("chat") or ""): c.id for c in same}
    if len(same) == 1 and len(sources) == 1:
        keep_ids = {sources[0].key: same[0].id}
    people = project.people
    kept = [c for c in chats if c.id not in replaced]
    entries, messages, _ = _entries(sources, path, sha, people, me, project.me, title,
                                    [c.id for c in kept], keep_ids)
    for entry in entries:   # a refreshed chat keeps when it was first added
        old = next((c for c in same if c.id == entry.id), None)
        if old is not None:
            entry.added = old.added
    people.keep_only({n for c in kept + entries for n in c.participants}, keep_people=[project.me])
    saved = _save(project, kept + entries, messages, people, _options(options, project.options, people),
                  dropped=sorted(replaced))
    saved.added = entries
    return saved


def remove_chat(project: Project, ref: str) -> ChatEntry:
    """Take a chat out of ``project`` with everything made from it: its messages, its dataset
    rows and pairs (and their review exclusions), its style numbers, and the names only it used."""
    entry = project.chat(ref)
    chats = project.chats
    if len(chats) == 1:
        raise ProjectError(f"{entry.title or entry.id!r} is the only chat of project {project.name!r}",
                           f"delete the project instead (its folder: {project.dir})")
    its_pairs = {p.id for p in project.pairs() if p.chat_id == entry.id}
    remaining = [c for c in chats if c.id != entry.id]
    people = project.people
    people.keep_only({n for c in remaining for n in c.participants}, keep_people=[project.me])
    options = project.options
    if options.personas:
        options.personas = [p for p in options.personas if p in people.names] or None
    with project_lock(project.files, "removing a chat"), atomic.transaction(project.files.journal):
        exclusions = [i for i in project.exclusions() if i not in its_pairs]
        atomic.write_json(project.files.exclusions, {"pairs": exclusions})
        project.config.update({"chats": [c.to_json() for c in remaining], "people": people.to_json(),
                               "options": options.to_dict(),
                               "language": _language(remaining, {}, project)})
        project.rebuild(options, restyle=True, exclusions=exclusions)
    shutil.rmtree(project.files.chat(entry.id).dir, ignore_errors=True)
    return entry
