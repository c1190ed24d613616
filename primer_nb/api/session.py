"""Pydantic v2 models of Primer's Client Session API v2.4.

Python attributes are snake_case; the JSON on the wire is camelCase through
aliases, so ``model.to_wire()`` (``model_dump(mode="json", by_alias=True,
exclude_unset=True)``) is exactly the body Primer expects. Both names are
accepted when building a model.

Request models (:class:`ClientSessionRequest`, :class:`ClientSessionUpdate`
and their parts) enforce every limit and format of the spec. Like the spec,
they refuse unknown keys at the top level only; nested objects accept them
(Primer ignores them: ``to_wire(known_only=True)`` drops them, and the
client's pre-flight check warns about likely typos). The PATCH body has the
PATCH schema's looser ``orderId``, ``customerId`` and ``currencyCode``;
:class:`ClientSessionState` is what the merged session must still satisfy.
Response models (:class:`ClientSession` and the ``Session*`` parts) accept
unknown keys, so a field Primer adds tomorrow never breaks a notebook.

For validation that reports Primer-style JSON paths (``$.order.lineItems[0].amount``)
use :func:`primer_nb.api.validation.parse_request` and friends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StringConstraints,
    field_serializer,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from primer_nb.api import money
from primer_nb.api.checkout_warnings import MISSING_DATA, parse_warning_text
from primer_nb.api.curl import curl_command
from primer_nb.api.fields import (
    DEFAULT_CARD_NETWORKS,
    INT64_MAX,
    ApplePayIntervalUnit,
    AuthorizationType,
    CardNetwork,
    CountryCode,
    CurrencyCode,
    DateTime,
    Email,
    FirstPaymentReason,
    IntervalCount,
    Metadata,
    Money,
    NestedRequestModel,
    Number,
    OptionalText255,
    PaymentType,
    ProductType,
    Quantity,
    RequestModel,
    ResponseModel,
    SurchargeNetwork,
    Text255,
    Text1024,
    Uri,
)
from primer_nb.api.masking import mask_token
from primer_nb.api.protocol import CLIENT_SESSION_PATH
from primer_nb.api.timestamps import expiration_text, parse_expiration

__all__ = [
    "DEFAULT_CARD_NETWORKS",
    "Address",
    "ApplePayOption",
    "CardNetworkOption",
    "CardOption",
    "ClientSession",
    "ClientSessionRequest",
    "ClientSessionState",
    "ClientSessionUpdate",
    "Customer",
    "Fee",
    "LineItem",
    "MethodOption",
    "MethodOptions",
    "Order",
    "PaymentMethodOptions",
    "PaymentMethodUpdate",
    "ProductData",
    "SessionCustomer",
    "SessionLineItem",
    "SessionOrder",
    "SessionPaymentMethod",
    "SessionWarning",
    "Shipping",
    "Surcharge",
]

# --------------------------------------------------------------------------- customer


class Address(NestedRequestModel):
    """A billing or shipping address (``OptionalAddressAPISchema``)."""

    first_name: Text255 | None = None
    last_name: Text255 | None = None
    address_line1: Text255 | None = None
    address_line2: OptionalText255 | None = None
    city: Text255 | None = None
    state: Text255 | None = None
    country_code: CountryCode | None = None
    postal_code: Text255 | None = None


class Customer(NestedRequestModel):
    """The customer's details (``CheckoutCustomerDetailsAPISchema``)."""

    email_address: Email | None = None
    mobile_number: Text255 | None = None
    first_name: Text255 | None = None
    last_name: Text255 | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    tax_id: OptionalText255 | None = None
    national_document_id: OptionalText255 | None = None


# --------------------------------------------------------------------------- order


class ProductData(NestedRequestModel):
    """Details of the product behind a line item."""

    sku: Text255 | None = None
    brand: Text255 | None = None
    color: Text255 | None = None
    global_trade_item_number: Text255 | None = None
    manufacturer_part_number: Text255 | None = None
    weight: Annotated[Number, Field(ge=0)] | None = None
    weight_unit: Text255 | None = None
    page_url: Text1024 | None = None


class LineItem(NestedRequestModel):
    """One line of the order. Its total is ``amount × quantity − discountAmount + taxAmount``."""

    item_id: Text255 | None = None
    name: OptionalText255 | None = None
    description: OptionalText255 | None = None
    amount: Money
    quantity: Quantity | None = None
    discount_amount: Money | None = None
    tax_amount: Money | None = None
    tax_code: Text255 | None = None
    product_type: ProductType | None = None
    product_data: ProductData | None = None

    @model_validator(mode="after")
    def _total_not_negative(self) -> LineItem:
        # Emulator choice (behaviour reference §3): a line worth less than nothing is refused.
        if self.total() < 0:
            raise PydanticCustomError(
                "negative_line_total",
                "discountAmount {discount} is more than amount × quantity + taxAmount; "
                "the line total would be negative ({total}). Lower the discount or raise the amount",
                {"discount": self.discount_amount, "total": self.total()},
            )
        return self

    def total(self) -> int:
        """This line's total in minor units (the one rule in :mod:`primer_nb.api.money`)."""
        return money.line_total(
            {"amount": self.amount, "quantity": self.quantity,
             "discountAmount": self.discount_amount, "taxAmount": self.tax_amount}
        )  # fmt: skip


class Fee(NestedRequestModel):
    """A fee charged on the order (a ``SURCHARGE``, a currency conversion fee...)."""

    amount: Money
    type: Text255 | None = None
    description: Text255 | None = None


class Shipping(NestedRequestModel):
    """The shipping charged on the order."""

    amount: Money | None = None
    method_id: str | None = None
    method_name: str | None = None
    method_description: str | None = None


class Order(NestedRequestModel):
    """The order: line items, fees, shipping and countries (``OrderDetailsAPISchema``)."""

    line_items: list[LineItem] | None = None
    country_code: CountryCode | None = None
    retailer_country_code: CountryCode | None = None
    fees: list[Fee] | None = None
    shipping: Shipping | None = None

    @model_validator(mode="after")
    def _total_fits_int64(self) -> Order:
        # Every amount the API returns is an int64, the derived session amount included.
        # Each part is an int64 already, so only a sum of several can overflow.
        parts = [item.total() for item in self.line_items or ()]
        parts += [fee.amount for fee in self.fees or ()]
        if self.shipping is not None and self.shipping.amount is not None:
            parts.append(self.shipping.amount)
        total = sum(parts)
        if total > INT64_MAX:
            raise PydanticCustomError(
                "amount_out_of_range",
                "the order adds up to {total} minor units, more than the int64 limit the API's "
                "amount can hold; lower the amounts or quantities",
                {"total": total},
            )
        return self

    def derived_amount(self) -> int | None:
        """The amount Primer derives from this order (lines + shipping + fees)."""
        return money.derived_amount(self.model_dump(by_alias=True))


# --------------------------------------------------------------------------- payment method


class Surcharge(NestedRequestModel):
    """A surcharge for one payment method or card network, in minor units."""

    amount: Money | None = None


class CardNetworkOption(NestedRequestModel):
    """Options for one card network."""

    surcharge: Surcharge | None = None


class CardOption(NestedRequestModel):
    """``paymentMethod.options.PAYMENT_CARD``."""

    networks: dict[SurchargeNetwork, CardNetworkOption] | None = None
    capture_vaulted_card_cvv: StrictBool | None = None


class _ApplePayBilling(NestedRequestModel):
    label: Text1024
    amount: Money | None = None


class ApplePayRegularBilling(_ApplePayBilling):
    """The recurring charge of an Apple Pay recurring payment request."""

    recurring_start_date: DateTime | None = None
    recurring_end_date: DateTime | None = None
    recurring_interval_unit: ApplePayIntervalUnit | None = None
    recurring_interval_count: IntervalCount | None = None


class ApplePayTrialBilling(ApplePayRegularBilling):
    """An optional trial period before the regular billing."""


class ApplePayDeferredBilling(_ApplePayBilling):
    """The later charge of an Apple Pay deferred payment request."""

    deferred_payment_date: DateTime


class ApplePayAutomaticReloadBilling(_ApplePayBilling):
    """The top-up of an Apple Pay automatic reload request."""

    automatic_reload_threshold_amount: Money


class _ApplePayRequest(NestedRequestModel):
    payment_description: Text1024 | None = None
    billing_agreement: Text1024 | None = None
    management_url: Uri


class ApplePayRecurringRequest(_ApplePayRequest):
    """An Apple Pay recurring payment request (MPAN)."""

    regular_billing: ApplePayRegularBilling
    trial_billing: ApplePayTrialBilling | None = None


class ApplePayDeferredRequest(_ApplePayRequest):
    """An Apple Pay deferred payment request."""

    deferred_billing: ApplePayDeferredBilling
    free_cancellation_date: DateTime | None = None
    free_cancellation_time_zone: Annotated[str, StringConstraints(min_length=3, max_length=50)] | None = None


class ApplePayAutomaticReloadRequest(_ApplePayRequest):
    """An Apple Pay automatic reload request."""

    automatic_reload_billing: ApplePayAutomaticReloadBilling


class ApplePayOption(NestedRequestModel):
    """``paymentMethod.options.APPLE_PAY``."""

    merchant_name: Text1024 | None = None
    recurring_payment_request: ApplePayRecurringRequest | None = None
    deferred_payment_request: ApplePayDeferredRequest | None = None
    automatic_reload_request: ApplePayAutomaticReloadRequest | None = None


class MethodOption(NestedRequestModel):
    """Options of any other payment method type (``GOOGLE_PAY``, ``KLARNA``...)."""

    surcharge: Surcharge
    extra_merchant_data: dict[str, Any] | None = None
    merchant_name: str | None = None


class MethodOptions(NestedRequestModel):
    """``paymentMethod.options``: a map keyed by payment method type."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, MethodOption] = Field(init=False)
    _extra_keys_are_entries: ClassVar[bool] = True

    payment_card: CardOption | None = Field(None, alias="PAYMENT_CARD")
    apple_pay: ApplePayOption | None = Field(None, alias="APPLE_PAY")


class PaymentMethodOptions(NestedRequestModel):
    """``paymentMethod``: vaulting, descriptor, payment type and per-method options."""

    vault_on_success: StrictBool | None = None
    vault_on_3ds: StrictBool | None = Field(None, alias="vaultOn3DS")
    vault_on_agreement: StrictBool | None = None
    descriptor: OptionalText255 | None = None
    payment_type: PaymentType | None = None
    ordered_allowed_card_networks: list[CardNetwork] | None = None
    options: MethodOptions | None = None
    authorization_type: AuthorizationType | None = None
    first_payment_reason: FirstPaymentReason | None = None

    @field_validator("ordered_allowed_card_networks")
    @classmethod
    def _unique_networks(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            repeated = sorted({n for n in value if value.count(n) > 1})
            raise PydanticCustomError(
                "unique_networks",
                "card networks must be listed once each; {repeated} repeated",
                {"repeated": ", ".join(repeated)},
            )
        return value


class PaymentMethodUpdate(PaymentMethodOptions):
    """``paymentMethod`` in a PATCH: everything but ``options`` can change.

    Sending ``options`` at all is refused, ``null`` included: it would delete them.
    """

    @field_validator("options", mode="before")
    @classmethod
    def _options_not_updatable(cls, value: Any) -> Any:
        raise PydanticCustomError(
            "options_not_updatable",
            "paymentMethod.options cannot be changed or cleared by PATCH /client-session; "
            "remove it from the update, or create a new session with the options you need",
        )


# --------------------------------------------------------------------------- requests


class _SessionFields(RequestModel):
    order_id: Text255 | None = None
    currency_code: CurrencyCode | None = None
    amount: Money | None = None
    order: Order | None = None
    customer_id: Text255 | None = None
    customer: Customer | None = None
    metadata: Metadata | None = None
    payment_method: PaymentMethodOptions | None = None

    def derived_amount(self) -> int | None:
        """The amount derived from ``order`` alone (ignores a top-level ``amount``)."""
        return self.order.derived_amount() if self.order else None

    def total(self) -> int | None:
        """The session amount: top-level ``amount`` if set, else the derived one."""
        return money.session_amount(self.amount, self.order.model_dump(by_alias=True) if self.order else None)


class ClientSessionRequest(_SessionFields):
    """The body of ``POST /client-session``. Every field is optional."""


class ClientSessionState(_SessionFields):
    """A whole session as Primer can return it: the state a PATCH must leave behind.

    POST's rules, except that ``orderId`` and ``customerId`` may be empty: the
    PATCH schema sets no lower limit and the response schema
    (``ClientSessionAPIResponse``) only a maximum of 255 characters. The
    response schema also keeps ``currencyCode`` to the ISO 4217 enum.
    """

    order_id: OptionalText255 | None = None
    customer_id: OptionalText255 | None = None


class ClientSessionUpdate(_SessionFields):
    """The body of ``PATCH /client-session``: ``clientToken`` plus only what changes.

    ``None`` set explicitly (``ClientSessionUpdate(client_token=t, customer_id=None)``)
    is sent as ``null`` and clears the field; a field never set is left alone.
    ``orderId``, ``customerId`` and ``currencyCode`` are plain strings, as in
    the PATCH schema; the merged session must still satisfy
    :class:`ClientSessionState` (the sandbox checks).
    """

    client_token: Annotated[str, StringConstraints(min_length=1)]
    order_id: str | None = None
    customer_id: str | None = None
    currency_code: str | None = None
    payment_method: PaymentMethodUpdate | None = None

    def __repr_args__(self):  # type: ignore[no-untyped-def]
        for name, value in super().__repr_args__():
            yield name, mask_token(value) if name == "client_token" else value

    def changes(self, *, known_only: bool = False) -> dict[str, Any]:
        """The fields this update sets (camelCase, ``None`` for cleared), without the token.

        ``known_only`` leaves out unknown keys of nested objects, which Primer ignores.
        """
        body = self.to_wire(known_only=known_only)
        body.pop("clientToken", None)
        return body


# --------------------------------------------------------------------------- responses


class SessionWarning(BaseModel):
    """One warning from a create response, in either published form.

    Primer's spec returns objects ``{"type", "code", "message"}``; older
    guides show plain strings (``"Apple Pay is missing 'customerDetails.countryCode'"``).
    Both become a ``SessionWarning`` with ``type``, ``code``, ``message`` and,
    where the text names one, the missing ``field``. ``original`` keeps what
    the API sent, and serialising gives it back unchanged.
    """

    model_config = ConfigDict(frozen=True)

    type: str | None = None
    code: str | None = None
    message: str = ""
    field: str | None = None
    original: str | dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if isinstance(data, SessionWarning):
            return data.model_dump()
        if isinstance(data, str):
            kind, field = parse_warning_text(data)
            return {
                "type": kind,
                "code": MISSING_DATA if field else None,
                "message": data,
                "field": field,
                "original": data,
            }
        if isinstance(data, dict) and "original" not in data:
            message = str(data.get("message") or "")
            kind, field = parse_warning_text(message)
            return {
                "type": data.get("type") or kind,
                "code": data.get("code"),
                "message": message,
                "field": field,
                "original": dict(data),
            }
        return data

    @model_serializer
    def _as_sent(self) -> str | dict[str, Any]:
        return self.original

    def __str__(self) -> str:
        return f"[{self.type or '?'}] {self.message}"


def _warning_list(value: Any) -> Any:
    # The spec's schema says one object, its example and the guides say a list.
    if value is None:
        return []
    if isinstance(value, str | dict):
        return [value]
    return value


class SessionLineItem(LineItem, ResponseModel):
    """A line item as the API returns it (unknown keys kept)."""

    model_config = ConfigDict(extra="allow")


class SessionOrder(Order, ResponseModel):
    """The order as the API returns it (unknown keys kept)."""

    model_config = ConfigDict(extra="allow")
    line_items: list[SessionLineItem] | None = None  # type: ignore[assignment]


class SessionCustomer(Customer, ResponseModel):
    """The customer as the API returns it (unknown keys kept)."""

    model_config = ConfigDict(extra="allow")


class SessionPaymentMethod(ResponseModel):
    """``paymentMethod`` as the API returns it; ``options`` is kept as sent."""

    vault_on_success: bool | None = None
    vault_on_3ds: bool | None = Field(None, alias="vaultOn3DS")
    vault_on_agreement: bool | None = None
    descriptor: str | None = None
    payment_type: str | None = None
    ordered_allowed_card_networks: list[str] | None = None
    options: dict[str, Any] | None = None
    authorization_type: str | None = None
    first_payment_reason: str | None = None


class ClientSession(ResponseModel):
    """A client session as the API returns it from create, retrieve or update.

    Only create returns ``clientToken``, its expiry and ``warnings``; the
    client fills the first two in for retrieve and update from what it
    already knows. ``raw`` is the JSON exactly as received. ``repr`` is one
    line and notebooks show a compact card (:mod:`primer_nb.api.display`); both mask
    the token, and ``client_token`` holds it whole when you need it.
    """

    client_token: str | None = Field(None, repr=False)
    client_token_expiration_date: datetime | None = Field(
        None,
        # The spec's example and older guides spell it clientExpirationDate.
        validation_alias=AliasChoices(
            "clientTokenExpirationDate", "clientExpirationDate", "client_token_expiration_date"
        ),
        serialization_alias="clientTokenExpirationDate",
    )
    customer_id: str | None = None
    order_id: str | None = None
    currency_code: str | None = None
    amount: int | None = None
    metadata: dict[str, Any] | None = None
    customer: SessionCustomer | None = None
    order: SessionOrder | None = None
    payment_method: SessionPaymentMethod | None = None
    warnings: Annotated[list[SessionWarning], BeforeValidator(_warning_list)] = Field(default_factory=list)

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)
    _base_url: str | None = PrivateAttr(default=None)
    _clock: Callable[[], datetime] | None = PrivateAttr(default=None)

    @field_validator("client_token_expiration_date", mode="before")
    @classmethod
    def _parse_expiry(cls, value: Any) -> datetime | None:
        return parse_expiration(value)

    @field_serializer("client_token_expiration_date")
    def _naive_utc(self, value: datetime | None) -> str | None:
        return None if value is None else expiration_text(value)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, data: Any, handler: Any) -> ClientSession:
        session = handler(data)
        if isinstance(data, dict) and not session._raw:
            session._raw = dict(data)
        return session

    def __repr_args__(self):  # type: ignore[no-untyped-def]
        yield "client_token", mask_token(self.client_token)
        yield from super().__repr_args__()

    def __repr__(self) -> str:
        from primer_nb.api.display import session_text

        return session_text(self, type(self).__name__)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text view: the same one line as ``repr``."""
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        """A compact card in notebooks: masked token, expiry and time left, amount, line items, warnings."""
        from primer_nb.api.display import session_html

        return session_html(self, type(self).__name__)

    @property
    def raw(self) -> dict[str, Any]:
        """The JSON body as it was received."""
        return self._raw

    @property
    def expires_at(self) -> datetime | None:
        """When the client token expires, as an aware UTC datetime."""
        return self.client_token_expiration_date

    @property
    def expires_in(self) -> timedelta | None:
        """Time left before the token expires (negative once expired).

        Measured on the clock of the client that fetched the session: the local
        sandbox's clock for local sessions (so time travel shows), else this machine's.
        """
        if self.expires_at is None:
            return None
        now = self._clock() if self._clock is not None else datetime.now(UTC)
        return self.expires_at - now

    @property
    def expired(self) -> bool | None:
        """Whether the token has expired (``None`` when the expiry is unknown)."""
        left = self.expires_in
        return None if left is None else left <= timedelta(0)

    def attach(self, *, base_url: str | None = None, clock: Callable[[], datetime] | None = None) -> None:
        """Remember where the session lives and whose clock to read (the client does this)."""
        self._base_url = base_url
        self._clock = clock

    def to_curl(self, changes: Mapping[str, Any] | None = None) -> str:
        """A curl command that retrieves this session, or updates it with ``changes``.

        The key is read from ``$PRIMER_API_KEY`` at run time; it is never written out.
        """
        if not self.client_token or not self._base_url:
            raise ValueError("this session has no client token or server; get it from a client first")
        url = f"{self._base_url.rstrip('/')}{CLIENT_SESSION_PATH}"
        if changes is None:
            return curl_command("GET", url, query={"clientToken": self.client_token})
        return curl_command("PATCH", url, body={"clientToken": self.client_token, **changes})

    @property
    def masked_token(self) -> str | None:
        """The client token with its middle hidden, for display."""
        return mask_token(self.client_token)

    @property
    def line_items(self) -> list[SessionLineItem]:
        """The order's line items (empty when there are none)."""
        return list(self.order.line_items or []) if self.order else []

    def derived_amount(self) -> int | None:
        """The amount derived from the order, whatever the top-level ``amount`` says."""
        return self.order.derived_amount() if self.order else None
