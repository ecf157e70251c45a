"""A project on disk: one imported chat with its messages, dataset, stats, runs and models.

Where each file lives is :class:`~wachat_tui.core.layout.ProjectFiles`' business (folders
0700, files 0600, every file written atomically): ``project.json`` (name, source file, sha256
and size, me, personas, participants, is_group, chat_name, parse info, dataset options,
counts, the detected language), ``messages.jsonl`` (Message.to_json rows), ``dataset/`` (train, validation, pairs),
``exclusions.json`` and ``stats.json``; ``<data_home>/state.json`` remembers the last project.

A new project is assembled in a hidden temporary folder and renamed into place, so an
import that fails leaves nothing behind; ``project.json`` is always the last file written.
The style document (``stats.json``) is computed the first time it is asked for and kept
until the messages, the session gap or the media option change; its training-set sizes are
always the project's current counts.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from .. import paths
from ..errors import ProjectError, WachatError
from . import atomic
from .dataset import DatasetOptions, DatasetResult, build_dataset, report_counts, split_sessions
from .language import LanguageReport, detect_language
from .layout import ProjectFiles, read_json_object, state_file
from .lock import project_lock
from .names import resolve_name, slugify
from .records import Message, Pair

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


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
    """An imported chat. Open one with :meth:`open`; create one with :func:`import_export`."""

    def __init__(self, directory: Path, config: dict):
        self.files = ProjectFiles(directory)
        """Where this project's files are."""
        self.dir = self.files.dir
        self.config = config
        self.unchanged = False
        """Set by :func:`import_export` when the same file was imported again (a no-op)."""
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
        return cls(files.dir, config)

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
                    found.append(cls(child, _read_object(files.project_json)))
                except (WachatError, FileNotFoundError):
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
    def personas(self) -> list[str]:
        return list(self.config.get("personas", []))

    @property
    def participants(self) -> list[str]:
        return list(self.config.get("participants", []))

    @property
    def is_group(self) -> bool:
        return bool(self.config.get("is_group"))

    @property
    def chat_name(self) -> str | None:
        return self.config.get("chat_name")

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

    # -- paths (shortcuts to ``files``) -----------------------------------------------------
    @property
    def messages_path(self) -> Path:
        return self.files.messages

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
    def messages(self) -> list[Message]:
        try:
            return [Message.from_json(row) for row in atomic.read_jsonl(self.messages_path)]
        except FileNotFoundError:
            raise ProjectError(f"project {self.name!r} has no messages.jsonl", "re-import the chat with --refresh") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ProjectError(f"project {self.name!r}: messages.jsonl is damaged ({exc})",
                               "re-import the chat with --refresh") from None

    def pairs(self) -> list[Pair]:
        """The review pairs of the current dataset (``dataset/pairs.jsonl``)."""
        try:
            return [Pair.from_json(row) for row in atomic.read_jsonl(self.files.pairs)]
        except FileNotFoundError:
            return []
        except (ValueError, KeyError, TypeError) as exc:
            raise ProjectError(f"project {self.name!r}: pairs.jsonl is damaged ({exc})",
                               "rebuild it: wachat import … --refresh") from None

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

    def build(self, options: DatasetOptions | None = None) -> DatasetResult:
        """Build the dataset in memory (nothing written): what the TUI previews."""
        return build_dataset(self.messages(), self.me, options or self.options, self.exclusions(),
                             chat_name=self.chat_name, participants=self.participants)

    def rebuild(self, options: DatasetOptions | None = None, exclusions: list[str] | None = None) -> DatasetResult:
        """Rebuild the dataset files (with new options if given); keeps exclusions. One writer at
        a time, and the dataset files and project.json are replaced together."""
        options = (options or self.options).validate()
        with project_lock(self.files, "rebuilding the dataset"), atomic.transaction(self.files.journal):
            before = self.options
            messages = self.messages()
            result = build_dataset(messages, self.me, options,
                                   self.exclusions() if exclusions is None else exclusions,
                                   chat_name=self.chat_name, participants=self.participants)
            _write_outputs(self.files, messages, result)
            if _style_inputs(options) != _style_inputs(before):
                self.files.stats.unlink(missing_ok=True)
            self.config.update({
                "options": options.to_dict(),
                "personas": result.personas,
                "counts": report_counts(result.report),
                "updated": _now(),
            })
            atomic.write_json(self.files.project_json, self.config)
        self.last_result = result
        return result

    def stats(self) -> dict:
        """The style document: computed on first use and kept in stats.json (it only changes
        with the messages, the session gap and the media option); the chat section's
        training-set sizes are the project's current counts."""
        from .stats import chat_counts, compute_stats

        try:
            doc = _read_object(self.files.stats)
        except (FileNotFoundError, WachatError):
            with project_lock(self.files, "writing the style document"):  # from the messages it was made of
                options = self.options
                messages = self.messages()
                sessions = split_sessions(messages, options.session_gap_minutes, options.media)
                doc = compute_stats(messages, sessions, gap_minutes=options.session_gap_minutes, me=self.me)
                atomic.write_json(self.files.stats, doc)
        chat = doc.get("chat")
        if isinstance(chat, dict) and self.counts:
            chat.update(chat_counts(self.counts))
            chat["personas"] = self.personas
        return doc

    def __repr__(self) -> str:
        return f"Project({self.name!r})"


def _style_inputs(options: DatasetOptions) -> tuple:
    """What the style document depends on besides the messages."""
    return options.session_gap_minutes, options.media


# ---------------------------------------------------------------------- writing


def _write_outputs(files: ProjectFiles, messages: list[Message], result: DatasetResult,
                   write_messages: bool = False) -> None:
    """The dataset files (and the messages, for an import)."""
    paths.ensure_private_dir(files.dir)
    paths.ensure_private_dir(files.dataset_dir)
    if write_messages:
        atomic.write_lines(files.messages, (m.to_json_line() for m in messages))
    atomic.write_jsonl(files.train, result.train)
    atomic.write_jsonl(files.validation, result.validation)
    atomic.write_lines(files.pairs, (p.to_json_line() for p in result.pairs))


def import_export(path: str | Path, me: str, name: str | None = None,
                  options: DatasetOptions | None = None, refresh: bool = False) -> Project:
    """Import a WhatsApp export as a project (or return the existing one for the same file).

    Importing the file a project was made from again changes nothing unless ``refresh`` is
    true; a refresh re-parses the file, keeps the exclusions made in review and, when no
    ``options`` are given, the project's options.
    """
    from .parse import parse_export

    path = Path(path)
    if not path.is_file():
        raise ProjectError(f"no such file: {path}", "give the path of a WhatsApp .txt or .zip export")
    if name is not None:
        validate_name(name)
    sha = file_sha256(path)

    existing: Project | None = None
    if name is not None and Project.exists(name):
        existing = Project.open(name)
    elif name is None:
        existing = next((p for p in Project.list() if p.config.get("source", {}).get("sha256") == sha), None)

    if existing is not None and not refresh:
        same_file = existing.config.get("source", {}).get("sha256") == sha
        if same_file:
            set_last_project(existing.name)
            existing.unchanged = True
            return existing
        raise ProjectError(f"project {existing.name!r} already exists for a different export",
                           "add --refresh to replace its messages with this file, or choose another --project name")

    parsed = parse_export(path)
    info = parsed.info
    participants = list(info.participants)
    if not participants:
        raise ProjectError(f"{path.name} has no messages from anyone", "export the chat again from WhatsApp")
    me = resolve_name(me, participants)
    if options is None:
        options = existing.options if existing is not None else DatasetOptions()
    options.validate()
    if options.personas:
        options.personas = [resolve_name(p, participants, "personas") for p in options.personas]

    if name is None:
        name = existing.name if existing is not None else _unique_name(slugify(info.chat_name or path.stem))
    messages = list(parsed.messages)
    exclusions = existing.exclusions() if existing is not None else []
    result = build_dataset(messages, me, options, exclusions, chat_name=info.chat_name, participants=participants)
    now = _now()
    config = {
        "name": name,
        "created": existing.config.get("created", now) if existing is not None else now,
        "updated": now,
        "source": {"file": str(path.resolve()), "sha256": sha, "size": path.stat().st_size},
        "me": me,
        "personas": result.personas,
        "participants": participants,
        "is_group": len(participants) > 2,
        "chat_name": info.chat_name,
        "parse": {
            "platform": info.platform,
            "date_order": info.date_order,
            "time_format": info.time_format,
            "encoding": info.encoding,
            "chat_file": info.chat_file,
            "unparsed": len(info.unparsed),
            "counts_by_kind": dict(info.counts_by_kind),
            "counts_by_author": dict(info.counts_by_author),
        },
        "options": options.to_dict(),
        "counts": report_counts(result.report),
        "language": detect_language(messages).to_dict(),
    }

    root = paths.ensure_private_dir(paths.projects_dir())
    final = root / name
    if existing is None:
        # assemble in a hidden folder, then rename: a failed import leaves nothing behind
        _sweep_interrupted_imports(root)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.{os.getpid()}.", suffix=".importing", dir=root))
        try:
            tmp.chmod(0o700)
            files = ProjectFiles(tmp)
            _write_outputs(files, messages, result, write_messages=True)
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
    else:
        files = ProjectFiles(final)
        # one writer; every file replaced together (a kill leaves the old project or the new one)
        with project_lock(files, f"importing {path.name}"), atomic.transaction(files.journal):
            current = existing.exclusions()
            if current != exclusions:  # one was saved while this import parsed: build with it
                result = build_dataset(messages, me, options, current, chat_name=info.chat_name,
                                       participants=participants)
                config.update(personas=result.personas, counts=report_counts(result.report))
            _write_outputs(files, messages, result, write_messages=True)
            files.stats.unlink(missing_ok=True)      # new messages: the style document is stale
            if not files.exclusions.exists():
                atomic.write_json(files.exclusions, {"pairs": []})
            atomic.write_json(files.project_json, config)
    set_last_project(name)
    project = Project(final, config)
    project.last_result = result
    return project


_IMPORTING_RE = re.compile(r"^\..+\.(?P<pid>\d+)\.[^.]+\.importing$")


def _sweep_interrupted_imports(root: Path) -> None:
    """Remove the half-assembled folders of imports whose process is gone (killed mid-import)."""
    from .layout import pid_alive

    for folder in root.glob(".*.importing"):
        m = _IMPORTING_RE.match(folder.name)
        if m and folder.is_dir() and not pid_alive(int(m.group("pid"))):
            shutil.rmtree(folder, ignore_errors=True)


def _unique_name(base: str) -> str:
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
