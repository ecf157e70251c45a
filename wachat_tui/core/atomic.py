"""Atomic, owner-only file writes: write to a temp name in the same folder, fsync, rename."""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterable, Iterator

from ..paths import ensure_private_dir


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


#: json.dumps(row, ensure_ascii=False) without building an encoder for every row
_encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    """One JSON object per line (``json.dumps(row, ensure_ascii=False)``); returns the count."""
    return write_lines(path, map(_encode, rows))


def write_lines(path: Path, lines: Iterable[str], batch: int = 2000) -> int:
    """Text lines (each without its line end), written in batches; returns the count."""
    n = 0
    with atomic_open(path) as fh:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= batch:
                chunk.append("")
                fh.write("\n".join(chunk))
                n += len(chunk) - 1
                chunk.clear()
        if chunk:
            chunk.append("")
            fh.write("\n".join(chunk))
            n += len(chunk) - 1
    return n


def read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                yield json.loads(line)
