"""What the Client Session API answers: the session body of GET and PATCH, and the create body.

Sessions are kept as the camelCase request state that built them; a top-level
``amount`` in that state is the caller's override, and the derived amount is
computed whenever a body is produced (behaviour reference §4).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from primer_nb.api import money
from primer_nb.api.session import DEFAULT_CARD_NETWORKS
from primer_nb.api.timestamps import expiration_text

__all__ = ["create_body", "session_body"]

_VAULT_FLAGS = ("vaultOnSuccess", "vaultOn3DS", "vaultOnAgreement")
_FIELD_ORDER = (
    "customerId", "orderId", "currencyCode", "amount", "metadata", "customer", "order", "paymentMethod",
)  # fmt: skip


def session_body(state: dict[str, Any]) -> dict[str, Any]:
    """The session as GET and PATCH return it: fields, computed amount, card-network defaults.

    ``state`` is a stored state (already free of empty values). The result
    shares its nested objects with ``state``: serialise it, do not mutate it.
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


def _ordered(body: dict[str, Any]) -> dict[str, Any]:
    # The order of the spec's response schema, so bodies read the same every time.
    ordered = {key: body[key] for key in _FIELD_ORDER if key in body}
    ordered.update((k, v) for k, v in body.items() if k not in ordered)
    return ordered
