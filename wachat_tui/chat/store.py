"""Chat history per project: SQLite at ``ProjectFiles.chat_db`` (``chat.sqlite``, 0600, WAL).

Every completed line is committed on its own, so a crash loses at most the reply that was
being generated. Safe to share between threads (one connection behind a lock).
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable, Sequence

from ..core.layout import ProjectFiles
from ..errors import ProjectError
from ..paths import ensure_private_dir
from .lines import ChatLine

BUSY_TIMEOUT_S = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    title    TEXT NOT NULL DEFAULT '',
    kind     TEXT NOT NULL DEFAULT 'chat',      -- 'chat' | 'simulation'
    personas TEXT NOT NULL DEFAULT '[]',        -- JSON list: who the model played / simulated
    model    TEXT NOT NULL DEFAULT '',          -- GGUF file name
    created  TEXT NOT NULL,
    updated  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    author       TEXT NOT NULL,
    text         TEXT NOT NULL,
    by_model     INTEGER NOT NULL,
    time         TEXT NOT NULL,
    played       TEXT                             -- persona the model was playing then
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation, id);
"""


@dataclass(frozen=True)
class SavedConversation:
    """What the store knows about one conversation (newest first from ``ChatStore.conversations()``)."""

    id: int
    title: str
    kind: str
    personas: tuple[str, ...]
    model: str
    created: datetime
    updated: datetime
    n_messages: int


def _now() -> str:
    return datetime.now().replace(microsecond=0).isoformat()


class ChatStore:
    """``ChatStore(project_dir)`` — or a path ending in ``.sqlite`` — opens/creates the store."""

    def __init__(self, where: str | os.PathLike):
        where = Path(where)
        self.path = where if where.suffix in (".sqlite", ".db") else ProjectFiles(where).chat_db
        ensure_private_dir(self.path.parent)
        try:
            # create the file owner-only before SQLite does (its WAL/SHM copy these permissions)
            fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
            os.close(fd)
            os.chmod(self.path, 0o600)
            # several processes may append at once (the app and `wachat chat`): SQLite serialises
            # the writers; each waits up to BUSY_TIMEOUT_S for the other's commit
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                       timeout=BUSY_TIMEOUT_S)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ProjectError(f"the chat history {self.path} is unreadable ({exc})",
                               hint="move the file away to start a new history") from exc
        except OSError as exc:
            raise ProjectError(f"cannot open the chat history {self.path}: {exc.strerror or exc}") from exc
        self._lock = threading.Lock()

    # -- conversations --------------------------------------------------------------

    def new_conversation(self, title: str = "", *, kind: str = "chat",
                         personas: Sequence[str] = (), model: str = "") -> int:
        now = _now()
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO conversations(title, kind, personas, model, created, updated)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (title, kind, json.dumps(list(personas), ensure_ascii=False), model, now, now))
            return int(cur.lastrowid)

    def conversations(self) -> list[SavedConversation]:
        with self._lock:
            rows = self._db.execute(
                "SELECT c.id, c.title, c.kind, c.personas, c.model, c.created, c.updated,"
                " (SELECT COUNT(*) FROM messages m WHERE m.conversation = c.id)"
                " FROM conversations c ORDER BY c.updated DESC, c.id DESC").fetchall()
        return [SavedConversation(r[0], r[1], r[2], tuple(json.loads(r[3] or "[]")), r[4],
                             datetime.fromisoformat(r[5]), datetime.fromisoformat(r[6]), r[7])
                for r in rows]

    def latest(self, kind: str | None = None) -> int | None:
        """The most recently updated conversation (of ``kind``), or None."""
        for conv in self.conversations():
            if kind is None or conv.kind == kind:
                return conv.id
        return None

    def rename(self, conversation: int, title: str) -> None:
        with self._lock:
            self._db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation))

    def delete(self, conversation: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM messages WHERE conversation = ?", (conversation,))
            self._db.execute("DELETE FROM conversations WHERE id = ?", (conversation,))

    # -- messages -------------------------------------------------------------------

    def add(self, conversation: int, line: ChatLine, played: str | None = None) -> int:
        """Append one line and commit it at once."""
        with self._lock:
            try:
                cur = self._db.execute(
                    "INSERT INTO messages(conversation, author, text, by_model, time, played)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (conversation, line.author, line.text, int(line.by_model),
                     line.time.isoformat(timespec="seconds"), played))
            except sqlite3.IntegrityError as exc:
                raise ProjectError(f"conversation {conversation} does not exist") from exc
            self._db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (_now(), conversation))
            return int(cur.lastrowid)

    def add_many(self, conversation: int, lines: Iterable[ChatLine], played: str | None = None) -> None:
        for line in lines:
            self.add(conversation, line, played)

    def truncate(self, conversation: int, keep: int) -> None:
        """Keep the first ``keep`` lines of a conversation, delete the rest (one transaction)."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute(
                    "DELETE FROM messages WHERE conversation = ? AND id NOT IN"
                    " (SELECT id FROM messages WHERE conversation = ? ORDER BY id LIMIT ?)",
                    (conversation, conversation, max(0, keep)))
                self._db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (_now(), conversation))
            except sqlite3.DatabaseError:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def history(self, conversation: int) -> list[ChatLine]:
        with self._lock:
            rows = self._db.execute(
                "SELECT author, text, by_model, time FROM messages WHERE conversation = ? ORDER BY id",
                (conversation,)).fetchall()
        return [ChatLine(a, t, bool(b), datetime.fromisoformat(ts)) for a, t, b, ts in rows]

    def played(self, conversation: int) -> list[str | None]:
        """For each line of ``history(conversation)``, the persona the model was playing."""
        with self._lock:
            rows = self._db.execute("SELECT played FROM messages WHERE conversation = ? ORDER BY id",
                                    (conversation,)).fetchall()
        return [r[0] for r in rows]

    # -- lifetime -------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> "ChatStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
