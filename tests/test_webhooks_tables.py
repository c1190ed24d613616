"""Webhooks in tables and plots: what a receiver saw and what the sandbox logged, for people to read."""

from __future__ import annotations

from datetime import timedelta

import matplotlib
import pandas as pd
import pytest

from primer_nb import tables
from primer_nb.api.webhooks import ReceivedDelivery, verify
from primer_nb.sandbox.core.clock import DETERMINISTIC_START, SandboxClock
from primer_nb.sandbox.core.store import SessionStore
from primer_nb.sandbox.core.webhooks import WebhookDispatcher

from .webhook_support import Recorder, payment_body

matplotlib.use("Agg")

WALL = 1_736_154_000


@pytest.fixture
def scene():
    """A payment that goes PENDING → AUTHORIZED → SETTLED; the AUTHORIZED event fails once, then arrives.

    Returns the dispatcher's log and the deliveries a receiver verifying with
    the secret would have recorded (refusals answered 500).
    """
    store = SessionStore()
    clock = SandboxClock(DETERMINISTIC_START, frozen=True)
    hooks = WebhookDispatcher(store, clock, wall=lambda: WALL)
    hooks.add_endpoint("http://127.0.0.1:9/hook")
    send = Recorder(200, 500, 200, 200)
    for status in ("PENDING", "AUTHORIZED", "SETTLED"):
        hooks.on_payment_event("PAYMENT.STATUS", payment_body(status), clock.now())
        hooks.deliver_due(send)
        clock.advance(5)
    clock.advance(10)
    hooks.deliver_due(send)
    answers = [200, 500, 200, 200]
    deliveries = [
        ReceivedDelivery(
            DETERMINISTIC_START + timedelta(seconds=n),
            raw,
            headers,
            True,
            answer,
            verify(raw, headers, hooks.secret, now=WALL),
        )
        for n, ((_, raw, headers), answer) in enumerate(zip(send.requests, answers, strict=True))
    ]
    yield hooks.log(), deliveries
    store.close()


def test_webhooks_frame_from_a_receiver_has_one_row_per_event(scene):
    _, deliveries = scene
    frame = tables.webhooks_frame(deliveries)
    assert list(frame.columns) == tables.WEBHOOK_COLUMNS
    assert list(frame["status"]) == ["PENDING", "AUTHORIZED", "SETTLED"]
    assert list(frame["attempts"]) == [1, 2, 1]
    assert list(frame["outcome"]) == ["accepted"] * 3
    assert frame["verified"].all()
    assert (
        isinstance(frame["delivered_at"].dtype, pd.DatetimeTZDtype)
        and str(frame["delivered_at"].dt.tz) == "UTC"
    )
    assert frame.loc[1, "delivered_at"] == DETERMINISTIC_START + timedelta(seconds=3)  # the second try
    assert frame.attrs["primer_nb"] == "webhooks"


def test_webhooks_frame_from_the_sandbox_log_has_one_row_per_delivery(scene):
    log, _ = scene
    frame = tables.webhooks_frame(log)
    assert list(frame["attempts"]) == [1, 2, 1]
    assert list(frame["outcome"]) == ["delivered"] * 3
    assert frame["verified"].isna().all()  # the sandbox cannot know
    html = tables.style(frame).to_html()
    assert "delivered" in html and "background-color: #d1e7dd" in html


def test_a_refused_event_shows_as_refused_and_an_empty_source_keeps_the_columns(scene):
    _, deliveries = scene
    refused = [
        ReceivedDelivery(d.received_at, d.body, d.headers, False, 400, None, "mismatch")
        for d in deliveries[:1]
    ]
    frame = tables.webhooks_frame(refused)
    assert list(frame["outcome"]) == ["refused"] and not frame.loc[0, "verified"]
    assert frame["delivered_at"].isna().all()
    assert list(tables.webhooks_frame([]).columns) == tables.WEBHOOK_COLUMNS
    with pytest.raises(TypeError):
        tables.webhooks_frame([{"not": "a delivery"}])


def test_the_timeline_shows_status_changes_beside_every_attempt(scene):
    log, deliveries = scene
    ax = tables.plot_payment_timeline(log)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "status",
        "PAYMENT.STATUS PENDING",
        "PAYMENT.STATUS AUTHORIZED",
        "PAYMENT.STATUS SETTLED",
    ]
    assert "DdRZ6YY0" in ax.get_title()
    colours = [tuple(c.get_facecolor()[0][:3]) for c in ax.collections if len(c.get_offsets())]
    red = matplotlib.colors.to_rgb("#c0392b")
    green = matplotlib.colors.to_rgb("#2e8b57")
    assert colours.count(red) == 1 and colours.count(green) == 3  # one failed attempt, three accepted
    annotations = [t.get_text() for t in ax.texts]
    assert annotations == ["PENDING", "AUTHORIZED", "SETTLED"]
    from_receiver = tables.plot_payment_timeline(deliveries, "DdRZ6YY0")
    assert [t.get_text() for t in from_receiver.get_yticklabels()] == labels


def test_the_timeline_takes_a_status_history_and_says_when_there_is_nothing(scene):
    log, _ = scene
    history = [(DETERMINISTIC_START, "PENDING"), ("2025-01-06T09:00:30", "CANCELLED")]
    ax = tables.plot_payment_timeline(log, status_history=history)
    assert [t.get_text() for t in ax.texts] == ["PENDING", "CANCELLED"]
    empty = tables.plot_payment_timeline(log, "no-such-payment")
    assert [t.get_text() for t in empty.texts] == ["no webhooks for this payment"]
