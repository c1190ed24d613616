"""Helpers shared by the payments tests: a session, a card token, a payment, over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import jwt

SESSION: dict[str, Any] = {
    "orderId": "order-1",
    "currencyCode": "GBP",
    "customerId": "cust-1",
    "order": {
        "countryCode": "GB",
        "lineItems": [{"itemId": "shirt", "amount": 1500, "quantity": 2}, {"itemId": "socks", "amount": 500}],
        "shipping": {"amount": 300},
    },
    "customer": {
        "firstName": "Ann",
        "billingAddress": {
            "addressLine1": "1 High St",
            "city": "Leeds",
            "countryCode": "GB",
            "postalCode": "LS1",
        },
    },
    "metadata": {"channel": "web"},
}
SESSION_TOTAL = 2 * 1500 + 500 + 300
SUCCESS_CARD = "4111111111111111"


def claims_of(client_token: str) -> dict[str, Any]:
    """The client token's claims, read as the SDKs read them (no signature check)."""
    return jwt.decode(client_token, options={"verify_signature": False})


def new_session(api: httpx.Client, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create a client session; return its token's claims."""
    response = api.post("/client-session", json=SESSION if body is None else body)
    assert response.status_code == 200, response.text
    return claims_of(response.json()["clientToken"])


def checkout_headers(claims: dict[str, Any]) -> dict[str, str]:
    """The header the checkout sends with every call."""
    return {"primer-client-token": claims["accessToken"]}


def tokenize(claims: dict[str, Any], number: str = SUCCESS_CARD, **card: str) -> httpx.Response:
    """``POST {pciUrl}/payment-instruments`` with a card (expiry 12/2030, CVV 123 unless given)."""
    instrument = {"number": number, "cvv": "123", "expirationMonth": "12", "expirationYear": "2030", **card}
    return httpx.post(
        f"{claims['pciUrl']}/payment-instruments",
        json={"paymentInstrument": instrument},
        headers=checkout_headers(claims),
    )


def card_token(claims: dict[str, Any], number: str = SUCCESS_CARD) -> str:
    """A payment method token for ``number`` under the session of ``claims``."""
    response = tokenize(claims, number)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def pay(
    api: httpx.Client,
    number: str = SUCCESS_CARD,
    *,
    session: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> httpx.Response:
    """Create a session, tokenize ``number`` under it, and ``POST /payments`` with ``fields``."""
    claims = new_session(api, session)
    token = card_token(claims, number)
    return api.post("/payments", json={"paymentMethodToken": token, **fields}, headers=headers or {})


def paid(api: httpx.Client, number: str = SUCCESS_CARD, **fields: Any) -> dict[str, Any]:
    """A payment made with :func:`pay`, which must succeed."""
    response = pay(api, number, **fields)
    assert response.status_code == 200, response.text
    return response.json()


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of an envelope (with its diagnosticsId checked)."""
    error = response.json()["error"]
    assert error["diagnosticsId"].isdigit() and error["description"] and error["errorId"]
    return error
