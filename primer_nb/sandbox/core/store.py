"""SQLite storage of sandbox sessions: one row per session, one transaction per write.

WAL mode with ``synchronous=NORMAL``: a write is committed before the HTTP
response is sent, and a committed write survives the server being killed
(``kill -9``), because it is already in the WAL file the OS holds. Only a
power cut could lose the last moments, which a local sandbox can accept.

Checkpoints (copying the WAL back into the database, with an fsync) would
otherwise run inside whichever request crosses the WAL size limit and stall
it; a background thread runs them instead.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

__all__ = ["SessionStore", "StoredSession"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id          TEXT PRIMARY KEY,
    token       TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class StoredSession:
    """A session row: its id (the token's ``accessToken``), token, request state and times."""

    id: str
    token: str
    state: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime


class SessionStore:
    """Sessions in one SQLite database (a file, or ``":memory:"``)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Reentrant, so a transaction (see transaction()) can call the other methods.
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._closed = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if self.path != ":memory:":
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="primer-nb-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _checkpoint_loop(self, interval: float = 0.5) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            connection.execute("PRAGMA busy_timeout=1000")
            while not self._closed.wait(interval):
                # PASSIVE never blocks writers; it copies what it can and returns.
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the store's lock: ``BEGIN IMMEDIATE`` … ``COMMIT``.

        It is rolled back if the block raises. The sandbox's other records (payments,
        webhook deliveries) are written through this, so they live in the same file
        with the same durability as the sessions, and every write is one transaction.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the store's lock, for reads outside a transaction."""
        with self._lock:
            yield self._db

    def secret(self, make: str | None = None) -> str:
        """The signing secret kept with the data (created on first use, ``make`` if given)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
            if row:
                return str(row[0])
            value = make or secrets.token_urlsafe(32)
            self._db.execute("INSERT INTO meta (key, value) VALUES ('secret', ?)", (value,))
            return value

    def insert(self, session: StoredSession) -> None:
        """Store a new session (committed on return)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO sessions (id, token, state, created_at, updated_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    session.id,
                    session.token,
                    orjson.dumps(session.state).decode(),
                    session.created_at.isoformat(),
                    session.updated_at.isoformat(),
                    session.expires_at.isoformat(),
                ),
            )

    def get(self, session_id: str) -> StoredSession | None:
        """The session with this id, or ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT id, token, state, created_at, updated_at, expires_at FROM sessions WHERE id = ?",
                (session_id,),
            ).fetchone()
        return _row(row) if row else None

    def update(self, session_id: str, state: dict[str, Any], updated_at: datetime) -> None:
        """Replace a session's state (committed on return)."""
        with self._lock:
            self._db.execute(
                "UPDATE sessions SET state = ?, updated_at = ? WHERE id = ?",
                (orjson.dumps(state).decode(), updated_at.isoformat(), session_id),
            )

    def all(self) -> Iterator[StoredSession]:
        """Every stored session, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, token, state, created_at, updated_at, expires_at FROM sessions "
                "ORDER BY created_at, rowid"
            ).fetchall()
        return (_row(row) for row in rows)

    def count(self) -> int:
        """How many sessions are stored."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM sessions").fetchone()[0])

    def close(self) -> None:
        """Stop the checkpointer and close the database (idempotent)."""
        self._closed.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
            self._checkpointer = None
        with self._lock:
            self._db.close()


def _row(row: tuple[Any, ...]) -> StoredSession:
    def when(text: str) -> datetime:
        value = datetime.fromisoformat(text)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    return StoredSession(row[0], row[1], orjson.loads(row[2]), when(row[3]), when(row[4]), when(row[5]))
