"""Validate request bodies and report problems the way Primer does.

Primer names a bad field by a JSON path (``$.order.lineItems[0].amount``);
pydantic names it by a tuple of keys. :func:`json_path` turns one into the
other and :func:`field_errors` turns a pydantic ``ValidationError`` into
:class:`~primer_nb.api.errors.FieldError` items that say what is wrong and how to
fix it. The client, the widgets and the local sandbox all go through here, so
a body is judged by one set of rules everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from primer_nb.api.errors import FieldError, PrimerValidationError
from primer_nb.api.session import ClientSessionRequest, ClientSessionState, ClientSessionUpdate

__all__ = [
    "field_errors",
    "json_path",
    "parse_model",
    "parse_request",
    "parse_request_json",
    "parse_session_state",
    "parse_update",
    "parse_update_json",
]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# What to do about the common pydantic error types; custom errors raised by
# primer_nb.api.session already say how to fix themselves.
_FIXES = {
    "extra_forbidden": "this field is not part of the v2.4 schema, which refuses unknown top-level "
    "fields; remove it or check the spelling (fields are camelCase, e.g. lineItems)",
    "string_too_short": "send at least one character, or leave the field out",
    "string_too_long": "shorten it",
    "string_type": "send a JSON string",
    "bool_type": "send true or false (a JSON boolean, not a string)",
    "literal_error": "use one of the listed values (they are case-sensitive)",
    "greater_than_equal": "amounts and quantities cannot be negative",
    "less_than_equal": "the value is above the int64 limit",
    "dict_type": "send a JSON object",
    "json_invalid": "the body is not valid JSON; check quotes, commas and brackets",
    "json_type": "send a JSON object",
    "list_type": "send a JSON array",
    "model_type": "send a JSON object",
    "datetime_from_date_parsing": "use ISO-8601, e.g. 2025-06-01T00:00:00Z",
    "datetime_parsing": "use ISO-8601, e.g. 2025-06-01T00:00:00Z",
    "datetime_type": "use ISO-8601, e.g. 2025-06-01T00:00:00Z",
}

_Model = TypeVar("_Model", bound=BaseModel)


def json_path(loc: Iterable[str | int]) -> str:
    """Turn a pydantic error location into Primer's JSON path.

    >>> json_path(("order", "lineItems", 0, "amount"))
    '$.order.lineItems[0].amount'
    >>> json_path(("metadata", "order ref"))
    '$.metadata["order ref"]'
    """
    path = "$"
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.match(part):
            path += f".{part}"
        else:
            path += f'["{part}"]'
    return path


def _describe(error: Mapping[str, Any]) -> str:
    if error["type"] == "missing":
        return "this field is required; add it"
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    fix = _FIXES.get(error["type"])
    return f"{message}; {fix}" if fix else message


def _location(error: Mapping[str, Any]) -> tuple[str | int, ...]:
    # Drop the union/function tags pydantic inserts (e.g. 'function-after[...]',
    # 'str', 'int') so the path names only JSON keys and indexes.
    loc = tuple(error["loc"])
    return tuple(part for part in loc if not (isinstance(part, str) and ("[" in part and part.endswith("]"))))


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Turn a pydantic ``ValidationError`` into Primer-style :class:`FieldError` items."""
    seen: set[tuple[str, str]] = set()
    found: list[FieldError] = []
    for error in exc.errors(include_url=False):
        item = FieldError(json_path(_location(error)), _describe(error), error["type"])
        if (item.path, item.description) not in seen:
            seen.add((item.path, item.description))
            found.append(item)
    return found


def _parse(model: type[_Model], data: Any, model_name: str) -> _Model:
    if isinstance(data, model):
        return data
    if isinstance(data, BaseModel):
        data = data.model_dump(by_alias=True, exclude_unset=True)
    if not isinstance(data, Mapping):
        raise PrimerValidationError(
            [FieldError("$", f"the body must be a JSON object, got {type(data).__name__}")],
            model=model_name,
        )
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise PrimerValidationError(field_errors(exc), model=model_name) from None


def parse_model(model: type[_Model], data: Any, model_name: str | None = None) -> _Model:
    """Validate a body (a camelCase dict, or a model) against ``model``; raise :class:`PrimerValidationError`.

    ``model_name`` is the spec's name for the body, used in the error (default: the class name).
    """
    return _parse(model, data, model_name or model.__name__)


def parse_request(data: Mapping[str, Any] | ClientSessionRequest) -> ClientSessionRequest:
    """Validate a create body (camelCase dict or model); raise :class:`PrimerValidationError`."""
    return _parse(ClientSessionRequest, data, "ClientSessionAPIRequest")


def parse_update(data: Mapping[str, Any] | ClientSessionUpdate) -> ClientSessionUpdate:
    """Validate a PATCH body (camelCase dict or model); raise :class:`PrimerValidationError`."""
    return _parse(ClientSessionUpdate, data, "ClientSessionUpdateAPIRequest")


def parse_session_state(data: Mapping[str, Any]) -> ClientSessionState:
    """Check that a whole session (e.g. after a PATCH) is one Primer can return; raise on failure."""
    return _parse(ClientSessionState, data, "ClientSessionUpdateAPIRequest")


def _parse_json(model: type[_Model], raw: bytes | str, model_name: str) -> _Model:
    # One pass of pydantic-core parses and validates: the sandbox's hot path.
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        raise PrimerValidationError(field_errors(exc), model=model_name) from None


def parse_request_json(raw: bytes | str) -> ClientSessionRequest:
    """Validate a create body given as JSON text; raise :class:`PrimerValidationError`."""
    return _parse_json(ClientSessionRequest, raw, "ClientSessionAPIRequest")


def parse_update_json(raw: bytes | str) -> ClientSessionUpdate:
    """Validate a PATCH body given as JSON text; raise :class:`PrimerValidationError`."""
    return _parse_json(ClientSessionUpdate, raw, "ClientSessionUpdateAPIRequest")
