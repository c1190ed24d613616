"""Pydantic v2 models of Primer's Payments API v2.4, and of the checkout's card and payment calls.

Request models forbid unknown keys and enforce the spec's limits (the Payments
spec closes create, capture, cancel, refund and resume bodies; authorize and
adjust-authorization are closed here too, so a misspelt key is caught). The
order, customer and metadata fields reuse the Client Session models: the two
specs share ``OrderDetailsAPISchema`` and the customer fields. Response
models keep unknown keys, like :class:`~primer_nb.api.session.ClientSession`.

:func:`parse_body` validates a JSON body against any of the request models
and reports problems by JSON path, in Primer's ``validationErrors`` form.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, TypeVar, get_args
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from primer_nb.api.cards import luhn_valid
from primer_nb.api.errors import FieldError, PrimerValidationError
from primer_nb.api.fields import (
    AuthorizationType,
    CountryCode,
    CurrencyCode,
    FirstPaymentReason,
    Metadata,
    Money,
    OptionalText255,
    PaymentType,
    RequestModel,
    ResponseModel,
)
from primer_nb.api.masking import mask_token
from primer_nb.api.session import Customer, Order
from primer_nb.api.timestamps import as_utc
from primer_nb.api.validation import field_errors

__all__ = [
    "ACTIONS",
    "PAYMENT_BODIES",
    "PAYMENT_STATUSES",
    "AdjustAuthorizationRequest",
    "AuthorizeProcessor",
    "AuthorizeRequest",
    "BinData",
    "CancelRequest",
    "CaptureOrder",
    "CaptureRequest",
    "CardData",
    "CardInstrument",
    "CheckoutPaymentRequest",
    "Expand",
    "Payment",
    "PaymentAction",
    "PaymentCreateRequest",
    "PaymentInstrument",
    "PaymentList",
    "PaymentMethodRequestOptions",
    "PaymentMethodResult",
    "PaymentProcessor",
    "PaymentSearch",
    "PaymentStatus",
    "PaymentSummary",
    "RefundRequest",
    "RequiredAction",
    "ResumeRequest",
    "StatusPoint",
    "StatusReason",
    "ThreeDSAuthRequest",
    "ThreeDSAuthResult",
    "ThreeDSecureAuthentication",
    "TokenizeRequest",
    "Transaction",
    "TransactionEvent",
    "parse_body",
    "parse_expand",
]

PaymentStatus = Literal[
    "PENDING", "FAILED", "AUTHORIZED", "SETTLING", "PARTIALLY_SETTLED", "SETTLED", "DECLINED", "CANCELLED"
]
PAYMENT_STATUSES: tuple[str, ...] = get_args(PaymentStatus)
"""Every payment status of the spec's ``PaymentStatus`` enum."""

PaymentAction = Literal["authorize", "capture", "cancel", "refund", "adjust-authorization", "resume"]
ACTIONS: tuple[str, ...] = get_args(PaymentAction)
"""The actions ``POST /payments/{id}/<action>`` takes."""

Expand = list[Literal["transactions.events"]]

UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
"""A response's instant as aware UTC (Primer writes naive UTC: ``2025-01-06T09:00:00.000000``)."""

# --------------------------------------------------------------------------- server-side requests


class PaymentMethodRequestOptions(RequestModel):
    """``paymentMethod`` of ``POST /payments`` (no ``options``: those belong to the session)."""

    vault_on_success: StrictBool | None = None
    vault_on_3ds: StrictBool | None = Field(None, alias="vaultOn3DS")
    vault_on_agreement: StrictBool | None = None
    descriptor: OptionalText255 | None = None
    payment_type: PaymentType | None = None
    authorization_type: AuthorizationType | None = None
    first_payment_reason: FirstPaymentReason | None = None


class PaymentCreateRequest(RequestModel):
    """The body of ``POST /payments``: a payment method token, and anything to override the session's data."""

    payment_method_token: Annotated[str, StringConstraints(min_length=1)]
    order_id: OptionalText255 | None = None
    currency_code: CurrencyCode | None = None
    amount: Money | None = None
    order: Order | None = None
    customer_id: OptionalText255 | None = None
    customer: Customer | None = None
    metadata: Metadata | None = None
    payment_method: PaymentMethodRequestOptions | None = None
    expand: Expand | None = None

    def overrides(self) -> dict[str, Any]:
        """The fields that override the session (camelCase), without the token and ``expand``."""
        body = self.to_wire()
        body.pop("paymentMethodToken", None)
        body.pop("expand", None)
        return body


class CaptureOrder(RequestModel):
    """``order`` of a capture: only the retailer's country can change."""

    retailer_country_code: CountryCode | None = None


class CaptureRequest(RequestModel):
    """The body of ``POST /payments/{id}/capture`` (all optional; no body captures everything)."""

    amount: Money | None = None
    final: StrictBool = True
    order: CaptureOrder | None = None
    metadata: Metadata | None = None
    expand: Expand | None = None


class CancelRequest(RequestModel):
    """The body of ``POST /payments/{id}/cancel``."""

    reason: str | None = None
    expand: Expand | None = None


class RefundRequest(RequestModel):
    """The body of ``POST /payments/{id}/refund`` (all optional; no body refunds what is left)."""

    amount: Money | None = None
    order_id: str | None = None
    reason: str | None = None
    transaction_event_id: UUID | None = None
    expand: Expand | None = None


class ResumeRequest(RequestModel):
    """The body of ``POST /payments/{id}/resume`` (server side and checkout side)."""

    resume_token: UUID


class AuthorizeProcessor(RequestModel):
    """Which processor account authorizes a payment."""

    processor_merchant_id: str
    name: str | None = None


class AuthorizeRequest(RequestModel):
    """The body of ``POST /payments/{id}/authorize``."""

    processor: AuthorizeProcessor
    expand: Expand | None = None


class AdjustAuthorizationRequest(RequestModel):
    """The body of ``POST /payments/{id}/adjust-authorization``: the new, final amount."""

    amount: Money
    expand: Expand | None = None


PAYMENT_BODIES: dict[str, tuple[type[RequestModel], str]] = {
    "create": (PaymentCreateRequest, "PaymentCreationAPIRequest"),
    "authorize": (AuthorizeRequest, "PaymentAuthorizationAPIRequest"),
    "capture": (CaptureRequest, "PaymentCaptureAPIRequest"),
    "cancel": (CancelRequest, "PaymentCancelAPIRequest"),
    "refund": (RefundRequest, "PaymentRefundAPIRequest"),
    "adjust-authorization": (AdjustAuthorizationRequest, "PaymentAdjustAuthorizationAPIRequest"),
    "resume": (ResumeRequest, "PaymentResumeAPIRequest"),
}
"""Each Payments API POST's body model, and the spec's name for it (used in ``validationErrors``)."""


# --------------------------------------------------------------------------- checkout requests


def _card_number(value: str) -> str:
    if not value.isdigit() or not 12 <= len(value) <= 19:
        raise PydanticCustomError(
            "card_number", "a card number is 12 to 19 digits, no spaces or dashes; got {length} characters",
            {"length": len(value)},
        )  # fmt: skip
    if not luhn_valid(value):
        raise PydanticCustomError(
            "luhn", "the card number fails the Luhn check (a digit is wrong); sandbox test cards such as "
            "4111111111111111 pass it",
        )  # fmt: skip
    return value


def _digits(low: int, high: int, example: str) -> Any:
    def check(value: str) -> str:
        if not (value.isdigit() and low <= len(value) <= high):
            size = f"{low}" if low == high else f"{low} or {high}"
            raise PydanticCustomError(
                "digits",
                'must be a string of {size} digits, e.g. "{example}"',
                {"size": size, "example": example},
            )
        return value

    return AfterValidator(check)


class CardInstrument(RequestModel):
    """``paymentInstrument`` of ``POST {pciUrl}/payment-instruments``: a card as the checkout sends it."""

    number: Annotated[str, AfterValidator(_card_number)]
    cvv: Annotated[str, _digits(3, 4, "123")]
    expiration_month: Annotated[str, _digits(2, 2, "03")]
    expiration_year: Annotated[str, _digits(4, 4, "2030")]
    cardholder_name: OptionalText255 | None = None
    preferred_network: str | None = None

    def __repr_args__(self):  # type: ignore[no-untyped-def]
        for name, value in super().__repr_args__():
            if name == "number":
                yield name, f"…{value[-4:]}"
            elif name != "cvv":
                yield name, value


class TokenizeRequest(RequestModel):
    """The body of ``POST {pciUrl}/payment-instruments``."""

    payment_instrument: CardInstrument
    token_type: Literal["SINGLE_USE", "MULTI_USE"] | None = None
    payment_flow: Literal["DEFAULT", "VAULT"] | None = None


class CheckoutPaymentRequest(RequestModel):
    """The body of ``POST {pciUrl}/payments``: only the token (the session supplies the rest)."""

    payment_method_token: Annotated[str, StringConstraints(min_length=1)]


class ThreeDSAuthRequest(RequestModel):
    """The body of ``POST {pciUrl}/3ds/{token}/auth``.

    The SDKs send device and protocol details, which the sandbox ignores (so
    unknown keys are allowed here). ``challengeResult`` is the sandbox's own:
    how the shopper's challenge ends (success unless told otherwise).
    """

    model_config = RequestModel.model_config | {"extra": "allow"}

    challenge_result: Literal["AUTH_SUCCESS", "AUTH_FAILED"] = "AUTH_SUCCESS"


# --------------------------------------------------------------------------- responses


class StatusReason(ResponseModel):
    """Why a payment is declined or failed (``StatusReasonAPISchema``)."""

    type: str
    decline_type: str | None = None
    code: str | None = None
    message: str | None = None
    payment_method_result_code: str | None = None
    payment_method_result_message: str | None = None
    advised_action: str | None = None


class RequiredAction(ResponseModel):
    """What must happen before a ``PENDING`` payment can go on (e.g. ``3DS_AUTHENTICATION``)."""

    name: str
    description: str
    client_token: str | None = Field(None, repr=False)


class PaymentProcessor(ResponseModel):
    """The processor, and how much it captured and refunded."""

    name: str | None = None
    processor_merchant_id: str | None = None
    amount_captured: int = 0
    amount_refunded: int = 0


class TransactionEvent(ResponseModel):
    """One event of a transaction (``expand=transactions.events``)."""

    id: str
    date: UtcDateTime
    type: str
    amount: int | None = None
    final: bool | None = None
    processor_event_id: str | None = None


class Transaction(ResponseModel):
    """A SALE or REFUND transaction of a payment."""

    date: UtcDateTime | None = None
    amount: int | None = None
    currency_code: str | None = None
    order_id: str | None = None
    transaction_type: str | None = None
    processor_transaction_id: str | None = None
    processor_name: str | None = None
    processor_merchant_id: str | None = None
    processor_status: str | None = None
    processor_status_reason: StatusReason | None = None
    card_token_type: str | None = None
    reason: str | None = None
    events: list[TransactionEvent] | None = None


class ThreeDSecureAuthentication(ResponseModel):
    """The outcome of 3DS for a payment."""

    response_code: str
    reason_code: str | None = None
    reason_text: str | None = None
    protocol_version: str | None = None
    challenge_issued: bool | None = None


class BinData(ResponseModel):
    """What the card's BIN says: network, funding, product."""

    network: str
    account_funding_type: str | None = None
    issuer_country_code: str | None = None
    issuer_name: str | None = None


class CardData(ResponseModel):
    """A card's public data (``PaymentCardTokenAPISchema``): never the number or CVV."""

    last4_digits: str = Field(alias="last4Digits")
    expiration_month: str
    expiration_year: str
    first6_digits: str | None = Field(None, alias="first6Digits")
    cardholder_name: str | None = None
    network: str | None = None
    is_network_tokenized: bool | None = None
    bin_data: BinData | None = None


class PaymentMethodResult(ResponseModel):
    """``paymentMethod`` of a payment response."""

    payment_method_token: str | None = Field(None, repr=False)
    payment_method_type: str | None = None
    payment_method_data: CardData | dict[str, Any] | None = None
    authorization_type: str | None = None
    three_d_secure_authentication: ThreeDSecureAuthentication | None = Field(
        None, alias="threeDSecureAuthentication"
    )
    descriptor: str | None = None
    payment_type: str | None = None
    is_vaulted: bool | None = None
    analytics_id: str | None = None


StatusPoint = tuple[datetime, str]
"""``(when, status)``: one step of a payment's life, on the server's clock."""

_AUTHORIZED = frozenset({"AUTHORIZED", "SETTLING", "PARTIALLY_SETTLED", "SETTLED"})


class Payment(ResponseModel):
    """A payment as ``POST /payments``, ``GET /payments/{id}`` and every action return it.

    ``repr`` is one line and notebooks show a compact card (:mod:`primer_nb.api.display`);
    both mask the payment method token. A payment the kit's client made also
    knows which of its fields came from the session (:attr:`provenance`) and
    the statuses it was seen in (:attr:`history`).
    """

    id: str
    date: UtcDateTime | None = None
    date_updated: UtcDateTime | None = None
    status: str
    order_id: str | None = None
    currency_code: str | None = None
    amount: int | None = None
    customer_id: str | None = None
    customer: dict[str, Any] | None = None
    order: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    card_token_type: str | None = None
    payment_method: PaymentMethodResult | None = None
    processor: PaymentProcessor | None = None
    required_action: RequiredAction | None = None
    status_reason: StatusReason | None = None
    transactions: list[Transaction] = Field(default_factory=list)

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)
    _provenance: dict[str, str] = PrivateAttr(default_factory=dict)
    _history: list[StatusPoint] = PrivateAttr(default_factory=list)
    _client_token: str | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, data: Any, handler: Any) -> Payment:
        payment = handler(data)
        if isinstance(data, dict) and not payment._raw:
            payment._raw = dict(data)
        return payment

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON body as it was received."""
        return self._raw

    @property
    def masked_token(self) -> str | None:
        """The payment method token with its middle hidden, for display."""
        method = self.payment_method
        token = method.payment_method_token if method is not None else None
        if token and "…" in token:
            return token  # masked already (the ledger keeps no whole token)
        return mask_token(token)

    @property
    def authorized_amount(self) -> int:
        """The amount the payment was authorized for (minor units); 0 while pending, when declined or
        failed, and once cancelled."""
        return self.amount or 0 if self.status in _AUTHORIZED else 0

    @property
    def captured_amount(self) -> int:
        """What was captured so far (``processor.amountCaptured``)."""
        return self.processor.amount_captured if self.processor is not None else 0

    @property
    def refunded_amount(self) -> int:
        """What was refunded so far (``processor.amountRefunded``)."""
        return self.processor.amount_refunded if self.processor is not None else 0

    @property
    def decline_reason(self) -> str | None:
        """Why the payment was declined or failed: ``ISSUER_DECLINED · SOFT_DECLINE · DECLINED: …``."""
        reason = self.status_reason
        if reason is None:
            return None
        head = " · ".join(part for part in (reason.type, reason.decline_type, reason.code) if part)
        return f"{head}: {reason.message}" if reason.message else head

    @property
    def provenance(self) -> dict[str, str]:
        """Where each inherited field came from, by path: ``session``, ``overridden`` or ``request``.

        Filled in by the client that created the payment (and kept in its
        ledger); empty for a payment the kit did not create.
        """
        return dict(self._provenance)

    @property
    def history(self) -> list[StatusPoint]:
        """The statuses the kit saw this payment in, with when each began (oldest first).

        From the client's ledger; otherwise the payment's current status since ``dateUpdated``.
        """
        if self._history:
            return list(self._history)
        when = self.date_updated or self.date
        return [(when, self.status)] if when is not None else []

    @property
    def session_client_token(self) -> str | None:
        """The client token of the session the payment method was tokenized under, when the kit knows it."""
        return self._client_token

    def attach(
        self,
        *,
        provenance: dict[str, str] | None = None,
        history: list[StatusPoint] | None = None,
        client_token: str | None = None,
    ) -> Payment:
        """Add what the kit knows beyond the body (the client and its ledger do this); return ``self``."""
        if provenance is not None:
            self._provenance = dict(provenance)
        if history is not None:
            self._history = list(history)
        if client_token is not None:
            self._client_token = client_token
        return self

    def __repr__(self) -> str:
        from primer_nb.api.display import payment_text

        return payment_text(self, type(self).__name__)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text view: the same one line as ``repr``."""
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        """A compact card in notebooks: status, amounts, card, 3DS, reason, provenance; tokens masked."""
        from primer_nb.api.display import payment_html

        return payment_html(self, type(self).__name__)


class PaymentSummary(ResponseModel):
    """One row of ``GET /payments``: a payment with only its summary fields."""

    id: str
    date: UtcDateTime
    date_updated: UtcDateTime
    status: str
    order_id: str
    currency_code: str
    amount: int
    processor: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


class PaymentList(ResponseModel):
    """A page of ``GET /payments``, with cursors to the next and previous pages."""

    data: list[PaymentSummary] = Field(default_factory=list)
    next_cursor: str | None = None
    prev_cursor: str | None = None


class PaymentInstrument(ResponseModel):
    """The answer of ``POST {pciUrl}/payment-instruments``: a token and the card's public data."""

    token: str = Field(repr=False)
    token_type: str
    analytics_id: str
    payment_instrument_type: str
    is_vaulted: bool = False
    payment_instrument_data: CardData

    @property
    def masked_token(self) -> str | None:
        """The token with its middle hidden, for display."""
        return mask_token(self.token)

    def __repr__(self) -> str:
        from primer_nb.api.display import instrument_text

        return instrument_text(self, type(self).__name__)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text view: the same one line as ``repr``."""
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        """A compact card: the card's public data and the masked token."""
        from primer_nb.api.display import instrument_html

        return instrument_html(self, type(self).__name__)


class ThreeDSAuthResult(ResponseModel):
    """The answer of ``POST {pciUrl}/3ds/{token}/auth``: how 3DS ended, and the token to resume with."""

    token: str = Field(repr=False)
    resume_token: str
    authentication: ThreeDSecureAuthentication | None = None


# --------------------------------------------------------------------------- search


def _as_list(value: Any) -> Any:
    # "Array of strings" parameters take a comma-separated list or a repeated parameter.
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [part.strip() for item in value for part in str(item).split(",") if part.strip()]
    return value


_Many = Annotated[list[str], BeforeValidator(_as_list)]


class PaymentSearch(BaseModel):
    """The query of ``GET /payments``: filters (all optional), ``limit`` and ``cursor``.

    Names are the spec's snake_case query names. Build it from the query's
    ``(name, value)`` pairs with :meth:`from_query`.
    """

    model_config = ConfigDict(extra="forbid")

    status: Annotated[list[PaymentStatus], BeforeValidator(_as_list)] | None = None
    payment_method_type: _Many | None = None
    processor: _Many | None = None
    currency_code: Annotated[list[CurrencyCode], BeforeValidator(_as_list)] | None = None
    from_date: datetime | None = None
    to_date: datetime | None = None
    order_id: str | None = None
    min_amount: int | None = None
    max_amount: int | None = None
    customer_id: _Many | None = None
    merchant_id: _Many | None = None
    customer_email_address: _Many | None = None
    last_4_digits: _Many | None = None
    paypal_email: _Many | None = None
    klarna_email: _Many | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 100
    cursor: str | None = None

    _LISTS: ClassVar[frozenset[str]] = frozenset({
        "status", "payment_method_type", "processor", "currency_code", "customer_id", "merchant_id",
        "customer_email_address", "last_4_digits", "paypal_email", "klarna_email",
    })  # fmt: skip

    @classmethod
    def from_query(cls, items: Iterable[tuple[str, str]]) -> PaymentSearch:
        """Validate query pairs; raise :class:`PrimerValidationError` naming each bad parameter."""
        data: dict[str, Any] = {}
        for name, value in items:
            if name in cls._LISTS:
                data.setdefault(name, []).append(value)
            elif name in data:
                raise PrimerValidationError(
                    [FieldError(f"$.{name}", "give this parameter once", "repeated")],
                    model="PaymentSearchQuery",
                )
            else:
                data[name] = value
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise PrimerValidationError(field_errors(exc), model="PaymentSearchQuery") from None


def parse_expand(values: Iterable[str]) -> bool:
    """Read ``expand`` query values; whether ``transactions.events`` is asked for (else raise)."""
    wanted = _as_list(list(values))
    unknown = [value for value in wanted if value != "transactions.events"]
    if unknown:
        problem = f"unknown expansion {unknown[0]!r}; the only one is 'transactions.events'"
        raise PrimerValidationError([FieldError("$.expand", problem, "literal_error")], model="Query")
    return bool(wanted)


# --------------------------------------------------------------------------- parsing

_Model = TypeVar("_Model", bound=RequestModel)


def parse_body(model: type[_Model], raw: bytes | str, model_name: str | None = None) -> _Model:
    """Validate a JSON body against ``model``; raise :class:`PrimerValidationError` naming each bad field.

    ``model_name`` is the spec's name for the body (``PaymentCaptureAPIRequest``), used in
    ``validationErrors``; it defaults to the class name.
    """
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise PrimerValidationError(field_errors(exc), model=model_name or model.__name__) from None
