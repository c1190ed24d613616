"""The Payments API of the local sandbox over HTTP: every documented rule, one test each."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from primer_nb.api.cards import TEST_CARDS
from primer_nb.api.payment import ACTIONS, Payment, PaymentList
from primer_nb.api.timestamps import expiration_text

from .payment_helpers import (
    SESSION,
    SESSION_TOTAL,
    card_token,
    checkout_headers,
    claims_of,
    error_of,
    new_session,
    paid,
    pay,
)

SETTLE = timedelta(minutes=5, seconds=1)


def capture(api: httpx.Client, payment_id: str, body: dict | None = None, **headers: str) -> httpx.Response:
    return api.post(f"/payments/{payment_id}/capture", json=body or {}, headers=headers)


def refund(api: httpx.Client, payment_id: str, body: dict | None = None, **headers: str) -> httpx.Response:
    return api.post(f"/payments/{payment_id}/refund", json=body or {}, headers=headers)


def settled(api: httpx.Client, sandbox, **fields) -> dict:
    """A fully captured payment, settled by moving the sandbox clock."""
    payment = paid(api, **fields)
    assert capture(api, payment["id"]).json()["status"] == "SETTLING"
    sandbox.clock.advance(SETTLE)
    return api.get(f"/payments/{payment['id']}").json()


# ---------------------------------------------------------------- inheritance from the session


def test_a_token_only_payment_takes_everything_from_its_session(api):
    payment = paid(api)
    Payment.model_validate(payment)
    assert payment["status"] == "AUTHORIZED"
    assert payment["orderId"] == SESSION["orderId"]
    assert payment["currencyCode"] == "GBP"
    assert payment["amount"] == SESSION_TOTAL
    assert payment["customerId"] == "cust-1"
    assert payment["order"] == SESSION["order"]
    assert payment["customer"] == SESSION["customer"]
    assert payment["metadata"] == {"channel": "web"}
    assert payment["paymentMethod"]["authorizationType"] == "FINAL"


def test_request_fields_win_and_customer_merges_per_field(api):
    payment = paid(
        api, orderId="order-2", amount=999, customer={"emailAddress": "ann@example.com", "firstName": "Annie"},
        metadata={"attempt": 2},
    )  # fmt: skip
    assert (payment["orderId"], payment["amount"]) == ("order-2", 999)
    assert payment["customer"] == {
        "firstName": "Annie",
        "emailAddress": "ann@example.com",
        "billingAddress": SESSION["customer"]["billingAddress"],
    }
    assert payment["metadata"] == {"channel": "web", "attempt": 2}


def test_request_line_items_replace_the_sessions_and_set_the_amount(api):
    payment = paid(api, order={"lineItems": [{"itemId": "hat", "amount": 700, "quantity": 3}]})
    assert payment["order"]["lineItems"] == [{"itemId": "hat", "amount": 700, "quantity": 3}]
    assert payment["order"]["shipping"] == {"amount": 300}  # other order fields still inherited
    assert payment["amount"] == 3 * 700 + 300


def test_amount_currency_and_order_id_must_come_from_one_side(api):
    response = pay(api, session={"customerId": "c"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["errorId"] == "RequestValidationError"
    assert error["description"] == "Missing fields for payment."
    paths = [e["path"] for e in error["validationErrors"][0]["errors"]]
    assert paths == ["$.amount", "$.currencyCode", "$.orderId"]
    ok = pay(api, session={"customerId": "c"}, amount=100, currencyCode="EUR", orderId="o")
    assert ok.status_code == 200, ok.text


def test_the_session_as_it_is_at_payment_time_is_used(api):
    client_token = api.post("/client-session", json=SESSION).json()["clientToken"]
    token = card_token(claims_of(client_token))
    api.patch("/client-session", json={"clientToken": client_token, "orderId": "patched"})
    payment = api.post("/payments", json={"paymentMethodToken": token}).json()
    assert payment["orderId"] == "patched"


# ---------------------------------------------------------------- request validation


@pytest.mark.parametrize(
    ("body", "status", "path"),
    [
        ({"amount": -1}, 422, "$.amount"),
        ({"amount": 10.5}, 422, "$.amount"),
        ({"currencyCode": "gbp"}, 422, "$.currencyCode"),
        ({"surprise": True}, 422, "$.surprise"),
        ({"customer": {"emailAddress": "not-an-email"}}, 422, "$.customer.emailAddress"),
        ({"metadata": {"": "x"}}, 400, None),
    ],
)
def test_bad_create_bodies_are_refused_by_the_models(api, body, status, path):
    response = pay(api, **body)
    assert response.status_code == status
    error = error_of(response)
    if path is None:
        assert error["errorId"] == "MetadataContainsEmptyKey"
    else:
        assert error["validationErrors"][0]["model"] == "PaymentCreationAPIRequest"
        assert error["validationErrors"][0]["errors"][0]["path"] == path


def test_unknown_and_spent_tokens_are_refused(api):
    response = api.post("/payments", json={"paymentMethodToken": "nope"})
    assert response.status_code == 400
    assert error_of(response)["errorId"] == "PaymentError"
    claims = new_session(api)
    token = card_token(claims)
    assert api.post("/payments", json={"paymentMethodToken": token}).status_code == 200
    again = api.post("/payments", json={"paymentMethodToken": token})
    assert again.status_code == 400
    assert "already used" in error_of(again)["description"]


def test_payments_need_the_api_key_and_a_known_version(sandbox, api):
    url = f"{sandbox.base_url}/payments"
    assert httpx.get(url, headers={"X-Api-Version": "2.4"}).status_code == 401
    assert httpx.get(url, headers={"X-Api-Key": sandbox.api_key, "X-Api-Version": "1.7"}).status_code == 422
    assert httpx.get(url, headers={"X-Api-Key": sandbox.api_key}).status_code == 200  # as the guide says


@pytest.mark.parametrize("path", ["/payments", *(f"/payments/some-id/{action}" for action in ACTIONS)])
def test_every_payments_post_needs_the_api_key_and_meets_injected_faults(sandbox, path):
    url = f"{sandbox.base_url}{path}"
    assert httpx.post(url, json={}, headers={"X-Api-Version": "2.4"}).status_code == 401
    sandbox.faults.set(rate=1.0, statuses=[503], seed=1)
    assert httpx.post(url, json={}, headers={"X-Api-Key": sandbox.api_key}).status_code == 503


def test_a_body_that_is_not_json_is_415(api):
    payment = paid(api)
    response = api.post(
        f"/payments/{payment['id']}/capture", content=b"amount=1", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415


# ---------------------------------------------------------------- test cards


def _sandbox_cards(three_ds: bool):
    return [c for c in TEST_CARDS.values() if (c.three_ds is not None) == three_ds]


@pytest.mark.parametrize("card", _sandbox_cards(False), ids=lambda c: c.number)
def test_sandbox_processor_cards_lead_to_their_documented_status(api, card):
    payment = paid(api, card.number)
    assert payment["status"] == card.authorization
    sale = payment["transactions"][0]
    assert sale["transactionType"] == "SALE" and sale["processorStatus"] == card.authorization
    assert payment["paymentMethod"]["paymentMethodData"]["binData"]["network"] == card.networks[0]
    if card.authorization == "DECLINED":
        assert payment["statusReason"] == sale["processorStatusReason"]
        assert payment["statusReason"]["type"] == "ISSUER_DECLINED"
        assert payment["statusReason"]["declineType"] == "SOFT_DECLINE"
        assert payment["statusReason"]["code"] == "DECLINED"
    elif card.authorization == "FAILED":
        assert payment["statusReason"]["type"] == "GATEWAY_REJECTED"
    else:
        assert "statusReason" not in payment


def test_any_other_card_fails_as_in_primers_sandbox(api):
    payment = paid(api, "4012888888881881")  # Luhn-valid, not one of Primer's test cards
    assert payment["status"] == "FAILED"
    assert payment["statusReason"]["type"] == "APPLICATION_ERROR"
    assert "test card" in payment["statusReason"]["message"]


THREE_DS = {"customer": {"emailAddress": "ann@example.com"}}  # with the session's billing address, 3DS runs


@pytest.mark.parametrize("card", _sandbox_cards(True), ids=lambda c: c.number)
def test_3ds_cards_run_3ds_when_the_customer_has_email_and_billing_address(api, card):
    payment = paid(api, card.number, **THREE_DS)
    secure = payment["paymentMethod"]["threeDSecureAuthentication"]
    if card.three_ds == "CHALLENGE":
        assert payment["status"] == "PENDING"
        assert secure["responseCode"] == "CHALLENGE"
        action = payment["requiredAction"]
        assert action["name"] == "3DS_AUTHENTICATION"
        assert claims_of(action["clientToken"])["intent"] == "3DS_AUTHENTICATION"
        assert payment["transactions"] == []
    elif card.three_ds == "FRICTIONLESS_FAILURE":
        assert payment["status"] == "DECLINED"
        assert secure["responseCode"] == "AUTH_FAILED" and secure["challengeIssued"] is False
        assert payment["statusReason"]["declineType"] == "HARD_DECLINE"
    else:
        assert payment["status"] == card.authorization  # 4000000000000010: 3DS passes, then it fails
        assert secure == {
            "responseCode": "AUTH_SUCCESS",
            "protocolVersion": "2.2.0",
            "challengeIssued": False,
        }


def test_without_a_billing_address_3ds_is_not_performed(api):
    session = {**SESSION, "customer": {"emailAddress": "ann@example.com"}}
    payment = paid(api, "4000000000000051", session=session)
    assert payment["status"] == "AUTHORIZED"
    assert payment["paymentMethod"]["threeDSecureAuthentication"] == {"responseCode": "NOT_PERFORMED"}


def _challenged(api):
    claims = new_session(api)
    token = card_token(claims, "4000000000000051")
    payment = api.post("/payments", json={"paymentMethodToken": token, **THREE_DS}).json()
    assert payment["status"] == "PENDING"
    return payment, token


def _challenge(payment: dict, token: str, result: str = "AUTH_SUCCESS") -> httpx.Response:
    claims = claims_of(payment["requiredAction"]["clientToken"])
    return httpx.post(
        f"{claims['pciUrl']}/3ds/{token}/auth",
        json={"challengeResult": result},
        headers=checkout_headers(claims),
    )


def test_a_3ds_challenge_is_completed_by_resume(api):
    payment, token = _challenged(api)
    wrong = api.post(
        f"/payments/{payment['id']}/resume", json={"resumeToken": "3c90c3cc-0d44-4b50-8888-8dd25736052a"}
    )
    assert wrong.status_code == 400 and error_of(wrong)["errorId"] == "PaymentError"
    done = _challenge(payment, token)
    assert done.status_code == 200
    assert done.json()["authentication"]["responseCode"] == "AUTH_SUCCESS"
    resumed = api.post(f"/payments/{payment['id']}/resume", json={"resumeToken": done.json()["resumeToken"]})
    assert resumed.status_code == 200, resumed.text
    body = resumed.json()
    assert body["status"] == "AUTHORIZED" and "requiredAction" not in body
    assert body["paymentMethod"]["threeDSecureAuthentication"]["challengeIssued"] is True
    again = api.post(f"/payments/{payment['id']}/resume", json={"resumeToken": done.json()["resumeToken"]})
    assert error_of(again)["errorId"] == "InvalidPaymentStatus"


def test_a_failed_challenge_declines_the_payment(api):
    payment, token = _challenged(api)
    resume_token = _challenge(payment, token, "AUTH_FAILED").json()["resumeToken"]
    body = api.post(f"/payments/{payment['id']}/resume", json={"resumeToken": resume_token}).json()
    assert body["status"] == "DECLINED"
    assert body["paymentMethod"]["threeDSecureAuthentication"]["responseCode"] == "AUTH_FAILED"
    assert body["statusReason"]["declineType"] == "HARD_DECLINE"


# ---------------------------------------------------------------- capture and settlement


def test_full_capture_settles_on_the_sandbox_clock(api, sandbox):
    payment = paid(api)
    captured = capture(api, payment["id"]).json()
    assert captured["status"] == "SETTLING"
    assert captured["processor"]["amountCaptured"] == SESSION_TOTAL
    assert api.get(f"/payments/{payment['id']}").json()["status"] == "SETTLING"
    before = sandbox.clock.now()
    sandbox.clock.advance(SETTLE)
    later = api.get(f"/payments/{payment['id']}").json()
    assert later["status"] == "SETTLED"
    assert later["transactions"][0]["processorStatus"] == "SETTLED"
    assert later["dateUpdated"] <= expiration_text(before + timedelta(minutes=5))


def test_partial_captures_until_a_final_one(api, sandbox):
    payment = paid(api, amount=1000)
    pid = payment["id"]
    first = capture(api, pid, {"amount": 300, "final": False}).json()
    assert first["status"] == "PARTIALLY_SETTLED" and first["processor"]["amountCaptured"] == 300
    second = capture(api, pid, {"amount": 200}).json()  # final by default
    assert second["status"] == "SETTLING" and second["processor"]["amountCaptured"] == 500
    refused = capture(api, pid, {"amount": 100})
    assert refused.status_code == 400 and error_of(refused)["errorId"] == "InvalidPaymentStatus"
    sandbox.clock.advance(SETTLE)
    assert api.get(f"/payments/{pid}").json()["status"] == "PARTIALLY_SETTLED"


def test_never_capture_more_than_authorized(api):
    payment = paid(api, amount=1000)
    capture(api, payment["id"], {"amount": 600, "final": False})
    response = capture(api, payment["id"], {"amount": 401})
    assert response.status_code == 422
    assert error_of(response)["validationErrors"][0]["errors"][0]["path"] == "$.amount"
    assert api.get(f"/payments/{payment['id']}").json()["processor"]["amountCaptured"] == 600
    assert capture(api, payment["id"], {"amount": 400}).json()["processor"]["amountCaptured"] == 1000


def test_capture_metadata_overwrites_keys_and_events_are_expanded(api):
    payment = paid(api, amount=1000)
    body = capture(
        api,
        payment["id"],
        {"amount": 400, "final": False, "metadata": {"channel": "shop"}, "expand": ["transactions.events"]},
    ).json()
    assert body["metadata"] == {"channel": "shop"}
    events = body["transactions"][0]["events"]
    assert [e["type"] for e in events] == ["AUTHORIZATION_SUCCEEDED", "CAPTURE_SUCCEEDED"]
    assert events[1]["amount"] == 400 and events[1]["final"] is False
    plain = api.get(f"/payments/{payment['id']}").json()
    assert "events" not in plain["transactions"][0]
    assert api.get(f"/payments/{payment['id']}", params={"expand": "nope"}).status_code == 422


# ---------------------------------------------------------------- refunds


def test_refunds_need_settlement_and_never_exceed_what_was_captured(api, sandbox):
    payment = paid(api, amount=1000)
    pid = payment["id"]
    capture(api, pid)
    early = refund(api, pid, {"amount": 100})
    assert early.status_code == 400
    assert error_of(early)["errorId"] == "InvalidPaymentStatus"
    assert error_of(early)["paymentStatus"] == "SETTLING"
    sandbox.clock.advance(SETTLE)
    first = refund(api, pid, {"amount": 300, "reason": "damaged", "orderId": "order-1-r1"}).json()
    assert first["status"] == "SETTLED" and first["processor"]["amountRefunded"] == 300
    refund_tx = first["transactions"][1]
    assert refund_tx["transactionType"] == "REFUND" and refund_tx["amount"] == 300
    assert (refund_tx["reason"], refund_tx["orderId"], refund_tx["processorStatus"]) == (
        "damaged", "order-1-r1", "SETTLED",
    )  # fmt: skip
    too_much = refund(api, pid, {"amount": 701})
    assert too_much.status_code == 422 and error_of(too_much)["errorId"] == "UnprocessableRefundAmount"
    rest = refund(api, pid).json()  # no amount: what is left
    assert rest["processor"]["amountRefunded"] == 1000
    assert rest["transactions"][2]["orderId"] == payment["orderId"]
    done = refund(api, pid, {"amount": 1})
    assert done.status_code == 409 and error_of(done)["errorId"] == "PaymentAlreadyRefunded"


def test_a_refund_can_target_one_capture(api, sandbox):
    payment = paid(api, amount=1000)
    pid = payment["id"]
    capture(api, pid, {"amount": 300, "final": False})
    body = capture(api, pid, {"amount": 700, "expand": ["transactions.events"]}).json()
    first_capture = body["transactions"][0]["events"][1]["id"]
    sandbox.clock.advance(SETTLE)
    over = refund(api, pid, {"transactionEventId": first_capture, "amount": 301})
    assert over.status_code == 422 and error_of(over)["errorId"] == "UnprocessableRefundAmount"
    whole = refund(api, pid, {"transactionEventId": first_capture}).json()
    assert whole["processor"]["amountRefunded"] == 300
    unknown = refund(api, pid, {"transactionEventId": "3c90c3cc-0d44-4b50-8888-8dd25736052a"})
    assert unknown.status_code == 422


def test_partially_settled_payments_can_be_refunded_up_to_the_capture(api):
    payment = paid(api, amount=1000)
    capture(api, payment["id"], {"amount": 250, "final": False})
    assert refund(api, payment["id"], {"amount": 251}).status_code == 422
    assert refund(api, payment["id"]).json()["processor"]["amountRefunded"] == 250


# ---------------------------------------------------------------- cancel, authorize, adjust


def test_cancel_voids_an_authorization_and_nothing_follows(api, sandbox):
    payment = paid(api)
    body = api.post(f"/payments/{payment['id']}/cancel", json={"reason": "Customer cancelled."}).json()
    assert body["status"] == "CANCELLED"
    assert body["transactions"][0]["processorStatus"] == "CANCELLED"
    assert body["transactions"][0]["reason"] == "Customer cancelled."
    for action in ("capture", "refund", "cancel"):
        response = api.post(f"/payments/{payment['id']}/{action}", json={})
        assert response.status_code == 400, action
        error = error_of(response)
        assert (error["errorId"], error["paymentId"], error["paymentStatus"]) == (
            "InvalidPaymentStatus", payment["id"], "CANCELLED",
        )  # fmt: skip
    paid_and_settled = settled(api, sandbox)
    assert api.post(f"/payments/{paid_and_settled['id']}/cancel").status_code == 400


def test_manual_authorization_when_the_workflow_does_not_authorize(api):
    settings = api.post("/_sandbox/payments/settings", json={"authorizeOnCreate": False}).json()
    merchant = settings["processor"]["processorMerchantId"]
    payment = paid(api)
    assert payment["status"] == "PENDING" and "requiredAction" not in payment
    assert payment["transactions"] == []
    pid = payment["id"]
    wrong = api.post(f"/payments/{pid}/authorize", json={"processor": {"processorMerchantId": "nope"}})
    assert wrong.status_code == 400 and error_of(wrong)["errorId"] == "MerchantAccountNotFound"
    body = api.post(
        f"/payments/{pid}/authorize", json={"processor": {"processorMerchantId": merchant}}
    ).json()
    assert body["status"] == "AUTHORIZED" and body["transactions"][0]["processorStatus"] == "AUTHORIZED"
    again = api.post(f"/payments/{pid}/authorize", json={"processor": {"processorMerchantId": merchant}})
    assert error_of(again)["errorId"] == "PaymentAlreadyAuthorized"
    missing = api.post("/payments/nope/authorize", json={"processor": {"processorMerchantId": merchant}})
    assert missing.status_code == 404 and error_of(missing)["errorId"] == "PaymentNotFoundError"


def test_adjust_authorization_needs_an_estimated_authorization(api):
    final = paid(api)
    refused = api.post(f"/payments/{final['id']}/adjust-authorization", json={"amount": 5000})
    assert refused.status_code == 400
    assert error_of(refused)["errorId"] == "IncorrectPaymentAuthorizationType"
    estimated = paid(api, paymentMethod={"authorizationType": "ESTIMATED"})
    body = api.post(f"/payments/{estimated['id']}/adjust-authorization", json={"amount": 5000}).json()
    assert body["amount"] == 5000 and body["paymentMethod"]["authorizationType"] == "ESTIMATED"
    assert capture(api, estimated["id"]).json()["processor"]["amountCaptured"] == 5000
    after = api.post(f"/payments/{estimated['id']}/adjust-authorization", json={"amount": 1})
    assert error_of(after)["errorId"] == "InvalidPaymentStatus"
    missing = api.post("/payments/nope/adjust-authorization", json={"amount": 1})
    assert missing.status_code == 404 and error_of(missing)["errorId"] == "EntityNotFound"


def test_adjusting_a_pending_payment_is_not_authorized_yet(api):
    payment, _ = _challenged(api)
    response = api.post(f"/payments/{payment['id']}/adjust-authorization", json={"amount": 1})
    assert error_of(response)["errorId"] == "PaymentIsNotAuthorizedYet"


@pytest.mark.parametrize("action", ["capture", "cancel", "refund", "resume"])
def test_unknown_payments_are_400_payment_error(api, action):
    body = {"resumeToken": "3c90c3cc-0d44-4b50-8888-8dd25736052a"} if action == "resume" else {}
    response = api.post(f"/payments/nope/{action}", json=body)
    assert response.status_code == 400 and error_of(response)["errorId"] == "PaymentError"
    assert error_of(api.get("/payments/nope"))["errorId"] == "PaymentError"


# ---------------------------------------------------------------- idempotency


def test_a_replayed_create_is_refused_with_the_first_payment(api):
    claims = new_session(api)
    token = card_token(claims, "4000000000000002")  # a decline still counts as processed
    first = api.post("/payments", json={"paymentMethodToken": token}, headers={"X-Idempotency-Key": "k-1"})
    assert first.json()["status"] == "DECLINED"
    replay = api.post("/payments", json={"paymentMethodToken": token}, headers={"X-Idempotency-Key": "k-1"})
    assert replay.status_code == 400
    error = error_of(replay)
    assert error["errorId"] == "TransactionRequestIdempotencyKeyAlreadyExists"
    assert (error["paymentId"], error["paymentStatus"]) == (first.json()["id"], "DECLINED")


def test_a_replayed_action_is_409_and_changes_nothing(api):
    payment = paid(api, amount=1000)
    first = capture(api, payment["id"], {"amount": 100, "final": False}, **{"X-Idempotency-Key": "cap-1"})
    assert first.status_code == 200
    replay = capture(api, payment["id"], {"amount": 100, "final": False}, **{"X-Idempotency-Key": "cap-1"})
    assert replay.status_code == 409
    assert error_of(replay)["errorId"] == "IdempotencyKeyAlreadyExists"
    assert error_of(replay)["paymentId"] == payment["id"]
    assert api.get(f"/payments/{payment['id']}").json()["processor"]["amountCaptured"] == 100


def test_a_refused_request_does_not_use_up_its_key(api):
    payment = paid(api, amount=1000)
    bad = capture(api, payment["id"], {"amount": 5000}, **{"X-Idempotency-Key": "cap-2"})
    assert bad.status_code == 422
    good = capture(api, payment["id"], {"amount": 500}, **{"X-Idempotency-Key": "cap-2"})
    assert good.status_code == 200


# ---------------------------------------------------------------- search


def test_search_filters_and_pages_newest_first(api, sandbox):
    made = [paid(api, amount=100 * (i + 1), orderId=f"s-{i}") for i in range(7)]
    declined = paid(api, "4000000000000002", orderId="s-declined")
    everything = api.get("/payments").json()
    PaymentList.model_validate(everything)
    assert [p["id"] for p in everything["data"]] == [declined["id"], *[p["id"] for p in reversed(made)]]
    assert "nextCursor" not in everything and "prevCursor" not in everything

    def ids(**params):
        response = api.get("/payments", params=params)
        assert response.status_code == 200, response.text
        return {p["id"] for p in response.json()["data"]}

    assert ids(status="DECLINED") == {declined["id"]}
    assert ids(status="AUTHORIZED,DECLINED") == {p["id"] for p in [*made, declined]}
    assert ids(min_amount=300, max_amount=500, status="AUTHORIZED") == {p["id"] for p in made[2:5]}
    assert ids(order_id="s-3") == {made[3]["id"]}
    assert ids(last_4_digits="0002") == {declined["id"]}
    assert ids(currency_code="EUR") == set()
    assert ids(customer_id="cust-1") == ids()
    assert ids(paypal_email="a@b.c") == set()
    now = expiration_text(sandbox.clock.now())
    assert ids(to_date=now) == ids() and ids(from_date=expiration_text(sandbox.clock.now() + SETTLE)) == set()

    pages, cursor, seen = 0, None, []
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/payments", params=params).json()
        seen += [p["id"] for p in page["data"]]
        pages += 1
        cursor = page.get("nextCursor")
        if not cursor:
            break
    assert pages == 3 and seen == [p["id"] for p in everything["data"]]
    second = api.get(
        "/payments",
        params={"limit": 3, "cursor": api.get("/payments", params={"limit": 3}).json()["nextCursor"]},
    ).json()
    back = api.get("/payments", params={"limit": 3, "cursor": second["prevCursor"]}).json()
    assert [p["id"] for p in back["data"]] == seen[:3] and "prevCursor" not in back


@pytest.mark.parametrize("params", [{"status": "NOPE"}, {"limit": 0}, {"limit": 101}, {"cursor": "bogus"},
                                    {"min_amount": "ten"}, {"statuses": "SETTLED"}])  # fmt: skip
def test_bad_search_queries_are_422(api, params):
    response = api.get("/payments", params=params)
    assert response.status_code == 422
    assert error_of(response)["errorId"] == "RequestValidationError"


def test_search_shows_settlement_due_on_the_clock(api, sandbox):
    payment = paid(api)
    capture(api, payment["id"])
    sandbox.clock.advance(SETTLE)
    rows = api.get("/payments", params={"status": "SETTLED"}).json()["data"]
    assert [row["id"] for row in rows] == [payment["id"]]


# ---------------------------------------------------------------- listeners (for webhooks)


def test_listeners_hear_every_status_change_and_refund_after_commit(api, sandbox):
    heard: list[tuple[str, str, str]] = []

    def listen(event_type, body, at):
        stored = sandbox.service.payments.record(body["id"])  # committed before listeners run
        assert stored is not None and stored.status == body["status"]
        heard.append((event_type, body["status"], expiration_text(at)))

    sandbox.service.payments.listeners.append(listen)
    payment = paid(api, amount=1000)
    capture(api, payment["id"])
    capture_time = sandbox.clock.now()
    api.post("/_sandbox/clock", json={"advanceSeconds": 600})  # time travel settles, and is heard at once
    refund(api, payment["id"], {"amount": 10})
    refund(api, payment["id"], {"amount": 5000})  # refused: not heard
    assert [(kind, status) for kind, status, _ in heard] == [
        ("PAYMENT.STATUS", "AUTHORIZED"),
        ("PAYMENT.STATUS", "SETTLING"),
        ("PAYMENT.STATUS", "SETTLED"),
        ("PAYMENT.REFUND", "SETTLED"),
    ]
    settle_time = heard[2][2]
    assert expiration_text(capture_time) < settle_time <= expiration_text(capture_time + timedelta(minutes=5))


def test_a_failing_listener_does_not_fail_the_request(api, sandbox):
    def broken(*_):
        raise RuntimeError("listener bug")

    sandbox.service.payments.listeners.append(broken)
    assert pay(api).status_code == 200
