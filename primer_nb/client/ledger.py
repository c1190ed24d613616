"""The ledger: a local record of every session and payment the client created or saw.

Primer's API cannot list sessions, so the kit remembers them: one SQLite row
per client token in ``$PRIMER_NB_HOME/ledger.sqlite3`` (file mode 0600), with
the environment, order id, amount, currency, warnings, expiry, timestamps and
the last body received. ``PrimerClient.sessions()`` reads it back as
:class:`~primer_nb.api.session.ClientSession` objects for the tables.

Payments sit beside their sessions: one row per payment (and server) with the
client token of the session it was paid under, order id, status, amounts,
currency, which fields came from the session (provenance), timestamps and the
last body received; and a row per status it was seen in, with when that status
began on the server's clock, for plots of its life. ``PrimerClient.payments()``
reads them back as :class:`~primer_nb.api.payment.Payment` objects.

The API key is never stored, nor any card data beyond what Primer returns
(network, first six and last four digits, expiry); payment method tokens and
3DS client tokens in stored payment bodies are masked.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from primer_nb.api.masking import mask_token
from primer_nb.api.payment import Payment, StatusPoint
from primer_nb.api.session import ClientSession
from primer_nb.api.timestamps import parse_expiration
from primer_nb.config.settings import home

__all__ = ["Ledger", "PaymentEntry"]

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
CREATE TABLE IF NOT EXISTS payments (
    payment_id   TEXT NOT NULL,
    environment  TEXT NOT NULL,
    base_url     TEXT NOT NULL,
    client_token TEXT,
    order_id     TEXT,
    status       TEXT NOT NULL,
    amount       INTEGER,
    captured     INTEGER NOT NULL,
    refunded     INTEGER NOT NULL,
    currency     TEXT,
    provenance   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    body         TEXT NOT NULL,
    PRIMARY KEY (base_url, payment_id)
);
CREATE INDEX IF NOT EXISTS payments_by_environment ON payments (environment, created_at);
CREATE TABLE IF NOT EXISTS payment_statuses (
    base_url   TEXT NOT NULL,
    payment_id TEXT NOT NULL,
    at         TEXT NOT NULL,
    status     TEXT NOT NULL,
    captured   INTEGER NOT NULL,
    refunded   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS payment_statuses_by_payment ON payment_statuses (base_url, payment_id);
"""


@dataclass(frozen=True)
class PaymentEntry:
    """What the ledger keeps about a payment beyond its body: provenance, history, its session."""

    provenance: dict[str, str] = field(default_factory=dict)
    history: list[StatusPoint] = field(default_factory=list)
    client_token: str | None = field(default=None, repr=False)


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
        query, params = _where(
            "SELECT client_token, warnings, expires_at, body FROM sessions", environment, base_url
        )
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        return [_session(*row) for row in rows]

    def session_body(self, client_token: str) -> dict[str, Any] | None:
        """The last body recorded for a session (without its token), or ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM sessions WHERE client_token = ?", (client_token,)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def rows(self) -> list[dict[str, Any]]:
        """Every session row as a dict (what the file holds, for inspection and tests)."""
        return self._rows("SELECT * FROM sessions ORDER BY created_at, rowid")

    def payment_rows(self) -> list[dict[str, Any]]:
        """Every payment row as a dict, then every status row (for inspection and tests)."""
        return [
            *self._rows("SELECT * FROM payments ORDER BY created_at, rowid"),
            *self._rows("SELECT * FROM payment_statuses ORDER BY rowid"),
        ]

    def _rows(self, query: str) -> list[dict[str, Any]]:
        with self._lock:
            cursor = self._db.execute(query)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # ------------------------------------------------------------------ payments

    def record_payment(
        self,
        body: dict[str, Any],
        *,
        environment: str,
        base_url: str,
        client_token: str | None = None,
        provenance: dict[str, str] | None = None,
        created: bool = False,
    ) -> PaymentEntry:
        """Insert or refresh a payment's row, add its status if it changed; return what the ledger keeps.

        ``created`` marks the answer to the create: the payment's history
        starts again there (a deterministic sandbox gives the same ids every
        run). Provenance and the session link, once known, are kept when later
        answers bring none.
        """
        payment_id = str(body["id"])
        base = base_url.rstrip("/")
        now = datetime.now(UTC).isoformat()
        processor = body.get("processor") or {}
        captured = int(processor.get("amountCaptured") or 0)
        refunded = int(processor.get("amountRefunded") or 0)
        status = str(body.get("status"))
        when = parse_expiration(body.get("dateUpdated") or body.get("date"))
        at = (when or datetime.now(UTC)).isoformat()
        with self._transaction():
            if created:
                self._db.execute(
                    "DELETE FROM payment_statuses WHERE base_url = ? AND payment_id = ?", (base, payment_id)
                )
            previous = self._db.execute(
                "SELECT client_token, provenance FROM payments WHERE base_url = ? AND payment_id = ?",
                (base, payment_id),
            ).fetchone()
            if previous is not None and not created:
                client_token = client_token or previous[0]
                provenance = provenance or json.loads(previous[1])
            self._db.execute(
                """
                INSERT INTO payments (payment_id, environment, base_url, client_token, order_id, status,
                                      amount, captured, refunded, currency, provenance, created_at,
                                      updated_at, body)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (base_url, payment_id) DO UPDATE SET
                    environment = excluded.environment, client_token = excluded.client_token,
                    order_id = excluded.order_id, status = excluded.status, amount = excluded.amount,
                    captured = excluded.captured, refunded = excluded.refunded, currency = excluded.currency,
                    provenance = excluded.provenance, updated_at = excluded.updated_at, body = excluded.body
                """,
                (
                    payment_id, environment, base, client_token, body.get("orderId"), status,
                    body.get("amount"), captured, refunded, body.get("currencyCode"),
                    json.dumps(provenance or {}), now, now, json.dumps(_storable(body)),
                ),
            )  # fmt: skip
            last = self._db.execute(
                "SELECT status, captured, refunded FROM payment_statuses "
                "WHERE base_url = ? AND payment_id = ? ORDER BY rowid DESC LIMIT 1",
                (base, payment_id),
            ).fetchone()
            if last != (status, captured, refunded):
                self._db.execute(
                    "INSERT INTO payment_statuses (base_url, payment_id, at, status, captured, refunded) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (base, payment_id, at, status, captured, refunded),
                )
            history = self._history(base, payment_id)
        return PaymentEntry(dict(provenance or {}), history, client_token)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _history(self, base_url: str, payment_id: str) -> list[StatusPoint]:
        rows = self._db.execute(
            "SELECT at, status FROM payment_statuses WHERE base_url = ? AND payment_id = ? ORDER BY rowid",
            (base_url, payment_id),
        ).fetchall()
        points: list[StatusPoint] = []
        for at, status in rows:
            # The same status seen again (a capture of more, a refund) adds no step to the plot.
            if not points or points[-1][1] != status:
                points.append((datetime.fromisoformat(at), status))
        return points

    def payments(self, *, environment: str | None = None, base_url: str | None = None) -> list[Payment]:
        """Recorded payments, oldest first, with provenance, history and session link attached."""
        query, params = _where(
            "SELECT base_url, payment_id, client_token, provenance, body FROM payments", environment, base_url
        )
        found = []
        with self._lock:
            for base, payment_id, client_token, provenance, body in self._db.execute(
                query, params
            ).fetchall():
                payment = Payment.model_validate(json.loads(body))
                payment.attach(
                    provenance=json.loads(provenance), history=self._history(base, payment_id),
                    client_token=client_token,
                )  # fmt: skip
                found.append(payment)
        return found

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"Ledger({str(self.path)!r})"


def _storable(body: dict[str, Any]) -> dict[str, Any]:
    """A payment body fit to keep: tokens masked (a stored payment needs none of them whole)."""
    stored = dict(body)
    method = stored.get("paymentMethod")
    if isinstance(method, dict) and method.get("paymentMethodToken"):
        stored["paymentMethod"] = {**method, "paymentMethodToken": mask_token(method["paymentMethodToken"])}
    action = stored.get("requiredAction")
    if isinstance(action, dict) and action.get("clientToken"):
        stored["requiredAction"] = {**action, "clientToken": mask_token(action["clientToken"])}
    return stored


def _session(token: str, warnings: str, expires_at: str | None, body: str) -> ClientSession:
    data = json.loads(body)
    data["clientToken"] = token
    data["warnings"] = json.loads(warnings)
    if expires_at:
        data["clientTokenExpirationDate"] = expires_at
    return ClientSession.model_validate(data)


def _where(select: str, environment: str | None, base_url: str | None) -> tuple[str, list[str]]:
    """``select`` limited to one environment and server when given, oldest first."""
    clauses, params = [], []
    if environment is not None:
        clauses.append("environment = ?")
        params.append(environment)
    if base_url is not None:
        clauses.append("base_url = ?")
        params.append(base_url.rstrip("/"))
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"{select}{where} ORDER BY created_at, rowid", params
