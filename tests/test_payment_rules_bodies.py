"""The bodies the payment rules answer with, whole: ``GET /payments/{id}``, a search row, the checkout's.

Each expected body below is written out from the Payments API v2.4 spec
(``PaymentAPIResponse``, ``PaymentSummaryAPISchema``) and the checkout SDKs'
decoders, for one payment taken through its life, so a dropped key, a renamed
one or a value taken from the wrong place fails here. Each body is also read
back by the kit's response models.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from primer_nb.api.cards import CardScenario, public_card
from primer_nb.api.envelope import FieldError
from primer_nb.api.payment import CancelRequest, CaptureRequest, Payment, PaymentSummary, RefundRequest
from primer_nb.api.payment_rules import (
    CHECKOUT_STATUS,
    PaymentRecord,
    cancel,
    capture,
    checkout_body,
    inherit,
    missing_fields,
    new_payment,
    payment_body,
    provenance,
    refund,
    summary_body,
)

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
CARD = public_card("4111111111111111", "12", "2030").payment_method_data()


def make(scenario: CardScenario | None = None, **fields) -> PaymentRecord:
    return new_payment(
        payment_id="pay-1", token="tok-1", session_id="ses-1",
        fields={"amount": 1000, "currencyCode": "GBP", "orderId": "order-1", **fields},
        card=CARD, scenario=scenario or CardScenario("AUTHORIZED"), analytics_id="an-1", now=NOW,
        three_ds_enabled=False, authorize_on_create=True, processor=("PRIMER_TEST", "merchant-1"),
        transaction_id="tx-1", event_id="ev-auth", challenge_token="ct",
    )  # fmt: skip


def lived() -> PaymentRecord:
    """Authorized, captured in two parts (the second final), then partly refunded twice."""
    record = make(
        customerId="cust-1", customer={"emailAddress": "ann@example.com"}, metadata={"shop": "kettles"},
        order={"countryCode": "GB"}, paymentMethod={"descriptor": "Kettles", "paymentType": "FIRST_PAYMENT"},
    )  # fmt: skip
    record = capture(record, CaptureRequest(amount=600, final=False), NOW + timedelta(minutes=1), "ev-c1",
                     timedelta(0))  # fmt: skip
    record = capture(record, CaptureRequest(amount=400), NOW + timedelta(minutes=2), "ev-c2", timedelta(0))
    assert isinstance(record, PaymentRecord)
    record = refund(record, RefundRequest(amount=250, reason="lid"), NOW + timedelta(minutes=3), "ref-1")
    assert isinstance(record, PaymentRecord)
    record = refund(
        record, RefundRequest(amount=50, order_id="order-1-r2"), NOW + timedelta(minutes=4), "ref-2"
    )
    assert isinstance(record, PaymentRecord)
    return record


SALE = {
    "date": "2025-01-06T09:00:00.000000",
    "amount": 1000,
    "currencyCode": "GBP",
    "orderId": "order-1",
    "transactionType": "SALE",
    "processorTransactionId": "tx-1",
    "processorName": "PRIMER_TEST",
    "processorMerchantId": "merchant-1",
    "processorStatus": "SETTLED",
    "cardTokenType": "CARD_PAN",
}


def refund_transaction(minute: int, amount: int, processor_id: str, order_id: str, **extra) -> dict:
    return {
        "date": f"2025-01-06T09:0{minute}:00.000000", "amount": amount, "currencyCode": "GBP",
        "orderId": order_id, "transactionType": "REFUND", "processorTransactionId": processor_id,
        "processorName": "PRIMER_TEST", "processorMerchantId": "merchant-1", "processorStatus": "SETTLED",
        "cardTokenType": "CARD_PAN", **extra,
    }  # fmt: skip


def test_the_payment_body_of_a_captured_and_refunded_payment():
    body = payment_body(lived())
    assert body == {
        "id": "pay-1",
        "date": "2025-01-06T09:00:00.000000",
        "dateUpdated": "2025-01-06T09:04:00.000000",
        "status": "SETTLED",
        "cardTokenType": "CARD_PAN",
        "orderId": "order-1",
        "currencyCode": "GBP",
        "amount": 1000,
        "order": {"countryCode": "GB"},
        "customerId": "cust-1",
        "customer": {"emailAddress": "ann@example.com"},
        "metadata": {"shop": "kettles"},
        "paymentMethod": {
            "descriptor": "Kettles",
            "paymentType": "FIRST_PAYMENT",
            "paymentMethodToken": "tok-1",
            "isVaulted": False,
            "analyticsId": "an-1",
            "paymentMethodType": "PAYMENT_CARD",
            "paymentMethodData": CARD,
            "threeDSecureAuthentication": {"responseCode": "NOT_PERFORMED"},
            "authorizationType": "FINAL",
        },
        "processor": {
            "name": "PRIMER_TEST", "processorMerchantId": "merchant-1", "amountCaptured": 1000,
            "amountRefunded": 300,
        },
        "transactions": [
            SALE,
            refund_transaction(3, 250, "ref-1", "order-1", reason="lid"),
            refund_transaction(4, 50, "ref-2", "order-1-r2"),
        ],
    }  # fmt: skip
    assert list(body)[:5] == ["id", "date", "dateUpdated", "status", "cardTokenType"]
    payment = Payment.model_validate(body)
    assert (payment.processor.amount_captured, payment.processor.amount_refunded) == (1000, 300)


def test_expand_adds_each_sale_event():
    transactions = payment_body(lived(), expand=True)["transactions"]
    assert transactions[0]["events"] == [
        {"id": "ev-auth", "date": "2025-01-06T09:00:00.000000", "type": "AUTHORIZATION_SUCCEEDED", "amount": 1000},
        {"id": "ev-c1", "date": "2025-01-06T09:01:00.000000", "type": "CAPTURE_SUCCEEDED", "amount": 600,
         "final": False},
        {"id": "ev-c2", "date": "2025-01-06T09:02:00.000000", "type": "CAPTURE_SUCCEEDED", "amount": 400,
         "final": True},
    ]  # fmt: skip
    assert [t.get("events") for t in transactions[1:]] == [None, None]
    cancelled = cancel(make(), CancelRequest(reason="no stock"), NOW, "ev-void")
    assert isinstance(cancelled, PaymentRecord)
    sale = payment_body(cancelled, expand=True)["transactions"][0]
    assert sale["events"][-1] == {"id": "ev-void", "date": "2025-01-06T09:00:00.000000",
                                  "type": "CANCELLATION_SUCCEEDED"}  # fmt: skip
    assert (sale["reason"], sale["processorStatus"]) == ("no stock", "CANCELLED")


@pytest.mark.parametrize("authorization", ["DECLINED", "FAILED"])
def test_a_refused_payment_shows_why_on_the_payment_and_its_sale(authorization):
    record = make(CardScenario(authorization))  # type: ignore[arg-type]
    body = payment_body(record)
    assert body["statusReason"] == record.status_reason
    assert body["transactions"][0]["processorStatusReason"] == record.status_reason
    assert body["transactions"][0]["processorStatus"] == authorization
    assert body["processor"] == {
        "name": "PRIMER_TEST", "processorMerchantId": "merchant-1", "amountCaptured": 0, "amountRefunded": 0
    }  # fmt: skip
    assert "processorStatusReason" not in payment_body(make())["transactions"][0]


def test_a_payment_off_the_processor_has_no_transaction_and_no_processor_name():
    record = new_payment(
        payment_id="pay-2", token="tok-2", session_id=None,
        fields={"amount": 1000, "currencyCode": "GBP", "orderId": "o"}, card=CARD,
        scenario=CardScenario("AUTHORIZED"), analytics_id="an-2", now=NOW, three_ds_enabled=False,
        authorize_on_create=False, processor=("PRIMER_TEST", "merchant-1"), transaction_id="tx", event_id="ev",
        challenge_token="ct",
    )  # fmt: skip
    body = payment_body(record)
    assert (body["status"], body["transactions"]) == ("PENDING", [])
    assert body["processor"] == {"amountCaptured": 0, "amountRefunded": 0}
    assert not {"requiredAction", "statusReason", "customerId", "metadata", "order"} & set(body)
    assert body["paymentMethod"]["authorizationType"] == "FINAL"
    assert "descriptor" not in body["paymentMethod"] and "paymentType" not in body["paymentMethod"]
    record.payment_method.clear()  # a record stored before the default was written
    assert payment_body(record)["paymentMethod"]["authorizationType"] == "FINAL"


def test_the_authorization_type_is_the_payments():
    body = payment_body(make(paymentMethod={"authorizationType": "ESTIMATED"}))
    assert body["paymentMethod"]["authorizationType"] == "ESTIMATED"


def test_provenance_reads_a_payment_body_past_the_keys_it_does_not_place():
    session = {"paymentMethod": {"authorizationType": "ESTIMATED", "descriptor": "Shop"}}
    fields = payment_body(make(paymentMethod={"authorizationType": "ESTIMATED", "descriptor": "Shop"}))
    found = provenance({"orderId": "order-1"}, session, fields)
    # paymentMethodToken, isVaulted, ... come between descriptor and authorizationType in the body
    assert found["paymentMethod.descriptor"] == "session"
    assert found["paymentMethod.authorizationType"] == "session"
    assert "paymentMethod.paymentMethodToken" not in found


def test_a_pending_challenge_carries_its_required_action():
    record = new_payment(
        payment_id="pay-3", token="tok-3", session_id="ses-1",
        fields={"amount": 10, "currencyCode": "GBP", "orderId": "o", "customerId": "c",
                "customer": {"emailAddress": "a@example.com", "billingAddress": {"countryCode": "GB"}}},
        card=CARD, scenario=CardScenario("AUTHORIZED", "CHALLENGE"), analytics_id="an", now=NOW,
        three_ds_enabled=True, authorize_on_create=True, processor=("PRIMER_TEST", "merchant-1"),
        transaction_id="tx", event_id="ev", challenge_token="ct",
    )  # fmt: skip
    assert payment_body(record)["requiredAction"] == record.required_action
    assert checkout_body(record) == {
        "id": "pay-3", "date": "2025-01-06T09:00:00.000000", "status": "PENDING", "orderId": "o",
        "currencyCode": "GBP", "amount": 10, "customerId": "c", "requiredAction": record.required_action,
    }  # fmt: skip


def test_the_search_row():
    assert summary_body(lived()) == {
        "id": "pay-1", "date": "2025-01-06T09:00:00.000000", "dateUpdated": "2025-01-06T09:04:00.000000",
        "status": "SETTLED", "orderId": "order-1", "currencyCode": "GBP", "amount": 1000,
        "processor": {"name": "PRIMER_TEST", "processorMerchantId": "merchant-1"},
        "metadata": {"shop": "kettles"},
    }  # fmt: skip
    PaymentSummary.model_validate(summary_body(lived()))
    pending = new_payment(
        payment_id="pay-2", token="tok-2", session_id="ses-1",
        fields={"amount": 5, "currencyCode": "JPY", "orderId": "o-2"}, card=CARD,
        scenario=CardScenario("AUTHORIZED"), analytics_id="an", now=NOW, three_ds_enabled=False,
        authorize_on_create=False, processor=("PRIMER_TEST", "merchant-1"), transaction_id="tx", event_id="ev",
        challenge_token=None,
    )  # fmt: skip
    assert summary_body(pending) == {
        "id": "pay-2", "date": "2025-01-06T09:00:00.000000", "dateUpdated": "2025-01-06T09:00:00.000000",
        "status": "PENDING", "orderId": "o-2", "currencyCode": "JPY", "amount": 5,
    }  # fmt: skip


@pytest.mark.parametrize(("status", "checkout"), sorted(CHECKOUT_STATUS.items()))
def test_the_checkout_body_speaks_the_sdks_three_statuses(status, checkout):
    body = checkout_body(make().model_copy(update={"status": status}))
    expected = {
        "id": "pay-1", "date": "2025-01-06T09:00:00.000000", "status": checkout, "orderId": "order-1",
        "currencyCode": "GBP", "amount": 1000,
    }  # fmt: skip
    if checkout == "FAILED":
        expected["paymentFailureReason"] = "payment-failed"
    assert body == expected


# ---------------------------------------------------------------- inheritance edges and missing fields


def test_missing_fields_name_each_field_and_the_fix():
    assert missing_fields({}) == [
        FieldError(f"$.{name}", f"{name} is required to create a payment: send it on the payment request or set "
                   "it on the client session", "missing")
        for name in ("amount", "currencyCode", "orderId")
    ]  # fmt: skip
    assert missing_fields({"amount": 0, "currencyCode": "GBP", "orderId": ""}) == []


@pytest.mark.parametrize(
    ("method", "customer_id", "missing"),
    [({"vaultOnSuccess": True}, None, True), ({"vaultOnSuccess": True}, "", True),
     ({"vaultOnSuccess": True}, "c", False), ({"vaultOnSuccess": False}, None, False), (None, None, False)],
)  # fmt: skip
def test_vaulting_needs_a_customer_id(method, customer_id, missing):
    fields = {
        "amount": 1,
        "currencyCode": "GBP",
        "orderId": "o",
        "paymentMethod": method,
        "customerId": customer_id,
    }
    expected = [FieldError("$.customerId", "customerId is required when paymentMethod.vaultOnSuccess is true",
                           "missing")]  # fmt: skip
    assert missing_fields(fields) == (expected if missing else [])


def test_inherit_drops_empty_values_and_copies_what_it_takes():
    session = {"metadata": {}, "customer": {"billingAddress": {"city": "Paris"}}, "order": {"lineItems": []},
               "currencyCode": None, "paymentMethod": {"options": {"x": 1}}}  # fmt: skip
    merged = inherit({"customerId": None}, session)
    assert merged == {"customer": {"billingAddress": {"city": "Paris"}}, "order": {"lineItems": []}}
    merged["customer"]["billingAddress"]["city"] = "Lyon"
    assert session["customer"]["billingAddress"]["city"] == "Paris"
    assert inherit({"metadata": {"a": 1}}, {"metadata": "not an object"})["metadata"] == {"a": 1}
    # a value that is not an object, even in a merged field, is placed whole
    assert provenance({}, {"metadata": "not an object"}) == {"metadata": "session"}
    assert inherit({"amount": "12"}, {"amount": 5})["amount"] == 12
    assert inherit({"orderId": "o"}, None) == {"orderId": "o"}


def test_the_amount_from_the_requests_own_pricing_uses_the_merged_order():
    session = {"amount": 999, "order": {"lineItems": [{"amount": 100}], "shipping": {"amount": 7}}}
    assert inherit({"order": {"fees": [{"amount": 3}]}}, session)["amount"] == 110
    assert inherit({"order": {"countryCode": "GB"}}, session)["amount"] == 999
    # the request's own (empty) line items price the order: nothing, so no amount, not the session's
    emptied = inherit({"order": {"lineItems": []}}, {"amount": 500, "currencyCode": "GBP", "orderId": "o"})
    assert "amount" not in emptied and [e.path for e in missing_fields(emptied)] == ["$.amount"]
    assert inherit({"order": {"shipping": None, "countryCode": "GB"}}, {"order": {"lineItems": [{"amount": 4}]}}) == {
        "order": {"lineItems": [{"amount": 4}], "shipping": None, "countryCode": "GB"}, "amount": 4
    }  # fmt: skip
