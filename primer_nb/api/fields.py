"""Field types and base models shared by every request and response model of the API.

Money is a non-negative int64 of minor units and never a float; codes are
checked against ISO lists; texts carry the spec's length limits; every
``format`` the spec's request schemas declare (``int64``, ``email``,
``date-time``, ``uri``) is enforced.

Request models follow the spec's ``additionalProperties``: the two top-level
request objects are closed (:class:`RequestModel` refuses unknown keys), every
nested object is open (:class:`NestedRequestModel` accepts them, as Primer
does, and ``to_wire(known_only=True)`` leaves them out, as Primer's responses
do). Response models (:class:`ResponseModel`) keep unknown keys, so a field
Primer adds never breaks a notebook.
"""

from __future__ import annotations

import functools
import re
import typing
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

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
    "DateTime",
    "Email",
    "FirstPaymentReason",
    "IntervalCount",
    "Metadata",
    "Money",
    "NestedRequestModel",
    "Number",
    "OptionalText255",
    "PaymentType",
    "ProductType",
    "Quantity",
    "RequestModel",
    "ResponseModel",
    "SurchargeNetwork",
    "Text255",
    "Text1024",
    "Uri",
    "unknown_fields",
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


def _number(value: Any) -> Any:
    # JSON Schema "number": an int or a float, never a numeric string or a bool.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("number", "must be a JSON number, got {input}", {"input": repr(value)})
    return value


def _date_time(value: Any) -> Any:
    # format: date-time is RFC 3339's date-time: a string with a date, a time and
    # an offset ("Z" or "+02:00"), as every example in Primer's spec has.
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise PydanticCustomError(
                "date_time_format", "needs a timezone (e.g. tzinfo=UTC); RFC 3339 date-times carry an offset"
            )
        return value
    from rfc3339_validator import validate_rfc3339

    if not isinstance(value, str) or not validate_rfc3339(value):
        raise PydanticCustomError(
            "date_time_format",
            "{input} is not an RFC 3339 date-time; write it like 2025-06-01T00:00:00Z "
            "(date, time and offset)",
            {"input": repr(value)},
        )
    return value


def _uri(value: str) -> str:
    from rfc3986_validator import validate_rfc3986

    if not validate_rfc3986(value, rule="URI"):
        raise PydanticCustomError(
            "uri_format",
            "{input} is not an absolute URI (RFC 3986); write it like https://example.com/manage",
            {"input": repr(value)},
        )
    return value  # kept as written: Primer stores what it was sent


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
IntervalCount = Annotated[int, BeforeValidator(_whole_number), Field(ge=1, le=INT64_MAX)]
"""Apple Pay's ``recurringIntervalCount``: an int64 of at least 1."""
Number = Annotated[float, BeforeValidator(_number)]
DateTime = Annotated[datetime, BeforeValidator(_date_time)]
"""``format: date-time``: an RFC 3339 string (or an aware ``datetime``)."""
Uri = Annotated[str, StringConstraints(min_length=1, max_length=1024), AfterValidator(_uri)]
"""``format: uri`` as Apple Pay's ``managementUrl`` has it: an absolute URI of 1 to 1024 characters."""
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
    """Strict base for the spec's closed request objects: camelCase aliases, unknown keys refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
    )

    def to_wire(self, *, known_only: bool = False) -> dict[str, Any]:
        """Return the JSON body for Primer: camelCase, only the fields that were set.

        Explicit ``None`` values stay in (as JSON ``null``), because a PATCH
        uses ``null`` to clear a field. Unknown keys of nested objects are
        sent as given unless ``known_only``, which leaves them out, as Primer
        does when it stores a session.
        """
        body = self.model_dump(mode="json", by_alias=True, exclude_unset=True)
        if known_only:
            for loc, _model, key in unknown_fields(self):
                parent: Any = body
                for part in loc:
                    parent = parent[part]
                del parent[key]
        return body


_Unknown = tuple[tuple[str | int, ...], BaseModel, str]


class NestedRequestModel(RequestModel):
    """Base for nested request objects, which the spec leaves open.

    Unknown keys are accepted and kept, so the client sends what it was given
    (Primer ignores them) and the pre-flight check can flag a likely typo.
    """

    model_config = ConfigDict(extra="allow")

    _extra_keys_are_entries: ClassVar[bool] = False
    """True for maps (``paymentMethod.options``) whose extra keys are entries, not unknown fields."""


def unknown_fields(model: BaseModel) -> list[_Unknown]:
    """Every unknown key in ``model`` and below: ``(location of its object, the object, the key)``.

    The location is a tuple of wire names and list indexes (``("order", "lineItems", 0)``).
    Maps whose extra keys are entries (``paymentMethod.options``) are searched, not reported.
    """
    found: list[_Unknown] = []
    _collect_unknown(model, (), found)
    return found


def _collect_unknown(value: Any, loc: tuple[str | int, ...], found: list[_Unknown]) -> None:
    # On the sandbox's hot path: only fields that can hold a model are visited.
    if isinstance(value, BaseModel):
        fields_set = value.model_fields_set
        for name, alias in _fields_holding_models(type(value)):
            if name in fields_set:
                child = getattr(value, name)
                if child is not None:
                    _collect_unknown(child, (*loc, alias), found)
        extra = value.__pydantic_extra__
        if extra:
            entries = getattr(value, "_extra_keys_are_entries", False)
            for key, item in extra.items():
                if entries:
                    _collect_unknown(item, (*loc, key), found)
                else:
                    found.append((loc, value, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _collect_unknown(item, (*loc, index), found)
    elif isinstance(value, dict):
        for key, item in value.items():
            _collect_unknown(item, (*loc, key), found)


@functools.cache
def _fields_holding_models(model: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """``(attribute, wire name)`` of each field whose type can hold a model (directly or in a list/dict)."""
    return tuple(
        (name, info.alias or name)
        for name, info in model.model_fields.items()
        if _holds_model(info.annotation)
    )


def _holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(arg) for arg in typing.get_args(annotation))


class ResponseModel(BaseModel):
    """Tolerant base for what the API returns: unknown keys are kept, not refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="allow",
    )
