"""Shared by the sandbox tests: a basket, envelope checks, and a driver for the service without HTTP.

Rule tests use :class:`ServiceClient` exactly like an ``httpx.Client`` on a
running sandbox, so each rule is checked on the framework-free service and the
HTTP tests only need to show that the app hands requests over unchanged.
"""

from __future__ import annotations

import json as jsonlib
from typing import Any

import httpx
import orjson

from primer_nb.api.envelope import ApiError
from primer_nb.sandbox.core.replies import Reply
from primer_nb.sandbox.core.service import SandboxService

BASE_URL = "http://sandbox.invalid"

BASKET = {
    "orderId": "order-1",
    "currencyCode": "GBP",
    "order": {
        "countryCode": "GB",
        "lineItems": [
            {"itemId": "shirt", "amount": 2500, "quantity": 2, "discountAmount": 500},
            {"itemId": "socks", "amount": 800, "taxAmount": 160},
        ],
        "shipping": {"amount": 399, "methodId": "std"},
        "fees": [{"amount": 50, "type": "SERVICE"}],
    },
    "customer": {
        "emailAddress": "ann@example.com",
        "firstName": "Ann",
        "billingAddress": {
            "addressLine1": "1 High St",
            "city": "Leeds",
            "countryCode": "GB",
            "postalCode": "LS1",
        },
    },
    "metadata": {"channel": "web", "attempt": 1},
}
BASKET_TOTAL = 2 * 2500 - 500 + 800 + 160 + 399 + 50


def error_of(response: httpx.Response) -> dict:
    """The ``error`` object of an envelope, after checking the envelope's shape.

    Every error says how to fix it: in ``recoverySuggestion``, or for a 422 (whose
    example in Primer's spec has none) in each ``validationErrors`` item.
    """
    envelope = ApiError.model_validate(response.json())
    assert envelope.error.diagnostics_id and envelope.error.diagnostics_id.isdigit()
    if response.status_code == 422:
        assert all(e["description"] for g in envelope.error.validation_errors for e in g["errors"])
    else:
        assert envelope.error.recovery_suggestion
    return response.json()["error"]


def create(api: httpx.Client | ServiceClient, body: dict | None = None) -> dict:
    response = api.post("/client-session", json=BASKET if body is None else body)
    assert response.status_code == 200, response.text
    return response.json()


class ServiceClient:
    """``post``/``get``/``patch`` on ``/client-session``, answered by the service itself."""

    def __init__(self, service: SandboxService, headers: dict[str, str] | None = None) -> None:
        self.service = service
        self.headers = httpx.Headers(headers or {})

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one call to the service and return its reply as an ``httpx.Response``."""
        sent = httpx.Headers(self.headers)
        if json is not None:
            content = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        reply = self._dispatch(method.upper(), path, sent, content or b"", params or {})
        request = httpx.Request(method, f"{BASE_URL}{path}", params=params, headers=sent)
        return httpx.Response(
            reply.status, content=orjson.dumps(reply.body), headers=reply.headers, request=request
        )

    def _dispatch(
        self, method: str, path: str, headers: httpx.Headers, body: bytes, params: dict[str, str]
    ) -> Reply:
        if path != "/client-session" or method not in ("POST", "GET", "PATCH"):
            raise ValueError(f"the service driver has no route {method} {path}")
        admission = self.service.admit(headers)
        if admission.refusal is not None:
            return admission.refusal
        if len(body) > 1024 * 1024:
            return self.service.too_large()
        if method == "POST":
            return self.service.create(headers, body, BASE_URL)
        if method == "GET":
            return self.service.retrieve(params.get("clientToken"))
        return self.service.update(headers, body)

    def post(self, path: str, **options: Any) -> httpx.Response:
        """``POST path``."""
        return self.request("POST", path, **options)

    def get(self, path: str, **options: Any) -> httpx.Response:
        """``GET path``."""
        return self.request("GET", path, **options)

    def patch(self, path: str, **options: Any) -> httpx.Response:
        """``PATCH path``."""
        return self.request("PATCH", path, **options)
