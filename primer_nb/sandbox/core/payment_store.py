"""SQLite storage of payments, payment method tokens and idempotency keys, beside the sessions.

The tables live in the sessions' database and every write goes through
:meth:`SessionStore.transaction <primer_nb.sandbox.core.store.SessionStore.transaction>`
(``BEGIN IMMEDIATE`` under one lock), so a payment, the token it used and its
idempotency key are committed together or not at all, and concurrent
captures and refunds of one payment are applied one after the other. A
committed write survives ``kill -9`` for the reasons given in ``store.py``.

Payment method tokens keep only what Primer returns about a card (last four,
network, BIN data, expiry, holder name) and the card's sandbox scenario,
never its number or CVV.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from primer_nb.api.cards import CardScenario
from primer_nb.api.payment import PaymentSearch
from primer_nb.api.payment_rules import PaymentRecord
from primer_nb.api.timestamps import as_utc, expiration_text
from primer_nb.sandbox.core.store import SessionStore

__all__ = ["BadCursorError", "PaymentStore", "PaymentTables", "SearchPage", "StoredToken"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS payment_tokens (
        token       TEXT PRIMARY KEY,
        session_id  TEXT,
        created_at  TEXT NOT NULL,
        instrument  TEXT NOT NULL,
        scenario    TEXT NOT NULL,
        payment_id  TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS payments (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        id             TEXT NOT NULL UNIQUE,
        created_at     TEXT NOT NULL,
        updated_at     TEXT NOT NULL,
        status         TEXT NOT NULL,
        order_id       TEXT,
        currency_code  TEXT,
        amount         INTEGER,
        customer_id    TEXT,
        customer_email TEXT,
        last4          TEXT,
        processor      TEXT,
        merchant_id    TEXT,
        method_type    TEXT NOT NULL,
        settle_at      TEXT,
        record         TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS payments_settling ON payments (settle_at) WHERE settle_at IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS idempotency_keys (
        key         TEXT PRIMARY KEY,
        operation   TEXT NOT NULL,
        payment_id  TEXT NOT NULL,
        created_at  TEXT NOT NULL
    )""",
)


class BadCursorError(ValueError):
    """A search cursor this sandbox did not hand out."""


@dataclass(frozen=True)
class StoredToken:
    """A payment method token: the session it was made under, the card's public data, its scenario."""

    token: str
    session_id: str | None
    created_at: datetime
    instrument: dict[str, Any]
    """The tokenization answer without the token: tokenType, analyticsId, paymentInstrumentData…"""
    scenario: CardScenario
    payment_id: str | None = None


@dataclass(frozen=True)
class SearchPage:
    """One page of a search, newest first, and the cursors around it."""

    records: list[PaymentRecord]
    next_cursor: str | None
    prev_cursor: str | None


def _text(when: datetime) -> str:
    # Naive UTC with microseconds: sorts as text in time order.
    return expiration_text(when)


def _cursor(direction: str, seq: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"d": direction, "s": seq})).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[str, int]:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        direction, seq = data["d"], data["s"]
    except (ValueError, TypeError, KeyError) as exc:
        raise BadCursorError(cursor) from exc
    if direction not in ("next", "prev") or not isinstance(seq, int):
        raise BadCursorError(cursor)
    return direction, seq


class PaymentTables:
    """The payments tables on one connection, inside a transaction or a read."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    # ------------------------------------------------------------------ tokens

    def token(self, token: str) -> StoredToken | None:
        """The stored payment method token, or ``None``."""
        row = self._db.execute(
            "SELECT token, session_id, created_at, instrument, scenario, payment_id FROM payment_tokens "
            "WHERE token = ?",
            (token,),
        ).fetchone()
        if row is None:
            return None
        return StoredToken(
            row[0], row[1], as_utc(datetime.fromisoformat(row[2])), orjson.loads(row[3]),
            CardScenario.from_json(orjson.loads(row[4])), row[5],
        )  # fmt: skip

    def add_token(self, stored: StoredToken) -> None:
        """Store a new payment method token."""
        self._db.execute(
            "INSERT INTO payment_tokens (token, session_id, created_at, instrument, scenario) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                stored.token,
                stored.session_id,
                _text(stored.created_at),
                orjson.dumps(stored.instrument).decode(),
                orjson.dumps(stored.scenario.as_json()).decode(),
            ),
        )

    def use_token(self, token: str, payment_id: str) -> None:
        """Mark a single-use token as spent on ``payment_id``."""
        self._db.execute("UPDATE payment_tokens SET payment_id = ? WHERE token = ?", (payment_id, token))

    # ------------------------------------------------------------------ payments

    def payment(self, payment_id: str) -> PaymentRecord | None:
        """The payment with this id, or ``None``."""
        row = self._db.execute("SELECT record FROM payments WHERE id = ?", (payment_id,)).fetchone()
        return PaymentRecord.model_validate_json(row[0]) if row else None

    @staticmethod
    def _columns(record: PaymentRecord) -> tuple[Any, ...]:
        fields = record.fields
        email = (fields.get("customer") or {}).get("emailAddress")
        return (
            _text(record.updated_at), record.status, fields.get("orderId"), fields.get("currencyCode"),
            fields.get("amount"), fields.get("customerId"), email, record.card.get("last4Digits"),
            record.processor_name, record.processor_merchant_id, "PAYMENT_CARD",
            _text(record.settle_at) if record.settle_at else None, record.model_dump_json(),
        )  # fmt: skip

    def insert_payment(self, record: PaymentRecord) -> None:
        """Store a new payment."""
        self._db.execute(
            "INSERT INTO payments (id, created_at, updated_at, status, order_id, currency_code, amount, "
            "customer_id, customer_email, last4, processor, merchant_id, method_type, settle_at, record) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.id, _text(record.created_at), *self._columns(record)),
        )

    def update_payment(self, record: PaymentRecord) -> None:
        """Replace a stored payment."""
        self._db.execute(
            "UPDATE payments SET updated_at = ?, status = ?, order_id = ?, currency_code = ?, amount = ?, "
            "customer_id = ?, customer_email = ?, last4 = ?, processor = ?, merchant_id = ?, "
            "method_type = ?, settle_at = ?, record = ? WHERE id = ?",
            (*self._columns(record), record.id),
        )

    def due_for_settlement(self, now: datetime) -> list[PaymentRecord]:
        """Payments whose settlement time has come on the sandbox clock."""
        rows = self._db.execute(
            "SELECT record FROM payments WHERE settle_at IS NOT NULL AND settle_at <= ? ORDER BY settle_at",
            (_text(now),),
        ).fetchall()
        return [PaymentRecord.model_validate_json(row[0]) for row in rows]

    def count(self) -> int:
        """How many payments are stored."""
        return int(self._db.execute("SELECT count(*) FROM payments").fetchone()[0])

    # ------------------------------------------------------------------ idempotency

    def idempotency(self, key: str) -> tuple[str, str] | None:
        """The operation and payment id an idempotency key was used for, or ``None``."""
        row = self._db.execute(
            "SELECT operation, payment_id FROM idempotency_keys WHERE key = ?", (key,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def remember_key(self, key: str, operation: str, payment_id: str, now: datetime) -> None:
        """Record that ``key`` was processed (by ``operation`` on ``payment_id``)."""
        self._db.execute(
            "INSERT INTO idempotency_keys (key, operation, payment_id, created_at) VALUES (?, ?, ?, ?)",
            (key, operation, payment_id, _text(now)),
        )

    # ------------------------------------------------------------------ search

    def search(self, query: PaymentSearch) -> SearchPage:
        """One page of payments matching ``query``, newest first; raise :class:`BadCursorError`."""
        where, args = _filters(query)
        direction, seq = _read_cursor(query.cursor) if query.cursor else ("next", None)
        if seq is not None:
            where.append("seq < ?" if direction == "next" else "seq > ?")
            args.append(seq)
        order = "DESC" if direction == "next" else "ASC"
        sql = f"SELECT seq, record FROM payments {_where(where)} ORDER BY seq {order} LIMIT ?"  # noqa: S608
        rows = self._db.execute(sql, (*args, query.limit + 1)).fetchall()
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        if direction == "prev":
            rows.reverse()
        records = [PaymentRecord.model_validate_json(row[1]) for row in rows]
        if not rows:
            return SearchPage(records, None, None)
        newest, oldest = rows[0][0], rows[-1][0]
        has_older = more if direction == "next" else self._exists(query, "seq < ?", oldest)
        if direction == "prev":
            has_newer = more
        else:
            has_newer = seq is not None and self._exists(query, "seq > ?", newest)
        return SearchPage(
            records,
            _cursor("next", oldest) if has_older else None,
            _cursor("prev", newest) if has_newer else None,
        )

    def _exists(self, query: PaymentSearch, condition: str, seq: int) -> bool:
        where, args = _filters(query)
        where.append(condition)
        sql = f"SELECT 1 FROM payments {_where(where)} LIMIT 1"  # noqa: S608
        return self._db.execute(sql, (*args, seq)).fetchone() is not None


def _where(conditions: list[str]) -> str:
    return f"WHERE {' AND '.join(conditions)}" if conditions else ""


_LIST_COLUMNS = {
    "status": "status",
    "payment_method_type": "method_type",
    "processor": "processor",
    "currency_code": "currency_code",
    "customer_id": "customer_id",
    "merchant_id": "merchant_id",
    "customer_email_address": "customer_email",
    "last_4_digits": "last4",
}


def _filters(query: PaymentSearch) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    for name, column in _LIST_COLUMNS.items():
        values = getattr(query, name)
        if values:
            where.append(f"{column} IN ({', '.join('?' * len(values))})")
            args.extend(values)
    if query.paypal_email or query.klarna_email:
        where.append("0")  # the sandbox takes cards only: no PayPal or Klarna payment can match
    if query.order_id is not None:
        where.append("order_id = ?")
        args.append(query.order_id)
    if query.from_date is not None:
        where.append("created_at >= ?")
        args.append(_text(as_utc(query.from_date)))
    if query.to_date is not None:
        where.append("created_at <= ?")
        args.append(_text(as_utc(query.to_date)))
    if query.min_amount is not None:
        where.append("amount >= ?")
        args.append(query.min_amount)
    if query.max_amount is not None:
        where.append("amount <= ?")
        args.append(query.max_amount)
    return where, args


class PaymentStore:
    """Payments beside the sessions of a :class:`SessionStore` (same database, same lock)."""

    def __init__(self, sessions: SessionStore) -> None:
        self.sessions = sessions
        with sessions.transaction() as db:
            for statement in _SCHEMA:
                db.execute(statement)

    @contextmanager
    def write(self) -> Iterator[PaymentTables]:
        """One write transaction (committed on leaving, rolled back on an exception)."""
        with self.sessions.transaction() as db:
            yield PaymentTables(db)

    @contextmanager
    def read(self) -> Iterator[PaymentTables]:
        """Reads under the store's lock, outside a transaction."""
        with self.sessions.reading() as db:
            yield PaymentTables(db)
