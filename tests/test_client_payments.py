"""The clients' Payments API and checkout calls against httpx.MockTransport handlers."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import httpx
import jwt
import pytest

from primer_nb import (
    AsyncPrimerClient,
    AuthenticationError,
    IdempotencyError,
    InvalidRequestError,
    NotFoundError,
    PaymentStateError,
    PrimerClient,
    PrimerConfigError,
    PrimerTimeoutError,
    PrimerValidationError,
    ServerError,
)
from primer_nb.client import RetryPolicy

from .test_client_unit import counting as answers

KEY = "sk_test_payments_0123456789"
NO_SLEEP = RetryPolicy(max_retries=3, base=0.0, cap=0.0)
PCI = "https://sdk.sandbox.example/pci"
CLIENT_TOKEN = jwt.encode(
    {"accessToken": "access-1", "pciUrl": PCI, "exp": 1893456000},
    "not-primers-secret-only-for-these-tests",
    algorithm="HS256",
)
PAYMENT = {
    "id": "pay-1",
    "date": "2025-01-06T09:00:00.000000",
    "dateUpdated": "2025-01-06T09:00:00.000000",
    "status": "AUTHORIZED",
    "orderId": "o-1",
    "currencyCode": "GBP",
    "amount": 5000,
    "paymentMethod": {
        "paymentMethodToken": "tok_0123456789abcdefghijklmnop",
        "paymentMethodType": "PAYMENT_CARD",
    },
    "processor": {"amountCaptured": 0, "amountRefunded": 0},
    "transactions": [],
}
INSTRUMENT = {
    "token": "tok_0123456789abcdefghijklmnop",
    "tokenType": "SINGLE_USE",
    "analyticsId": "an-1",
    "paymentInstrumentType": "PAYMENT_CARD",
    "isVaulted": False,
    "paymentInstrumentData": {"last4Digits": "1111", "first6Digits": "411111", "expirationMonth": "12",
                              "expirationYear": "2030", "network": "Visa"},
}  # fmt: skip


def envelope(error_id: str, **extra) -> dict:
    return {"error": {"errorId": error_id, "description": f"{error_id} happened", "diagnosticsId": "1234567890",
                      **extra}}  # fmt: skip


def client_for(handler, **options) -> PrimerClient:
    options.setdefault("retry", NO_SLEEP)
    options.setdefault("ledger", False)
    return PrimerClient(KEY, environment="sandbox", transport=httpx.MockTransport(handler), **options)


def ok(body: dict = PAYMENT) -> httpx.Response:
    return httpx.Response(200, json=body)


# ------------------------------------------------------------------ idempotency keys and retries


def test_create_sends_a_fresh_uuid4_key_with_the_api_key_and_the_validated_body():
    handler, seen = answers(ok())
    payment = client_for(handler).create_payment(
        {"paymentMethodToken": "tok", "amount": 700, "orderId": "o-2"}
    )
    (request,) = seen
    assert (request.method, request.url.path) == ("POST", "/payments")
    assert request.headers["X-Api-Key"] == KEY and request.headers["X-Api-Version"] == "2.4"
    assert uuid.UUID(request.headers["X-Idempotency-Key"]).version == 4
    assert json.loads(request.content) == {"paymentMethodToken": "tok", "amount": 700, "orderId": "o-2"}
    assert payment.id == "pay-1" and payment.date == datetime(2025, 1, 6, 9, tzinfo=UTC)


def test_every_logical_call_gets_its_own_key_and_the_callers_key_is_used_as_given():
    handler, seen = answers(ok())
    client = client_for(handler)
    client.capture_payment("pay-1")
    client.capture_payment("pay-1")
    client.refund_payment("pay-1", 100, idempotency_key="refund-order-1-line-2")
    keys = [r.headers["X-Idempotency-Key"] for r in seen]
    assert keys[0] != keys[1] and keys[2] == "refund-order-1-line-2"
    with pytest.raises(PrimerValidationError, match="idempotency key"):
        client.cancel_payment("pay-1", idempotency_key="  ")


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(500, json=envelope("InternalServerError")), httpx.Response(502, text="bad gateway"),
     httpx.Response(503, json=envelope("ServiceUnavailable")), httpx.Response(504, json=envelope("RequestTimeout")),
     httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("reset")],
    ids=["500", "502", "503", "504", "read-timeout", "reset"],
)  # fmt: skip
@pytest.mark.parametrize("action", ["create", "capture", "refund"])
def test_keyed_posts_are_retried_on_5xx_and_timeouts_with_the_same_key(failure, action):
    handler, seen = answers(failure, failure, ok())
    client = client_for(handler)
    call = {
        "create": lambda: client.create_payment({"paymentMethodToken": "tok"}),
        "capture": lambda: client.capture_payment("pay-1", 100),
        "refund": lambda: client.refund_payment("pay-1"),
    }[action]
    assert call().id == "pay-1"
    assert len(seen) == 3
    assert len({r.headers["X-Idempotency-Key"] for r in seen}) == 1
    assert len({r.content for r in seen}) == 1


def test_keyed_posts_give_up_after_max_retries_with_the_last_error():
    handler, seen = answers(httpx.Response(503, json=envelope("ServiceUnavailable")))
    with pytest.raises(ServerError):
        client_for(handler, retry=RetryPolicy(max_retries=2, base=0, cap=0)).capture_payment("pay-1")
    assert len(seen) == 3
    handler, seen = answers(httpx.ReadTimeout("slow"))
    with pytest.raises(PrimerTimeoutError):
        client_for(handler).create_payment({"paymentMethodToken": "tok"})
    assert len(seen) == 4


@pytest.mark.parametrize(
    ("action", "status", "error_id"),
    [("create", 400, "TransactionRequestIdempotencyKeyAlreadyExists"),
     ("capture", 409, "IdempotencyKeyAlreadyExists"),
     ("refund", 409, "IdempotencyKeyAlreadyExists")],
)  # fmt: skip
def test_a_replay_refused_after_a_retry_returns_the_payment_the_first_attempt_made(action, status, error_id):
    settled = {**PAYMENT, "status": "SETTLING", "processor": {"amountCaptured": 5000, "amountRefunded": 0}}
    replay = httpx.Response(status, json=envelope(error_id, paymentId="pay-1", paymentStatus="SETTLING"))
    handler, seen = answers(httpx.Response(504, json=envelope("RequestTimeout")), replay, ok(settled))
    client = client_for(handler)
    call = {
        "create": lambda: client.create_payment({"paymentMethodToken": "tok"}),
        "capture": lambda: client.capture_payment("pay-1"),
        "refund": lambda: client.refund_payment("pay-1"),
    }[action]
    payment = call()
    assert [(r.method, r.url.path) for r in seen][-1] == ("GET", "/payments/pay-1")
    assert seen[0].headers["X-Idempotency-Key"] == seen[1].headers["X-Idempotency-Key"]
    assert payment.status == "SETTLING" and payment.captured_amount == 5000


def test_a_replay_refused_on_the_first_attempt_raises_naming_the_payment():
    replay = httpx.Response(
        409, json=envelope("IdempotencyKeyAlreadyExists", paymentId="pay-9", paymentStatus="SETTLED")
    )
    handler, seen = answers(replay)
    with pytest.raises(IdempotencyError) as caught:
        client_for(handler).refund_payment("pay-1", idempotency_key="used-before")
    assert len(seen) == 1
    assert (caught.value.payment_id, caught.value.payment_status) == ("pay-9", "SETTLED")


def test_a_replay_after_a_retry_that_names_no_payment_raises():
    handler, seen = answers(
        httpx.Response(503, json=envelope("ServiceUnavailable")), httpx.Response(409, json=envelope("IdempotencyKeyAlreadyExists"))
    )  # fmt: skip
    with pytest.raises(IdempotencyError):
        client_for(handler).capture_payment("pay-1")
    assert len(seen) == 2


def test_retry_policy_for_keyed_posts():
    policy = RetryPolicy(max_retries=2, base=1.0, cap=1.0)
    for status in (429, 500, 502, 503, 504):
        assert policy.delay("POST", 0, status=status, idempotent=True, rng=lambda: 1.0) == 1.0
    assert policy.delay("POST", 0, status=500) is None  # an unkeyed create: not retried
    assert policy.delay("POST", 0, sent=True, idempotent=True, rng=lambda: 1.0) == 1.0
    assert policy.delay("POST", 0, sent=True) is None
    assert policy.delay("POST", 0, status=400, idempotent=True) is None
    assert policy.delay("POST", 2, status=503, idempotent=True) is None
    assert policy.delay("GET", 0, status=500) is None  # GETs keep their rule


# ------------------------------------------------------------------ errors and local validation


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [(400, envelope("InvalidPaymentStatus", paymentId="pay-1", paymentStatus="AUTHORIZED"), PaymentStateError),
     (409, envelope("PaymentAlreadyRefunded", paymentId="pay-1", paymentStatus="SETTLED"), PaymentStateError),
     (422, envelope("UnprocessableRefundAmount"), InvalidRequestError),
     (400, envelope("PaymentError"), InvalidRequestError),
     (404, envelope("PaymentNotFoundError"), NotFoundError)],
)  # fmt: skip
def test_payment_errors_map_to_named_classes_without_retrying(status, body, cls):
    handler, seen = answers(httpx.Response(status, json=body))
    with pytest.raises(cls) as caught:
        client_for(handler).refund_payment("pay-1", 100)
    assert len(seen) == 1 and type(caught.value) is cls
    assert caught.value.payment_id == body["error"].get("paymentId")


@pytest.mark.parametrize(
    ("call", "path"),
    [(lambda c: c.capture_payment("pay-1", -1), "$.amount"),
     (lambda c: c.refund_payment("pay-1", 10.5), "$.amount"),
     (lambda c: c.refund_payment("pay-1", transaction_event_id="not-a-uuid"), "$.transactionEventId"),
     (lambda c: c.resume_payment("pay-1", "not-a-uuid"), "$.resumeToken"),
     (lambda c: c.create_payment({"paymentMethodToken": "t", "currencyCode": "gbp"}), "$.currencyCode"),
     (lambda c: c.create_payment({"amount": 5}), "$.paymentMethodToken"),
     (lambda c: c.search_payments(status="PAID"), "$.status[0]"),
     (lambda c: c.search_payments(colour="red"), "$.colour"),
     (lambda c: c.capture_payment("", 5), "$.id")],
)  # fmt: skip
def test_bad_payment_requests_are_refused_locally_with_their_path(call, path):
    handler, seen = answers(ok())
    with pytest.raises(PrimerValidationError) as caught:
        call(client_for(handler))
    assert path in caught.value.paths and seen == []


def test_actions_post_to_their_paths_with_escaped_ids_and_only_what_was_given():
    handler, seen = answers(ok())
    client = client_for(handler)
    client.capture_payment("pay/1", 100, final=False, metadata={"shipment": "1"})
    client.cancel_payment("pay-1", reason="out of stock")
    client.refund_payment("pay-1")
    client.adjust_authorization("pay-1", 900)
    client.authorize_payment("pay-1", "merchant-1")
    resume = str(uuid.uuid4())
    client.resume_payment("pay-1", resume)
    assert [(r.url.raw_path.decode(), json.loads(r.content)) for r in seen] == [
        ("/payments/pay%2F1/capture", {"amount": 100, "final": False, "metadata": {"shipment": "1"}}),
        ("/payments/pay-1/cancel", {"reason": "out of stock"}),
        ("/payments/pay-1/refund", {}),
        ("/payments/pay-1/adjust-authorization", {"amount": 900}),
        ("/payments/pay-1/authorize", {"processor": {"processorMerchantId": "merchant-1"}}),
        ("/payments/pay-1/resume", {"resumeToken": resume}),
    ]


def test_get_and_search_build_their_queries():
    page = {"data": [{"id": "p", "date": "2025-01-06T09:00:00", "dateUpdated": "2025-01-06T09:00:00",
                      "status": "SETTLED", "orderId": "o", "currencyCode": "GBP", "amount": 1}], "nextCursor": "c2"}  # fmt: skip
    handler, seen = answers(ok(), httpx.Response(200, json=page))
    client = client_for(handler)
    client.get_payment("pay-1", expand=True)
    found = client.search_payments(
        order_id="o", status=["SETTLED", "AUTHORIZED"], from_date=datetime(2025, 1, 6, tzinfo=UTC), limit=10
    )
    assert dict(seen[0].url.params) == {"expand": "transactions.events"}
    assert list(seen[1].url.params.multi_items()) == [
        ("status", "SETTLED,AUTHORIZED"), ("from_date", "2025-01-06T00:00:00+00:00"), ("order_id", "o"),
        ("limit", "10"),
    ]  # fmt: skip
    assert found.next_cursor == "c2" and found.data[0].status == "SETTLED"
    assert "X-Idempotency-Key" not in seen[0].headers


def _summaries(*ids: str) -> list[dict]:
    return [{"id": i, "date": "2025-01-06T09:00:00", "dateUpdated": "2025-01-06T09:00:00", "status": "SETTLED",
             "orderId": "o", "currencyCode": "GBP", "amount": 1} for i in ids]  # fmt: skip


def test_iter_payments_follows_the_cursors_to_the_last_page():
    handler, seen = answers(
        httpx.Response(200, json={"data": _summaries("p1", "p2"), "nextCursor": "c2"}),
        httpx.Response(200, json={"data": _summaries("p3", "p4"), "nextCursor": "c3", "prevCursor": "c1"}),
        httpx.Response(200, json={"data": _summaries("p5"), "prevCursor": "c2"}),
    )
    client = client_for(handler)
    assert [p.id for p in client.iter_payments(order_id="o", limit=2)] == ["p1", "p2", "p3", "p4", "p5"]
    assert [r.url.params.get("cursor") for r in seen] == [None, "c2", "c3"]
    assert all((r.url.params["order_id"], r.url.params["limit"]) == ("o", "2") for r in seen)


def test_iter_payments_fetches_a_page_only_when_the_iteration_reaches_it():
    handler, seen = answers(httpx.Response(200, json={"data": _summaries("p1", "p2"), "nextCursor": "c2"}))
    client = client_for(handler)
    walk = client.iter_payments()
    assert seen == []
    assert next(walk).id == "p1" and next(walk).id == "p2"
    assert len(seen) == 1


def test_iter_payments_stops_on_a_cursor_seen_before_or_an_empty_page():
    looping = {"data": _summaries("p1"), "nextCursor": "same"}
    handler, seen = answers(httpx.Response(200, json=looping))
    assert [p.id for p in client_for(handler).iter_payments()] == ["p1"]
    assert len(seen) == 2  # the second answer repeats its cursor: the walk ends there
    handler, seen = answers(httpx.Response(200, json=looping))
    assert [p.id for p in client_for(handler).iter_payments(cursor="same")] == ["p1"]
    assert [r.url.params["cursor"] for r in seen] == ["same"]  # the caller's cursor counts as followed
    handler, seen = answers(httpx.Response(200, json={"data": [], "nextCursor": "c2"}))
    assert list(client_for(handler).iter_payments()) == [] and len(seen) == 1


def test_iter_payments_yields_a_payment_once_when_a_page_shifts():
    handler, seen = answers(
        httpx.Response(200, json={"data": _summaries("p1", "p2"), "nextCursor": "c2"}),
        httpx.Response(200, json={"data": _summaries("p2", "p3")}),  # a new payment pushed p2 down
    )
    assert [p.id for p in client_for(handler).iter_payments(limit=2)] == ["p1", "p2", "p3"]
    assert len(seen) == 2


def test_iter_payments_checks_its_filters_before_any_request():
    handler, seen = answers(ok())
    with pytest.raises(PrimerValidationError) as caught:
        client_for(handler).iter_payments(status="PAID")
    assert "$.status[0]" in caught.value.paths and seen == []


def test_the_async_iter_payments_follows_the_cursors():
    handler, seen = answers(
        httpx.Response(200, json={"data": _summaries("p1"), "nextCursor": "c2"}),
        httpx.Response(200, json={"data": _summaries("p2")}),
    )

    async def run():
        async with AsyncPrimerClient(
            KEY, environment="sandbox", transport=httpx.MockTransport(handler), ledger=False, retry=NO_SLEEP
        ) as client:
            with pytest.raises(PrimerValidationError):
                client.iter_payments(colour="red")
            return [p.id async for p in client.iter_payments(limit=1)]

    assert asyncio.run(run()) == ["p1", "p2"]
    assert [r.url.params.get("cursor") for r in seen] == [None, "c2"]


# ------------------------------------------------------------------ the checkout's calls


def test_tokenize_card_calls_the_checkout_with_the_access_token_and_never_the_key():
    handler, seen = answers(httpx.Response(200, json=INSTRUMENT))
    client = client_for(handler, clock=lambda: datetime(2025, 1, 6, tzinfo=UTC))
    instrument = client.tokenize_card(CLIENT_TOKEN, "success")
    (request,) = seen
    assert str(request.url) == f"{PCI}/payment-instruments"
    assert request.headers["primer-client-token"] == "access-1"
    assert "X-Api-Key" not in request.headers and request.headers["X-Api-Version"] == "2.4"
    assert json.loads(request.content) == {"paymentInstrument": {
        "number": "4111111111111111", "cvv": "123", "expirationMonth": "12", "expirationYear": "2028"}}  # fmt: skip
    assert instrument.masked_token == "tok_01…mnop" and "tok_0123456789" not in repr(instrument)
    assert "4111111111111111" not in repr(instrument) + instrument._repr_html_()


def test_tokenize_card_takes_names_numbers_dicts_and_retries_harmlessly():
    handler, seen = answers(
        httpx.Response(503, json=envelope("ServiceUnavailable")), httpx.Response(200, json=INSTRUMENT)
    )
    client = client_for(handler)
    client.tokenize_card(CLIENT_TOKEN, "5555 5555 5555 4444")
    client.tokenize_card(CLIENT_TOKEN, {"number": "4000000000000002", "cvv": "999", "expirationMonth": "01",
                                        "expirationYear": "2031"}, cardholder_name="Ann")  # fmt: skip
    client.tokenize_card(CLIENT_TOKEN, "3ds")
    numbers = [json.loads(r.content)["paymentInstrument"]["number"] for r in seen]
    assert numbers == ["5555555555554444", "5555555555554444", "4000000000000002", "4000000000000051"]
    assert json.loads(seen[2].content)["paymentInstrument"]["cardholderName"] == "Ann"


def test_a_bad_card_or_token_is_refused_before_anything_is_sent():
    handler, seen = answers(httpx.Response(200, json=INSTRUMENT))
    client = client_for(handler)
    with pytest.raises(PrimerValidationError) as caught:
        client.tokenize_card(CLIENT_TOKEN, "4111111111111112")
    assert caught.value.paths == ["$.paymentInstrument.number"]
    assert "4111111111111112" not in str(caught.value)
    with pytest.raises(PrimerValidationError) as caught:
        client.tokenize_card(CLIENT_TOKEN, {"number": "4111111111111111", "cvv": "12", "expirationMonth": "1",
                                            "expirationYear": "2030"})  # fmt: skip
    assert caught.value.paths == ["$.paymentInstrument.cvv", "$.paymentInstrument.expirationMonth"]
    with pytest.raises(PrimerConfigError, match="pciUrl and accessToken"):
        client.tokenize_card("not-a-jwt", "success")
    assert seen == []


def test_an_unknown_access_token_is_an_authentication_error():
    handler, _ = answers(httpx.Response(401, json=envelope("InvalidClientToken")))
    with pytest.raises(AuthenticationError):
        client_for(handler).tokenize_card(CLIENT_TOKEN)


def test_the_3ds_helper_is_for_the_local_sandbox_and_a_challenged_payment():
    handler, seen = answers(ok())
    with pytest.raises(PrimerConfigError, match="ACS"):
        client_for(handler).complete_3ds_challenge(_payment(required=True))
    local = PrimerClient(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(handler), ledger=False)
    with pytest.raises(PrimerValidationError, match="waits for no 3DS challenge"):
        local.complete_3ds_challenge(_payment(required=False))
    assert seen == []


def test_the_3ds_helper_calls_the_checkout_with_the_required_actions_token():
    answer = {"token": "tok_0123456789abcdefghijklmnop", "resumeToken": str(uuid.uuid4()),
              "authentication": {"responseCode": "AUTH_FAILED", "challengeIssued": True}}  # fmt: skip
    handler, seen = answers(httpx.Response(200, json=answer))
    local = PrimerClient(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(handler), ledger=False)
    result = local.complete_3ds_challenge(_payment(required=True), passed=False)
    (request,) = seen
    assert str(request.url) == f"{PCI}/3ds/tok_0123456789abcdefghijklmnop/auth"
    assert request.headers["primer-client-token"] == "access-1" and "X-Api-Key" not in request.headers
    assert json.loads(request.content) == {"challengeResult": "AUTH_FAILED"}
    assert (
        result.resume_token == answer["resumeToken"] and result.authentication.response_code == "AUTH_FAILED"
    )


def _payment(*, required: bool):
    from primer_nb import Payment

    body = {**PAYMENT, "status": "PENDING"}
    if required:
        body["requiredAction"] = {
            "name": "3DS_AUTHENTICATION",
            "description": "d",
            "clientToken": CLIENT_TOKEN,
        }
    return Payment.model_validate(body)


# ------------------------------------------------------------------ provenance without a ledger, and the twin


def test_provenance_from_the_session_this_client_tokenized_under(monkeypatch):
    session_body = {"clientToken": CLIENT_TOKEN, "orderId": "o-1", "currencyCode": "GBP", "amount": 5000,
                    "customer": {"firstName": "Ann"}}  # fmt: skip
    paid = {**PAYMENT, "orderId": "o-2", "customer": {"firstName": "Ann", "emailAddress": "a@example.com"}}
    handler, _ = answers(
        httpx.Response(200, json=session_body), httpx.Response(200, json=INSTRUMENT), httpx.Response(200, json=paid)
    )  # fmt: skip
    client = client_for(handler, preflight=False)
    session = client.create_client_session({"orderId": "o-1", "currencyCode": "GBP", "amount": 5000})
    token = client.tokenize_card(session, "success").token
    payment = client.create_payment(
        {"paymentMethodToken": token, "orderId": "o-2", "customer": {"emailAddress": "a@example.com"}}
    )
    assert payment.provenance == {
        "orderId": "overridden", "currencyCode": "session", "amount": "session",
        "customer.firstName": "session", "customer.emailAddress": "request",
    }  # fmt: skip
    assert payment.session_client_token == CLIENT_TOKEN


def test_the_async_twin_retries_with_one_key_and_reads_a_replay_back():
    replay = httpx.Response(
        400, json=envelope("TransactionRequestIdempotencyKeyAlreadyExists", paymentId="pay-1")
    )
    handler, seen = answers(httpx.ReadTimeout("slow"), replay, ok(), httpx.Response(200, json=INSTRUMENT))

    async def run():
        async with AsyncPrimerClient(
            KEY, environment="sandbox", transport=httpx.MockTransport(handler), ledger=False, retry=NO_SLEEP
        ) as client:
            payment = await client.create_payment({"paymentMethodToken": "tok"}, idempotency_key="k-1")
            instrument = await client.tokenize_card(CLIENT_TOKEN, "decline")
            return payment, instrument

    payment, instrument = asyncio.run(run())
    assert payment.id == "pay-1" and instrument.token_type == "SINGLE_USE"
    assert [r.headers.get("X-Idempotency-Key") for r in seen[:2]] == ["k-1", "k-1"]
    assert (seen[2].method, seen[2].url.path) == ("GET", "/payments/pay-1")
    assert "X-Api-Key" not in seen[3].headers
