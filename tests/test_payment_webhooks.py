"""Payments and webhooks together: a real payment's life reaches a receiver, signed, in order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from primer_nb.api.webhooks import PaymentStatusEvent, verify
from primer_nb.webhooks import start_receiver

from .payment_helpers import SESSION_TOTAL, pay

pytestmark = pytest.mark.slow


def test_a_payment_life_arrives_as_signed_status_and_refund_events(sandbox, api):
    receiver = start_receiver(sandbox)
    try:
        payment = pay(api).json()
        assert payment["status"] == "AUTHORIZED"
        api.post(f"/payments/{payment['id']}/capture", json={})
        sandbox.clock.advance(timedelta(minutes=5))  # settlement happens on the clock move itself
        api.post(f"/payments/{payment['id']}/refund", json={"amount": 1000})
        events = receiver.wait_for(4, timeout=20)
    finally:
        receiver.stop()
    kinds = [(e.event_type, e.payment.status) for e in events]
    assert kinds == [
        ("PAYMENT.STATUS", "AUTHORIZED"),
        ("PAYMENT.STATUS", "SETTLING"),
        ("PAYMENT.STATUS", "SETTLED"),
        ("PAYMENT.REFUND", "SETTLED"),
    ]
    assert all(e.payment.id == payment["id"] and e.payment.order_id == "order-1" for e in events)
    assert isinstance(events[0], PaymentStatusEvent) and events[0].payment.amount == SESSION_TOTAL
    assert all(d.verified for d in receiver.deliveries)
    raw = receiver.deliveries[0]
    verify(raw.body, raw.headers, sandbox.webhook_secret)  # what a merchant's server checks


def test_trigger_by_payment_id_sends_the_stored_payment_with_overrides(sandbox, api):
    payment = pay(api).json()
    receiver = start_receiver(sandbox)
    try:
        sandbox.webhooks.trigger(
            "PAYMENT.STATUS", payment_id=payment["id"], overrides={"payment": {"status": "DECLINED"}}
        )
        (event,) = receiver.wait_for(1, timeout=20)
    finally:
        receiver.stop()
    assert event.payment.id == payment["id"] and event.payment.status == "DECLINED"
    assert event.payment.amount == payment["amount"]


def test_only_events_an_endpoint_takes_are_recorded(sandbox, api):
    pay(api)  # no endpoint yet: nothing to notify, nothing recorded
    assert sandbox.webhooks.log()["deliveries"] == []
    receiver = start_receiver(sandbox, events=["PAYMENT.REFUND"])
    try:
        payment = pay(api).json()
        api.post(f"/payments/{payment['id']}/capture", json={})
        sandbox.clock.advance(timedelta(minutes=5))
        api.post(f"/payments/{payment['id']}/refund", json={"amount": 100})
        (event,) = receiver.wait_for(1, timeout=20)
        sandbox.webhooks.wait_idle()
        assert [d["eventType"] for d in sandbox.webhooks.log()["deliveries"]] == ["PAYMENT.REFUND"]
    finally:
        receiver.stop()
    assert event.event_type == "PAYMENT.REFUND"
