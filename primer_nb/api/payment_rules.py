"""The rules of Primer's Payments API v2.4 as pure functions: inheritance, the state machine, amounts.

A payment lives as a :class:`PaymentRecord` (what the sandbox stores). Every
action is a function ``(record, request, now, new ids) -> record | Refusal``
that never mutates its input, so the rules are tested without HTTP or a
database, and a :class:`Refusal` carries the status and ``errorId`` Primer
documents for the case.

The rules, with the choice made where Primer's sources are silent or disagree
(the README's "where sources disagree" table lists them):

- **Inheritance** (:func:`inherit`): fields of ``POST /payments`` win; absent
  ones come from the session the payment method token was made under;
  ``customer``, ``order``, ``paymentMethod`` and ``metadata`` merge one level
  deep (request wins per key); nested objects and arrays are replaced whole.
  ``amount`` is the request's, else derived from the request's own line
  items/fees/shipping merged over the session's, else the session's amount
  rule (its explicit amount, else its derived total). ``amount``,
  ``currencyCode`` and ``orderId`` must end up present (422 naming each).
- **Statuses** (:data:`ALLOWED`): capture from ``AUTHORIZED`` (and from
  ``PARTIALLY_SETTLED`` while a non-final capture left the payment open);
  cancel from ``PENDING`` and ``AUTHORIZED``; refund from ``SETTLED`` and
  ``PARTIALLY_SETTLED``; manual authorize from ``PENDING`` without a required
  action; adjust from ``AUTHORIZED`` with ``authorizationType: ESTIMATED``;
  resume from ``PENDING`` with a required action. Anything else is 400
  ``InvalidPaymentStatus`` (authorize and adjust have their own errorIds
  where the spec gives them).
- **Amounts**: never capture more than is left of the authorized amount, never
  refund more than was captured and not yet refunded (per capture event when
  ``transactionEventId`` names one). A capture that closes the payment
  (``final``, or everything captured) makes it ``SETTLING``; the sandbox clock
  settles it (``SETTLED``, or ``PARTIALLY_SETTLED`` when less was captured)
  after the settlement delay. A non-final partial capture makes it
  ``PARTIALLY_SETTLED`` at once, open for more captures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from primer_nb.api import money
from primer_nb.api.cards import CardScenario
from primer_nb.api.errors import FieldError
from primer_nb.api.payment import (
    AdjustAuthorizationRequest,
    AuthorizeRequest,
    CancelRequest,
    CaptureRequest,
    RefundRequest,
)
from primer_nb.api.timestamps import expiration_text

__all__ = [
    "ALLOWED",
    "CHECKOUT_STATUS",
    "INHERITED_FIELDS",
    "MERGED_OBJECTS",
    "SOURCES",
    "Outcome",
    "PaymentRecord",
    "RefundEntry",
    "Refusal",
    "SaleEvent",
    "adjust_authorization",
    "allowed",
    "authorize",
    "cancel",
    "capture",
    "checkout_body",
    "complete_challenge",
    "first_outcome",
    "inherit",
    "missing_fields",
    "new_payment",
    "payment_body",
    "provenance",
    "refund",
    "refundable",
    "resume",
    "settle",
    "summary_body",
    "three_ds_applies",
]

INHERITED_FIELDS = ("orderId", "currencyCode", "amount", "order", "customerId", "customer", "metadata")
"""Session fields a payment takes when its request leaves them out (plus ``paymentMethod`` options)."""

MERGED_OBJECTS = frozenset({"customer", "order", "metadata", "paymentMethod"})
"""Objects merged key by key (request wins); everything else is taken whole from one side."""

_TAKEN_OR_MERGED = (*(key for key in INHERITED_FIELDS if key != "amount"), "paymentMethod")
"""What :func:`inherit` takes from one side or merges; ``amount`` has its own rule."""

_PAYMENT_METHOD_KEYS = (
    "vaultOnSuccess", "vaultOn3DS", "vaultOnAgreement", "descriptor", "paymentType", "authorizationType",
    "firstPaymentReason",
)  # fmt: skip
_PRICING_KEYS = ("lineItems", "fees", "shipping")

ALLOWED: dict[str, frozenset[str]] = {
    "PENDING": frozenset({"cancel", "authorize", "resume"}),
    "AUTHORIZED": frozenset({"capture", "cancel", "adjust-authorization"}),
    "SETTLING": frozenset(),
    "PARTIALLY_SETTLED": frozenset({"capture", "refund"}),
    "SETTLED": frozenset({"refund"}),
    "DECLINED": frozenset(),
    "FAILED": frozenset(),
    "CANCELLED": frozenset(),
}
"""Which actions each status lets through the state machine (before each action's own checks)."""

CHECKOUT_STATUS = {
    "PENDING": "PENDING",
    "AUTHORIZED": "SUCCESS",
    "SETTLING": "SUCCESS",
    "PARTIALLY_SETTLED": "SUCCESS",
    "SETTLED": "SUCCESS",
    "DECLINED": "FAILED",
    "FAILED": "FAILED",
    "CANCELLED": "FAILED",
}
"""The status the checkout's own payment calls answer with: the SDKs decode only these three."""

_THREE_DS_PROTOCOL = "2.2.0"


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused: the HTTP status and Primer's ``errorId``, description and fix."""

    status: int
    error_id: str
    description: str
    recovery: str
    errors: tuple[FieldError, ...] = field(default=())
    model: str | None = None


class SaleEvent(BaseModel):
    """An event of the SALE transaction: authorization, adjustment, capture or cancellation."""

    id: str
    date: datetime
    type: str
    amount: int | None = None
    final: bool | None = None


class RefundEntry(BaseModel):
    """A refund: one REFUND transaction."""

    id: str
    date: datetime
    amount: int
    order_id: str | None = None
    reason: str | None = None
    event_id: str | None = None
    """The capture event it refunds, when the request named one."""


class PaymentRecord(BaseModel):
    """A payment as the sandbox keeps it; :func:`payment_body` turns it into the API's answer."""

    model_config = ConfigDict(frozen=False, extra="forbid")

    id: str
    status: str
    created_at: datetime
    updated_at: datetime
    session_id: str | None = None
    payment_method_token: str
    fields: dict[str, Any]
    """The payment's own fields after inheritance (camelCase): orderId, currencyCode, amount, order…"""
    payment_method: dict[str, Any] = Field(default_factory=dict)
    """Request-level ``paymentMethod`` options after inheritance (authorizationType, descriptor…)."""
    card: dict[str, Any]
    """``paymentMethodData``: the card's public data."""
    scenario: dict[str, Any]
    """What the card does (:class:`~primer_nb.api.cards.CardScenario` as JSON)."""
    analytics_id: str
    three_ds: dict[str, Any]
    processor_name: str | None = None
    processor_merchant_id: str | None = None
    processor_transaction_id: str | None = None
    status_reason: dict[str, Any] | None = None
    required_action: dict[str, Any] | None = None
    resume_token: str | None = None
    challenge_result: str | None = None
    events: list[SaleEvent] = Field(default_factory=list)
    sale_reason: str | None = None
    refunds: list[RefundEntry] = Field(default_factory=list)
    amount_captured: int = 0
    amount_refunded: int = 0
    captures_closed: bool = False
    settle_at: datetime | None = None

    @property
    def amount(self) -> int:
        """The authorized (or, before authorization, requested) amount."""
        return int(self.fields["amount"])

    @property
    def has_sale(self) -> bool:
        """Whether the payment reached the processor, so it has a SALE transaction."""
        return self.processor_transaction_id is not None

    def changed(self, now: datetime, **updates: Any) -> PaymentRecord:
        """A copy with ``updates`` applied and ``updated_at`` set to ``now``.

        The copy is shallow: rules never change a record's nested values in
        place, they put new ones in ``updates``.
        """
        return self.model_copy(update={**updates, "updated_at": now})


# --------------------------------------------------------------------------- inheritance


def _clone(value: Any) -> Any:
    """A copy of a JSON value, dicts and lists copied all the way down (far cheaper than deepcopy)."""
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_clone(item) for item in value]
    return value


def _merge_one_level(session_value: Any, request_value: Any) -> Any:
    if isinstance(session_value, Mapping) and isinstance(request_value, Mapping):
        merged = dict(_clone(session_value))
        merged.update(_clone(request_value))
        return merged
    return _clone(request_value)


def inherit(overrides: Mapping[str, Any], session: Mapping[str, Any] | None) -> dict[str, Any]:
    """The payment's fields: ``overrides`` (the request, camelCase) over the ``session``'s state.

    Returns ``orderId``, ``currencyCode``, ``amount``, ``order``, ``customerId``,
    ``customer``, ``metadata`` and ``paymentMethod`` (request-level options only)
    where either side has them. Neither argument is changed.
    """
    session = session or {}
    result: dict[str, Any] = {}
    for key in _TAKEN_OR_MERGED:
        theirs = session.get(key)
        if key == "paymentMethod" and isinstance(theirs, Mapping):
            theirs = {k: v for k, v in theirs.items() if k in _PAYMENT_METHOD_KEYS}
        ours = overrides.get(key)
        if ours is None:
            value = _clone(theirs)
        elif key in MERGED_OBJECTS:
            value = _merge_one_level(theirs, ours)
        else:
            value = _clone(ours)
        if value not in (None, {}, []):
            result[key] = value
    amount = _inherited_amount(overrides, session, result.get("order"))
    if amount is not None:
        result["amount"] = amount
    return result


def _inherited_amount(
    overrides: Mapping[str, Any], session: Mapping[str, Any], order: Mapping[str, Any] | None
) -> int | None:
    if overrides.get("amount") is not None:
        return int(overrides["amount"])
    if _priced_by_request(overrides):
        return money.derived_amount(order)
    return money.session_amount(session.get("amount"), session.get("order"))


def _priced_by_request(overrides: Mapping[str, Any]) -> bool:
    """Whether the request's own order has line items, fees or shipping, so its amount is derived."""
    request_order = overrides.get("order") or {}
    return any(request_order.get(key) is not None for key in _PRICING_KEYS)


SOURCES = ("session", "overridden", "request")
"""Where :func:`provenance` says a field came from."""


def _has(value: Any) -> bool:
    return value not in (None, {}, [])


def provenance(
    overrides: Mapping[str, Any],
    session: Mapping[str, Any] | None,
    fields: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Where each inheritable field of a payment came from, by dotted path (in the spec's field order).

    ``overrides`` is the payment request (camelCase, without the token),
    ``session`` the session's data at payment time (a stored state or a
    session body; ``None`` when unknown) and ``fields`` the payment's fields
    (a payment body; by default ``inherit(overrides, session)``).

    Each path is ``"session"`` (the request left it out), ``"overridden"``
    (the request set it and the session had a value there) or ``"request"``
    (only the request had it, or the session is unknown). Objects merged one
    level deep (``customer``, ``order``, ``metadata``, ``paymentMethod``) are
    listed per key (``customer.emailAddress``); the rest whole. ``amount``
    derived from the request's own line items, fees or shipping counts as the
    request's. Paths a payment has that neither side gave (defaults such as
    ``paymentMethod.authorizationType``) are left out when the session is known.
    """
    if fields is None:
        fields = inherit(overrides, session)
    known = session is not None
    theirs_all: Mapping[str, Any] = session or {}
    found: dict[str, str] = {}

    def place(path: str, ours: bool, theirs: bool) -> None:
        if ours:
            found[path] = "overridden" if theirs else "request"
        elif theirs or not known:
            found[path] = "session"

    for key in (*INHERITED_FIELDS, "paymentMethod"):
        value = fields.get(key)
        if not _has(value):
            continue
        ours, theirs = overrides.get(key), theirs_all.get(key)
        if key == "amount":
            session_total = money.session_amount(theirs_all.get("amount"), theirs_all.get("order"))
            place(key, ours is not None or _priced_by_request(overrides), session_total is not None)
        elif key in MERGED_OBJECTS and isinstance(value, Mapping):
            ours_map = ours if isinstance(ours, Mapping) else {}
            theirs_map = theirs if isinstance(theirs, Mapping) else {}
            for sub, item in value.items():
                if key == "paymentMethod" and (
                    sub not in _PAYMENT_METHOD_KEYS or (not known and sub not in ours_map)
                ):
                    continue
                if _has(item):
                    place(f"{key}.{sub}", _has(ours_map.get(sub)), _has(theirs_map.get(sub)))
        else:
            place(key, _has(ours), _has(theirs))
    return found


def missing_fields(fields: Mapping[str, Any]) -> list[FieldError]:
    """What a payment lacks after inheritance: ``amount``, ``currencyCode``, ``orderId``, and more.

    ``customerId`` is required when ``paymentMethod.vaultOnSuccess`` is true (spec).
    """
    found = [
        FieldError(f"$.{name}", f"{name} is required to create a payment: send it on the payment request "
                   "or set it on the client session", "missing")
        for name in ("amount", "currencyCode", "orderId")
        if fields.get(name) is None
    ]  # fmt: skip
    if (fields.get("paymentMethod") or {}).get("vaultOnSuccess") and not fields.get("customerId"):
        found.append(
            FieldError("$.customerId", "customerId is required when paymentMethod.vaultOnSuccess is true",
                       "missing")
        )  # fmt: skip
    return found


def three_ds_applies(enabled: bool, fields: Mapping[str, Any]) -> bool:
    """Whether 3DS runs: enabled in the dashboard, and the customer has an email and a billing address.

    Primer's 3DS guide: the sandbox triggers 3DS only when both are present.
    """
    customer = fields.get("customer") or {}
    return enabled and bool(customer.get("emailAddress")) and bool(customer.get("billingAddress"))


# --------------------------------------------------------------------------- outcomes


def _three_ds(code: str, *, challenged: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"responseCode": code}
    if code == "AUTH_FAILED":
        body["reasonCode"] = "CARD_AUTHENTICATION_FAILED"
    body["protocolVersion"] = _THREE_DS_PROTOCOL
    body["challengeIssued"] = challenged
    return body


_NOT_PERFORMED = {"responseCode": "NOT_PERFORMED"}

_REASONS: dict[str, dict[str, str]] = {
    "DECLINED": {
        "type": "ISSUER_DECLINED", "declineType": "SOFT_DECLINE", "code": "DECLINED",
        "message": "Generic decline (sandbox test card)",
    },
    "FAILED": {"type": "GATEWAY_REJECTED", "message": "Generic fail (sandbox test card)"},
    "NOT_A_TEST_CARD": {
        "type": "APPLICATION_ERROR",
        "message": "Only test card numbers are allowed in Sandbox; this is not one of Primer's test cards",
    },
    "THREE_DS_FAILED": {
        "type": "ISSUER_DECLINED", "declineType": "HARD_DECLINE", "code": "AUTHENTICATION_REQUIRED",
        "message": "3DS authentication failed",
    },
}  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """Where authorizing leads: a status, its reason, the 3DS result, and whether a processor saw it."""

    status: str
    status_reason: dict[str, Any] | None
    three_ds: dict[str, Any]
    challenge: bool = False
    reaches_processor: bool = False


def _processor_outcome(scenario: CardScenario, three_ds: dict[str, Any]) -> Outcome:
    if scenario.authorization == "AUTHORIZED":
        return Outcome("AUTHORIZED", None, three_ds, reaches_processor=True)
    status = "DECLINED" if scenario.authorization == "DECLINED" else "FAILED"
    return Outcome(status, dict(_REASONS[scenario.authorization]), three_ds, reaches_processor=True)


def first_outcome(scenario: CardScenario, *, three_ds: bool, authorize_on_create: bool) -> Outcome:
    """What ``POST /payments`` makes of a card: 3DS first (when it applies), then the processor."""
    if three_ds and scenario.three_ds == "CHALLENGE":
        return Outcome("PENDING", None, {"responseCode": "CHALLENGE"}, challenge=True)
    if three_ds and scenario.three_ds == "FRICTIONLESS_FAILURE":
        return Outcome(
            "DECLINED", dict(_REASONS["THREE_DS_FAILED"]), _three_ds("AUTH_FAILED", challenged=False)
        )
    secure = (
        _three_ds("AUTH_SUCCESS", challenged=False)
        if three_ds and scenario.three_ds == "FRICTIONLESS_SUCCESS"
        else dict(_NOT_PERFORMED)
    )
    if not authorize_on_create:
        return Outcome("PENDING", None, secure)
    return _processor_outcome(scenario, secure)


def _apply_outcome(
    record: PaymentRecord,
    outcome: Outcome,
    now: datetime,
    processor: tuple[str, str],
    transaction_id: str,
    event_id: str,
) -> PaymentRecord:
    updates: dict[str, Any] = {
        "status": outcome.status, "status_reason": outcome.status_reason, "three_ds": outcome.three_ds,
        "required_action": None, "resume_token": None,
    }  # fmt: skip
    if outcome.reaches_processor:
        updates["processor_name"], updates["processor_merchant_id"] = processor
        updates["processor_transaction_id"] = transaction_id
        if outcome.status == "AUTHORIZED":
            updates["events"] = [
                *record.events,
                SaleEvent(id=event_id, date=now, type="AUTHORIZATION_SUCCEEDED", amount=record.amount),
            ]
    return record.changed(now, **updates)


def new_payment(
    *,
    payment_id: str,
    token: str,
    session_id: str | None,
    fields: Mapping[str, Any],
    card: Mapping[str, Any],
    scenario: CardScenario,
    analytics_id: str,
    now: datetime,
    three_ds_enabled: bool,
    authorize_on_create: bool,
    processor: tuple[str, str],
    transaction_id: str,
    event_id: str,
    challenge_token: str | None,
) -> PaymentRecord:
    """A new payment after ``POST /payments``: authorized, declined, failed, or pending a 3DS challenge.

    ``challenge_token`` is the client token to hand back in ``requiredAction``
    if the card is challenged; ``fields`` come from :func:`inherit`.
    """
    own = {key: value for key, value in fields.items() if key != "paymentMethod"}
    method = dict(fields.get("paymentMethod") or {})
    method.setdefault("authorizationType", "FINAL")
    # The status given here is replaced by the first outcome's below, whatever it is (two
    # equivalent mutants change it).
    record = PaymentRecord(
        id=payment_id, status="PENDING", created_at=now, updated_at=now, session_id=session_id,
        payment_method_token=token, fields=own, payment_method=method, card=dict(card),
        scenario=scenario.as_json(), analytics_id=analytics_id, three_ds=dict(_NOT_PERFORMED),
    )  # fmt: skip
    outcome = first_outcome(
        scenario, three_ds=three_ds_applies(three_ds_enabled, fields), authorize_on_create=authorize_on_create
    )
    record = _apply_outcome(record, outcome, now, processor, transaction_id, event_id)
    if outcome.challenge:
        record.required_action = {
            "name": "3DS_AUTHENTICATION",
            "description": "Authenticate the shopper with 3DS (the card issuer asks for a challenge), "
            "then resume the payment with the resumeToken the authentication returns.",
            "clientToken": challenge_token,
        }
    return record


# --------------------------------------------------------------------------- the state machine


def allowed(status: str, action: str) -> bool:
    """Whether ``status`` lets ``action`` through (see :data:`ALLOWED`)."""
    return action in ALLOWED.get(status, frozenset())


def _status_refusal(record: PaymentRecord, action: str, why: str = "") -> Refusal:
    verbs = {"adjust-authorization": "have its authorization adjusted"}
    verb = verbs.get(action, f"be {action}{'d' if action.endswith('e') else 'ed'}")
    if action == "cancel":
        verb = "be cancelled"
    description = f"A payment with status {record.status} cannot {verb}." + (f" {why}" if why else "")
    return Refusal(400, "InvalidPaymentStatus", description, _status_advice(record, action))


def _status_advice(record: PaymentRecord, action: str) -> str:
    if record.status == "SETTLING":
        return ("The payment is settling; it settles on the sandbox clock (advance it with "
                "POST /_sandbox/clock), then it can be refunded.")  # fmt: skip
    needs = sorted(status for status, actions in ALLOWED.items() if action in actions)
    return f"{action} needs a payment in status {' or '.join(needs)}; GET the payment to see its status."


def capture(
    record: PaymentRecord, request: CaptureRequest, now: datetime, event_id: str, settlement_delay: timedelta
) -> PaymentRecord | Refusal:
    """``POST /payments/{id}/capture``: capture all or part of what is left of the authorization."""
    if not allowed(record.status, "capture") or record.captures_closed:
        why = "A final capture was already made." if record.captures_closed else ""
        return _status_refusal(record, "capture", why)
    left = record.amount - record.amount_captured
    amount = left if request.amount is None else request.amount
    if amount <= 0 or amount > left:
        # `amount <= 1` below is an equivalent mutant: an amount of 1 over what is left means nothing
        # is left, and a payment with nothing left to capture is closed, refused above.
        problem = "must be more than 0" if amount <= 0 else (
            f"is more than the {left} left to capture (authorized {record.amount}, "
            f"captured {record.amount_captured})")  # fmt: skip
        return Refusal(
            422, "RequestValidationError", f"Cannot capture {amount}: the amount {problem}.",
            f"Capture at most {left}, or leave amount out to capture everything left.",
            (FieldError("$.amount", f"the capture amount {problem}", "capture_amount"),),
            "PaymentCaptureAPIRequest",
        )  # fmt: skip
    captured = record.amount_captured + amount
    closes = request.final or captured == record.amount
    fields = _clone(record.fields)
    if request.metadata:
        fields["metadata"] = {**(fields.get("metadata") or {}), **request.metadata}
    if request.order is not None and request.order.retailer_country_code:
        fields["order"] = {
            **(fields.get("order") or {}),
            "retailerCountryCode": request.order.retailer_country_code,
        }
    event = SaleEvent(id=event_id, date=now, type="CAPTURE_SUCCEEDED", amount=amount, final=request.final)
    updates: dict[str, Any] = {
        "fields": fields, "amount_captured": captured, "captures_closed": closes,
        "events": [*record.events, event],
    }  # fmt: skip
    if not closes:
        updates["status"] = "PARTIALLY_SETTLED"
    elif settlement_delay <= timedelta(0):
        updates["status"] = "SETTLED" if captured == record.amount else "PARTIALLY_SETTLED"
    else:
        updates["status"], updates["settle_at"] = "SETTLING", now + settlement_delay
    return record.changed(now, **updates)


def settle(record: PaymentRecord, now: datetime) -> PaymentRecord | None:
    """The payment settled, if it was settling and its time has come on the sandbox clock; else ``None``.

    Its ``dateUpdated`` is the moment it settled, not ``now``.
    """
    if record.status != "SETTLING" or record.settle_at is None or record.settle_at > now:
        return None
    status = "SETTLED" if record.amount_captured == record.amount else "PARTIALLY_SETTLED"
    return record.changed(record.settle_at, status=status, settle_at=None)


def cancel(
    record: PaymentRecord, request: CancelRequest, now: datetime, event_id: str
) -> PaymentRecord | Refusal:
    """``POST /payments/{id}/cancel``: void the authorization (or drop a pending payment)."""
    if not allowed(record.status, "cancel"):
        return _status_refusal(record, "cancel")
    events = record.events
    if record.has_sale:
        events = [*events, SaleEvent(id=event_id, date=now, type="CANCELLATION_SUCCEEDED")]
    return record.changed(
        now,
        status="CANCELLED",
        sale_reason=request.reason,
        events=events,
        required_action=None,
        resume_token=None,
    )


def refundable(record: PaymentRecord, event_id: str | None = None) -> int | None:
    """What can still be refunded: in all, or of one capture event (``None`` if no such capture)."""
    left = record.amount_captured - record.amount_refunded
    if event_id is None:
        return left
    event = next((e for e in record.events if e.id == event_id and e.type == "CAPTURE_SUCCEEDED"), None)
    if event is None:
        return None
    refunded = sum(r.amount for r in record.refunds if r.event_id == event_id)
    # Capture events always carry their amount: `or 1` for `or 0` is an equivalent mutant.
    return min(left, (event.amount or 0) - refunded)


def refund(
    record: PaymentRecord, request: RefundRequest, now: datetime, refund_id: str
) -> PaymentRecord | Refusal:
    """``POST /payments/{id}/refund``: refund all that is left, or part of it; repeatable."""
    if not allowed(record.status, "refund"):
        return _status_refusal(record, "refund")
    if record.amount_captured - record.amount_refunded <= 0:
        return Refusal(
            409, "PaymentAlreadyRefunded",
            "Cannot refund this payment because the payment has already been fully refunded.",
            f"All {record.amount_captured} captured was refunded; nothing is left to refund.",
        )  # fmt: skip
    event_id = str(request.transaction_event_id) if request.transaction_event_id else None
    left = refundable(record, event_id)
    if left is None:
        return Refusal(
            422, "RequestValidationError", "transactionEventId names no capture of this payment.",
            "GET the payment with expand=transactions.events and use the id of a CAPTURE_SUCCEEDED event.",
            (FieldError("$.transactionEventId", "no capture event of this payment has this id", "event"),),
            "PaymentRefundAPIRequest",
        )  # fmt: skip
    amount = left if request.amount is None else request.amount
    if amount <= 0:
        return Refusal(
            422, "RequestValidationError", "The refund amount must be more than 0.",
            "Send an amount of at least 1, or leave it out to refund what is left.",
            (FieldError("$.amount", "the refund amount must be more than 0", "refund_amount"),),
            "PaymentRefundAPIRequest",
        )  # fmt: skip
    if amount > left:
        what = "the capture's refundable amount" if event_id else "the refundable amount"
        return Refusal(
            422, "UnprocessableRefundAmount",
            f"Cannot refund this payment with the amount {amount}. The refund amount must be less than "
            f"or equal to {what} ({left}).",
            f"Refund at most {left} (captured {record.amount_captured}, refunded {record.amount_refunded}).",
        )  # fmt: skip
    entry = RefundEntry(
        id=refund_id, date=now, amount=amount, reason=request.reason, event_id=event_id,
        order_id=request.order_id or record.fields.get("orderId"),
    )  # fmt: skip
    return record.changed(
        now, refunds=[*record.refunds, entry], amount_refunded=record.amount_refunded + amount
    )


def adjust_authorization(
    record: PaymentRecord, request: AdjustAuthorizationRequest, now: datetime, event_id: str
) -> PaymentRecord | Refusal:
    """``POST /payments/{id}/adjust-authorization``: set a new authorized amount (ESTIMATED payments only)."""
    if record.status == "PENDING":
        return Refusal(
            400, "PaymentIsNotAuthorizedYet", "Adjust Authorization is only allowed on authorized payments.",
            "Wait until the payment is AUTHORIZED (complete any requiredAction first).",
        )  # fmt: skip
    if not allowed(record.status, "adjust-authorization"):
        return _status_refusal(record, "adjust-authorization")
    if record.payment_method.get("authorizationType") != "ESTIMATED":
        return Refusal(
            400, "IncorrectPaymentAuthorizationType",
            "Adjust authorization is only allowed on payments where authorizationType is set to estimated "
            "and not final.",
            "Create the payment (or its session) with paymentMethod.authorizationType ESTIMATED.",
        )  # fmt: skip
    if request.amount <= 0:
        return Refusal(
            422, "RequestValidationError", "The adjusted amount must be more than 0.",
            "Send the new total to authorize; to release everything, cancel the payment instead.",
            (FieldError("$.amount", "the adjusted amount must be more than 0", "adjust_amount"),),
            "PaymentAdjustAuthorizationAPIRequest",
        )  # fmt: skip
    fields = {**record.fields, "amount": request.amount}
    event = SaleEvent(id=event_id, date=now, type="AUTHORIZATION_ADJUSTMENT_SUCCEEDED", amount=request.amount)
    return record.changed(now, fields=fields, events=[*record.events, event])


def authorize(
    record: PaymentRecord, request: AuthorizeRequest, now: datetime, processor: tuple[str, str],
    transaction_id: str, event_id: str,
) -> PaymentRecord | Refusal:  # fmt: skip
    """``POST /payments/{id}/authorize``: authorize a pending payment with the named processor account."""
    if record.status == "AUTHORIZED":
        return Refusal(400, "PaymentAlreadyAuthorized", "The payment has already been authorized.",
                       "Capture or cancel it instead.")  # fmt: skip
    if not allowed(record.status, "authorize"):
        return _status_refusal(record, "authorize")
    if record.required_action is not None:
        return _status_refusal(
            record, "authorize", f"It waits for {record.required_action['name']}: resume it instead."
        )
    name, merchant_id = processor
    wanted = request.processor
    if wanted.processor_merchant_id != merchant_id or (wanted.name is not None and wanted.name != name):
        return Refusal(
            400, "MerchantAccountNotFound", "The merchant account could not be found.",
            f"The sandbox has one processor account: name {name}, processorMerchantId {merchant_id}.",
        )  # fmt: skip
    outcome = _processor_outcome(CardScenario.from_json(record.scenario), record.three_ds)
    return _apply_outcome(record, outcome, now, processor, transaction_id, event_id)


def complete_challenge(
    record: PaymentRecord, result: str, resume_token: str, now: datetime
) -> PaymentRecord | Refusal:
    """The shopper's 3DS challenge ended (``result``: AUTH_SUCCESS or AUTH_FAILED); keep the resume token."""
    action = record.required_action
    if record.status != "PENDING" or action is None or action.get("name") != "3DS_AUTHENTICATION":
        return _status_refusal(record, "resume", "It has no 3DS challenge waiting.")
    return record.changed(now, resume_token=resume_token, challenge_result=result)


def resume(
    record: PaymentRecord, resume_token: str, now: datetime, *, authorize_on_create: bool,
    processor: tuple[str, str], transaction_id: str, event_id: str,
) -> PaymentRecord | Refusal:  # fmt: skip
    """``POST /payments/{id}/resume``: go on after the 3DS challenge, with the token it returned."""
    if not allowed(record.status, "resume") or record.required_action is None:
        return _status_refusal(
            record, "resume", "" if record.status != "PENDING" else "Nothing waits for it."
        )
    if record.resume_token is None or resume_token != record.resume_token:
        return Refusal(
            400, "PaymentError", "The resume token is not the one this payment's 3DS authentication gave.",
            "Complete the challenge with POST {pciUrl}/3ds/{paymentMethodToken}/auth (using the "
            "requiredAction's clientToken) and resume with the resumeToken it answers.",
        )  # fmt: skip
    if record.challenge_result == "AUTH_FAILED":
        outcome = Outcome(
            "DECLINED", dict(_REASONS["THREE_DS_FAILED"]), _three_ds("AUTH_FAILED", challenged=True)
        )
    else:
        secure = _three_ds("AUTH_SUCCESS", challenged=True)
        if authorize_on_create:
            outcome = _processor_outcome(CardScenario.from_json(record.scenario), secure)
        else:
            outcome = Outcome("PENDING", None, secure)
    return _apply_outcome(record, outcome, now, processor, transaction_id, event_id)


# --------------------------------------------------------------------------- bodies


def _when(value: datetime) -> str:
    return expiration_text(value)


def _sale_transaction(record: PaymentRecord, expand: bool) -> dict[str, Any]:
    fields = record.fields
    sale: dict[str, Any] = {
        "date": _when(record.created_at),
        "amount": record.amount,
        "currencyCode": fields.get("currencyCode"),
        "orderId": fields.get("orderId"),
        "transactionType": "SALE",
        "processorTransactionId": record.processor_transaction_id,
        "processorName": record.processor_name,
        "processorMerchantId": record.processor_merchant_id,
        "processorStatus": record.status,
        "cardTokenType": "CARD_PAN",
    }
    if record.status_reason:  # only declined and failed payments have one
        sale["processorStatusReason"] = record.status_reason
    if record.sale_reason:
        sale["reason"] = record.sale_reason
    if expand:
        sale["events"] = [_event_body(event) for event in record.events]
    return sale


def _event_body(event: SaleEvent) -> dict[str, Any]:
    body: dict[str, Any] = {"id": event.id, "date": _when(event.date), "type": event.type}
    if event.amount is not None:
        body["amount"] = event.amount
    if event.final is not None:
        body["final"] = event.final
    return body


def _refund_transaction(record: PaymentRecord, entry: RefundEntry) -> dict[str, Any]:
    body: dict[str, Any] = {
        "date": _when(entry.date),
        "amount": entry.amount,
        "currencyCode": record.fields.get("currencyCode"),
        "orderId": entry.order_id,
        "transactionType": "REFUND",
        "processorTransactionId": entry.id,
        "processorName": record.processor_name,
        "processorMerchantId": record.processor_merchant_id,
        "processorStatus": "SETTLED",
        "cardTokenType": "CARD_PAN",
    }
    if entry.reason:
        body["reason"] = entry.reason
    return body


def payment_body(record: PaymentRecord, *, expand: bool = False) -> dict[str, Any]:
    """The payment as the Payments API returns it (``expand`` adds each transaction's events)."""
    fields = record.fields
    body: dict[str, Any] = {
        "id": record.id,
        "date": _when(record.created_at),
        "dateUpdated": _when(record.updated_at),
        "status": record.status,
        "cardTokenType": "CARD_PAN",
    }
    for key in INHERITED_FIELDS:
        if fields.get(key) is not None:
            body[key] = fields[key]
    method = record.payment_method
    payment_method: dict[str, Any] = {
        key: method[key] for key in ("descriptor", "paymentType") if method.get(key) is not None
    }
    payment_method.update(
        paymentMethodToken=record.payment_method_token,
        isVaulted=False,
        analyticsId=record.analytics_id,
        paymentMethodType="PAYMENT_CARD",
        paymentMethodData=record.card,
        threeDSecureAuthentication=record.three_ds,
        authorizationType=method.get("authorizationType", "FINAL"),
    )
    body["paymentMethod"] = payment_method
    processor: dict[str, Any] = {}
    if record.processor_name:
        processor = {"name": record.processor_name, "processorMerchantId": record.processor_merchant_id}
    processor.update(amountCaptured=record.amount_captured, amountRefunded=record.amount_refunded)
    body["processor"] = processor
    if record.required_action is not None:
        body["requiredAction"] = record.required_action
    if record.status_reason is not None:
        body["statusReason"] = record.status_reason
    transactions = [_sale_transaction(record, expand)] if record.has_sale else []
    transactions += [_refund_transaction(record, entry) for entry in record.refunds]
    body["transactions"] = transactions
    return body


def summary_body(record: PaymentRecord) -> dict[str, Any]:
    """The payment as one row of ``GET /payments`` (``PaymentSummaryAPISchema``)."""
    body: dict[str, Any] = {
        "id": record.id,
        "date": _when(record.created_at),
        "dateUpdated": _when(record.updated_at),
        "status": record.status,
        "orderId": record.fields.get("orderId"),
        "currencyCode": record.fields.get("currencyCode"),
        "amount": record.amount,
    }
    if record.processor_name:
        body["processor"] = {
            "name": record.processor_name,
            "processorMerchantId": record.processor_merchant_id,
        }
    if record.fields.get("metadata"):
        body["metadata"] = record.fields["metadata"]
    return body


def checkout_body(record: PaymentRecord) -> dict[str, Any]:
    """The payment as the checkout's own calls return it: status ``SUCCESS``, ``PENDING`` or ``FAILED``.

    Primer's iOS and Android SDKs decode only these three statuses (and need
    ``id, date, status, orderId, currencyCode, amount``); a ``PENDING``
    payment carries its ``requiredAction`` with ``clientToken``.
    """
    fields = record.fields
    body: dict[str, Any] = {
        "id": record.id,
        "date": _when(record.created_at),
        "status": CHECKOUT_STATUS[record.status],
        "orderId": fields.get("orderId"),
        "currencyCode": fields.get("currencyCode"),
        "amount": record.amount,
    }
    if fields.get("customerId"):
        body["customerId"] = fields["customerId"]
    if record.required_action is not None:
        body["requiredAction"] = record.required_action
    if body["status"] == "FAILED":
        body["paymentFailureReason"] = "payment-failed"
    return body
