"""The sandbox's rules as pure functions: PATCH merging and response bodies.

No I/O and no web framework here, so every rule is tested directly (and by
hypothesis against a reference model in ``tests/test_sandbox_rules.py``).
Sessions are kept as the camelCase request state that built them; a
top-level ``amount`` in that state is the caller's override, and the
derived amount is computed whenever a body is produced.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from primer_nb import money
from primer_nb.models import DEFAULT_CARD_NETWORKS

__all__ = ["MERGED_OBJECTS", "apply_patch", "create_body", "expiration_text", "session_body", "strip_empty"]

MERGED_OBJECTS = frozenset({"customer", "order", "paymentMethod"})
"""Top-level objects a PATCH merges one level deep; everything else is replaced whole."""

_VAULT_FLAGS = ("vaultOnSuccess", "vaultOn3DS", "vaultOnAgreement")


def strip_empty(value: Any) -> Any:
    """Drop ``None``, empty objects and empty arrays at every depth (Primer leaves them out).

    Items of an array are cleaned but never dropped, so positions keep their meaning.
    """
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            if isinstance(item, dict | list):
                item = strip_empty(item)
                if not item:
                    continue
            elif item is None:
                continue
            cleaned[key] = item
        return cleaned
    if isinstance(value, list):
        return [strip_empty(item) if isinstance(item, dict | list) else item for item in value]
    return value


def apply_patch(state: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Return the session state after a PATCH, without touching ``state``.

    Emulator choices (behaviour reference §5): scalars and ``metadata`` are
    replaced; ``customer``, ``order`` and ``paymentMethod`` are merged one
    level deep, their own children (addresses, ``shipping``, every array)
    replaced whole; ``null`` deletes at any level.
    """
    result = copy.deepcopy(state)
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        elif key in MERGED_OBJECTS and isinstance(value, dict):
            merged = dict(result.get(key) or {})
            for child, child_value in value.items():
                if child_value is None:
                    merged.pop(child, None)
                else:
                    merged[child] = strip_empty(copy.deepcopy(child_value))
            result[key] = merged
        else:
            result[key] = strip_empty(copy.deepcopy(value))
    return strip_empty(result)


def session_body(state: dict[str, Any]) -> dict[str, Any]:
    """The session as GET and PATCH return it: fields, computed amount, card-network defaults.

    ``state`` is a stored state (already free of empty values). The result
    shares its nested objects with ``state``: it is serialised at once, never mutated.
    """
    body = dict(state)
    amount = money.session_amount(state.get("amount"), state.get("order"))
    if amount is not None:
        body["amount"] = amount
    payment_method = dict(state.get("paymentMethod") or {})
    for flag in _VAULT_FLAGS:
        payment_method.setdefault(flag, False)
    if not payment_method.get("orderedAllowedCardNetworks"):
        payment_method["orderedAllowedCardNetworks"] = list(DEFAULT_CARD_NETWORKS)
    body["paymentMethod"] = payment_method
    return _ordered(body)


def create_body(
    state: dict[str, Any], token: str, expires_at: datetime, warnings: list[Any]
) -> dict[str, Any]:
    """The body of a create response: token and expiry first, then the session, then warnings."""
    return {
        "clientToken": token,
        "clientTokenExpirationDate": expiration_text(expires_at),
        **session_body(state),
        "warnings": warnings,
    }


def expiration_text(expires_at: datetime) -> str:
    """Write an expiry as the API does: UTC without an offset, with microseconds."""
    return expires_at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


_FIELD_ORDER = (
    "customerId", "orderId", "currencyCode", "amount", "metadata", "customer", "order", "paymentMethod",
)  # fmt: skip


def _ordered(body: dict[str, Any]) -> dict[str, Any]:
    # The order of the spec's response schema, so bodies read the same every time.
    ordered = {key: body[key] for key in _FIELD_ORDER if key in body}
    ordered.update((k, v) for k, v in body.items() if k not in ordered)
    return ordered
