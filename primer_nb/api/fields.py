"""Field types and base models shared by every request and response model of the API.

Money is a non-negative int64 of minor units and never a float; codes are
checked against ISO lists; texts carry the spec's length limits. Request
models (:class:`RequestModel`) refuse unknown keys; response models
(:class:`ResponseModel`) keep them, so a field Primer adds never breaks a notebook.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from primer_nb.api.codes import COUNTRY_CODES, CURRENCY_CODES

__all__ = [
    "DEFAULT_CARD_NETWORKS",
    "INT64_MAX",
    "ApplePayIntervalUnit",
    "AuthorizationType",
    "CardNetwork",
    "CountryCode",
    "CurrencyCode",
    "Email",
    "FirstPaymentReason",
    "Metadata",
    "Money",
    "OptionalText255",
    "PaymentType",
    "ProductType",
    "Quantity",
    "RequestModel",
    "ResponseModel",
    "SurchargeNetwork",
    "Text255",
    "Text1024",
]

INT64_MAX = 2**63 - 1

# --------------------------------------------------------------------------- field types


def _whole_number(value: Any) -> Any:
    # JSON Schema "integer": a float such as 49.99 (or even 49.0), a numeric
    # string or a bool is a caller bug in a payments body, not a value to coerce.
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError(
            "minor_units",
            "must be a whole number of minor units (4999 for 49.99 in GBP), got {input}; "
            "convert with primer_nb.api.money.to_minor('49.99', currency)",
            {"input": repr(value)},
        )
    return value


def _iso_code(kind: str, codes: frozenset[str], standard: str, example: str) -> Any:
    def check(value: str) -> str:
        if value not in codes:
            hint = f" (upper case: '{value.upper()}')" if value.upper() in codes else ""
            raise PydanticCustomError(
                kind,
                "'{value}' is not an {standard} code{hint}; use a code such as {example}",
                {"value": value, "hint": hint, "standard": standard, "example": example},
            )
        return value

    return check


_currency_code = _iso_code("currency_code", CURRENCY_CODES, "ISO 4217 currency", "'GBP', 'EUR' or 'JPY'")
_country_code = _iso_code(
    "country_code", COUNTRY_CODES, "ISO 3166-1 alpha-2 country", "two letters such as 'GB' or 'FR'"
)


# Plain ASCII addresses (almost all of them) are checked by this pattern, because
# email-validator is thorough but slow; anything else, internationalised addresses
# included, goes to email-validator. tests/test_models.py checks that whatever the
# pattern accepts, email-validator accepts too.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_EMAIL = re.compile(rf"^(?=[^@]{{1,64}}@){_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}$")


def _is_plain_email(value: str) -> bool:
    if len(value) > 254 or not _PLAIN_EMAIL.match(value):
        return False
    from email_validator import SPECIAL_USE_DOMAIN_NAMES

    domain = value.rsplit("@", 1)[1].lower()
    return not any(domain == s or domain.endswith("." + s) for s in SPECIAL_USE_DOMAIN_NAMES)


def _email(value: str) -> str:
    if _is_plain_email(value):
        return value
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise PydanticCustomError(
            "email", "'{value}' is not a valid email address: {reason}", {"value": value, "reason": str(exc)}
        ) from None
    return value  # keep what the caller wrote; Primer stores it as sent


def _metadata_value(value: Any) -> str | int:
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise PydanticCustomError(
        "metadata_value",
        "metadata values must be strings or integers, got {kind} {input}; "
        'send it as a string (e.g. "true", "4.5") or an integer',
        {"kind": type(value).__name__, "input": repr(value)},
    )


def _metadata_keys(value: dict[str, Any]) -> dict[str, Any]:
    if any(key == "" for key in value):
        raise PydanticCustomError(
            "metadata_empty_key",
            "metadata contains an empty key; remove it or give it a non-empty name",
        )
    return value


Money = Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=INT64_MAX)]
"""A non-negative int64 amount in the currency's minor units."""
Quantity = Annotated[int, BeforeValidator(_whole_number), Field(ge=0, le=INT64_MAX)]
Text255 = Annotated[str, StringConstraints(min_length=1, max_length=255)]
OptionalText255 = Annotated[str, StringConstraints(max_length=255)]
Text1024 = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
CurrencyCode = Annotated[str, AfterValidator(_currency_code)]
CountryCode = Annotated[str, AfterValidator(_country_code)]
Email = Annotated[str, AfterValidator(_email)]
MetadataValue = Annotated[str | int, PlainValidator(_metadata_value)]
Metadata = Annotated[dict[str, MetadataValue], AfterValidator(_metadata_keys)]

ProductType = Literal["PHYSICAL", "DIGITAL"]
PaymentType = Literal["FIRST_PAYMENT", "ECOMMERCE", "SUBSCRIPTION", "UNSCHEDULED"]
AuthorizationType = Literal["FINAL", "ESTIMATED"]
FirstPaymentReason = Literal["CardOnFile", "Recurring", "Unscheduled"]
CardNetwork = Literal[
    "AMEX",
    "DANKORT",
    "DINERS_CLUB",
    "DISCOVER",
    "EFTPOS",
    "ENROUTE",
    "ELO",
    "HIPER",
    "INTERAC",
    "JCB",
    "MAESTRO",
    "MASTERCARD",
    "MIR",
    "PRIVATE_LABEL",
    "UNIONPAY",
    "VISA",
    "CARTES_BANCAIRES",
    "OTHER",
]
# The spec's closed PAYMENT_CARD.networks map lacks EFTPOS although CardNetworkEnum has it.
SurchargeNetwork = Literal[
    "AMEX",
    "CARTES_BANCAIRES",
    "DANKORT",
    "DINERS_CLUB",
    "DISCOVER",
    "ENROUTE",
    "ELO",
    "HIPER",
    "INTERAC",
    "JCB",
    "MAESTRO",
    "MASTERCARD",
    "MIR",
    "PRIVATE_LABEL",
    "UNIONPAY",
    "VISA",
    "OTHER",
]
ApplePayIntervalUnit = Literal["minute", "hour", "day", "month", "year"]

DEFAULT_CARD_NETWORKS: tuple[str, ...] = (
    "VISA",
    "MASTERCARD",
    "AMEX",
    "MAESTRO",
    "UNIONPAY",
    "CARTES_BANCAIRES",
    "DANKORT",
    "DINERS_CLUB",
    "DISCOVER",
    "EFTPOS",
    "ENROUTE",
    "ELO",
    "HIPER",
    "INTERAC",
    "JCB",
    "MIR",
    "OTHER",
)
"""What the API reports for ``paymentMethod.orderedAllowedCardNetworks`` when none was sent."""


class RequestModel(BaseModel):
    """Strict base: camelCase aliases, unknown keys refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
    )

    def to_wire(self) -> dict[str, Any]:
        """Return the JSON body for Primer: camelCase, only the fields that were set.

        Explicit ``None`` values stay in (as JSON ``null``), because a PATCH
        uses ``null`` to clear a field.
        """
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class ResponseModel(BaseModel):
    """Tolerant base for what the API returns: unknown keys are kept, not refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="allow",
    )
