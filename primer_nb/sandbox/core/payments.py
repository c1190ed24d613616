"""The Payments API as the sandbox serves it, free of any web framework.

:class:`PaymentService` takes raw request parts (headers, body bytes, query
pairs) and returns a :class:`~primer_nb.sandbox.core.replies.Reply`, like
:class:`~primer_nb.sandbox.core.service.SandboxService` does for sessions.
Bodies are validated by the domain core's models
(:mod:`primer_nb.api.payment`) and every decision is one of the pure rules of
:mod:`primer_nb.api.payment_rules`; this module only reads, applies the rule
and writes, in one transaction per request.

Listeners (:attr:`PaymentService.listeners`) hear of every status change
(``PAYMENT.STATUS``) and every refund (``PAYMENT.REFUND``) after the change is
committed, with the payment's body and the sandbox time it happened. They run
in the thread that served the request, before it answers: a listener should
hand slow work (a webhook delivery) to a queue of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from primer_nb.api.checkout_warnings import DashboardProfile
from primer_nb.api.envelope import FieldError, validation_group
from primer_nb.api.errors import PrimerValidationError
from primer_nb.api.fields import RequestModel
from primer_nb.api.payment import (
    PAYMENT_BODIES,
    PaymentCreateRequest,
    PaymentSearch,
    parse_body,
    parse_expand,
)
from primer_nb.api.payment_rules import (
    PaymentRecord,
    Refusal,
    adjust_authorization,
    authorize,
    cancel,
    capture,
    complete_challenge,
    inherit,
    missing_fields,
    new_payment,
    payment_body,
    refund,
    resume,
    settle,
    summary_body,
)
from primer_nb.sandbox.core.clock import SandboxClock
from primer_nb.sandbox.core.payment_store import (
    BadCursorError,
    PaymentStore,
    PaymentTables,
    StoredToken,
)
from primer_nb.sandbox.core.replies import IdSource, Reply, error_reply
from primer_nb.sandbox.core.store import SessionStore
from primer_nb.sandbox.core.tokens import TokenIssuer

__all__ = ["DEFAULT_SETTLEMENT_DELAY", "PaymentListener", "PaymentService", "PaymentSettings"]

logger = logging.getLogger("primer_nb.sandbox")

PaymentListener = Callable[[str, dict[str, Any], datetime], None]
"""Called as ``listener(event_type, payment_body, at)`` after each committed change."""

DEFAULT_SETTLEMENT_DELAY = timedelta(minutes=5)
"""How long a captured payment stays ``SETTLING`` on the sandbox clock."""


@dataclass
class PaymentSettings:
    """How the sandbox's payment workflow behaves (change with ``POST /_sandbox/payments/settings``)."""

    settlement_delay: timedelta = DEFAULT_SETTLEMENT_DELAY
    """Time on the sandbox clock from a closing capture to settlement; zero settles at once."""
    authorize_on_create: bool = True
    """Whether ``POST /payments`` authorizes (Primer's usual workflow) or leaves the payment ``PENDING``."""
    processor_name: str = "PRIMER_TEST_PROCESSOR"
    processor_merchant_id: str = "primer-sandbox-merchant"

    def as_json(self) -> dict[str, Any]:
        """The settings as the admin API shows them."""
        return {
            "settlementDelaySeconds": self.settlement_delay.total_seconds(),
            "authorizeOnCreate": self.authorize_on_create,
            "processor": {"name": self.processor_name, "processorMerchantId": self.processor_merchant_id},
        }

    @property
    def processor(self) -> tuple[str, str]:
        """``(name, processorMerchantId)`` of the sandbox's one processor account."""
        return self.processor_name, self.processor_merchant_id


# How "no such payment" is answered: the spec differs by operation.
_NOT_FOUND = {
    "authorize": (404, "PaymentNotFoundError", "The payment could not be found."),
    "adjust-authorization": (404, "EntityNotFound", "No matching Payment could be found."),
}
_NOT_FOUND_DEFAULT = (400, "PaymentError", "The payment could not be found.")
_CHECK_ID = "Check the payment id (GET /payments lists them)."

_Event = tuple[str, PaymentRecord, datetime]


@dataclass
class PaymentService:
    """Payments, payment method tokens and idempotency keys, beside a sandbox's sessions."""

    sessions: SessionStore
    clock: SandboxClock
    ids: IdSource
    tokens: TokenIssuer
    profile: DashboardProfile
    settings: PaymentSettings = field(default_factory=PaymentSettings)
    listeners: list[PaymentListener] = field(default_factory=list)
    store: PaymentStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = PaymentStore(self.sessions)

    # ------------------------------------------------------------------ replies

    def error(
        self, status: int, error_id: str, description: str, recovery: str,
        record: PaymentRecord | None = None, *, validation_errors: list[dict[str, Any]] | None = None,
    ) -> Reply:  # fmt: skip
        """An error in Primer's envelope; 400 and 409 name the payment (``paymentId``, ``paymentStatus``)."""
        reply = error_reply(
            self.ids, status, error_id, description, recovery, validation_errors=validation_errors
        )
        if record is not None and status in (400, 409):
            reply.body["error"]["paymentId"] = record.id
            reply.body["error"]["paymentStatus"] = record.status
        return reply

    def invalid(self, errors: list[FieldError], model: str) -> Reply:
        """400 ``MetadataContainsEmptyKey`` or 422 ``RequestValidationError`` listing ``errors``."""
        if any(error.code == "metadata_empty_key" for error in errors):
            return self.error(
                400, "MetadataContainsEmptyKey", "Metadata field contains empty string key.",
                "Remove the empty key from metadata, or give it a non-empty name.",
            )  # fmt: skip
        first = errors[0]
        return self.error(
            422, "RequestValidationError",
            "The request did not pass validation; validationErrors lists each field at fault.",
            f"Fix {first.path}: {first.description}",
            validation_errors=[validation_group(model, errors)],
        )  # fmt: skip

    def refused(self, refusal: Refusal, record: PaymentRecord | None = None) -> Reply:
        """The reply for a rule's :class:`Refusal`."""
        groups = [validation_group(refusal.model or "Request", refusal.errors)] if refusal.errors else None
        return self.error(
            refusal.status, refusal.error_id, refusal.description, refusal.recovery, record,
            validation_errors=groups,
        )  # fmt: skip

    def parse(self, action: str, headers: Mapping[str, str], body: bytes) -> RequestModel | Reply:
        """The validated body of ``action`` (an empty body is ``{}``), or the reply that refuses it."""
        model, name = PAYMENT_BODIES[action]
        if body.strip():
            content_type = headers.get("content-type", "")
            if content_type.split(";")[0].strip().lower() != "application/json":
                return self.error(
                    415, "UnsupportedMediaType",
                    f"The body must be JSON, but Content-Type is {content_type or 'missing'!r}.",
                    "Send the header Content-Type: application/json.",
                )  # fmt: skip
        try:
            return parse_body(model, body if body.strip() else b"{}", name)
        except PrimerValidationError as exc:
            return self.invalid(exc.errors, exc.model)

    # ------------------------------------------------------------------ notifications

    def _notify(self, events: Iterable[_Event]) -> None:
        if not self.listeners:
            return
        for event_type, record, at in events:
            body = payment_body(record)
            for listener in list(self.listeners):
                try:
                    listener(event_type, body, at)
                except Exception:  # a listener's bug must not fail the request that was committed
                    logger.exception("payment listener failed on %s", event_type)

    @staticmethod
    def _changes(before: PaymentRecord | None, after: PaymentRecord, at: datetime) -> list[_Event]:
        events: list[_Event] = []
        if before is None or before.status != after.status:
            events.append(("PAYMENT.STATUS", after, at))
        if before is not None and len(after.refunds) > len(before.refunds):
            events.append(("PAYMENT.REFUND", after, at))
        return events

    def _settled(self, tables: PaymentTables, record: PaymentRecord, events: list[_Event]) -> PaymentRecord:
        """``record``, settled and saved first if its settlement time has come."""
        done = settle(record, self.clock.now())
        if done is None:
            return record
        tables.update_payment(done)
        events.extend(self._changes(record, done, done.updated_at))
        return done

    def settle_due(self) -> int:
        """Settle every payment whose time has come on the sandbox clock; return how many."""
        events: list[_Event] = []
        with self.store.write() as tables:
            for record in tables.due_for_settlement(self.clock.now()):
                self._settled(tables, record, events)
        self._notify(events)
        return sum(1 for event in events if event[0] == "PAYMENT.STATUS")

    # ------------------------------------------------------------------ create

    def create(self, headers: Mapping[str, str], body: bytes, base_url: str) -> Reply:
        """``POST /payments``."""
        request = self.parse("create", headers, body)
        if isinstance(request, Reply):
            return request
        create = cast(PaymentCreateRequest, request)  # parse("create") validates with PaymentCreateRequest
        created = self.create_payment(create, headers.get("x-idempotency-key"), base_url)
        if isinstance(created, Reply):
            return created
        return Reply(200, payment_body(created, expand=bool(create.expand)))

    def create_payment(
        self, request: PaymentCreateRequest, key: str | None, base_url: str, *, session_id: str | None = None
    ) -> PaymentRecord | Reply:
        """Create a payment from a validated request; ``session_id`` restricts the token to one session.

        Returns the new payment (declined and failed ones too) or the error reply.
        """
        now = self.clock.now()
        with self.store.write() as tables:
            if key:
                replayed = self._replayed(tables, key, create=True)
                if replayed:
                    return replayed
            stored = tables.token(request.payment_method_token)
            problem = self._token_problem(stored, session_id)
            if problem or stored is None:
                return self.error(
                    400, "PaymentError", f"The payment could not be created: {problem}.",
                    "Tokenize a card with POST {pciUrl}/payment-instruments (client token) and pay with the "
                    "token it returns; each token pays once.",
                )  # fmt: skip
            session = self.sessions.get(stored.session_id) if stored.session_id else None
            fields = inherit(request.overrides(), session.state if session else None)
            missing = missing_fields(fields)
            if missing:
                return self.error(
                    422, "RequestValidationError", "Missing fields for payment.",
                    "When creating a payment `amount`, `currencyCode` and `orderId` must either be provided "
                    "via the Client Session or the Payment request.",
                    validation_errors=[validation_group("PaymentCreationAPIRequest", missing)],
                )  # fmt: skip
            challenge_token = None
            if stored.scenario.three_ds == "CHALLENGE" and session is not None:
                challenge_token, _ = self.tokens.issue(
                    session.id, now, base_url, intent="3DS_AUTHENTICATION", expires_at=session.expires_at
                )
            record = new_payment(
                payment_id=self.ids.code(8), token=stored.token, session_id=stored.session_id, fields=fields,
                card=stored.instrument["paymentInstrumentData"], scenario=stored.scenario,
                analytics_id=stored.instrument["analyticsId"], now=now,
                three_ds_enabled="THREE_DS" in self.profile.enabled,
                authorize_on_create=self.settings.authorize_on_create, processor=self.settings.processor,
                transaction_id=self._transaction_id(), event_id=self.ids.uuid(),
                challenge_token=challenge_token,
            )  # fmt: skip
            tables.insert_payment(record)
            tables.use_token(stored.token, record.id)
            if key:
                tables.remember_key(key, "create", record.id, now)
        self._notify(self._changes(None, record, now))
        return record

    @staticmethod
    def _token_problem(stored: StoredToken | None, session_id: str | None) -> str | None:
        if stored is None:
            return "the paymentMethodToken is unknown"
        if stored.payment_id is not None:
            return f"the paymentMethodToken was already used by payment {stored.payment_id} (single-use)"
        if session_id is not None and stored.session_id != session_id:
            return "the paymentMethodToken was made under another client session"
        return None

    def _transaction_id(self) -> str:
        return f"sbx_{self.ids.code(16)}"

    def _replayed(self, tables: PaymentTables, key: str, *, create: bool) -> Reply | None:
        """The refusal of a replayed idempotency key, or ``None`` if the key is new."""
        seen = tables.idempotency(key)
        if seen is None:
            return None
        record = tables.payment(seen[1])
        if create:
            return self.error(
                400, "TransactionRequestIdempotencyKeyAlreadyExists",
                f"Transaction request already exists with idempotency key '{key}'.",
                "This request was already processed (even a declined payment counts); to try again, "
                "send a new X-Idempotency-Key.",
                record, validation_errors=[],
            )  # fmt: skip
        return self.error(
            409, "IdempotencyKeyAlreadyExists", f'The idempotency key "{key}" already exists for transaction',
            "This request was already processed; GET the payment for its state, or use a new key.",
            record,
        )  # fmt: skip

    # ------------------------------------------------------------------ actions

    def act(self, action: str, payment_id: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """``POST /payments/{id}/<action>`` (capture, cancel, refund, authorize, adjust, resume)."""
        request = self.parse(action, headers, body)
        if isinstance(request, Reply):
            return request
        result = self.apply(action, payment_id, request, headers.get("x-idempotency-key"))
        if isinstance(result, Reply):
            return result
        return Reply(200, payment_body(result, expand=bool(getattr(request, "expand", None))))

    def apply(
        self,
        action: str,
        payment_id: str,
        request: RequestModel,
        key: str | None,
        *,
        session_id: str | None = None,
    ) -> PaymentRecord | Reply:
        """Apply a validated action to a payment in one transaction; the payment after it, or the refusal."""
        events: list[_Event] = []
        with self.store.write() as tables:
            outcome = self._apply(tables, events, action, payment_id, request, key, session_id)
        self._notify(events)
        return outcome

    def _apply(
        self, tables: PaymentTables, events: list[_Event], action: str, payment_id: str,
        request: RequestModel, key: str | None, session_id: str | None,
    ) -> PaymentRecord | Reply:  # fmt: skip
        if key:
            replayed = self._replayed(tables, key, create=False)
            if replayed:
                return replayed
        record = tables.payment(payment_id)
        if record is None or (session_id is not None and record.session_id != session_id):
            status, error_id, description = _NOT_FOUND.get(action, _NOT_FOUND_DEFAULT)
            return self.error(status, error_id, description, _CHECK_ID)
        record = self._settled(tables, record, events)  # a refusal still commits the settlement
        now = self.clock.now()
        result = self._rule(action, record, request, now)
        if isinstance(result, Refusal):
            return self.refused(result, record)
        tables.update_payment(result)
        if key:
            tables.remember_key(key, action, record.id, now)
        events.extend(self._changes(record, result, now))
        return result

    def _rule(
        self, action: str, record: PaymentRecord, request: Any, now: datetime
    ) -> PaymentRecord | Refusal:
        settings = self.settings
        if action == "capture":
            return capture(record, request, now, self.ids.uuid(), settings.settlement_delay)
        if action == "cancel":
            return cancel(record, request, now, self.ids.uuid())
        if action == "refund":
            return refund(record, request, now, self._transaction_id())
        if action == "adjust-authorization":
            return adjust_authorization(record, request, now, self.ids.uuid())
        if action == "authorize":
            return authorize(
                record, request, now, settings.processor, self._transaction_id(), self.ids.uuid()
            )
        return resume(
            record, str(request.resume_token), now, authorize_on_create=settings.authorize_on_create,
            processor=settings.processor, transaction_id=self._transaction_id(), event_id=self.ids.uuid(),
        )  # fmt: skip

    def challenge(self, payment_method_token: str, session_id: str, result: str) -> str | Reply:
        """The shopper's 3DS challenge ends with ``result``: return the resume token to resume with."""
        resume_token = self.ids.uuid()
        with self.store.write() as tables:
            stored = tables.token(payment_method_token)
            record = tables.payment(stored.payment_id) if stored and stored.payment_id else None
            if stored is None or stored.session_id != session_id or record is None:
                return self.error(
                    400, "PaymentError", "No payment made with this payment method token waits for 3DS.",
                    "Pay with the token first (POST {pciUrl}/payments); a challenged card answers PENDING "
                    "with requiredAction 3DS_AUTHENTICATION.",
                )  # fmt: skip
            done = complete_challenge(record, result, resume_token, self.clock.now())
            if isinstance(done, Refusal):
                return self.refused(done, record)
            tables.update_payment(done)
        return resume_token

    # ------------------------------------------------------------------ reads

    def retrieve(self, payment_id: str, expand: Iterable[str] = ()) -> Reply:
        """``GET /payments/{id}`` (settling it first if its time has come)."""
        try:
            expanded = parse_expand(expand)
        except PrimerValidationError as exc:
            return self.invalid(exc.errors, exc.model)
        record = self.record(payment_id)
        if record is None:
            status, error_id, description = _NOT_FOUND_DEFAULT
            return self.error(status, error_id, description, _CHECK_ID)
        return Reply(200, payment_body(record, expand=expanded))

    def search(self, query: Iterable[tuple[str, str]]) -> Reply:
        """``GET /payments``: filters, newest first, pages of at most ``limit`` with cursors."""
        try:
            search = PaymentSearch.from_query(query)
        except PrimerValidationError as exc:
            return self.invalid(exc.errors, exc.model)
        self.settle_due()
        try:
            with self.store.read() as tables:
                page = tables.search(search)
        except BadCursorError:
            return self.invalid(
                [
                    FieldError(
                        "$.cursor", "not a cursor this sandbox gave; use nextCursor or prevCursor as given"
                    )
                ],
                "PaymentSearchQuery",
            )
        body: dict[str, Any] = {"data": [summary_body(record) for record in page.records]}
        if page.next_cursor:
            body["nextCursor"] = page.next_cursor
        if page.prev_cursor:
            body["prevCursor"] = page.prev_cursor
        return Reply(200, body)

    def record(self, payment_id: str) -> PaymentRecord | None:
        """The stored payment, settled if due (for the checkout side and tests)."""
        events: list[_Event] = []
        with self.store.write() as tables:
            record = tables.payment(payment_id)
            if record is not None:
                record = self._settled(tables, record, events)
        self._notify(events)
        return record

    def body_of(self, payment_id: str) -> dict[str, Any] | None:
        """The payment as ``GET /payments/{id}`` shows it, or ``None`` (how webhooks find a payment)."""
        record = self.record(payment_id)
        return None if record is None else payment_body(record)

    def count(self) -> int:
        """How many payments are stored."""
        with self.store.read() as tables:
            return tables.count()

    def add_token(self, stored: StoredToken) -> None:
        """Store a payment method token (the checkout's tokenization)."""
        with self.store.write() as tables:
            tables.add_token(stored)
