"""One project, one writer: advisory file locks (``fcntl.flock``) on the project's lock files.

* ``write`` (:attr:`ProjectFiles.lock`) is held around every write of the project's own files:
  an import or refresh, an exclusion, the style document, the export registry, the dataset
  snapshot a training run takes when it starts. Those writes are short, so a second writer
  waits for it (up to :data:`WRITE_WAIT_S`) before it gives up with a clear message.
* ``training`` and ``export`` (:meth:`ProjectFiles.job_lock`) are held by the training and
  export processes for as long as they run. Those take minutes, so a second one is refused at
  once, with one line naming what runs and its process id.

The OS releases a flock when its process ends, however it ends — a kill -9 never leaves a
project locked. The lock file records who holds it (pid, what, since) for the message; it is
not what makes the lock (a stale record is ignored). Within one process the lock is reentrant
for the thread that holds it, and other threads wait like other processes do.

Acquiring the write lock also finishes a multi-file write a crash interrupted
(:func:`wachat_tui.core.atomic.recover`), so the next writer always starts from a whole project.
"""
from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

from ..errors import ProjectError
from .layout import ProjectFiles

WRITE_WAIT_S = 30.0
"""How long a short write waits for another one to finish before giving up
(``WACHAT_LOCK_WAIT`` seconds overrides it)."""

KINDS = ("write", "training", "export")
_POLL_S = 0.05
_GRACE_S = 0.2   # even a "refuse at once" tries for this long: a probe (lock_holder) may hold it briefly


@dataclass(frozen=True)
class LockHolder:
    """Who holds a lock, as its lock file records it."""

    pid: int | None
    what: str
    since: str
    run_id: str | None = None
    """The training run a ``training`` lock is held for."""

    def describe(self) -> str:
        when = self.since[11:19] if len(self.since) >= 19 else self.since
        who = f"process {self.pid}" if self.pid else "another process"
        return f"{self.what or 'another wachat command'} ({who}" + (f", since {when})" if when else ")")


class ProjectBusy(ProjectError):
    """Another process (or thread) holds the project's lock."""

    exit_code = 75  # EX_TEMPFAIL: try again later

    def __init__(self, project: str, kind: str, holder: LockHolder | None, waited: float):
        self.holder = holder
        self.kind = kind
        doing = holder.describe() if holder else "another wachat command"
        message = f"project {project!r} is busy: {doing} is running"
        if kind == "write":
            hint = f"waited {waited:.0f} s for it to finish; try again when it is done"
        elif kind == "training":
            hint = "one training run at a time: wait for it to finish, or cancel it (Ctrl-C, or c in the app)"
        else:
            hint = "one export at a time: wait for it to finish"
        super().__init__(message, hint)


class _Held:
    """This process's hold on one lock file."""

    def __init__(self) -> None:
        self.guard = threading.RLock()
        self.fd: int | None = None
        self.depth = 0


_registry: dict[str, _Held] = {}
_registry_guard = threading.Lock()


def _held_for(path: Path) -> _Held:
    key = os.path.realpath(path)  # one entry per file, however its path was spelt
    with _registry_guard:
        return _registry.setdefault(key, _Held())


def lock_path(files: ProjectFiles, kind: str) -> Path:
    if kind not in KINDS:
        raise ValueError(f"unknown lock kind {kind!r}")
    return files.lock if kind == "write" else files.job_lock(kind)


def _files(project) -> ProjectFiles:
    if isinstance(project, ProjectFiles):
        return project
    return ProjectFiles(getattr(project, "dir", project))


def read_holder(path: Path) -> LockHolder | None:
    """The record in a lock file (None when empty or unreadable)."""
    try:
        with open(path, encoding="utf-8") as fh:
            row = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(row, dict):
        return None
    pid = row.get("pid")
    run_id = row.get("run_id")
    return LockHolder(pid if isinstance(pid, int) else None, str(row.get("what") or ""), str(row.get("since") or ""),
                      run_id if isinstance(run_id, str) else None)


def lock_holder(project, kind: str = "write") -> LockHolder | None:
    """Who holds the lock now (None when nobody does). A non-blocking probe: it never waits."""
    files = _files(project)
    path = lock_path(files, kind)
    held = _held_for(path)
    if held.depth and held.guard.acquire(blocking=False):   # this thread holds it
        held.guard.release()
        return read_holder(path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return read_holder(path) or LockHolder(None, "", "")
    finally:
        os.close(fd)   # closing drops the probe's shared lock, if it got one
    return None


def run_being_trained(project, run_id: str) -> LockHolder | None:
    """Who is training ``run_id`` right now (None when no process is)."""
    holder = lock_holder(project, "training")
    return holder if holder is not None and holder.run_id == run_id else None


@contextmanager
def project_lock(project, what: str, *, kind: str = "write", wait: float | None = None,
                 run_id: str | None = None) -> Iterator[None]:
    """Hold the project's ``kind`` lock for the block; ``what`` says what this process is doing
    (shown to the writer who has to wait), ``run_id`` which run it trains (for a ``training``
    lock). ``wait``: seconds to wait for a holder to finish (default :data:`WRITE_WAIT_S` for
    writes, none for the long jobs), then :class:`ProjectBusy`. ``project``: a Project,
    ProjectFiles or the project folder."""
    files = _files(project)
    path = lock_path(files, kind)
    if wait is None:
        wait = _write_wait() if kind == "write" else 0.0
    deadline = time.monotonic() + max(wait, _GRACE_S)
    held = _held_for(path)
    if not held.guard.acquire(timeout=max(wait, _GRACE_S)):
        raise ProjectBusy(files.name, kind, read_holder(path), wait)
    try:
        if held.depth:                       # reentrant: this thread already holds it
            held.depth += 1
            try:
                yield
            finally:
                held.depth -= 1
            return
        fd = _acquire(path, deadline)
        if fd is None:
            raise ProjectBusy(files.name, kind, read_holder(path), wait)
        held.fd, held.depth = fd, 1
        try:
            _record(fd, what, run_id)
            if kind == "write":
                _finish_interrupted_writes(files)
            yield
        finally:
            held.fd, held.depth = None, 0
            _release(fd)
    finally:
        held.guard.release()


def _write_wait() -> float:
    try:
        return max(0.0, float(os.environ.get("WACHAT_LOCK_WAIT", WRITE_WAIT_S)))
    except ValueError:
        return WRITE_WAIT_S


def _acquire(path: Path, deadline: float) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                return None
            time.sleep(_POLL_S)


def _record(fd: int, what: str, run_id: str | None) -> None:
    row = {"pid": os.getpid(), "what": what, "since": datetime.now().isoformat(timespec="seconds")}
    if run_id:
        row["run_id"] = run_id
    data = json.dumps(row, ensure_ascii=False).encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _release(fd: int) -> None:
    try:
        os.ftruncate(fd, 0)          # nobody holds it now: no stale record for the next reader
    except OSError:
        pass
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def _finish_interrupted_writes(files: ProjectFiles) -> None:
    from .atomic import recover

    recover(files.journal, (files.dir, files.dataset_dir))
