"""Each payment action of the domain core, called directly: its outcome, its refusals word for word.

The refusals are what a developer reads in Primer's envelope (status, errorId,
description, recoverySuggestion, validationErrors), so they are pinned exactly;
where the text is Primer's own (``PaymentAlreadyRefunded``,
``IncorrectPaymentAuthorizationType``, ...) it is the published one. The
outcomes are checked against the rules the module's docstring states, and a
small reference model (``ALLOWED`` written out by hand) checks every status
against every action.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from primer_nb.api.cards import CardScenario, public_card
from primer_nb.api.envelope import FieldError
from primer_nb.api.payment import (
    PAYMENT_STATUSES,
    AdjustAuthorizationRequest,
    AuthorizeRequest,
    CancelRequest,
    CaptureRequest,
    RefundRequest,
)
from primer_nb.api.payment_rules import (
    PaymentRecord,
    Refusal,
    adjust_authorization,
    allowed,
    authorize,
    cancel,
    capture,
    complete_challenge,
    first_outcome,
    new_payment,
    refund,
    refundable,
    resume,
    settle,
    three_ds_applies,
)

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=1)
PROCESSOR = ("PRIMER_TEST", "merchant-1")
SHOPPER = {"emailAddress": "ann@example.com", "billingAddress": {"countryCode": "GB"}}
CARD = public_card("4111111111111111", "12", "2030").payment_method_data()
EVENT = UUID("00000000-0000-4000-8000-000000000001")

# The actions each status allows, written out from Primer's guides rather than read from ALLOWED.
DOCUMENTED = {
    ("PENDING", "cancel"), ("PENDING", "authorize"), ("PENDING", "resume"),
    ("AUTHORIZED", "capture"), ("AUTHORIZED", "cancel"), ("AUTHORIZED", "adjust-authorization"),
    ("PARTIALLY_SETTLED", "capture"), ("PARTIALLY_SETTLED", "refund"), ("SETTLED", "refund"),
}  # fmt: skip
ACTIONS = ("capture", "cancel", "refund", "authorize", "adjust-authorization", "resume")


def make(
    scenario: CardScenario = CardScenario("AUTHORIZED"),  # noqa: B008 - frozen dataclass
    *,
    amount: int = 1000,
    three_ds: bool = False,
    authorize_on_create: bool = True,
    **fields,
) -> PaymentRecord:
    """A payment made by ``new_payment`` with fixed ids."""
    return new_payment(
        payment_id="pay-1", token="tok-1", session_id="ses-1",
        fields={"amount": amount, "currencyCode": "GBP", "orderId": "order-1", **fields},
        card=CARD, scenario=scenario, analytics_id="an-1", now=NOW, three_ds_enabled=three_ds,
        authorize_on_create=authorize_on_create, processor=PROCESSOR, transaction_id="tx-1",
        event_id="ev-auth", challenge_token="challenge-token",
    )  # fmt: skip


def at(record: PaymentRecord, status: str, **updates) -> PaymentRecord:
    """``record`` put in ``status`` directly (the refusal tests need every status)."""
    return record.model_copy(update={"status": status, **updates})


def ok(result: PaymentRecord | Refusal) -> PaymentRecord:
    assert isinstance(result, PaymentRecord), result
    return result


def refused(result: PaymentRecord | Refusal) -> Refusal:
    assert isinstance(result, Refusal), result
    return result


# ---------------------------------------------------------------- the status table


@pytest.mark.parametrize("status", PAYMENT_STATUSES)
@pytest.mark.parametrize("action", ACTIONS)
def test_allowed_is_the_documented_table(status, action):
    assert allowed(status, action) == ((status, action) in DOCUMENTED)


def test_an_unknown_status_allows_nothing():
    assert not any(allowed("REFUNDED", action) for action in ACTIONS)


STATUS_TEXT = {
    "capture": "be captured",
    "cancel": "be cancelled",
    "refund": "be refunded",
    "authorize": "be authorized",
    "adjust-authorization": "have its authorization adjusted",
    "resume": "be resumed",
}
ADVICE = {
    "capture": "capture needs a payment in status AUTHORIZED or PARTIALLY_SETTLED",
    "cancel": "cancel needs a payment in status AUTHORIZED or PENDING",
    "refund": "refund needs a payment in status PARTIALLY_SETTLED or SETTLED",
    "authorize": "authorize needs a payment in status PENDING",
    "adjust-authorization": "adjust-authorization needs a payment in status AUTHORIZED",
    "resume": "resume needs a payment in status PENDING",
}


def _attempt(record: PaymentRecord, action: str) -> PaymentRecord | Refusal:
    if action == "capture":
        return capture(record, CaptureRequest(), LATER, "ev-cap", timedelta(minutes=5))
    if action == "cancel":
        return cancel(record, CancelRequest(), LATER, "ev-cancel")
    if action == "refund":
        return refund(record, RefundRequest(), LATER, "ref-1")
    if action == "authorize":
        request = AuthorizeRequest.model_validate({"processor": {"processorMerchantId": "merchant-1"}})
        return authorize(record, request, LATER, PROCESSOR, "tx-2", "ev-2")
    if action == "adjust-authorization":
        return adjust_authorization(record, AdjustAuthorizationRequest(amount=500), LATER, "ev-adj")
    return resume(
        record, "resume-1", LATER, authorize_on_create=True, processor=PROCESSOR, transaction_id="tx-2",
        event_id="ev-2",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (status, action)
        for status in PAYMENT_STATUSES
        for action in ACTIONS
        if (status, action) not in DOCUMENTED
        and status not in ("SETTLING",)
        # Own errorIds: authorizing an authorized payment, adjusting a pending one.
        and (status, action) not in {("AUTHORIZED", "authorize"), ("PENDING", "adjust-authorization")}
    ],
)
def test_every_action_a_status_does_not_allow_is_invalid_payment_status(status, action):
    record = at(make(), status)
    refusal = refused(_attempt(record, action))
    assert (refusal.status, refusal.error_id) == (400, "InvalidPaymentStatus")
    assert refusal.description == f"A payment with status {status} cannot {STATUS_TEXT[action]}."
    assert refusal.recovery == f"{ADVICE[action]}; GET the payment to see its status."
    assert refusal.errors == () and refusal.model is None
    assert record.status == status  # the input is untouched


@pytest.mark.parametrize("action", ACTIONS)
def test_a_settling_payment_is_told_to_wait_for_the_clock(action):
    refusal = refused(_attempt(at(make(), "SETTLING", amount_captured=1000), action))
    assert refusal.error_id == "InvalidPaymentStatus"
    assert refusal.description == f"A payment with status SETTLING cannot {STATUS_TEXT[action]}."
    assert refusal.recovery == (
        "The payment is settling; it settles on the sandbox clock (advance it with "
        "POST /_sandbox/clock), then it can be refunded."
    )


# ---------------------------------------------------------------- creating


def test_an_authorized_card_reaches_the_processor_with_one_authorization_event():
    record = make()
    assert record.status == "AUTHORIZED" and record.status_reason is None
    assert (record.processor_name, record.processor_merchant_id) == PROCESSOR
    assert record.processor_transaction_id == "tx-1" and record.has_sale
    assert [(e.id, e.type, e.amount, e.date) for e in record.events] == [
        ("ev-auth", "AUTHORIZATION_SUCCEEDED", 1000, NOW)
    ]
    assert record.three_ds == {"responseCode": "NOT_PERFORMED"}
    assert record.payment_method == {"authorizationType": "FINAL"}
    assert record.fields == {"amount": 1000, "currencyCode": "GBP", "orderId": "order-1"}
    assert (record.created_at, record.updated_at) == (NOW, NOW)
    assert (record.required_action, record.resume_token) == (None, None)
    assert record.scenario == {"authorization": "AUTHORIZED", "threeDS": None}
    assert (record.id, record.session_id, record.payment_method_token) == ("pay-1", "ses-1", "tok-1")
    assert (record.analytics_id, record.card) == ("an-1", CARD)


@pytest.mark.parametrize(
    ("authorization", "status", "reason"),
    [
        ("DECLINED", "DECLINED", {"type": "ISSUER_DECLINED", "declineType": "SOFT_DECLINE", "code": "DECLINED",
                                  "message": "Generic decline (sandbox test card)"}),
        ("FAILED", "FAILED", {"type": "GATEWAY_REJECTED", "message": "Generic fail (sandbox test card)"}),
        ("NOT_A_TEST_CARD", "FAILED", {
            "type": "APPLICATION_ERROR",
            "message": "Only test card numbers are allowed in Sandbox; this is not one of Primer's test cards",
        }),
    ],
)  # fmt: skip
def test_declines_and_failures_reach_the_processor_with_their_reason_and_no_event(
    authorization, status, reason
):
    record = make(CardScenario(authorization))  # type: ignore[arg-type]
    assert (record.status, record.status_reason) == (status, reason)
    assert record.processor_transaction_id == "tx-1" and record.events == []
    assert record.processor_name == "PRIMER_TEST"


def test_a_session_payment_method_keeps_its_authorization_type():
    record = make(paymentMethod={"authorizationType": "ESTIMATED", "descriptor": "Kettles"})
    assert record.payment_method == {"authorizationType": "ESTIMATED", "descriptor": "Kettles"}
    assert "paymentMethod" not in record.fields


def test_without_authorize_on_create_a_payment_waits_pending_off_the_processor():
    record = make(authorize_on_create=False)
    assert record.status == "PENDING" and not record.has_sale
    assert (record.processor_name, record.events) == (None, [])


@pytest.mark.parametrize(
    ("enabled", "customer", "applies"),
    [
        (True, SHOPPER, True),
        (False, SHOPPER, False),
        (True, {"emailAddress": "ann@example.com"}, False),
        (True, {"billingAddress": {"countryCode": "GB"}}, False),
        (True, {"emailAddress": "", "billingAddress": {"countryCode": "GB"}}, False),
        (True, None, False),
    ],
)
def test_3ds_needs_the_dashboard_switch_an_email_and_a_billing_address(enabled, customer, applies):
    fields = {} if customer is None else {"customer": customer}
    assert three_ds_applies(enabled, fields) is applies


def test_a_challenged_card_waits_with_the_required_action_and_the_challenge_token():
    record = make(CardScenario("AUTHORIZED", "CHALLENGE"), three_ds=True, customer=SHOPPER)
    assert record.status == "PENDING" and not record.has_sale
    assert record.three_ds == {"responseCode": "CHALLENGE"}
    assert record.required_action == {
        "name": "3DS_AUTHENTICATION",
        "description": "Authenticate the shopper with 3DS (the card issuer asks for a challenge), "
        "then resume the payment with the resumeToken the authentication returns.",
        "clientToken": "challenge-token",
    }


def test_a_challenge_card_without_3ds_is_simply_authorized():
    record = make(CardScenario("AUTHORIZED", "CHALLENGE"), three_ds=False, customer=SHOPPER)
    assert record.status == "AUTHORIZED" and record.required_action is None
    assert record.three_ds == {"responseCode": "NOT_PERFORMED"}


FRICTIONLESS_SUCCESS = {
    "responseCode": "AUTH_SUCCESS", "protocolVersion": "2.2.0", "challengeIssued": False,
}  # fmt: skip


def test_frictionless_outcomes():
    success = make(CardScenario("AUTHORIZED", "FRICTIONLESS_SUCCESS"), three_ds=True, customer=SHOPPER)
    assert success.status == "AUTHORIZED" and success.three_ds == FRICTIONLESS_SUCCESS
    pending = make(
        CardScenario("AUTHORIZED", "FRICTIONLESS_SUCCESS"), three_ds=True, customer=SHOPPER,
        authorize_on_create=False,
    )  # fmt: skip
    assert pending.status == "PENDING" and pending.three_ds == FRICTIONLESS_SUCCESS
    failure = make(CardScenario("AUTHORIZED", "FRICTIONLESS_FAILURE"), three_ds=True, customer=SHOPPER)
    assert failure.status == "DECLINED" and not failure.has_sale
    assert failure.three_ds == {
        "responseCode": "AUTH_FAILED", "reasonCode": "CARD_AUTHENTICATION_FAILED",
        "protocolVersion": "2.2.0", "challengeIssued": False,
    }  # fmt: skip
    assert failure.status_reason == {
        "type": "ISSUER_DECLINED", "declineType": "HARD_DECLINE", "code": "AUTHENTICATION_REQUIRED",
        "message": "3DS authentication failed",
    }  # fmt: skip


@pytest.mark.parametrize("three_ds", ["FRICTIONLESS_SUCCESS", "FRICTIONLESS_FAILURE", "CHALLENGE", None])
def test_without_3ds_the_card_goes_straight_to_the_processor(three_ds):
    outcome = first_outcome(CardScenario("DECLINED", three_ds), three_ds=False, authorize_on_create=True)
    assert (outcome.status, outcome.challenge, outcome.reaches_processor) == ("DECLINED", False, True)
    assert outcome.three_ds == {"responseCode": "NOT_PERFORMED"}


def test_outcome_reasons_are_copies():
    first = make(CardScenario("DECLINED"))
    assert first.status_reason is not None
    first.status_reason["message"] = "changed"
    assert make(CardScenario("DECLINED")).status_reason["message"] == "Generic decline (sandbox test card)"


# ---------------------------------------------------------------- capture


def test_capture_everything_by_default_settles_on_the_clock():
    record = ok(capture(make(), CaptureRequest(), LATER, "ev-cap", timedelta(minutes=5)))
    assert (record.status, record.amount_captured, record.captures_closed) == ("SETTLING", 1000, True)
    assert record.settle_at == LATER + timedelta(minutes=5) and record.updated_at == LATER
    assert [(e.type, e.amount, e.final, e.date) for e in record.events[1:]] == [
        ("CAPTURE_SUCCEEDED", 1000, True, LATER)
    ]


def test_capture_with_no_settlement_delay_settles_at_once():
    whole = ok(capture(make(), CaptureRequest(), LATER, "ev", timedelta(0)))
    assert whole.status == "SETTLED" and whole.settle_at is None
    part = ok(capture(make(), CaptureRequest(amount=400, final=True), LATER, "ev", timedelta(0)))
    assert (part.status, part.amount_captured, part.captures_closed) == ("PARTIALLY_SETTLED", 400, True)


def test_a_final_partial_capture_settles_partially_on_the_clock():
    record = ok(capture(make(), CaptureRequest(amount=400), LATER, "ev", timedelta(minutes=5)))
    assert (record.status, record.captures_closed) == ("SETTLING", True)
    assert settle(record, LATER + timedelta(minutes=5)).status == "PARTIALLY_SETTLED"  # type: ignore[union-attr]


def test_non_final_captures_stay_open_until_everything_is_captured():
    first = ok(capture(make(), CaptureRequest(amount=300, final=False), LATER, "ev-1", timedelta(minutes=5)))
    assert (first.status, first.captures_closed, first.settle_at) == ("PARTIALLY_SETTLED", False, None)
    second = ok(capture(first, CaptureRequest(amount=700, final=False), LATER, "ev-2", timedelta(minutes=5)))
    assert (second.status, second.captures_closed, second.amount_captured) == ("SETTLING", True, 1000)
    assert [e.id for e in second.events] == ["ev-auth", "ev-1", "ev-2"]


def test_a_closed_payment_refuses_another_capture():
    closed = ok(capture(make(), CaptureRequest(amount=300), LATER, "ev", timedelta(0)))
    refusal = refused(capture(closed, CaptureRequest(amount=1), LATER, "ev", timedelta(0)))
    assert (refusal.status, refusal.error_id) == (400, "InvalidPaymentStatus")
    assert refusal.description == (
        "A payment with status PARTIALLY_SETTLED cannot be captured. A final capture was already made."
    )


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        (0, "must be more than 0"),
        (-5, "must be more than 0"),
        (701, "is more than the 700 left to capture (authorized 1000, captured 300)"),
    ],
)
def test_capture_amount_refusals_name_the_field(amount, problem):
    open_payment = ok(capture(make(), CaptureRequest(amount=300, final=False), LATER, "ev", timedelta(0)))
    request = CaptureRequest.model_construct(amount=amount, final=True, order=None, metadata=None)
    refusal = refused(capture(open_payment, request, LATER, "ev", timedelta(0)))
    assert refusal == Refusal(
        422, "RequestValidationError", f"Cannot capture {amount}: the amount {problem}.",
        "Capture at most 700, or leave amount out to capture everything left.",
        (FieldError("$.amount", f"the capture amount {problem}", "capture_amount"),),
        "PaymentCaptureAPIRequest",
    )  # fmt: skip


def test_capturing_exactly_what_is_left_is_allowed():
    open_payment = ok(capture(make(), CaptureRequest(amount=300, final=False), LATER, "ev", timedelta(0)))
    assert (
        ok(capture(open_payment, CaptureRequest(amount=700), LATER, "ev", timedelta(0))).amount_captured
        == 1000
    )
    assert ok(capture(make(), CaptureRequest(amount=1), LATER, "ev", timedelta(0))).amount_captured == 1


def test_capture_merges_metadata_and_sets_the_retailer_country():
    record = make(metadata={"a": "1", "b": "2"}, order={"countryCode": "FR"})
    request = CaptureRequest.model_validate({"metadata": {"b": "3"}, "order": {"retailerCountryCode": "DE"}})
    captured = ok(capture(record, request, LATER, "ev", timedelta(0)))
    assert captured.fields["metadata"] == {"a": "1", "b": "3"}
    assert captured.fields["order"] == {"countryCode": "FR", "retailerCountryCode": "DE"}
    assert record.fields["metadata"] == {"a": "1", "b": "2"} and record.fields["order"] == {
        "countryCode": "FR"
    }
    plain = ok(capture(make(), CaptureRequest.model_validate({"metadata": {"x": "1"}, "order": {}}), LATER, "e",
                       timedelta(0)))  # fmt: skip
    assert plain.fields["metadata"] == {"x": "1"} and "order" not in plain.fields


# ---------------------------------------------------------------- settle


def test_settle_only_a_settling_payment_whose_time_came():
    settling = ok(capture(make(), CaptureRequest(), LATER, "ev", timedelta(minutes=5)))
    due = LATER + timedelta(minutes=5)
    assert settle(settling, due - timedelta(microseconds=1)) is None
    done = settle(settling, due)
    assert done is not None and (done.status, done.settle_at, done.updated_at) == ("SETTLED", None, due)
    assert settle(done, due + timedelta(days=1)) is None
    assert settle(at(settling, "SETTLING", settle_at=None), due) is None
    assert settle(at(settling, "AUTHORIZED"), due) is None


# ---------------------------------------------------------------- cancel


def test_cancel_an_authorized_payment_records_the_void():
    record = ok(cancel(make(), CancelRequest(reason="changed my mind"), LATER, "ev-void"))
    assert (record.status, record.sale_reason, record.updated_at) == ("CANCELLED", "changed my mind", LATER)
    assert [(e.id, e.type, e.amount, e.final) for e in record.events] == [
        ("ev-auth", "AUTHORIZATION_SUCCEEDED", 1000, None), ("ev-void", "CANCELLATION_SUCCEEDED", None, None)
    ]  # fmt: skip


def test_cancel_a_pending_payment_drops_its_challenge():
    pending = make(CardScenario("AUTHORIZED", "CHALLENGE"), three_ds=True, customer=SHOPPER)
    record = ok(cancel(pending.model_copy(update={"resume_token": "r"}), CancelRequest(), LATER, "ev"))
    assert (record.status, record.events, record.required_action, record.resume_token) == (
        "CANCELLED", [], None, None
    )  # fmt: skip


# ---------------------------------------------------------------- refund


def captured(amount: int = 1000, *, final: bool = True) -> PaymentRecord:
    return ok(capture(make(), CaptureRequest(amount=amount, final=final), NOW, "ev-cap", timedelta(0)))


def test_refund_everything_left_by_default_and_again_in_parts():
    record = ok(refund(captured(), RefundRequest(amount=300, reason="lid"), LATER, "ref-1"))
    assert (record.amount_refunded, record.updated_at, record.status) == (300, LATER, "SETTLED")
    assert [(r.id, r.amount, r.reason, r.order_id, r.event_id, r.date) for r in record.refunds] == [
        ("ref-1", 300, "lid", "order-1", None, LATER)
    ]
    rest = ok(refund(record, RefundRequest(order_id="order-1-r"), LATER, "ref-2"))
    assert rest.amount_refunded == 1000 and rest.refunds[-1].amount == 700
    assert rest.refunds[-1].order_id == "order-1-r"
    assert refundable(rest) == 0


def test_a_fully_refunded_payment_answers_primers_already_refunded():
    done = ok(refund(captured(), RefundRequest(), LATER, "ref-1"))
    assert refused(refund(done, RefundRequest(amount=1), LATER, "ref-2")) == Refusal(
        409, "PaymentAlreadyRefunded",
        "Cannot refund this payment because the payment has already been fully refunded.",
        "All 1000 captured was refunded; nothing is left to refund.",
    )  # fmt: skip


def test_refund_amount_refusals():
    record = ok(refund(captured(), RefundRequest(amount=400), LATER, "ref-1"))
    zero = RefundRequest.model_construct(amount=0, order_id=None, reason=None, transaction_event_id=None)
    assert refused(refund(record, zero, LATER, "r")) == Refusal(
        422, "RequestValidationError", "The refund amount must be more than 0.",
        "Send an amount of at least 1, or leave it out to refund what is left.",
        (FieldError("$.amount", "the refund amount must be more than 0", "refund_amount"),),
        "PaymentRefundAPIRequest",
    )  # fmt: skip
    assert refused(refund(record, RefundRequest(amount=601), LATER, "r")) == Refusal(
        422, "UnprocessableRefundAmount",
        "Cannot refund this payment with the amount 601. The refund amount must be less than or equal to "
        "the refundable amount (600).",
        "Refund at most 600 (captured 1000, refunded 400).",
    )  # fmt: skip
    assert ok(refund(record, RefundRequest(amount=600), LATER, "r")).amount_refunded == 1000


def test_refunds_of_one_capture_event():
    first = ok(capture(make(), CaptureRequest(amount=300, final=False), NOW, str(EVENT), timedelta(0)))
    both = ok(capture(first, CaptureRequest(amount=500, final=False), NOW, "ev-2", timedelta(0)))
    assert refundable(both) == 800 and refundable(both, str(EVENT)) == 300 and refundable(both, "ev-2") == 500
    assert refundable(both, "ev-auth") is None and refundable(both, "nope") is None
    part = ok(refund(both, RefundRequest(amount=100, transaction_event_id=EVENT), LATER, "ref-1"))
    assert part.refunds[0].event_id == str(EVENT) and refundable(part, str(EVENT)) == 200
    assert refundable(part, "ev-2") == 500
    refusal = refused(refund(part, RefundRequest(amount=201, transaction_event_id=EVENT), LATER, "ref-2"))
    assert refusal.error_id == "UnprocessableRefundAmount"
    assert "less than or equal to the capture's refundable amount (200)." in refusal.description
    rest = ok(refund(part, RefundRequest(transaction_event_id=EVENT), LATER, "ref-2"))
    assert rest.refunds[-1].amount == 200 and refundable(rest, str(EVENT)) == 0
    assert refundable(rest) == 500


def test_a_capture_refund_is_bounded_by_what_the_payment_has_left():
    record = ok(capture(make(), CaptureRequest(amount=300, final=False), NOW, str(EVENT), timedelta(0)))
    record = ok(capture(record, CaptureRequest(amount=200, final=False), NOW, "ev-2", timedelta(0)))
    record = record.model_copy(update={"amount_refunded": 400})  # refunded without naming a capture
    assert refundable(record, str(EVENT)) == 100


def test_a_refund_naming_no_capture_event_is_refused_on_its_field():
    other = UUID("00000000-0000-4000-8000-000000000009")
    refusal = refused(refund(captured(), RefundRequest(transaction_event_id=other), LATER, "r"))
    assert refusal == Refusal(
        422, "RequestValidationError", "transactionEventId names no capture of this payment.",
        "GET the payment with expand=transactions.events and use the id of a CAPTURE_SUCCEEDED event.",
        (FieldError("$.transactionEventId", "no capture event of this payment has this id", "event"),),
        "PaymentRefundAPIRequest",
    )  # fmt: skip


# ---------------------------------------------------------------- adjust authorization


def estimated() -> PaymentRecord:
    return make(paymentMethod={"authorizationType": "ESTIMATED"})


def test_adjust_an_estimated_authorization():
    record = ok(adjust_authorization(estimated(), AdjustAuthorizationRequest(amount=1500), LATER, "ev-adj"))
    assert record.amount == 1500 and record.fields["currencyCode"] == "GBP"
    assert (record.events[-1].type, record.events[-1].amount, record.updated_at) == (
        "AUTHORIZATION_ADJUSTMENT_SUCCEEDED", 1500, LATER
    )  # fmt: skip
    assert ok(capture(record, CaptureRequest(), LATER, "ev", timedelta(0))).amount_captured == 1500


def test_adjust_refusals_with_primers_error_ids():
    assert refused(adjust_authorization(make(), AdjustAuthorizationRequest(amount=5), LATER, "e")) == Refusal(
        400, "IncorrectPaymentAuthorizationType",
        "Adjust authorization is only allowed on payments where authorizationType is set to estimated and not "
        "final.",
        "Create the payment (or its session) with paymentMethod.authorizationType ESTIMATED.",
    )  # fmt: skip
    pending = make(authorize_on_create=False, paymentMethod={"authorizationType": "ESTIMATED"})
    assert refused(adjust_authorization(pending, AdjustAuthorizationRequest(amount=5), LATER, "e")) == Refusal(
        400, "PaymentIsNotAuthorizedYet", "Adjust Authorization is only allowed on authorized payments.",
        "Wait until the payment is AUTHORIZED (complete any requiredAction first).",
    )  # fmt: skip
    zero = AdjustAuthorizationRequest.model_construct(amount=0)
    assert refused(adjust_authorization(estimated(), zero, LATER, "e")) == Refusal(
        422, "RequestValidationError", "The adjusted amount must be more than 0.",
        "Send the new total to authorize; to release everything, cancel the payment instead.",
        (FieldError("$.amount", "the adjusted amount must be more than 0", "adjust_amount"),),
        "PaymentAdjustAuthorizationAPIRequest",
    )  # fmt: skip
    assert ok(adjust_authorization(estimated(), AdjustAuthorizationRequest(amount=1), LATER, "e")).amount == 1


# ---------------------------------------------------------------- manual authorization


def _authorize_request(merchant: str = "merchant-1", name: str | None = None) -> AuthorizeRequest:
    processor = {"processorMerchantId": merchant} | ({"name": name} if name else {})
    return AuthorizeRequest.model_validate({"processor": processor})


@pytest.mark.parametrize("name", [None, "PRIMER_TEST"])
def test_authorize_a_pending_payment_with_the_sandbox_processor(name):
    pending = make(authorize_on_create=False)
    record = ok(authorize(pending, _authorize_request(name=name), LATER, PROCESSOR, "tx-9", "ev-9"))
    assert (record.status, record.processor_transaction_id, record.processor_name) == (
        "AUTHORIZED", "tx-9", "PRIMER_TEST"
    )  # fmt: skip
    assert [(e.id, e.type, e.amount, e.date) for e in record.events] == [
        ("ev-9", "AUTHORIZATION_SUCCEEDED", 1000, LATER)
    ]


def test_authorize_keeps_the_3ds_result_of_the_payment_it_authorizes():
    pending = make(
        CardScenario("AUTHORIZED", "FRICTIONLESS_SUCCESS"), three_ds=True, customer=SHOPPER,
        authorize_on_create=False,
    )  # fmt: skip
    record = ok(authorize(pending, _authorize_request(), LATER, PROCESSOR, "tx-9", "ev-9"))
    assert record.status == "AUTHORIZED" and record.three_ds == FRICTIONLESS_SUCCESS


def test_authorize_a_pending_declined_card_declines_it():
    record = ok(authorize(make(CardScenario("DECLINED"), authorize_on_create=False), _authorize_request(), LATER,
                          PROCESSOR, "tx-9", "ev-9"))  # fmt: skip
    assert record.status == "DECLINED" and record.events == [] and record.has_sale


@pytest.mark.parametrize(
    ("merchant", "name"), [("other", None), ("merchant-1", "ADYEN"), ("other", "PRIMER_TEST")]
)
def test_authorize_with_another_merchant_account_is_not_found(merchant, name):
    refusal = refused(authorize(make(authorize_on_create=False), _authorize_request(merchant, name), LATER,
                                PROCESSOR, "tx", "ev"))  # fmt: skip
    assert refusal == Refusal(
        400, "MerchantAccountNotFound", "The merchant account could not be found.",
        "The sandbox has one processor account: name PRIMER_TEST, processorMerchantId merchant-1.",
    )  # fmt: skip


def test_authorize_refusals():
    assert refused(authorize(make(), _authorize_request(), LATER, PROCESSOR, "tx", "ev")) == Refusal(
        400,
        "PaymentAlreadyAuthorized",
        "The payment has already been authorized.",
        "Capture or cancel it instead.",
    )
    challenged = make(CardScenario("AUTHORIZED", "CHALLENGE"), three_ds=True, customer=SHOPPER)
    refusal = refused(authorize(challenged, _authorize_request(), LATER, PROCESSOR, "tx", "ev"))
    assert refusal.error_id == "InvalidPaymentStatus"
    assert refusal.description == (
        "A payment with status PENDING cannot be authorized. It waits for 3DS_AUTHENTICATION: resume it instead."
    )


# ---------------------------------------------------------------- 3DS challenge and resume


def challenged(authorize_on_create: bool = True, authorization: str = "AUTHORIZED") -> PaymentRecord:
    return make(
        CardScenario(authorization, "CHALLENGE"), three_ds=True, customer=SHOPPER,  # type: ignore[arg-type]
        authorize_on_create=authorize_on_create,
    )  # fmt: skip


def _resume(record: PaymentRecord, given: str = "resume-1", authorize_on_create: bool = True):
    return resume(
        record, given, LATER, authorize_on_create=authorize_on_create, processor=PROCESSOR,
        transaction_id="tx-2", event_id="ev-2",
    )  # fmt: skip


def test_complete_challenge_keeps_the_resume_token_and_result():
    record = ok(complete_challenge(challenged(), "AUTH_SUCCESS", "resume-1", LATER))
    assert (record.resume_token, record.challenge_result, record.status, record.updated_at) == (
        "resume-1", "AUTH_SUCCESS", "PENDING", LATER
    )  # fmt: skip


@pytest.mark.parametrize(
    "record",
    [
        make(authorize_on_create=False),
        make(),
        make(authorize_on_create=False).model_copy(update={"required_action": {"name": "OTHER"}}),
    ],
)
def test_complete_challenge_needs_a_waiting_challenge(record):
    refusal = refused(complete_challenge(record, "AUTH_SUCCESS", "r", LATER))
    assert refusal.error_id == "InvalidPaymentStatus"
    assert refusal.description == f"A payment with status {record.status} cannot be resumed. It has no 3DS " \
        "challenge waiting."  # fmt: skip


def test_resume_after_a_successful_challenge_authorizes():
    ready = ok(complete_challenge(challenged(), "AUTH_SUCCESS", "resume-1", LATER))
    record = ok(_resume(ready))
    assert record.status == "AUTHORIZED" and (record.required_action, record.resume_token) == (None, None)
    assert record.three_ds == {
        "responseCode": "AUTH_SUCCESS", "protocolVersion": "2.2.0", "challengeIssued": True,
    }  # fmt: skip
    assert record.processor_transaction_id == "tx-2" and record.events[-1].id == "ev-2"


def test_resume_after_a_successful_challenge_without_authorize_on_create_waits():
    ready = ok(complete_challenge(challenged(False), "AUTH_SUCCESS", "resume-1", LATER))
    record = ok(_resume(ready, authorize_on_create=False))
    assert (record.status, record.required_action, record.has_sale) == ("PENDING", None, False)
    assert record.three_ds["challengeIssued"] is True


def test_resume_a_declined_card_after_its_challenge_declines_at_the_processor():
    ready = ok(complete_challenge(challenged(authorization="DECLINED"), "AUTH_SUCCESS", "resume-1", LATER))
    record = ok(_resume(ready))
    assert record.status == "DECLINED" and record.has_sale
    assert record.status_reason is not None and record.status_reason["declineType"] == "SOFT_DECLINE"


def test_resume_after_a_failed_challenge_declines_without_the_processor():
    ready = ok(complete_challenge(challenged(), "AUTH_FAILED", "resume-1", LATER))
    record = ok(_resume(ready))
    assert record.status == "DECLINED" and not record.has_sale
    assert record.three_ds == {
        "responseCode": "AUTH_FAILED", "reasonCode": "CARD_AUTHENTICATION_FAILED", "protocolVersion": "2.2.0",
        "challengeIssued": True,
    }  # fmt: skip
    assert record.status_reason is not None and record.status_reason["declineType"] == "HARD_DECLINE"


def test_resume_refusals():
    wrong = Refusal(
        400, "PaymentError", "The resume token is not the one this payment's 3DS authentication gave.",
        "Complete the challenge with POST {pciUrl}/3ds/{paymentMethodToken}/auth (using the requiredAction's "
        "clientToken) and resume with the resumeToken it answers.",
    )  # fmt: skip
    assert refused(_resume(challenged())) == wrong  # the challenge was not completed
    ready = ok(complete_challenge(challenged(), "AUTH_SUCCESS", "resume-1", LATER))
    assert refused(_resume(ready, "resume-2")) == wrong
    nothing = refused(_resume(make(authorize_on_create=False)))
    assert nothing.description == "A payment with status PENDING cannot be resumed. Nothing waits for it."
    authorized = refused(_resume(make()))
    assert authorized.description == "A payment with status AUTHORIZED cannot be resumed."
