"""Primer's error envelope, built and read in one place.

Every error answer of Primer's APIs has the shape::

    {"error": {"errorId", "description", "diagnosticsId",
               "recoverySuggestion"?, "validationErrors"?, "paymentId"?, "paymentStatus"?}}

with 422 ``validationErrors`` items ``{"model", "errors": [{"path", "description"}]}``.
The local sandbox builds its answers with :func:`error_envelope`; the client
and the sandbox's admin handle read any answer with :func:`parse_envelope`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = [
    "ApiError",
    "ApiErrorBody",
    "EnvelopeFields",
    "FieldError",
    "error_envelope",
    "field_errors_of",
    "parse_envelope",
    "validation_group",
]


@dataclass(frozen=True)
class FieldError:
    """One problem with one field, named by its JSON path (``$.order.lineItems[0].amount``)."""

    path: str
    description: str
    code: str = ""
    """A machine-readable reason (the pydantic error type), e.g. ``metadata_empty_key``."""

    def __str__(self) -> str:
        return f"{self.path}: {self.description}"


@dataclass(frozen=True)
class EnvelopeFields:
    """The fields of an ``error`` object, snake_case."""

    error_id: str | None
    description: str | None
    recovery_suggestion: str | None = None
    diagnostics_id: str | None = None
    validation_errors: list[Any] | None = None
    payment_id: str | None = None
    """The Payments API names the payment in its 400 and 409 answers."""
    payment_status: str | None = None


def validation_group(model: str, errors: Iterable[FieldError]) -> dict[str, Any]:
    """One ``validationErrors`` item: the model's name and its field errors."""
    return {"model": model, "errors": [{"path": e.path, "description": e.description} for e in errors]}


def error_envelope(
    error_id: str,
    description: str,
    diagnostics_id: str,
    recovery_suggestion: str | None = None,
    validation_errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The JSON body of an error answer."""
    error: dict[str, Any] = {
        "errorId": error_id,
        "description": description,
        "diagnosticsId": diagnostics_id,
    }
    if recovery_suggestion is not None:
        error["recoverySuggestion"] = recovery_suggestion
    if validation_errors is not None:
        error["validationErrors"] = validation_errors
    return {"error": error}


def parse_envelope(payload: Any) -> EnvelopeFields | None:
    """The ``error`` object of a decoded answer, or ``None`` when it is not in Primer's envelope."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return None

    def text(name: str) -> str | None:
        value = error.get(name)
        return None if value is None else str(value)

    groups = error.get("validationErrors")
    return EnvelopeFields(
        error_id=text("errorId"),
        description=text("description"),
        recovery_suggestion=text("recoverySuggestion"),
        diagnostics_id=text("diagnosticsId"),
        validation_errors=groups if isinstance(groups, list) else None,
        payment_id=text("paymentId"),
        payment_status=text("paymentStatus"),
    )


def field_errors_of(validation_errors: Iterable[Any] | None) -> list[FieldError]:
    """Every ``validationErrors[].errors[]`` entry as a :class:`FieldError`.

    Groups may also be plain strings (as Primer's iOS SDK models them); those
    become errors on ``$``.
    """
    found: list[FieldError] = []
    for group in validation_errors or []:
        if isinstance(group, dict):
            for item in group.get("errors") or []:
                if isinstance(item, dict):
                    found.append(FieldError(str(item.get("path", "$")), str(item.get("description", ""))))
        elif isinstance(group, str):
            found.append(FieldError("$", group))
    return found


class _Envelope(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, extra="allow")


class ApiErrorBody(_Envelope):
    """The ``error`` object of Primer's error envelope, as a model."""

    error_id: str
    description: str
    recovery_suggestion: str | None = None
    diagnostics_id: str | None = None
    validation_errors: list[Any] | None = None


class ApiError(_Envelope):
    """Primer's error envelope: ``{"error": {"errorId", "description", ...}}``."""

    error: ApiErrorBody
