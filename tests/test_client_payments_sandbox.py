"""The clients' payments against the local sandbox: the whole flow, lost answers, the ledger."""

from __future__ import annotations

import asyncio
import stat
from datetime import timedelta

import httpx
import pytest

from primer_nb import (
    AsyncPrimerClient,
    InvalidRequestError,
    PaymentStateError,
    PrimerClient,
    PrimerConfigError,
)
from primer_nb.client import Ledger, RetryPolicy

from .payment_helpers import SESSION, SESSION_TOTAL

NO_SLEEP = RetryPolicy(max_retries=3, base=0.0, cap=0.0)
SETTLE = timedelta(minutes=5, seconds=1)
CUSTOMER_3DS = {"emailAddress": "ann@example.com"}  # the session has the billing address


@pytest.fixture
def client(sandbox):
    with PrimerClient(sandbox=sandbox, retry=NO_SLEEP, preflight=False) as made:
        yield made


def pay(client, card="success", body=None, **fields):
    session = client.create_client_session(body or SESSION)
    token = client.tokenize_card(session, card).token
    return client.create_payment({"paymentMethodToken": token, **fields})


def test_token_only_payment_inherits_and_says_so(client):
    payment = pay(client)
    assert payment.status == "AUTHORIZED" and payment.amount == SESSION_TOTAL
    assert payment.order_id == "order-1" and payment.authorized_amount == SESSION_TOTAL
    assert set(payment.provenance.values()) == {"session"}
    assert {"orderId", "amount", "order.lineItems", "customer.billingAddress", "metadata.channel"} <= set(
        payment.provenance
    )
    assert payment.payment_method.payment_method_data.last4_digits == "1111"


def test_overrides_win_and_provenance_names_them(client):
    payment = pay(client, orderId="order-2", amount=999, metadata={"attempt": 2})
    assert (payment.order_id, payment.amount, payment.metadata) == (
        "order-2",
        999,
        {"channel": "web", "attempt": 2},
    )
    assert payment.provenance["orderId"] == payment.provenance["amount"] == "overridden"
    assert payment.provenance["metadata.attempt"] == "request"
    assert payment.provenance["metadata.channel"] == "session"


def test_capture_part_settle_on_the_clock_refund_part(client, sandbox):
    payment = pay(client)
    payment = client.capture_payment(payment, 1000)
    assert payment.status == "SETTLING" and payment.captured_amount == 1000
    with pytest.raises(PaymentStateError) as caught:
        client.refund_payment(payment, 10)  # nothing settled yet
    assert caught.value.error_id == "InvalidPaymentStatus" and caught.value.payment_status == "SETTLING"
    sandbox.clock.advance(SETTLE)
    assert client.get_payment(payment).status == "PARTIALLY_SETTLED"
    payment = client.refund_payment(payment, 400, reason="one broken")
    assert payment.refunded_amount == 400 and payment.status == "PARTIALLY_SETTLED"
    with pytest.raises(InvalidRequestError) as caught:
        client.refund_payment(payment, 601)
    assert caught.value.error_id == "UnprocessableRefundAmount"
    payment = client.refund_payment(payment)
    with pytest.raises(PaymentStateError) as caught:
        client.refund_payment(payment)
    assert caught.value.error_id == "PaymentAlreadyRefunded" and caught.value.status_code == 409
    expanded = client.get_payment(payment, expand=True)
    sale, *refunds = expanded.transactions
    assert [e.type for e in sale.events] == ["AUTHORIZATION_SUCCEEDED", "CAPTURE_SUCCEEDED"]
    assert [r.amount for r in refunds] == [400, 600]
    assert [status for _, status in client.payments()[0].history] == [
        "AUTHORIZED",
        "SETTLING",
        "PARTIALLY_SETTLED",
    ]


def test_decline_failure_and_cancel(client):
    declined = pay(client, "decline")
    assert declined.status == "DECLINED" and declined.decline_reason.startswith(
        "ISSUER_DECLINED · SOFT_DECLINE"
    )
    assert pay(client, "failure").status == "FAILED"
    cancelled = client.cancel_payment(pay(client), reason="changed mind")
    assert cancelled.status == "CANCELLED" and cancelled.authorized_amount == 0
    with pytest.raises(PaymentStateError):
        client.capture_payment(cancelled)


@pytest.mark.parametrize(
    ("passed", "status", "code"), [(True, "AUTHORIZED", "AUTH_SUCCESS"), (False, "DECLINED", "AUTH_FAILED")]
)
def test_a_3ds_challenge_completed_and_resumed(client, passed, status, code):
    pending = pay(client, "3ds-challenge", customer=CUSTOMER_3DS)
    assert pending.status == "PENDING" and pending.required_action.name == "3DS_AUTHENTICATION"
    challenge = client.complete_3ds_challenge(pending.id, passed=passed)
    resumed = client.resume_payment(pending, challenge.resume_token)
    assert resumed.status == status
    secure = resumed.payment_method.three_d_secure_authentication
    assert (secure.response_code, secure.challenge_issued) == (code, True)
    with pytest.raises(PaymentStateError):
        client.resume_payment(resumed, challenge.resume_token)


def test_iter_payments_walks_every_page_of_the_sandboxs_search(client):
    made = [pay(client, orderId=f"walk-{n}").id for n in range(5)]
    pay(client, orderId="elsewhere")
    walked = [p.id for p in client.iter_payments(status="AUTHORIZED", limit=2)]
    assert set(made) < set(walked) and len(walked) == len(set(walked)) == 6
    first_page = [p.id for p in client.search_payments(status="AUTHORIZED", limit=2).data]
    assert walked[:2] == first_page  # newest first, as one search answers
    assert [p.order_id for p in client.iter_payments(order_id="walk-3", limit=1)] == ["walk-3"]


def test_search_by_order_id_and_the_checkout_guards(client):
    first = pay(client, orderId="find-me")
    pay(client, orderId="other")
    page = client.search_payments(order_id="find-me")
    assert [p.id for p in page.data] == [first.id]
    assert client.search_payments(status="AUTHORIZED", limit=1).next_cursor
    with pytest.raises(PrimerConfigError):
        client.tokenize_card(first.id)  # not a client token
    session = client.create_client_session(SESSION)
    token = client.tokenize_card(session).token
    client.create_payment({"paymentMethodToken": token})
    with pytest.raises(InvalidRequestError, match="single-use"):
        client.create_payment({"paymentMethodToken": token})


class LosesTheFirstAnswer(httpx.BaseTransport):
    """Delivers each matching request to the server, but loses the first answer (a read timeout)."""

    def __init__(self, method: str, suffix: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.method, self.suffix, self.lost = method, suffix, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == self.method and request.url.path.endswith(self.suffix) and not self.lost:
            response.read()
            response.close()
            self.lost += 1
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def test_a_create_whose_answer_was_lost_is_read_back_not_made_twice(sandbox):
    lossy = LosesTheFirstAnswer("POST", "/payments")
    with PrimerClient(sandbox=sandbox, transport=lossy, retry=NO_SLEEP, preflight=False) as client:
        payment = pay(client)
    assert lossy.lost == 1 and sandbox.service.payments.count() == 1
    assert payment.status == "AUTHORIZED" and set(payment.provenance.values()) == {"session"}


def test_a_capture_whose_answer_was_lost_captures_once(sandbox):
    lossy = LosesTheFirstAnswer("POST", "/capture")
    with PrimerClient(sandbox=sandbox, transport=lossy, retry=NO_SLEEP, preflight=False) as client:
        captured = client.capture_payment(pay(client), 1500)
    assert lossy.lost == 1
    assert captured.status == "SETTLING" and captured.captured_amount == 1500


def test_the_ledger_keeps_payments_beside_sessions_privately(sandbox, kit_home):
    with PrimerClient(sandbox=sandbox, preflight=False) as client:
        payment = pay(client, orderId="kept")
        client.capture_payment(payment)
        session_token = payment.session_client_token
    with PrimerClient(sandbox=sandbox) as later:  # a new kernel, the same ledger
        (kept,) = later.payments()
        assert later.payments(environment="sandbox") == []
    assert kept.id == payment.id and kept.status == "SETTLING"
    assert kept.provenance == payment.provenance and kept.provenance["orderId"] == "overridden"
    assert [status for _, status in kept.history] == ["AUTHORIZED", "SETTLING"]
    assert kept.session_client_token == session_token
    assert kept.masked_token == payment.masked_token
    path = kit_home / "ledger.sqlite3"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = b"".join(p.read_bytes() for p in kit_home.glob("ledger.sqlite3*"))
    assert payment.payment_method.payment_method_token.encode() not in stored
    assert b"4111111111111111" not in stored and sandbox.api_key.encode() not in stored
    rows = Ledger(path).payment_rows()
    assert rows[0]["client_token"] == session_token and rows[0]["order_id"] == "kept"


def test_the_async_twin_pays_captures_and_refunds(sandbox):
    async def run():
        async with AsyncPrimerClient(sandbox=sandbox, retry=NO_SLEEP, preflight=False) as client:
            session = await client.create_client_session(SESSION)
            card = await client.tokenize_card(session, "success")
            payment = await client.create_payment({"paymentMethodToken": card.token, "orderId": "async"})
            payment = await client.capture_payment(payment)
            sandbox.clock.advance(SETTLE)
            payment = await client.refund_payment(await client.get_payment(payment), 100)
            page = await client.search_payments(order_id="async")
            cancelled = await client.cancel_payment(
                await client.create_payment(
                    {"paymentMethodToken": (await client.tokenize_card(session)).token}
                )
            )
            return payment, page, cancelled

    payment, page, cancelled = asyncio.run(run())
    assert payment.status == "SETTLED" and payment.refunded_amount == 100
    assert payment.provenance["orderId"] == "overridden"
    assert [p.id for p in page.data] == [payment.id] and cancelled.status == "CANCELLED"
