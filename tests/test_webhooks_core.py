"""Webhooks in the domain core: signatures against fixed vectors, verification, bodies, the retry schedule."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from primer_nb.api.errors import PrimerError
from primer_nb.api.webhooks import (
    EVENT_ID_HEADER,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    DisputeOpenedEvent,
    DisputeStatusEvent,
    EventType,
    PaymentOperationFailedEvent,
    PaymentRefundEvent,
    PaymentStatusEvent,
    ReceivedDelivery,
    WebhookEvent,
    WebhookSignatureError,
    WorkflowRunFailedEvent,
    build_event_body,
    encode_body,
    finish_body,
    is_acknowledged,
    parse_event,
    retry_delay,
    sign,
    signature_headers,
    verify,
    verify_signature,
)

from .webhook_support import PUBLISHED_STATUS_EVENT_KEYS, at, payment_body

# Computed once with Python's hmac/hashlib/base64 and written down: if the signing
# scheme (HMAC-SHA256 over the raw bytes, UTF-8 key, standard padded base64) ever
# changes, these stop matching.
VECTOR_BODY = (
    b'{"eventType":"PAYMENT.STATUS","signedAt":"1689221338","payment":{"id":"DdRZ6YY0","status":"SETTLED"}}'
)
VECTORS = {
    "primer-nb-test-secret": "igmxEHMkb1A1/OrkvFetKPkE3LGd+4BkPGJupejt6Vo=",
    "primer-nb-old-secret": "y6fVFVTx6y/egf1Q8CHJgU6CR0px4pkDDUqv6beRzbs=",
}
SIGNED_AT = 1689221338


@pytest.mark.parametrize(("secret", "signature"), VECTORS.items())
def test_signatures_match_the_fixed_vectors(secret, signature):
    assert sign(VECTOR_BODY, secret) == signature
    assert len(base64.b64decode(signature, validate=True)) == 32  # a SHA-256 digest, standard base64


def test_verify_accepts_the_vector_and_returns_the_typed_event():
    headers = {"X-Signature-Primary": VECTORS["primer-nb-test-secret"]}
    event = verify(VECTOR_BODY, headers, "primer-nb-test-secret", now=SIGNED_AT + 10)
    assert isinstance(event, PaymentStatusEvent)
    assert (event.payment_id, event.payment_status, event.signed_at) == ("DdRZ6YY0", "SETTLED", "1689221338")


@pytest.mark.parametrize(
    "tampered",
    [
        VECTOR_BODY.replace(b"SETTLED", b"SETTLEd"),
        VECTOR_BODY.replace(b"1689221338", b"1689221339"),  # a fresher signedAt on an old signature
        VECTOR_BODY + b" ",
        json.dumps(json.loads(VECTOR_BODY)).encode(),  # re-serialised: same JSON, other bytes
    ],
)
def test_any_change_to_the_bytes_fails_verification(tampered):
    headers = {"X-Signature-Primary": VECTORS["primer-nb-test-secret"]}
    with pytest.raises(WebhookSignatureError) as caught:
        verify(tampered, headers, "primer-nb-test-secret", now=SIGNED_AT)
    assert caught.value.reason == "mismatch"
    assert "primer-nb-test-secret" not in str(caught.value)
    assert VECTORS["primer-nb-test-secret"] not in str(caught.value)


def test_headers_are_read_in_any_case_and_as_pairs():
    signature = VECTORS["primer-nb-test-secret"]
    for headers in ({"x-signature-primary": signature}, [("X-SIGNATURE-PRIMARY", signature)]):
        assert verify_signature(VECTOR_BODY, headers, "primer-nb-test-secret") == "X-Signature-Primary"


def test_a_missing_or_garbled_signature_is_refused_with_its_reason():
    with pytest.raises(WebhookSignatureError) as missing:
        verify(VECTOR_BODY, {}, "primer-nb-test-secret", now=SIGNED_AT)
    assert missing.value.reason == "missing"
    with pytest.raises(WebhookSignatureError) as garbled:
        verify(VECTOR_BODY, {"X-Signature-Primary": "not base64!"}, "primer-nb-test-secret", now=SIGNED_AT)
    assert garbled.value.reason == "mismatch"
    assert isinstance(garbled.value, PrimerError)


def test_during_a_rotation_either_secret_verifies_through_its_header():
    headers = signature_headers(VECTOR_BODY, "primer-nb-test-secret", "primer-nb-old-secret")
    assert headers["X-Signature-Secondary"] == VECTORS["primer-nb-old-secret"]
    assert verify_signature(VECTOR_BODY, headers, "primer-nb-test-secret") == "X-Signature-Primary"
    assert verify_signature(VECTOR_BODY, headers, "primer-nb-old-secret") == "X-Signature-Secondary"
    assert (
        verify_signature(VECTOR_BODY, headers, ["unrelated", "primer-nb-old-secret"])
        == "X-Signature-Secondary"
    )
    with pytest.raises(WebhookSignatureError):
        verify_signature(VECTOR_BODY, headers, ["unrelated", "also-unrelated"])


def test_no_secondary_header_without_a_previous_secret():
    assert list(signature_headers(VECTOR_BODY, "primer-nb-test-secret")) == ["X-Signature-Primary"]


@pytest.mark.parametrize(
    ("offset", "ok"), [(-300, True), (300, True), (301, False), (-301, False), (86_400, False)]
)
def test_the_replay_window_on_signed_at(offset, ok):
    headers = {"X-Signature-Primary": VECTORS["primer-nb-test-secret"]}
    if ok:
        verify(VECTOR_BODY, headers, "primer-nb-test-secret", now=SIGNED_AT + offset)
        return
    with pytest.raises(WebhookSignatureError) as caught:
        verify(VECTOR_BODY, headers, "primer-nb-test-secret", now=SIGNED_AT + offset)
    assert caught.value.reason == "stale"
    assert ("ago" if offset > 0 else "in the future") in str(caught.value)


def test_now_may_be_a_datetime_and_the_window_can_be_widened_or_skipped():
    headers = {"X-Signature-Primary": VECTORS["primer-nb-test-secret"]}
    later = at("2023-07-13T04:08:58") + timedelta(hours=1)  # signedAt is 2023-07-13T04:08:58Z
    with pytest.raises(WebhookSignatureError):
        verify(VECTOR_BODY, headers, "primer-nb-test-secret", now=later)
    verify(VECTOR_BODY, headers, "primer-nb-test-secret", now=later, tolerance=3601)
    verify(VECTOR_BODY, headers, "primer-nb-test-secret", now=later, tolerance=None)


def test_payment_events_must_carry_signed_at_but_dispute_events_have_none():
    unsigned = encode_body({"eventType": "PAYMENT.STATUS", "payment": {"id": "p"}})
    with pytest.raises(WebhookSignatureError) as caught:
        verify(unsigned, {"X-Signature-Primary": sign(unsigned, "s")}, "s")
    assert caught.value.reason == "stale"
    dispute = encode_body(
        build_event_body("DISPUTE.OPENED", payment_body(), at=at("2025-01-06T09:00:00"), ids=["d1"])
    )
    event = verify(dispute, {"X-Signature-Primary": sign(dispute, "s")}, "s")
    assert isinstance(event, DisputeOpenedEvent)


@pytest.mark.parametrize(
    "body", [b"not json", b"[1, 2]", b'{"payment": {}}', b'{"eventType": "PAYMENT.STATUS", "payment": 3}']
)
def test_a_body_that_is_not_an_event_is_malformed(body):
    with pytest.raises(WebhookSignatureError) as caught:
        verify(body, {"X-Signature-Primary": sign(body, "s")}, "s", tolerance=None)
    assert caught.value.reason == "malformed"


# ---------------------------------------------------------------- bodies


def test_a_status_event_body_has_primer_s_keys_in_primer_s_order():
    payment = payment_body("SETTLED")
    body = build_event_body("PAYMENT.STATUS", payment, at=at("2025-01-06T09:00:00"))
    assert list(body) == PUBLISHED_STATUS_EVENT_KEYS
    assert body["date"] == "2025-01-06T09:00:00.000000"  # naive UTC with microseconds, as in the examples
    assert body["version"] == "2.4"
    assert body["payment"] == payment  # the full payment object, untouched
    finished = finish_body(
        body, notification_config={"id": "cfg", "description": "Payment webhook"}, signed_at=1736154000
    )
    assert finished["signedAt"] == "1736154000"  # a string of Unix seconds
    assert finished["notificationConfig"] == {"id": "cfg", "description": "Payment webhook"}
    assert list(finished) == PUBLISHED_STATUS_EVENT_KEYS


def test_overrides_merge_into_nested_objects_and_pinned_fields_survive_finishing():
    body = build_event_body(
        "PAYMENT.STATUS", payment_body("AUTHORIZED"), at=at("2025-01-06T09:00:00"),
        overrides={"payment": {"status": "SETTLED"}, "signedAt": "1000"},
    )  # fmt: skip
    assert body["payment"]["status"] == "SETTLED"
    assert body["payment"]["orderId"] == "order-123"  # the rest of the payment is kept
    finished = finish_body(body, notification_config={"id": "x"}, signed_at=2000)
    assert finished["signedAt"] == "1000"


def test_refund_events_read_the_outcome_from_the_last_refund_transaction():
    payment = payment_body("SETTLED", refund="SETTLED")
    event = parse_event(build_event_body("PAYMENT.REFUND", payment, at=at("2025-01-06T09:00:00")))
    assert isinstance(event, PaymentRefundEvent)
    assert event.payment_status == "SETTLED"  # a refund leaves the payment SETTLED
    assert event.refund is not None and event.refund["processorStatus"] == "SETTLED"


def test_operation_failure_events_carry_the_small_payment_and_the_transaction_event():
    body = build_event_body(
        "PAYMENT.CAPTURE.FAILED", payment_body(), at=at("2025-01-06T09:00:00"), ids=["te-1"]
    )
    assert list(body) == [*PUBLISHED_STATUS_EVENT_KEYS, "requestAmount", "transactionEvent"]
    assert body["payment"] == {
        "id": "DdRZ6YY0",
        "amount": 3000,
        "currencyCode": "GBP",
        "orderId": "order-123",
    }
    assert body["transactionEvent"] == {"id": "te-1"}
    assert isinstance(parse_event(body), PaymentOperationFailedEvent)


def test_dispute_and_workflow_events_have_no_envelope_of_their_own():
    payment = payment_body()
    for kind, model in [("DISPUTE.OPENED", DisputeOpenedEvent), ("DISPUTE.STATUS", DisputeStatusEvent),
                        ("WORKFLOW_RUN.FAILED", WorkflowRunFailedEvent)]:  # fmt: skip
        body = build_event_body(kind, payment, at=at("2025-01-06T09:00:00"), ids=["a", "b"])
        assert "signedAt" not in body and "notificationConfig" not in body
        event = parse_event(body)
        assert isinstance(event, model)
        assert event.payment_id == "DdRZ6YY0"
    workflow = build_event_body("WORKFLOW_RUN.FAILED", payment, at=at("2025-01-06T09:00:00"))
    assert workflow["date"] == "2025-01-06 09:00:00.000000" and workflow["version"] == "1.0"


def test_unknown_event_types_and_unknown_fields_still_parse():
    event = parse_event({"eventType": "PAYMENT.SOMETHING_NEW", "surprise": 1})
    assert type(event) is WebhookEvent
    assert event.model_extra == {"surprise": 1}
    status = parse_event(
        {"eventType": "PAYMENT.STATUS", "payment": {"id": "p", "newField": [1]}, "extra": True}
    )
    assert status.payment.model_extra == {"newField": [1]}
    with pytest.raises(ValueError):
        build_event_body("PAYMENT.SOMETHING_NEW", {}, at=at("2025-01-06T09:00:00"))


def test_event_types_are_the_ones_primer_lists():
    assert {e.value for e in EventType} == {
        "PAYMENT.STATUS", "PAYMENT.REFUND", "PAYMENT.CAPTURE.FAILED", "PAYMENT.REFUND.FAILED",
        "PAYMENT.CANCELLATION.FAILED", "PAYMENT.AUTHORIZATION_ADJUSTMENT.FAILED", "DISPUTE.OPENED",
        "DISPUTE.STATUS", "WORKFLOW_RUN.FAILED",
    }  # fmt: skip


# ---------------------------------------------------------------- delivery rules


def test_retry_delays_follow_primer_s_schedule_within_the_jitter():
    for failed, base in enumerate(RETRY_DELAYS, start=1):
        delays = {retry_delay(failed, seed=f"event-{n}") for n in range(50)}
        assert all(base * 0.9 <= d <= base * 1.1 for d in delays)
        assert len(delays) > 40  # jittered, not one fixed value
    assert [retry_delay(n, jitter=0) for n in range(1, 6)] == [10, 60, 300, 600, 900]
    assert retry_delay(len(RETRY_DELAYS) + 1) is None
    assert MAX_ATTEMPTS == 6
    with pytest.raises(ValueError):
        retry_delay(0)


def test_retry_jitter_is_reproducible_from_the_seed():
    assert [retry_delay(n, seed="evt") for n in range(1, 6)] == [
        retry_delay(n, seed="evt") for n in range(1, 6)
    ]
    assert retry_delay(1, seed="evt") != retry_delay(1, seed="other")


@pytest.mark.parametrize(("status", "ok"), [(200, True), (204, True), (299, True), (301, False), (307, False),
                                            (400, False), (500, False), (None, False)])  # fmt: skip
def test_only_2xx_acknowledges(status, ok):
    assert is_acknowledged(status) is ok


def test_dedup_key_uses_the_sandbox_event_id_else_primer_s_fields():
    body = build_event_body(
        "PAYMENT.STATUS", payment_body(updated="2025-01-06T09:00:01.000000"), at=at("2025-01-06T09:00:00")
    )
    raw = encode_body(body)
    event = parse_event(raw)
    with_id = ReceivedDelivery(at("2025-01-06T09:00:00"), raw, {EVENT_ID_HEADER: "e-1"}, True, 200, event)
    assert with_id.dedup_key() == "e-1"
    from_primer = ReceivedDelivery(at("2025-01-06T09:00:00"), raw, {}, True, 200, event)
    assert from_primer.dedup_key() == "PAYMENT.STATUS:DdRZ6YY0:2025-01-06T09:00:01.000000"
