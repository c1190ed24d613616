"""The session ledger: a local record of every session the client created or updated.

Primer's API cannot list sessions, so the kit remembers them: one SQLite row
per client token in ``$PRIMER_NB_HOME/ledger.sqlite3`` (file mode 0600), with
the environment, order id, amount, currency, warnings, expiry, timestamps and
the last body received. ``PrimerClient.sessions()`` reads it back as
:class:`~primer_nb.api.session.ClientSession` objects for the tables. The API key
is never stored.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from primer_nb.api.session import ClientSession
from primer_nb.config.settings import home

__all__ = ["Ledger"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    client_token TEXT PRIMARY KEY,
    environment  TEXT NOT NULL,
    base_url     TEXT NOT NULL,
    order_id     TEXT,
    amount       INTEGER,
    currency     TEXT,
    warnings     TEXT NOT NULL,
    expires_at   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_environment ON sessions (environment, created_at);
"""


class Ledger:
    """Sessions recorded by clients, in a private SQLite file."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else home() / "ledger.sqlite3"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # Create it private before SQLite writes anything into it.
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self.path.chmod(0o600)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # no fsync per row: it is a local notebook aid
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def record(self, session: ClientSession, *, environment: str, base_url: str) -> None:
        """Insert or refresh the row of ``session`` (it must carry its client token)."""
        if not session.client_token:
            return
        now = datetime.now(UTC).isoformat()
        body = {k: v for k, v in session.raw.items() if k != "clientToken"}
        warnings = [w.model_dump() for w in session.warnings]
        with self._lock:
            previous = self._db.execute(
                "SELECT warnings, body FROM sessions WHERE client_token = ?", (session.client_token,)
            ).fetchone()
            if previous and not warnings:
                # GET and PATCH responses carry no warnings: keep those of the create.
                warnings = json.loads(previous[0])
            self._db.execute(
                """
                INSERT INTO sessions (client_token, environment, base_url, order_id, amount, currency,
                                      warnings, expires_at, created_at, updated_at, body)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (client_token) DO UPDATE SET
                    order_id = excluded.order_id, amount = excluded.amount, currency = excluded.currency,
                    warnings = excluded.warnings, expires_at = COALESCE(excluded.expires_at, expires_at),
                    updated_at = excluded.updated_at, body = excluded.body
                """,
                (
                    session.client_token, environment, base_url.rstrip("/"), session.order_id,
                    session.amount, session.currency_code, json.dumps(warnings),
                    session.expires_at.isoformat() if session.expires_at else None, now, now,
                    json.dumps(body),
                ),
            )  # fmt: skip

    def sessions(self, *, environment: str | None = None, base_url: str | None = None) -> list[ClientSession]:
        """Recorded sessions, oldest first, optionally only those of one environment or server."""
        query = "SELECT client_token, warnings, expires_at, body FROM sessions"
        clauses, params = [], []
        if environment is not None:
            clauses.append("environment = ?")
            params.append(environment)
        if base_url is not None:
            clauses.append("base_url = ?")
            params.append(base_url.rstrip("/"))
        if clauses:
            query += " WHERE " + " AND ".join(clauses)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY created_at, rowid", params).fetchall()
        return [_session(*row) for row in rows]

    def rows(self) -> list[dict[str, Any]]:
        """Every row as a dict (what the file holds, for inspection and tests)."""
        with self._lock:
            cursor = self._db.execute("SELECT * FROM sessions ORDER BY created_at, rowid")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"


def _session(token: str, warnings: str, expires_at: str | None, body: str) -> ClientSession:
    data = json.loads(body)
    data["clientToken"] = token
    data["warnings"] = json.loads(warnings)
    if expires_at:
        data["clientTokenExpirationDate"] = expires_at
    return ClientSession.model_validate(data)
