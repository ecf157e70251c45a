"""Atomic, owner-only file writes: write to a temp name in the same folder, fsync, rename.

Several files that belong together (a project's dataset and its ``project.json``) are replaced
as one with :func:`transaction`: each is written and fsynced under its temp name as usual, but
the renames wait for the end of the block, where a journal listing them is written first. A
process killed before the journal leaves only temp files (swept by :func:`recover`); killed
after it, :func:`recover` finishes the renames. Either way the next reader sees all the old
files or all the new ones, never a mix.
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Iterable, Iterator, Sequence

import orjson

from ..paths import ensure_private_dir


class _Transaction:
    def __init__(self, journal: Path):
        self.journal = Path(journal)
        self.renames: dict[str, str] = {}   # target → temp file holding its new content

    def add(self, tmp: str, target: Path) -> None:
        superseded = self.renames.pop(str(target), None)
        if superseded is not None:
            _unlink(superseded)
        self.renames[str(target)] = tmp

    def commit(self) -> None:
        if not self.renames:
            return
        rows = [[tmp, target] for target, tmp in self.renames.items()]
        write_json(self.journal, {"renames": rows})   # the commit point
        _finish(self.journal, rows)

    def abort(self) -> None:
        for tmp in self.renames.values():
            _unlink(tmp)
        self.renames.clear()


_active: ContextVar[_Transaction | None] = ContextVar("wachat_atomic_transaction", default=None)


def _unlink(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _finish(journal: Path, rows: Sequence[Sequence[str]]) -> None:
    for tmp, target in rows:
        if os.path.exists(tmp):
            os.replace(tmp, target)
    _unlink(journal)


@contextmanager
def transaction(journal: Path) -> Iterator[None]:
    """Inside the block, files written with this module's functions (in this thread) replace
    their targets together at its end; an exception discards them all. ``journal`` is where
    the list of pending renames is kept while they are carried out. Nested blocks join the
    outer one. Files written inside are not visible at their paths until the block ends."""
    if _active.get() is not None:
        yield
        return
    txn = _Transaction(journal)
    token = _active.set(txn)
    try:
        yield
    except BaseException:
        _active.reset(token)
        txn.abort()
        raise
    _active.reset(token)
    try:
        txn.commit()
    except BaseException:
        if not txn.journal.exists():
            txn.abort()   # failed before the commit point: nothing changed
        raise


def recover(journal: Path, folders: Iterable[Path] = ()) -> bool:
    """After a crash: finish the renames of a transaction that reached its commit point, then
    remove the temp files writers left in ``folders``. Call it only while no writer of those
    folders runs (under the project's write lock). Returns whether anything was cleaned up."""
    cleaned = False
    journal = Path(journal)
    if journal.exists():
        with open(journal, encoding="utf-8") as fh:
            rows = json.load(fh).get("renames", [])
        _finish(journal, rows)
        cleaned = True
    for folder in folders:
        for leftover in Path(folder).glob(".*.tmp"):
            if leftover.is_file():
                _unlink(leftover)
                cleaned = True
    return cleaned


@contextmanager
def atomic_open(path: Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temp file next to ``path``; on success it replaces ``path`` (0600), on error it vanishes."""
    path = Path(path)
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o600)
    binary = "b" in mode
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        txn = _active.get()
        if txn is not None:
            txn.add(tmp, path)   # renamed with the others when the transaction ends
        else:
            os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_text(path: Path, text: str) -> None:
    with atomic_open(path) as fh:
        fh.write(text)


def write_json(path: Path, obj) -> None:
    with atomic_open(path) as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2)
        fh.write("\n")


#: orjson: the dataset rows and pairs of a big chat (~80 MB of JSON) in a fifth of the json
#: module's time. Compact separators; otherwise the same JSON (UTF-8 unescaped like
#: ``ensure_ascii=False``; datetimes as ``isoformat(timespec="seconds")``).
_ROW_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS | orjson.OPT_OMIT_MICROSECONDS
#: The dataset rows (str keys, no datetimes): the bytes _ROW_OPTIONS gives them, without
#: OPT_NON_STR_KEYS' slower path (~15% of orjson's time on a big chat's rows).
_STR_KEY_OPTIONS = orjson.OPT_APPEND_NEWLINE


def write_jsonl(path: Path, rows: Iterable[dict], batch: int = 2000) -> int:
    """One JSON object per line; returns the count."""
    dumps = orjson.dumps
    n = 0
    with atomic_open(path, "wb") as fh:
        chunk: list[bytes] = []
        for row in rows:
            chunk.append(dumps(row, option=_ROW_OPTIONS))
            if len(chunk) >= batch:
                fh.write(b"".join(chunk))
                n += len(chunk)
                chunk.clear()
        fh.write(b"".join(chunk))
        n += len(chunk)
    return n


class JsonlSink:
    """Rows appended to an open binary file as JSON lines (as :func:`write_jsonl` writes
    them), in batches; ``len()`` is the number of rows so far. :meth:`flush` at the end.
    Rows with str keys only (the dataset's): another key fails (orjson.JSONEncodeError)."""

    def __init__(self, fh: IO[bytes], batch: int = 2000):
        self._fh = fh
        self._batch = batch
        self._chunk: list[bytes] = []
        self._written = 0

    def append(self, row: dict) -> None:
        chunk = self._chunk
        chunk.append(orjson.dumps(row, option=_STR_KEY_OPTIONS))
        if len(chunk) >= self._batch:
            self.flush()

    def flush(self) -> None:
        self._fh.write(b"".join(self._chunk))
        self._written += len(self._chunk)
        self._chunk.clear()

    def __len__(self) -> int:
        return self._written + len(self._chunk)


def write_blocks(path: Path, blocks: Iterable[bytes]) -> None:
    """Bytes, block after block (a file made elsewhere in pieces)."""
    with atomic_open(path, "wb") as fh:
        for block in blocks:
            fh.write(block)


def read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                yield json.loads(line)
