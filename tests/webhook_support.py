"""Shared by the webhook tests: realistic payment bodies, a recording sender, waiting for a condition.

The payment bodies follow Primer's published v2.4 ``PAYMENT.STATUS`` example
and the Payments API's ``PaymentAPIResponse``: they are what the payments
service hands its listeners (``listener(event_type, payment_body, at)``).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from primer_nb.sandbox.core.webhooks import SendResult

PUBLISHED_STATUS_EVENT_KEYS = ["eventType", "date", "notificationConfig", "version", "signedAt", "payment"]
"""Top-level keys of Primer's v2.4 PAYMENT.STATUS example, in its order."""

_PAYMENT = {
    "id": "DdRZ6YY0",
    "date": "2021-02-21T15:34:16.367687",
    "dateUpdated": "2021-02-21T15:35:16.133701",
    "amount": 3000,
    "currencyCode": "GBP",
    "customerId": "cust-123",
    "orderId": "order-123",
    "status": "AUTHORIZED",
    "cardTokenType": "CARD_PAN",
    "customer": {
        "emailAddress": "test@primer.io",
        "mobileNumber": "0123456789",
        "billingAddress": {
            "firstName": "John", "postalCode": "CB94BQ", "addressLine1": "10001 Alpha St",
            "countryCode": "GB", "city": "Cambridge", "state": "Cambridgeshire",
        },
    },
    "paymentMethod": {
        "paymentType": "FIRST_PAYMENT",
        "paymentMethodToken": "-lcWjvBAAs2DnIRXwxNjUzNTYzNjIy",
        "isVaulted": False,
        "analyticsId": "LUi5pETUaVsdSEamK25L",
        "paymentMethodType": "PAYMENT_CARD",
        "paymentMethodData": {
            "last4Digits": "1111", "first6Digits": "411111", "expirationMonth": "03", "expirationYear": "2030",
            "cardholderName": "ADYEN", "network": "Visa", "isNetworkTokenized": False,
            "binData": {
                "network": "VISA", "issuerCountryCode": "US", "issuerName": "JPMORGAN CHASE BANK, N.A.",
                "regionalRestriction": "UNKNOWN", "accountNumberType": "UNKNOWN", "accountFundingType": "UNKNOWN",
                "prepaidReloadableIndicator": "NOT_APPLICABLE", "productUsageType": "UNKNOWN",
                "productCode": "UNKNOWN", "productName": "UNKNOWN",
            },
        },
        "authorizationType": "FINAL",
        "threeDSecureAuthentication": {"responseCode": "NOT_PERFORMED"},
    },
    "processor": {
        "name": "STRIPE", "processorMerchantId": "acct_1GORasdasqNWFwi8c", "amountCaptured": 0, "amountRefunded": 0,
    },
    "transactions": [
        {
            "date": "2021-02-21T15:35:16.133701", "amount": 3000, "currencyCode": "GBP", "transactionType": "SALE",
            "processorTransactionId": "pi_3L3edsGZasdasdc1iget38p", "processorName": "STRIPE",
            "processorMerchantId": "acct_1GORasdasqNWFwi8c", "processorStatus": "AUTHORIZED",
        }
    ],
    "metadata": {"channel": "web"},
}  # fmt: skip


def payment_body(status: str = "AUTHORIZED", *, payment_id: str = "DdRZ6YY0", updated: str | None = None,
                 refund: str | None = None, **fields: Any) -> dict[str, Any]:  # fmt: skip
    """A full payment object as the Payments API returns it, in ``status``.

    ``refund`` adds a REFUND transaction with that ``processorStatus``
    (SETTLED or FAILED), as a ``PAYMENT.REFUND`` payment carries.
    """
    body = copy.deepcopy(_PAYMENT)
    body.update(id=payment_id, status=status, **fields)
    if updated is not None:
        body["dateUpdated"] = updated
    body["transactions"][0]["processorStatus"] = status
    if status in ("SETTLED", "SETTLING"):
        body["processor"]["amountCaptured"] = body["amount"]
    if refund is not None:
        body["processor"]["amountRefunded"] = body["amount"] if refund == "SETTLED" else 0
        body["transactions"].append(
            {
                "date": body["dateUpdated"], "amount": body["amount"], "currencyCode": body["currencyCode"],
                "transactionType": "REFUND", "processorTransactionId": "re_3L3edsGZasdasdc1iget38p",
                "processorName": "STRIPE", "processorMerchantId": "acct_1GORasdasqNWFwi8c",
                "processorStatus": refund, "reason": "Customer returned order #123.",
            }
        )  # fmt: skip
    return body


class Recorder:
    """A ``send`` callable that records every request and answers from a script (default 200)."""

    def __init__(self, *answers: int | SendResult | None) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> SendResult:
        self.requests.append((url, body, dict(headers)))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, SendResult):
            return answer
        return SendResult(answer, 0, None if answer is not None else "ConnectError: connection refused")


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, what: str = "the condition") -> Any:
    """Poll ``condition`` until it is truthy; return its value, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.01)


def at(text: str) -> datetime:
    """An aware UTC instant from ``YYYY-MM-DDTHH:MM:SS``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
