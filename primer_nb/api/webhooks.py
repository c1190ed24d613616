"""Primer's webhooks: event types, bodies, signatures, verification, the retry schedule, typed events.

What Primer documents (see the README's webhooks section for the sources):

- a webhook is a ``POST`` of a JSON body; payment events carry ``eventType``,
  ``date``, ``notificationConfig``, ``version``, ``signedAt`` and the full
  ``payment`` object;
- ``X-Signature-Primary`` is an HMAC of the body with the account's signing
  secret, base64-encoded; ``X-Signature-Secondary`` is added for 24 hours after
  the secret is rotated;
- ``signedAt`` (a string of Unix seconds) is inside the signed body, so a
  receiver can refuse replays outside a time window;
- a 2xx acknowledges; anything else, or no answer within 10 s, is retried
  about 10 s, 60 s, 5 min, 10 min and 15 min later (with jitter), then dropped.

Where Primer is silent this module makes a choice and names it: the hash is
SHA-256 over the exact body bytes, the key is the secret's UTF-8 bytes, the
encoding standard padded base64 (as public verifiers do); the replay window
defaults to 300 s. Everything here is pure: no I/O, no clock of its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, ValidationError

from primer_nb.api.errors import WebhookSignatureError
from primer_nb.api.fields import ResponseModel
from primer_nb.api.protocol import API_VERSION
from primer_nb.api.timestamps import as_utc, expiration_text

__all__ = [
    "ATTEMPT_HEADER",
    "DEFAULT_TOLERANCE",
    "DELIVERY_TIMEOUT",
    "EVENT_ID_HEADER",
    "JITTER",
    "MAX_ATTEMPTS",
    "OPERATION_FAILED_EVENTS",
    "PAYMENT_EVENTS",
    "RETRY_DELAYS",
    "SECONDARY_WINDOW",
    "SIGNATURE_PRIMARY_HEADER",
    "SIGNATURE_SECONDARY_HEADER",
    "SIGNED_EVENTS",
    "DisputeOpenedEvent",
    "DisputeStatusEvent",
    "EventType",
    "NotificationConfig",
    "PaymentEvent",
    "PaymentOperationFailedEvent",
    "PaymentRefundEvent",
    "PaymentStatusEvent",
    "ReceivedDelivery",
    "WebhookEvent",
    "WebhookPayment",
    "WebhookSignatureError",
    "WorkflowRunFailedEvent",
    "build_event_body",
    "encode_body",
    "finish_body",
    "is_acknowledged",
    "parse_event",
    "retry_delay",
    "sign",
    "signature_headers",
    "verify",
    "verify_signature",
    "wire_time",
]

SIGNATURE_PRIMARY_HEADER = "X-Signature-Primary"
SIGNATURE_SECONDARY_HEADER = "X-Signature-Secondary"

# Primer publishes no event or delivery id. The sandbox adds these two headers so receivers can
# deduplicate and count attempts; the prefix says they are the emulator's, not Primer's, and the
# body stays exactly Primer's shape.
EVENT_ID_HEADER = "X-Primer-Nb-Event-Id"
ATTEMPT_HEADER = "X-Primer-Nb-Attempt"

DELIVERY_TIMEOUT = 10.0
"""Seconds Primer waits for an answer before the attempt counts as failed."""

RETRY_DELAYS: tuple[float, ...] = (10.0, 60.0, 300.0, 600.0, 900.0)
"""Primer's typical retry schedule: seconds from a failed attempt to the next one."""

MAX_ATTEMPTS = 1 + len(RETRY_DELAYS)
"""The first attempt and five retries; after the last failure the event is dropped."""

JITTER = 0.1
"""Retry delays vary by up to ±10 % (Primer: "random jitter applied to avoid retry bursts")."""

SECONDARY_WINDOW = 24 * 3600.0
"""Seconds after a rotation during which ``X-Signature-Secondary`` (the previous secret) is sent."""

DEFAULT_TOLERANCE = 300.0
"""Seconds ``signedAt`` may be from now before :func:`verify` calls it stale (Primer gives no value)."""


class EventType(StrEnum):
    """The webhook events Primer documents."""

    PAYMENT_STATUS = "PAYMENT.STATUS"
    PAYMENT_REFUND = "PAYMENT.REFUND"
    PAYMENT_CAPTURE_FAILED = "PAYMENT.CAPTURE.FAILED"
    PAYMENT_REFUND_FAILED = "PAYMENT.REFUND.FAILED"
    PAYMENT_CANCELLATION_FAILED = "PAYMENT.CANCELLATION.FAILED"
    PAYMENT_AUTHORIZATION_ADJUSTMENT_FAILED = "PAYMENT.AUTHORIZATION_ADJUSTMENT.FAILED"
    DISPUTE_OPENED = "DISPUTE.OPENED"
    DISPUTE_STATUS = "DISPUTE.STATUS"
    WORKFLOW_RUN_FAILED = "WORKFLOW_RUN.FAILED"


PAYMENT_EVENTS = frozenset({EventType.PAYMENT_STATUS, EventType.PAYMENT_REFUND})
"""Events whose body carries the full payment object."""

OPERATION_FAILED_EVENTS = frozenset(
    {
        EventType.PAYMENT_CAPTURE_FAILED,
        EventType.PAYMENT_REFUND_FAILED,
        EventType.PAYMENT_CANCELLATION_FAILED,
        EventType.PAYMENT_AUTHORIZATION_ADJUSTMENT_FAILED,
    }
)

SIGNED_EVENTS = PAYMENT_EVENTS | OPERATION_FAILED_EVENTS
"""Events Primer documents with ``signedAt`` (and ``notificationConfig``) in the body."""


# ----------------------------------------------------------------------------- bodies


def wire_time(when: datetime) -> str:
    """An instant as webhook examples write ``date``: naive UTC with microseconds."""
    return expiration_text(when)


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``overrides`` merged in, nested objects key by key; keys keep their places."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def build_event_body(
    event_type: str,
    payment: Mapping[str, Any],
    *,
    at: datetime,
    notification_config: Mapping[str, Any] | None = None,
    version: str = API_VERSION,
    signed_at: int | str | None = None,
    overrides: Mapping[str, Any] | None = None,
    ids: Iterable[str] = (),
) -> dict[str, Any]:
    """The body of one webhook event about ``payment``, in the key order of Primer's v2.4 examples.

    Parameters
    ----------
    event_type:
        One of :class:`EventType`.
    payment:
        The payment object as the Payments API returns it.
    at:
        When the event happened (its ``date``).
    notification_config, signed_at:
        ``notificationConfig`` and ``signedAt`` of the payment events; ``None``
        leaves a ``None`` placeholder that :func:`finish_body` fills per delivery.
    overrides:
        Fields to replace, merged into nested objects key by key
        (``{"payment": {"status": "SETTLED"}}`` changes only the status).
    ids:
        Values for generated ids (``transactionEvent.id``, ``run.id``), used in order.
    """
    kind = EventType(event_type)
    fresh = iter(ids)
    date = wire_time(at)
    body: dict[str, Any]
    if kind in PAYMENT_EVENTS or kind in OPERATION_FAILED_EVENTS:
        body = {
            "eventType": kind.value,
            "date": date,
            "notificationConfig": dict(notification_config) if notification_config is not None else None,
            "version": version,
            "signedAt": str(signed_at) if signed_at is not None else None,
        }
        if kind in PAYMENT_EVENTS:
            body["payment"] = dict(payment)
        else:
            body["payment"] = {k: payment.get(k) for k in ("id", "amount", "currencyCode", "orderId")}
            body["requestAmount"] = payment.get("amount")
            body["transactionEvent"] = {"id": next(fresh, None)}
    elif kind is EventType.DISPUTE_OPENED:
        body = {
            "eventType": kind.value,
            "processorId": _processor_name(payment),
            "processorDisputeId": next(fresh, None),
            "paymentId": payment.get("id"),
            "transactionId": _transaction_id(payment),
            "orderId": payment.get("orderId"),
            "primerAccountId": None,
        }
    elif kind is EventType.DISPUTE_STATUS:
        body = {
            "eventType": kind.value,
            "type": "DISPUTE",
            "status": "OPEN",
            "primerAccountId": None,
            "orderId": payment.get("orderId"),
            "paymentId": payment.get("id"),
            "paymentMethod": _dispute_payment_method(payment),
            "processor": _processor_name(payment),
            "processorDisputeId": next(fresh, None),
            "receivedAt": date,
            "challengeRequiredBy": None,
            "reasonCode": None,
            "amount": payment.get("amount"),
            "currency": payment.get("currencyCode"),
            "version": version,
            "transactionId": _transaction_id(payment),
            "reason": None,
            "processorReason": None,
            "merchantId": (payment.get("processor") or {}).get("processorMerchantId"),
        }
    else:  # WORKFLOW_RUN.FAILED: the payment only as the trigger's id
        body = {
            "eventType": kind.value,
            "version": "1.0",
            "date": as_utc(at).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds"),
            "primerAccountId": None,
            "triggerEventId": payment.get("id"),
            "workflow": {"id": next(fresh, None), "name": "Payment workflow", "version": 1},
            "run": {
                "timestamp": date,
                "id": next(fresh, None),
                "status": "FAILED",
                "lastError": {
                    "applicationId": "PRIMER_PAYMENTS",
                    "actionId": "capture_payment",
                    "diagnosticsId": None,
                    "message": "The workflow run failed (triggered in the local sandbox).",
                },
            },
        }
    return _merge(body, overrides) if overrides else body


def _processor_name(payment: Mapping[str, Any]) -> str | None:
    processor = payment.get("processor")
    return processor.get("name") if isinstance(processor, Mapping) else None


def _transaction_id(payment: Mapping[str, Any]) -> str | None:
    for transaction in payment.get("transactions") or ():
        if isinstance(transaction, Mapping) and transaction.get("processorTransactionId"):
            return str(transaction["processorTransactionId"])
    return None


def _dispute_payment_method(payment: Mapping[str, Any]) -> dict[str, Any]:
    method = payment.get("paymentMethod") or {}
    data = method.get("paymentMethodData") or {}
    network = (data.get("binData") or {}).get("network") or data.get("network")
    return {"paymentMethodType": method.get("paymentMethodType"), "paymentMethodData": {"network": network}}


def finish_body(
    body: Mapping[str, Any], *, notification_config: Mapping[str, Any] | None, signed_at: int | str | None
) -> dict[str, Any]:
    """``body`` with its ``notificationConfig`` and ``signedAt`` placeholders filled in.

    Only keys the body already has, and that are still ``None``, are filled:
    an override given when the event was made wins, and events without
    these fields (disputes, workflow runs) stay without them.
    """
    finished = dict(body)
    if "notificationConfig" in finished and finished["notificationConfig"] is None:
        finished["notificationConfig"] = dict(notification_config) if notification_config else None
    if "signedAt" in finished and finished["signedAt"] is None and signed_at is not None:
        finished["signedAt"] = str(signed_at)
    return finished


def encode_body(body: Mapping[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, UTF-8, keys in the body's order."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


# ----------------------------------------------------------------------------- signatures


def sign(body: bytes, secret: str) -> str:
    """``base64(HMAC-SHA256(secret, body))``: the value of ``X-Signature-Primary``.

    Primer documents "an HMAC … converted to a base64 encoded string"; the
    SHA-256 hash, the UTF-8 key and standard padded base64 are the choices
    public verifiers make, and this kit's.
    """
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_headers(body: bytes, primary: str, secondary: str | None = None) -> dict[str, str]:
    """The signature headers for ``body``: Primary with ``primary``, Secondary only when given."""
    headers = {SIGNATURE_PRIMARY_HEADER: sign(body, primary)}
    if secondary is not None:
        headers[SIGNATURE_SECONDARY_HEADER] = sign(body, secondary)
    return headers


def _header(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> str | None:
    items = headers.items() if isinstance(headers, Mapping) else headers
    wanted = name.lower()
    for key, value in items:
        if key.lower() == wanted:
            return value
    return None


def _decoded(signature: str) -> bytes | None:
    try:
        return base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def verify_signature(
    body: bytes, headers: Mapping[str, str] | Iterable[tuple[str, str]], secret: str | Sequence[str]
) -> str:
    """Check the signature headers against ``secret`` (or several); return the header that matched.

    Both ``X-Signature-Primary`` and ``X-Signature-Secondary`` are tried
    against every secret given, so a receiver that holds only the new secret,
    or still only the old one, accepts deliveries made during the 24 hours
    after a rotation. Comparisons are constant-time. Raises
    :class:`WebhookSignatureError` (``reason`` ``"missing"`` or ``"mismatch"``).
    """
    secrets_given = [secret] if isinstance(secret, str) else [s for s in secret if s]
    if not secrets_given:
        raise WebhookSignatureError("no signing secret to verify with", reason="no-secret")
    sent = {
        name: value
        for name in (SIGNATURE_PRIMARY_HEADER, SIGNATURE_SECONDARY_HEADER)
        if (value := _header(headers, name))
    }
    if not sent:
        raise WebhookSignatureError(
            f"the delivery has no {SIGNATURE_PRIMARY_HEADER} header: it was not signed", reason="missing"
        )
    expected = [hmac.new(s.encode(), body, hashlib.sha256).digest() for s in secrets_given]
    matched: str | None = None
    for name, value in sent.items():
        given = _decoded(value) or b""
        hit = False
        for digest in expected:  # every pair is compared: the time taken does not say which matched
            hit |= hmac.compare_digest(given, digest)
        if hit and matched is None:
            matched = name
    if matched is None:
        raise WebhookSignatureError(
            f"{' and '.join(sent)} do{'es' if len(sent) == 1 else ''} not match the body signed with "
            f"the secret{'s' if len(secrets_given) > 1 else ''} given: the body was changed, or signed "
            "with another secret (verify the raw bytes received, not re-serialised JSON)",
            reason="mismatch",
        )
    return matched


def verify(
    body: bytes,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    secret: str | Sequence[str],
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: datetime | float | None = None,
) -> WebhookEvent:
    """Verify one delivery and return its typed event.

    Parameters
    ----------
    body:
        The raw request body, exactly as received.
    headers:
        The request headers (any case).
    secret:
        The signing secret, or several (the new and the previous one during a rotation).
    tolerance:
        Largest allowed distance in seconds between ``signedAt`` and ``now``
        (``None`` skips the check). Events Primer documents with ``signedAt``
        must carry it; dispute and workflow events have none and are not checked.
    now:
        The receiver's current time (a datetime or Unix seconds); default: this machine's clock.

    Raises
    ------
    WebhookSignatureError
        ``reason`` says why: ``missing`` or ``mismatch`` (signature), ``stale``
        (``signedAt`` outside the window), ``malformed`` (not a JSON event).
    """
    verify_signature(body, headers, secret)
    event = parse_event(body)
    if tolerance is None:
        return event
    signed_at = getattr(event, "signed_at", None)
    if signed_at is None:
        if event.event_type in SIGNED_EVENTS:
            raise WebhookSignatureError(
                f"the {event.event_type} body has no signedAt, so its age cannot be checked", reason="stale"
            )
        return event
    try:
        signed = float(signed_at)
    except (TypeError, ValueError):
        problem = f"signedAt {signed_at!r} is not Unix seconds"
        raise WebhookSignatureError(problem, reason="malformed") from None
    if now is None:
        current = datetime.now(UTC).timestamp()
    elif isinstance(now, datetime):
        current = as_utc(now).timestamp()
    else:
        current = float(now)
    age = current - signed
    if abs(age) > tolerance:
        when = "ago" if age > 0 else "in the future"
        raise WebhookSignatureError(
            f"signedAt is {abs(age):.0f} s {when}, outside the {tolerance:g} s window: "
            "a replayed or delayed delivery (or a clock that is off)",
            reason="stale",
        )
    return event


# ----------------------------------------------------------------------------- delivery rules


def is_acknowledged(status: int | None) -> bool:
    """Whether an answer acknowledges a delivery: any 2xx (3xx redirects are failures, not followed)."""
    return status is not None and 200 <= status < 300


def retry_delay(
    failed_attempts: int, *, seed: int | str | None = None, jitter: float = JITTER
) -> float | None:
    """Seconds to wait after the ``failed_attempts``-th failed attempt; ``None`` once retries are spent.

    ``retry_delay(1)`` is about 10 s, then 60 s, 300 s, 600 s and 900 s, each
    varied by up to ±``jitter``. The variation is drawn from ``seed`` and the
    attempt number alone, so the same event retries on the same schedule
    every run.
    """
    if failed_attempts < 1:
        raise ValueError(f"failed_attempts counts from 1, got {failed_attempts}")
    if failed_attempts > len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[failed_attempts - 1]
    if not jitter:
        return base
    draw = random.Random(f"{seed}:{failed_attempts}").uniform(-jitter, jitter)  # noqa: S311 - not security
    return base * (1 + draw)


# ----------------------------------------------------------------------------- typed events


class NotificationConfig(ResponseModel):
    """``notificationConfig``: the dashboard webhook configuration that sent the event."""

    id: str | None = None
    description: str | None = None


class WebhookPayment(ResponseModel):
    """The payment inside a payment event (every field Primer sends is kept, known or not)."""

    id: str | None = None
    date: str | None = None
    date_updated: str | None = None
    status: str | None = None
    order_id: str | None = None
    currency_code: str | None = None
    amount: int | None = None
    customer_id: str | None = None
    processor: dict[str, Any] | None = None
    status_reason: dict[str, Any] | None = None
    transactions: list[dict[str, Any]] = Field(default_factory=list)


class WebhookEvent(ResponseModel):
    """Any webhook event: its ``eventType`` and whatever else it carries."""

    event_type: str
    version: str | None = None

    @property
    def payment_id(self) -> str | None:
        """The id of the payment the event is about, when it names one."""
        extra = self.model_extra or {}
        for key in ("paymentId", "triggerEventId"):
            if extra.get(key):
                return str(extra[key])
        return None

    @property
    def payment_status(self) -> str | None:
        """The payment's status as the event reports it (payment events only)."""
        return None


class PaymentEvent(WebhookEvent):
    """A payment-family event: envelope fields and the ``payment``."""

    date: str | None = None
    notification_config: NotificationConfig | None = None
    signed_at: str | None = None
    payment: WebhookPayment = Field(default_factory=WebhookPayment)

    @property
    def payment_id(self) -> str | None:
        """The payment's id."""
        return self.payment.id

    @property
    def payment_status(self) -> str | None:
        """The payment's status when the event was raised."""
        return self.payment.status


class PaymentStatusEvent(PaymentEvent):
    """``PAYMENT.STATUS``: the payment's status changed; the body has the full payment."""


class PaymentRefundEvent(PaymentEvent):
    """``PAYMENT.REFUND``: a refund reached a final state; read it from the last REFUND transaction."""

    @property
    def refund(self) -> dict[str, Any] | None:
        """The most recent ``REFUND`` transaction (its ``processorStatus`` says SETTLED or FAILED)."""
        refunds = [t for t in self.payment.transactions if t.get("transactionType") == "REFUND"]
        return refunds[-1] if refunds else None


class PaymentOperationFailedEvent(PaymentEvent):
    """``PAYMENT.*.FAILED``: an operation attempt failed and the status did not change."""

    request_amount: int | None = None
    transaction_event: dict[str, Any] | None = None


class DisputeOpenedEvent(WebhookEvent):
    """``DISPUTE.OPENED``: a dispute or chargeback was opened (no ``signedAt`` in this body)."""

    processor_id: str | None = None
    processor_dispute_id: str | None = None
    transaction_id: str | None = None
    order_id: str | None = None
    primer_account_id: str | None = None


class DisputeStatusEvent(WebhookEvent):
    """``DISPUTE.STATUS``: a retrieval, dispute or pre-arbitration changed (no ``signedAt``)."""

    type: str | None = None
    status: str | None = None
    processor_dispute_id: str | None = None
    amount: int | None = None
    currency: str | None = None

    @property
    def payment_status(self) -> str | None:
        """The dispute's status (OPEN, WON, LOST …)."""
        return self.status


class WorkflowRunFailedEvent(WebhookEvent):
    """``WORKFLOW_RUN.FAILED``: a workflow run failed; ``triggerEventId`` is the payment id."""

    date: str | None = None
    trigger_event_id: str | None = None
    workflow: dict[str, Any] | None = None
    run: dict[str, Any] | None = None

    @property
    def payment_id(self) -> str | None:
        """The payment that triggered the workflow."""
        return self.trigger_event_id


_MODELS: dict[str, type[WebhookEvent]] = {
    EventType.PAYMENT_STATUS: PaymentStatusEvent,
    EventType.PAYMENT_REFUND: PaymentRefundEvent,
    **dict.fromkeys(OPERATION_FAILED_EVENTS, PaymentOperationFailedEvent),
    EventType.DISPUTE_OPENED: DisputeOpenedEvent,
    EventType.DISPUTE_STATUS: DisputeStatusEvent,
    EventType.WORKFLOW_RUN_FAILED: WorkflowRunFailedEvent,
}


def parse_event(body: bytes | str | Mapping[str, Any]) -> WebhookEvent:
    """The typed event for a webhook body (raw bytes, text or a decoded mapping).

    Unknown event types still parse, as :class:`WebhookEvent` with every field
    kept. Raises :class:`WebhookSignatureError` (``reason="malformed"``) for a
    body that is not a JSON object with an ``eventType``.
    """
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body)
        except ValueError:
            raise WebhookSignatureError("the body is not JSON", reason="malformed") from None
    else:
        data = dict(body)
    if not isinstance(data, dict) or not isinstance(data.get("eventType"), str):
        problem = "the body is not a webhook event: it has no eventType"
        raise WebhookSignatureError(problem, reason="malformed")
    model = _MODELS.get(data["eventType"], WebhookEvent)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise WebhookSignatureError(
            f"the {data['eventType']} body does not have Primer's shape at {where}: {first['msg']}",
            reason="malformed",
        ) from None


@dataclass
class ReceivedDelivery:
    """One delivery as a receiver saw it: what came, whether it verified, what was answered.

    ``event`` is ``None`` when the body could not be verified or parsed;
    ``error`` then says why. ``received_at`` is on the receiver's clock.
    """

    received_at: datetime
    body: bytes
    headers: dict[str, str]
    verified: bool
    status: int
    event: WebhookEvent | None = None
    error: str | None = None
    forwarded_status: int | None = None

    @property
    def event_id(self) -> str | None:
        """The sandbox's event id (``X-Primer-Nb-Event-Id``); ``None`` from Primer itself."""
        return _header(self.headers, EVENT_ID_HEADER)

    @property
    def attempt(self) -> int | None:
        """Which attempt this was (``X-Primer-Nb-Attempt``), when the sender says."""
        value = _header(self.headers, ATTEMPT_HEADER)
        return int(value) if value and value.isdigit() else None

    @property
    def acknowledged(self) -> bool:
        """Whether the receiver answered 2xx."""
        return is_acknowledged(self.status)

    @property
    def event_type(self) -> str | None:
        """The event type, from the parsed event or, failing that, the raw body."""
        if self.event is not None:
            return self.event.event_type
        try:
            value = json.loads(self.body).get("eventType")
        except (ValueError, AttributeError):
            return None
        return value if isinstance(value, str) else None

    def dedup_key(self) -> str | None:
        """What identifies the event across deliveries: the sandbox's event id, else Primer's fields.

        From Primer itself (no event id) this falls back to what its docs offer:
        ``transactionEvent.id`` for failed operations, or event type, payment id
        and ``payment.dateUpdated`` for payment events.
        """
        if self.event_id:
            return self.event_id
        event = self.event
        if isinstance(event, PaymentOperationFailedEvent) and event.transaction_event:
            return f"{event.event_type}:{event.transaction_event.get('id')}"
        if isinstance(event, PaymentEvent):
            return f"{event.event_type}:{event.payment.id}:{event.payment.date_updated}"
        return None
