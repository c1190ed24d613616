"""Webhooks from the sandbox: endpoints, the signing secret, a durable outbox, retries, faults, the log.

:class:`WebhookDispatcher` is the emulator's webhook side, free of HTTP. Events
come in through :meth:`WebhookDispatcher.on_payment_event` (the listener the
payments service calls after each committed change), :meth:`~WebhookDispatcher.trigger`
and :meth:`~WebhookDispatcher.resend`; each becomes one delivery per registered
endpoint, stored in the sandbox's SQLite file before anything is sent, so
pending deliveries survive ``kill -9``. The serving layer's worker asks for
what is due (:meth:`~WebhookDispatcher.claim_due`), posts it with its own HTTP
client and reports back (:meth:`~WebhookDispatcher.complete`); tests pass a
``send`` callable to :meth:`~WebhookDispatcher.deliver_due` instead.

Time: a delivery is due at a time on the *sandbox* clock, so advancing the clock
delivers the retries; ``signedAt`` is written from the wall clock, because
receivers check it against their own clocks.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
import random
import secrets
import sqlite3
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast
from urllib.parse import urlsplit

import orjson

from primer_nb.__about__ import __version__
from primer_nb.api.errors import PrimerTimeoutError
from primer_nb.api.protocol import API_VERSION
from primer_nb.api.timestamps import as_utc
from primer_nb.api.webhooks import (
    ATTEMPT_HEADER,
    DELIVERY_TIMEOUT,
    EVENT_ID_HEADER,
    SECONDARY_WINDOW,
    EventType,
    build_event_body,
    encode_body,
    finish_body,
    is_acknowledged,
    retry_delay,
    signature_headers,
)
from primer_nb.sandbox.core.clock import SandboxClock
from primer_nb.sandbox.core.store import SessionStore

__all__ = [
    "DEFAULT_DESCRIPTION",
    "DETERMINISTIC_WEBHOOK_SECRET",
    "Claim",
    "PaymentListener",
    "PaymentLookup",
    "SendResult",
    "Sender",
    "WebhookControls",
    "WebhookDispatcher",
    "WebhookFaultSettings",
    "check_endpoint_url",
    "is_loopback_host",
]

logger = logging.getLogger("primer_nb.sandbox")

PaymentListener = Callable[[str, dict[str, Any], datetime], None]
"""What the payments service calls after each committed change: ``(event_type, payment_body, at)``."""

PaymentLookup = Callable[[str], Mapping[str, Any] | None]
"""The payment body (as ``GET /payments/{id}`` returns it) for an id, or ``None``."""

DEFAULT_DESCRIPTION = "Payment webhook"
"""``notificationConfig.description`` of an endpoint registered without one (as in Primer's examples)."""

# A deterministic sandbox signs with a fixed secret, so its signatures repeat run after run.
DETERMINISTIC_WEBHOOK_SECRET = "primer-nb-deterministic-webhook-secret"  # noqa: S105 - a test secret

USER_AGENT = f"primer-nb-sandbox/{__version__}"

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS webhook_endpoints (
        id          TEXT PRIMARY KEY,
        url         TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        events      TEXT,
        created_at  TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS webhook_events (
        seq            INTEGER PRIMARY KEY,
        id             TEXT NOT NULL UNIQUE,
        event_type     TEXT NOT NULL,
        payment_id     TEXT,
        payment_status TEXT,
        source         TEXT NOT NULL,
        body           TEXT NOT NULL,
        created_at     TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS webhook_deliveries (
        id          INTEGER PRIMARY KEY,
        event_seq   INTEGER NOT NULL REFERENCES webhook_events (seq),
        endpoint_id TEXT NOT NULL,
        url         TEXT NOT NULL,
        description TEXT NOT NULL,
        state       TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        due_at      TEXT NOT NULL,
        faults      TEXT NOT NULL DEFAULT '[]',
        source      TEXT NOT NULL,
        created_at  TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_state ON webhook_deliveries (state, due_at)",
    """CREATE TABLE IF NOT EXISTS webhook_attempts (
        seq         INTEGER PRIMARY KEY,
        delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
        attempt     INTEGER NOT NULL,
        at          TEXT NOT NULL,
        status      INTEGER,
        latency_ms  INTEGER,
        error       TEXT,
        outcome     TEXT NOT NULL,
        next_at     TEXT
    )""",
]

_ENDPOINT_COLUMNS = "SELECT id, url, description, events, created_at FROM webhook_endpoints"
_LOG_DELIVERIES = (
    "SELECT d.id, e.id, e.event_type, e.payment_id, e.payment_status, d.endpoint_id, d.url, d.state, "
    "d.attempts, d.due_at, d.faults, d.source, d.created_at, e.created_at "
    "FROM webhook_deliveries AS d JOIN webhook_events AS e ON e.seq = d.event_seq "
    "WHERE (? IS NULL OR e.id = ?) AND (? IS NULL OR e.payment_id = ?) ORDER BY d.id"
)
_LOG_ATTEMPTS = (
    "SELECT a.delivery_id, e.id, e.event_type, e.payment_id, e.payment_status, d.url, a.attempt, "
    "a.at, a.status, a.latency_ms, a.error, a.outcome, a.next_at, e.created_at "
    "FROM webhook_attempts AS a JOIN webhook_deliveries AS d ON d.id = a.delivery_id "
    "JOIN webhook_events AS e ON e.seq = d.event_seq "
    "WHERE (? IS NULL OR e.id = ?) AND (? IS NULL OR e.payment_id = ?) ORDER BY a.seq"
)

# Delivery states: waiting (pending, or held back to arrive out of order), being sent, and final ones.
PENDING, HELD, IN_FLIGHT = "pending", "held", "in_flight"
DELIVERED, DROPPED, CANCELLED = "delivered", "dropped", "cancelled"

FAULT_NAMES = ("drop", "duplicate", "delay", "out_of_order", "stale_signature")

_IDLE_POLL = 0.005
"""Seconds between looks while waiting for the deliveries due now to be sent and recorded."""


class SendResult(NamedTuple):
    """What one POST gave: the status (``None`` without an answer), its latency, and the error if any."""

    status: int | None
    latency_ms: int
    error: str | None = None


Sender = Callable[[str, bytes, Mapping[str, str], float], "SendResult | tuple[int | None, int, str | None]"]
"""``send(url, body, headers, timeout)``: performs one POST; never raises."""


@dataclass(frozen=True)
class Claim:
    """One attempt, ready to send: where, the exact bytes, the headers; and what to report back."""

    delivery_id: int
    event_id: str
    attempt: int
    url: str
    body: bytes
    headers: dict[str, str]
    at: datetime


# ----------------------------------------------------------------------------- endpoint URLs


def is_loopback_host(host: str | None) -> bool:
    """Whether ``host`` is this machine: ``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # any other name could resolve anywhere


def check_endpoint_url(url: str, *, allow_remote: bool = False) -> str:
    """Return ``url`` if the sandbox may post to it; raise :class:`ValueError` saying why not.

    Only ``http(s)`` URLs on this machine are accepted unless ``allow_remote``:
    a local sandbox never sends data elsewhere by accident.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"{url!r} is not an http(s) URL, e.g. http://127.0.0.1:8000/webhooks")
    if not allow_remote and not is_loopback_host(host):
        raise ValueError(
            f"{url!r} is not on this machine: the sandbox sends webhooks to loopback addresses "
            "(localhost, 127.0.0.1, [::1]) unless allowed with allow_remote_webhooks=True "
            "(--allow-remote-webhooks)"
        )
    return url


# ----------------------------------------------------------------------------- faults


@dataclass(frozen=True)
class WebhookFaultSettings:
    """Bad-day faults for deliveries: each a rate from 0 to 1, drawn per delivery from ``seed``.

    ``drop``: never sent (logged as dropped). ``duplicate``: sent twice.
    ``delay``: first attempt ``delay_seconds`` late (sandbox clock).
    ``out_of_order``: held back until a later event to the same endpoint
    has been sent (or ``hold_seconds`` pass). ``stale_signature``: the first
    attempt is signed with a rotated-out secret.
    """

    drop: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0
    out_of_order: float = 0.0
    stale_signature: float = 0.0
    delay_seconds: float = 120.0
    hold_seconds: float = 60.0
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in FAULT_NAMES:
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be a rate between 0 and 1, got {rate}")
        if self.delay_seconds < 0 or self.hold_seconds < 0:
            raise ValueError("delay_seconds and hold_seconds cannot be negative")

    @property
    def active(self) -> bool:
        """Whether any fault can happen."""
        return any(getattr(self, name) > 0 for name in FAULT_NAMES)

    def as_json(self) -> dict[str, Any]:
        """The settings in the admin API's camelCase JSON."""
        return {
            "drop": self.drop,
            "duplicate": self.duplicate,
            "delay": self.delay,
            "outOfOrder": self.out_of_order,
            "staleSignature": self.stale_signature,
            "delaySeconds": self.delay_seconds,
            "holdSeconds": self.hold_seconds,
            "seed": self.seed,
        }


# ----------------------------------------------------------------------------- controls


class WebhookControls(ABC):
    """What a sandbox's webhooks offer, here (:class:`WebhookDispatcher`) or through its admin API.

    Every method answers the JSON the matching ``/_sandbox/webhooks`` route answers.
    """

    @abstractmethod
    def endpoints(self) -> list[dict[str, Any]]:
        """The registered endpoints."""

    @abstractmethod
    def add_endpoint(
        self, url: str, description: str | None = None, events: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """Register ``url`` (for ``events``, default all); registering a URL again returns it unchanged."""

    @abstractmethod
    def remove_endpoint(self, endpoint: str) -> dict[str, Any]:
        """Unregister an endpoint (its id or URL) and cancel its pending deliveries."""

    @abstractmethod
    def log(self, event_id: str | None = None, payment_id: str | None = None) -> dict[str, Any]:
        """``{"deliveries": [...], "attempts": [...]}``, optionally for one event or payment."""

    @abstractmethod
    def resend(self, event_id: str, endpoint: str | None = None) -> dict[str, Any]:
        """Deliver an event again (same event id), to every endpoint or one."""

    @abstractmethod
    def trigger(
        self,
        event_type: str = EventType.PAYMENT_STATUS,
        *,
        payment_id: str | None = None,
        payment: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Raise a new event for a payment (by id, or given whole), with fields overridden."""

    @abstractmethod
    def secret_state(self) -> dict[str, Any]:
        """The signing secret, and the previous one while it still signs ``X-Signature-Secondary``."""

    @abstractmethod
    def rotate_secret(self, secret: str | None = None) -> dict[str, Any]:
        """Replace the signing secret (random unless given); the old one signs Secondary for 24 h."""

    @abstractmethod
    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Replace the delivery fault settings (see :class:`WebhookFaultSettings`)."""

    @abstractmethod
    def clear_faults(self) -> dict[str, Any]:
        """Stop injecting delivery faults."""

    @abstractmethod
    def idle(self) -> bool:
        """Whether every delivery due on the sandbox clock has been attempted and its result recorded."""

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until :meth:`idle`: what is due now was sent, answered and logged.

        Deliveries waiting for a later time on the sandbox clock (a retry, a
        delay) do not count: on a frozen clock they wait until it is moved. A
        receiver records each delivery before it answers, so once this returns
        the receiver has everything the log shows. Raises
        :class:`~primer_nb.api.errors.PrimerTimeoutError` after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while not self.idle():
            if time.monotonic() >= deadline:
                raise PrimerTimeoutError(
                    f"webhook deliveries were still due or in flight after {timeout:g} s: "
                    "is an endpoint slow to answer (each attempt may take up to 10 s)?"
                )
            time.sleep(_IDLE_POLL)

    @property
    def secret(self) -> str:
        """The current signing secret."""
        return str(self.secret_state()["secret"])


# ----------------------------------------------------------------------------- the dispatcher


def _ts(when: datetime) -> str:
    # One fixed form (aware UTC, microseconds), so text order is time order in SQL.
    return as_utc(when).isoformat(timespec="microseconds")


def _instant(text: str | None) -> datetime | None:
    return as_utc(datetime.fromisoformat(text)) if text else None


class WebhookDispatcher(WebhookControls):
    """The sandbox's webhooks: who gets them, signed how, sent when, and what happened.

    Parameters
    ----------
    store:
        The sandbox's store; the outbox lives in its SQLite database.
    clock:
        The sandbox clock: deliveries and retries fall due on it.
    secret:
        The signing secret; replaces a stored one. ``None`` keeps the stored
        secret, or makes one (fixed when ``seed`` is given).
    seed:
        Deterministic mode: seeded event ids, generated ids and the default secret.
    allow_remote:
        Allow endpoints that are not on this machine.
    endpoints:
        URLs to register at start (kept if already registered).
    payment_lookup:
        How :meth:`trigger` finds a payment by id (the payments service plugs in here).
    wall:
        The wall clock (Unix seconds) that ``signedAt`` is written from.
    """

    def __init__(
        self,
        store: SessionStore,
        clock: SandboxClock,
        *,
        secret: str | None = None,
        seed: int | None = None,
        allow_remote: bool = False,
        endpoints: Iterable[str] = (),
        payment_lookup: PaymentLookup | None = None,
        wall: Callable[[], float] = time.time,
        version: str = API_VERSION,
    ) -> None:
        self.store = store
        self.clock = clock
        self.allow_remote = allow_remote
        self.payment_lookup = payment_lookup
        self.version = version
        self.wall = wall
        self.timeout = DELIVERY_TIMEOUT
        self._lock = threading.Lock()
        self._ids: random.Random = random.Random(seed) if seed is not None else secrets.SystemRandom()
        self._faults = WebhookFaultSettings()
        self._fault_draws = random.Random()
        self._wakers: list[Callable[[], None]] = []
        self._subscriptions: list[set[str] | None] | None = None  # each endpoint's event types; None: all
        self._closed = False
        with store.transaction() as db:
            for statement in _SCHEMA:
                db.execute(statement)
            # An attempt cut short by a stop or a crash is made again; receivers deduplicate.
            db.execute(
                "UPDATE webhook_deliveries SET state = ?, attempts = attempts - 1 WHERE state = ?",
                (PENDING, IN_FLIGHT),
            )
            self._salt = self._meta(db, "webhook_id_salt") or self._set_meta(
                db, "webhook_id_salt", str(seed) if seed is not None else secrets.token_hex(16)
            )
            stored = self._meta(db, "webhook_secret")
            if secret is not None and secret != stored:
                self._set_meta(db, "webhook_secret", secret)
                db.execute("DELETE FROM meta WHERE key IN ('webhook_previous_secret', 'webhook_rotated_at')")
            elif stored is None:
                made = DETERMINISTIC_WEBHOOK_SECRET if seed is not None else secrets.token_urlsafe(32)
                self._set_meta(db, "webhook_secret", made)
        for url in endpoints:
            self.add_endpoint(url)
        clock.on_change(self.wake)

    # ------------------------------------------------------------------ plumbing

    @staticmethod
    def _meta(db: sqlite3.Connection, key: str) -> str | None:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    @staticmethod
    def _set_meta(db: sqlite3.Connection, key: str, value: str) -> str:
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
        return value

    def add_waker(self, wake: Callable[[], None]) -> None:
        """Call ``wake()`` whenever something may have fallen due (an event, a clock change, a retry)."""
        self._wakers.append(wake)

    def remove_waker(self, wake: Callable[[], None]) -> None:
        """Stop calling ``wake`` (a worker that stopped)."""
        if wake in self._wakers:
            self._wakers.remove(wake)

    def wake(self) -> None:
        """Tell the workers to look for due deliveries."""
        for wake in list(self._wakers):
            wake()

    def close(self) -> None:
        """Stop recording: results that arrive later (a send outliving the server) are ignored."""
        self._closed = True

    def _uuid(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def _token(self) -> str:
        """A new secret: 32 random bytes, URL-safe base64 (seeded in a deterministic sandbox)."""
        with self._lock:
            raw = self._ids.getrandbits(256).to_bytes(32, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    # ------------------------------------------------------------------ secrets

    def secret_state(self) -> dict[str, Any]:
        """``{"secret", "previousSecret", "rotatedAt", "secondaryUntil"}`` (previous: only within 24 h)."""
        with self.store.transaction() as db:
            current = self._meta(db, "webhook_secret")
            previous = self._meta(db, "webhook_previous_secret")
            rotated = _instant(self._meta(db, "webhook_rotated_at"))
        until = rotated + timedelta(seconds=SECONDARY_WINDOW) if rotated else None
        in_window = until is not None and self.clock.now() < until
        return {
            "secret": current,
            "previousSecret": previous if in_window else None,
            "rotatedAt": rotated.isoformat() if rotated else None,
            "secondaryUntil": until.isoformat() if in_window and until else None,
        }

    def rotate_secret(self, secret: str | None = None) -> dict[str, Any]:
        """Make ``secret`` (or a new random one) the signing secret; the old one signs Secondary for 24 h."""
        new = secret or self._token()
        with self.store.transaction() as db:
            old = self._meta(db, "webhook_secret")
            if old is not None and old != new:
                self._set_meta(db, "webhook_previous_secret", old)
            self._set_meta(db, "webhook_secret", new)
            self._set_meta(db, "webhook_rotated_at", _ts(self.clock.now()))
        return self.secret_state()

    def _signing_secrets(self, stale: bool) -> tuple[str, str | None]:
        """(Primary, Secondary) secrets for an attempt now; ``stale`` signs with a rotated-out secret."""
        state = self.secret_state()
        current = str(state["secret"])
        if not stale:
            return current, state["previousSecret"]
        with self.store.transaction() as db:
            previous = self._meta(db, "webhook_previous_secret")
        return previous or hashlib.sha256(f"retired:{current}".encode()).hexdigest(), None

    # ------------------------------------------------------------------ endpoints

    def endpoints(self) -> list[dict[str, Any]]:
        """The registered endpoints, oldest first."""
        with self.store.transaction() as db:
            rows = db.execute(f"{_ENDPOINT_COLUMNS} ORDER BY created_at, rowid").fetchall()
        return [_endpoint(row) for row in rows]

    def add_endpoint(
        self, url: str, description: str | None = None, events: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """Register ``url``; ``ValueError`` for a URL the sandbox may not post to or an unknown event type."""
        check_endpoint_url(url, allow_remote=self.allow_remote)
        kinds = None if events is None else [EventType(e).value for e in events]
        with self.store.transaction() as db:
            row = db.execute(f"{_ENDPOINT_COLUMNS} WHERE url = ?", (url,)).fetchone()
            if row is None:
                row = (
                    self._uuid(),
                    url,
                    description or DEFAULT_DESCRIPTION,
                    orjson.dumps(kinds).decode() if kinds is not None else None,
                    _ts(self.clock.now()),
                )
                db.execute("INSERT INTO webhook_endpoints VALUES (?, ?, ?, ?, ?)", row)
            self._subscriptions = None
        return _endpoint(row)

    def remove_endpoint(self, endpoint: str) -> dict[str, Any]:
        """Unregister an endpoint by id or URL; ``KeyError`` when there is none."""
        with self.store.transaction() as db:
            row = db.execute(f"{_ENDPOINT_COLUMNS} WHERE id = ? OR url = ?", (endpoint, endpoint)).fetchone()
            if row is None:
                raise KeyError(endpoint)
            db.execute("DELETE FROM webhook_endpoints WHERE id = ?", (row[0],))
            self._subscriptions = None
            cancelled = db.execute(
                "UPDATE webhook_deliveries SET state = ? WHERE endpoint_id = ? AND state IN (?, ?)",
                (CANCELLED, row[0], PENDING, HELD),
            ).rowcount
        return {"removed": _endpoint(row), "cancelledDeliveries": cancelled}

    # ------------------------------------------------------------------ faults

    @property
    def faults(self) -> WebhookFaultSettings:
        """The current delivery fault settings."""
        return self._faults

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Replace the fault settings (snake_case names of :class:`WebhookFaultSettings`)."""
        chosen = WebhookFaultSettings(**settings)
        with self._lock:
            self._faults = chosen
            self._fault_draws = random.Random(chosen.seed)
        return chosen.as_json()

    def clear_faults(self) -> dict[str, Any]:
        """Stop injecting delivery faults."""
        return self.set_faults()

    def _draw_faults(self) -> list[str]:
        with self._lock:
            settings, draws = self._faults, self._fault_draws
            if not settings.active:
                return []
            # One draw per fault, always in the same order, so a seed replays exactly.
            return [name for name in FAULT_NAMES if draws.random() < getattr(settings, name)]

    # ------------------------------------------------------------------ events in

    def on_payment_event(self, event_type: str, payment: dict[str, Any], at: datetime) -> None:
        """The payments service's listener: raise ``event_type`` for ``payment`` as of ``at``.

        Called after each committed change; it records the event and its
        deliveries and returns at once (sending happens off the request path).
        It never raises: a webhook problem must not fail the payment request.
        """
        try:
            if not self._subscribed(event_type):
                return  # like Primer, which notifies only the webhooks configured for an event
            ids = self._fresh_ids()
            body = build_event_body(event_type, payment, at=at, version=self.version, ids=ids)
            self._publish(body, source="payment")
        except Exception:
            logger.exception("could not record the %s webhook of payment %s", event_type, payment.get("id"))

    def _subscribed(self, event_type: str) -> bool:
        """Whether a registered endpoint takes ``event_type`` (read once, kept until endpoints change)."""
        subscriptions = self._subscriptions
        if subscriptions is None:
            with self.store.reading() as db:
                rows = db.execute("SELECT events FROM webhook_endpoints").fetchall()
            subscriptions = self._subscriptions = [
                None if e is None else set(orjson.loads(e)) for (e,) in rows
            ]
        return any(kinds is None or event_type in kinds for kinds in subscriptions)

    listener = on_payment_event
    """:meth:`on_payment_event` again, as the wiring reads: ``listeners.append(dispatcher.listener)``."""

    def _fresh_ids(self) -> list[str]:
        return [self._uuid(), self._uuid()]

    def trigger(
        self,
        event_type: str = EventType.PAYMENT_STATUS,
        *,
        payment_id: str | None = None,
        payment: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Raise a new event for an existing payment (``payment_id``) or a payment body given whole.

        ``overrides`` are merged into the event body (``{"payment": {"status":
        "SETTLED"}}``, or ``{"signedAt": "1700000000"}`` to send a stale one).
        Raises ``ValueError`` for an unknown event type or no payment, ``KeyError``
        for a payment id that does not exist, ``LookupError`` when payments
        cannot be looked up in this sandbox.
        """
        kind = EventType(event_type)
        if payment is None:
            if payment_id is None:
                raise ValueError("name the payment: paymentId, or the payment object itself")
            if self.payment_lookup is None:
                raise LookupError(
                    "this sandbox cannot look payments up by id; send the payment object instead"
                )
            found = self.payment_lookup(payment_id)
            if found is None:
                raise KeyError(payment_id)
            payment = found
        body = build_event_body(
            kind, payment, at=self.clock.now(), version=self.version, overrides=overrides,
            ids=self._fresh_ids(),
        )  # fmt: skip
        event_id, deliveries = self._publish(body, source="trigger")
        return {
            "eventId": event_id,
            "eventType": kind.value,
            "paymentId": _payment_of(body)[0],
            "deliveries": deliveries,
        }

    def _publish(self, body: dict[str, Any], *, source: str) -> tuple[str, int]:
        """Store an event and a delivery for each endpoint that wants it; return its id and deliveries."""
        now = self.clock.now()
        event_type = str(body["eventType"])
        payment_id, payment_status = _payment_of(body)
        count = 0
        with self.store.transaction() as db:
            seq = int(db.execute("SELECT coalesce(max(seq), 0) + 1 FROM webhook_events").fetchone()[0])
            event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"primer-nb:{self._salt}:{seq}"))
            db.execute(
                "INSERT INTO webhook_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (seq, event_id, event_type, payment_id, payment_status, source,
                 orjson.dumps(body).decode(), _ts(now)),
            )  # fmt: skip
            for endpoint_id, url, description, events, _ in db.execute(
                f"{_ENDPOINT_COLUMNS} ORDER BY created_at, rowid"
            ).fetchall():
                if events is not None and event_type not in orjson.loads(events):
                    continue
                for faults in self._fault_plan():
                    self._insert_delivery(db, seq, (endpoint_id, url, description), now, faults, source)
                    count += 1
        self.wake()
        return event_id, count

    def _fault_plan(self) -> list[list[str]]:
        """The deliveries to make for one endpoint: one, or two for a duplicate; each with its faults."""
        faults = self._draw_faults()
        if "duplicate" in faults:
            return [[f for f in faults if f != "duplicate"], ["duplicate"]]
        return [faults]

    def _insert_delivery(
        self,
        db: sqlite3.Connection,
        seq: int,
        endpoint: tuple[str, str, str],
        now: datetime,
        faults: list[str],
        source: str,
    ) -> int:
        settings = self._faults
        state, due = PENDING, now
        if "drop" in faults:
            state = DROPPED
        elif "out_of_order" in faults:
            state, due = HELD, now + timedelta(seconds=settings.hold_seconds)
        elif "delay" in faults:
            due = now + timedelta(seconds=settings.delay_seconds)
        inserted = db.execute(
            "INSERT INTO webhook_deliveries (event_seq, endpoint_id, url, description, state, due_at, "
            "faults, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (seq, *endpoint, state, _ts(due), orjson.dumps(faults).decode(), source, _ts(now)),
        )
        return cast(int, inserted.lastrowid)  # the new row's id, without another query

    def resend(self, event_id: str, endpoint: str | None = None) -> dict[str, Any]:
        """Deliver a stored event again, with the same event id, like a dashboard's resend button.

        To every registered endpoint that takes its type, or only ``endpoint``
        (id or URL). No faults are drawn for a resend. ``KeyError`` for an
        unknown event or endpoint.
        """
        now = self.clock.now()
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT seq, event_type FROM webhook_events WHERE id = ?", (event_id,)
            ).fetchone()
            if row is None:
                raise KeyError(event_id)
            seq, event_type = row
            targets = db.execute(
                f"{_ENDPOINT_COLUMNS} WHERE ? IS NULL OR id = ? OR url = ? ORDER BY created_at, rowid",
                (endpoint, endpoint, endpoint),
            ).fetchall()
            if endpoint is not None and not targets:
                raise KeyError(endpoint)
            ids = [
                self._insert_delivery(db, seq, (endpoint_id, url, description), now, [], "resend")
                for endpoint_id, url, description, events, _ in targets
                if endpoint is not None or events is None or event_type in orjson.loads(events)
            ]
        self.wake()
        return {"eventId": event_id, "deliveries": ids}

    # ------------------------------------------------------------------ deliveries out

    def next_due(self) -> datetime | None:
        """When the earliest waiting delivery falls due on the sandbox clock (``None``: nothing waits)."""
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT min(due_at) FROM webhook_deliveries WHERE state IN (?, ?)", (PENDING, HELD)
            ).fetchone()
        return _instant(row[0]) if row and row[0] else None

    def claim_due(self, limit: int = 8) -> list[Claim]:
        """Take up to ``limit`` due deliveries, at most one per endpoint URL, and prepare their attempts.

        A URL with an attempt still in flight waits its turn, so one endpoint
        receives in order unless a fault or a retry says otherwise, and a slow
        endpoint holds up no other.
        """
        if self._closed:
            return []
        now = self.clock.now()
        chosen: list[tuple[Any, ...]] = []
        with self.store.transaction() as db:
            # Held deliveries go once a later event to the same endpoint has had an attempt.
            db.execute(
                "UPDATE webhook_deliveries SET state = ?, due_at = ? WHERE state = ? AND (due_at <= ? OR "
                "EXISTS (SELECT 1 FROM webhook_deliveries AS later WHERE later.url = webhook_deliveries.url "
                "AND later.event_seq > webhook_deliveries.event_seq AND later.attempts > 0))",
                (PENDING, _ts(now), HELD, _ts(now)),
            )
            in_flight = db.execute(
                "SELECT DISTINCT url FROM webhook_deliveries WHERE state = ?", (IN_FLIGHT,)
            )
            taken = {url for (url,) in in_flight}
            rows = db.execute(
                "SELECT d.id, d.url, d.description, d.endpoint_id, d.attempts, d.faults, e.id, e.body "
                "FROM webhook_deliveries AS d JOIN webhook_events AS e ON e.seq = d.event_seq "
                "WHERE d.state = ? AND d.due_at <= ? ORDER BY d.due_at, d.id",
                (PENDING, _ts(now)),
            ).fetchall()
            for row in rows:
                if len(chosen) >= limit:
                    break
                if row[1] in taken:
                    continue
                taken.add(row[1])
                chosen.append(row)
                db.execute(
                    "UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1 WHERE id = ?",
                    (IN_FLIGHT, row[0]),
                )
        claims = []
        for row in chosen:
            refusal = None if self.allow_remote else check_refusal(row[1])
            if refusal:
                self._finish(row[0], row[6], row[4] + 1, now, SendResult(None, 0, refusal), final=True)
            else:
                claims.append(self._prepare(row, now))
        return claims

    def _prepare(self, row: tuple[Any, ...], now: datetime) -> Claim:
        delivery_id, url, description, endpoint_id, attempts, faults, event_id, body = row
        attempt = attempts + 1
        finished = finish_body(
            orjson.loads(body),
            notification_config={"id": endpoint_id, "description": description},
            signed_at=int(self.wall()),
        )
        raw = encode_body(finished)
        stale = attempt == 1 and "stale_signature" in orjson.loads(faults)
        primary, secondary = self._signing_secrets(stale)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **signature_headers(raw, primary, secondary),
            EVENT_ID_HEADER: event_id,
            ATTEMPT_HEADER: str(attempt),
        }
        return Claim(delivery_id, event_id, attempt, url, raw, headers, now)

    def complete(self, claim: Claim, result: SendResult | tuple[int | None, int, str | None]) -> None:
        """Record an attempt's result: delivered on 2xx, else retried on Primer's schedule, or dropped."""
        self._finish(claim.delivery_id, claim.event_id, claim.attempt, claim.at, SendResult(*result))

    def _finish(
        self,
        delivery_id: int,
        event_id: str,
        attempt: int,
        at: datetime,
        result: SendResult,
        final: bool = False,
    ) -> None:
        if self._closed:
            return
        # The retry waits from when the attempt ended: its start on the sandbox clock plus how long
        # it took. Not "now": the clock may have been advanced while the answer was on its way.
        ended = at + timedelta(milliseconds=result.latency_ms)
        next_at: datetime | None = None
        if is_acknowledged(result.status):
            state, outcome = DELIVERED, "delivered"
        else:
            delay = None if final else retry_delay(attempt, seed=f"{event_id}:{delivery_id}")
            if delay is None:
                state, outcome = DROPPED, "dropped"
            else:
                state, outcome, next_at = PENDING, "failed", ended + timedelta(seconds=delay)
        try:
            with self.store.transaction() as db:
                if (
                    state == PENDING
                    and not db.execute(
                        "SELECT 1 FROM webhook_endpoints WHERE id = "
                        "(SELECT endpoint_id FROM webhook_deliveries WHERE id = ?)",
                        (delivery_id,),
                    ).fetchone()
                ):
                    state, next_at = CANCELLED, None  # unregistered while this attempt was out
                db.execute(
                    "INSERT INTO webhook_attempts (delivery_id, attempt, at, status, latency_ms, error, "
                    "outcome, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (delivery_id, attempt, _ts(at), result.status, result.latency_ms, result.error, outcome,
                     _ts(next_at) if next_at else None),
                )  # fmt: skip
                db.execute(
                    "UPDATE webhook_deliveries SET state = ?, due_at = ? WHERE id = ?",
                    (state, _ts(next_at or ended), delivery_id),
                )
        except sqlite3.ProgrammingError:  # the store closed while this attempt was out
            return
        self.wake()

    def idle(self) -> bool:
        """Whether every delivery due on the sandbox clock has been attempted and its result recorded.

        Busy: an attempt in flight, a pending delivery due now, or a held one
        that :meth:`claim_due` would release (its time came, or a later event
        to its endpoint has had an attempt).
        """
        now = _ts(self.clock.now())
        with self.store.transaction() as db:
            busy = db.execute(
                "SELECT 1 FROM webhook_deliveries AS d WHERE d.state = ? OR (d.state = ? AND d.due_at <= ?) "
                "OR (d.state = ? AND (d.due_at <= ? OR EXISTS (SELECT 1 FROM webhook_deliveries AS later "
                "WHERE later.url = d.url AND later.event_seq > d.event_seq AND later.attempts > 0))) LIMIT 1",
                (IN_FLIGHT, PENDING, now, HELD, now),
            ).fetchone()
        return busy is None

    def deliver_due(self, send: Sender, limit: int | None = None) -> int:
        """Send every delivery due now, one after another, with ``send``; return how many attempts were made.

        What the serving layer's worker does in parallel; here for tests and
        for driving a sandbox without a server.
        """
        made = 0
        while limit is None or made < limit:
            claims = self.claim_due(limit=1)
            if not claims:
                return made
            for claim in claims:
                self.complete(claim, send(claim.url, claim.body, claim.headers, self.timeout))
                made += 1
        return made

    # ------------------------------------------------------------------ the log

    def log(self, event_id: str | None = None, payment_id: str | None = None) -> dict[str, Any]:
        """Every delivery and every attempt (oldest first): event, endpoint, status, latency, next retry."""
        params = (event_id, event_id, payment_id, payment_id)
        with self.store.transaction() as db:
            deliveries = db.execute(_LOG_DELIVERIES, params).fetchall()
            attempts = db.execute(_LOG_ATTEMPTS, params).fetchall()
        return {
            "deliveries": [_delivery_json(row) for row in deliveries],
            "attempts": [_attempt_json(row) for row in attempts],
        }

    def event(self, event_id: str) -> dict[str, Any]:
        """A stored event: its id, type, source, time and body (``notificationConfig``/``signedAt`` unset)."""
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT id, event_type, source, created_at, body FROM webhook_events WHERE id = ?",
                (event_id,),
            ).fetchone()
        if row is None:
            raise KeyError(event_id)
        return {"eventId": row[0], "eventType": row[1], "source": row[2], "createdAt": row[3],
                "body": orjson.loads(row[4])}  # fmt: skip

    def __repr__(self) -> str:
        remote = ", remote allowed" if self.allow_remote else ""
        return f"WebhookDispatcher(faults {'on' if self._faults.active else 'off'}{remote})"


def check_refusal(url: str) -> str | None:
    """Why a stored delivery may not be sent without ``allow_remote`` (``None``: it may)."""
    try:
        check_endpoint_url(url)
    except ValueError as exc:
        return f"not sent: {exc}"
    return None


def _iso(text: str | None) -> str | None:
    when = _instant(text)
    return when.isoformat() if when else None


def _delivery_json(row: tuple[Any, ...]) -> dict[str, Any]:
    waiting = row[7] in (PENDING, HELD)
    return {
        "deliveryId": row[0], "eventId": row[1], "eventType": row[2], "paymentId": row[3],
        "paymentStatus": row[4], "endpointId": row[5], "url": row[6], "state": row[7], "attempts": row[8],
        "nextAttemptAt": _iso(row[9]) if waiting else None, "faults": orjson.loads(row[10]),
        "source": row[11], "createdAt": _iso(row[12]), "eventAt": _iso(row[13]),
    }  # fmt: skip


def _attempt_json(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "deliveryId": row[0], "eventId": row[1], "eventType": row[2], "paymentId": row[3],
        "paymentStatus": row[4], "url": row[5], "attempt": row[6], "at": _iso(row[7]), "status": row[8],
        "latencyMs": row[9], "error": row[10], "outcome": row[11], "nextRetryAt": _iso(row[12]),
        "eventAt": _iso(row[13]),
    }  # fmt: skip


def _endpoint(row: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "id": row[0],
        "url": row[1],
        "description": row[2],
        "events": orjson.loads(row[3]) if row[3] is not None else None,
        "createdAt": _iso(row[4]),
    }


def _payment_of(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The payment id and status an event body is about."""
    payment = body.get("payment")
    if isinstance(payment, Mapping):
        return payment.get("id"), payment.get("status")
    if body.get("eventType") == EventType.DISPUTE_STATUS:
        return body.get("paymentId"), body.get("status")
    return body.get("paymentId") or body.get("triggerEventId"), None
