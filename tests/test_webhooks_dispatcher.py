"""The sandbox's webhook dispatcher, without HTTP: a recording ``send`` and a frozen clock drive it.

Every rule of delivery is checked here: what is sent and signed how, Primer's
retry schedule as the sandbox clock advances, rotation, resend and trigger,
each fault, the loopback rule, and the outbox surviving a reopen of its
database. The HTTP tests only show the worker and routes hand things over.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from primer_nb.api.errors import PrimerTimeoutError
from primer_nb.api.webhooks import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    RETRY_DELAYS,
    WebhookSignatureError,
    parse_event,
    verify,
)
from primer_nb.sandbox.core.build import build_service
from primer_nb.sandbox.core.clock import DETERMINISTIC_START, SandboxClock
from primer_nb.sandbox.core.store import SessionStore
from primer_nb.sandbox.core.webhooks import (
    PaymentListener,
    SendResult,
    WebhookDispatcher,
    check_endpoint_url,
    is_loopback_host,
)

from .webhook_support import PUBLISHED_STATUS_EVENT_KEYS, Recorder, payment_body

HOOK = "http://127.0.0.1:9999/hooks"
OTHER = "http://localhost:9998/other"
WALL = 1_736_154_000  # the wall clock signedAt is written from, fixed here


@pytest.fixture
def store():
    opened = SessionStore()
    yield opened
    opened.close()


@pytest.fixture
def clock() -> SandboxClock:
    return SandboxClock(DETERMINISTIC_START, frozen=True)


def dispatcher(store: SessionStore, clock: SandboxClock, *urls: str, **options) -> WebhookDispatcher:
    made = WebhookDispatcher(store, clock, wall=lambda: WALL, **options)
    for url in urls:
        made.add_endpoint(url)
    return made


def status_event(hooks: WebhookDispatcher, clock: SandboxClock, status: str = "AUTHORIZED", **fields) -> None:
    listener: PaymentListener = hooks.listener  # what PaymentService.listeners holds
    listener("PAYMENT.STATUS", payment_body(status, **fields), clock.now())


def body_of(request: tuple[str, bytes, dict[str, str]]) -> dict:
    return json.loads(request[1])


# ---------------------------------------------------------------- what is sent


def test_a_status_change_is_posted_to_every_endpoint_signed_with_the_full_payment(store, clock):
    hooks = dispatcher(store, clock, HOOK, OTHER)
    status_event(hooks, clock, "SETTLED")
    send = Recorder()
    assert hooks.deliver_due(send) == 2
    assert {url for url, _, _ in send.requests} == {HOOK, OTHER}
    endpoints = {e["url"]: e for e in hooks.endpoints()}
    for url, raw, headers in send.requests:
        event = verify(raw, headers, hooks.secret, now=WALL)
        body = json.loads(raw)
        assert list(body) == PUBLISHED_STATUS_EVENT_KEYS
        assert body["payment"] == payment_body("SETTLED")
        assert body["date"] == "2025-01-06T09:00:00.000000" and body["signedAt"] == str(WALL)
        assert body["notificationConfig"] == {"id": endpoints[url]["id"], "description": "Payment webhook"}
        assert event.payment_status == "SETTLED"
        assert headers["Content-Type"] == "application/json"
        assert headers[ATTEMPT_HEADER] == "1"
        assert "X-Signature-Secondary" not in headers
    event_ids = {headers[EVENT_ID_HEADER] for _, _, headers in send.requests}
    assert len(event_ids) == 1  # one event, two deliveries


def test_events_keep_their_order_per_endpoint_and_each_has_its_own_id(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    for status in ("PENDING", "AUTHORIZED", "SETTLED"):
        status_event(hooks, clock, status)
    send = Recorder()
    hooks.deliver_due(send)
    assert [body_of(r)["payment"]["status"] for r in send.requests] == ["PENDING", "AUTHORIZED", "SETTLED"]
    assert len({r[2][EVENT_ID_HEADER] for r in send.requests}) == 3


def test_an_endpoint_gets_only_the_event_types_it_asked_for(store, clock):
    hooks = dispatcher(store, clock)
    hooks.add_endpoint(HOOK, "Refund webhook", events=["PAYMENT.REFUND"])
    status_event(hooks, clock)
    hooks.on_payment_event("PAYMENT.REFUND", payment_body("SETTLED", refund="SETTLED"), clock.now())
    send = Recorder()
    hooks.deliver_due(send)
    assert [body_of(r)["eventType"] for r in send.requests] == ["PAYMENT.REFUND"]
    assert body_of(send.requests[0])["notificationConfig"]["description"] == "Refund webhook"
    with pytest.raises(ValueError):
        hooks.add_endpoint(OTHER, events=["PAYMENT.NOPE"])


def test_registering_a_url_again_keeps_the_first_registration(store, clock):
    hooks = dispatcher(store, clock)
    first = hooks.add_endpoint(HOOK, "Mine")
    assert hooks.add_endpoint(HOOK, "Other name") == first
    assert len(hooks.endpoints()) == 1


def test_removing_an_endpoint_cancels_what_was_waiting_for_it(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    status_event(hooks, clock)
    removed = hooks.remove_endpoint(HOOK)
    assert removed["cancelledDeliveries"] == 1
    assert hooks.deliver_due(Recorder()) == 0
    assert hooks.log()["deliveries"][0]["state"] == "cancelled"
    with pytest.raises(KeyError):
        hooks.remove_endpoint(HOOK)


def test_the_listener_never_raises_into_the_payment_request(store, clock, caplog):
    hooks = dispatcher(store, clock, HOOK)
    with caplog.at_level(logging.ERROR, logger="primer_nb.sandbox"):
        hooks.on_payment_event("PAYMENT.NOT_A_TYPE", payment_body(), clock.now())
    assert "could not record" in caplog.text
    assert hooks.log()["deliveries"] == []


# ---------------------------------------------------------------- retries on the sandbox clock


def test_failures_are_retried_on_primer_s_schedule_as_the_clock_advances_then_dropped(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    status_event(hooks, clock)
    send = Recorder(*[500] * 6)
    assert hooks.deliver_due(send) == 1
    for delay in RETRY_DELAYS:
        clock.advance(delay * 0.9 - 0.001)  # just short of the earliest the jitter allows
        assert hooks.deliver_due(send) == 0
        clock.advance(delay * 0.2 + 0.002)  # past the latest
        assert hooks.deliver_due(send) == 1
    clock.advance(timedelta(days=1))
    assert hooks.deliver_due(send) == 0
    attempts = hooks.log()["attempts"]
    assert [a["attempt"] for a in attempts] == [1, 2, 3, 4, 5, 6]
    assert [a["outcome"] for a in attempts] == ["failed"] * 5 + ["dropped"]
    assert [r[2][ATTEMPT_HEADER] for r in send.requests] == ["1", "2", "3", "4", "5", "6"]
    assert len({r[2][EVENT_ID_HEADER] for r in send.requests}) == 1  # the same event every time
    for a, delay in zip(attempts, RETRY_DELAYS, strict=False):
        waited = (parse(a["nextRetryAt"]) - parse(a["at"])).total_seconds()
        assert delay * 0.9 <= waited <= delay * 1.1
    assert attempts[-1]["nextRetryAt"] is None
    assert hooks.log()["deliveries"][0]["state"] == "dropped"


def parse(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_a_retry_is_signed_afresh_and_succeeds(store, clock):
    wall = [WALL]
    hooks = WebhookDispatcher(store, clock, wall=lambda: wall[0])
    hooks.add_endpoint(HOOK)
    status_event(hooks, clock)
    send = Recorder(503, 200)
    hooks.deliver_due(send)
    wall[0] += 15
    clock.advance(12)
    hooks.deliver_due(send)
    first, second = (body_of(r) for r in send.requests)
    assert (first["signedAt"], second["signedAt"]) == (str(WALL), str(WALL + 15))
    assert first["date"] == second["date"]  # when the change happened does not move
    verify(send.requests[1][1], send.requests[1][2], hooks.secret, now=WALL + 15)
    assert [a["outcome"] for a in hooks.log()["attempts"]] == ["failed", "delivered"]
    assert hooks.next_due() is None


@pytest.mark.parametrize(
    "answer",
    [
        301,
        404,
        SendResult(None, 10_000, "no answer within 10 s"),
        SendResult(None, 1, "ConnectError: refused"),
    ],
)
def test_redirects_errors_timeouts_and_refused_connections_all_fail_and_are_logged(store, clock, answer):
    hooks = dispatcher(store, clock, HOOK)
    status_event(hooks, clock)
    hooks.deliver_due(Recorder(answer))
    (attempt,) = hooks.log()["attempts"]
    assert attempt["outcome"] == "failed" and attempt["nextRetryAt"] is not None
    if isinstance(answer, SendResult):
        assert (attempt["status"], attempt["latencyMs"], attempt["error"]) == answer
    else:
        assert attempt["status"] == answer


def test_the_send_timeout_is_primer_s_ten_seconds(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    status_event(hooks, clock)
    seen = []
    hooks.deliver_due(lambda url, body, headers, timeout: seen.append(timeout) or SendResult(200, 1))
    assert seen == [10.0]


# ---------------------------------------------------------------- the secret


def test_a_rotated_secret_signs_primary_and_the_old_one_secondary_for_24_hours(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    old = hooks.secret
    state = hooks.rotate_secret("the-new-secret-1")
    assert state["secret"] == "the-new-secret-1" and state["previousSecret"] == old
    send = Recorder()
    status_event(hooks, clock)
    hooks.deliver_due(send)
    raw, headers = send.requests[0][1], send.requests[0][2]
    assert verify(raw, headers, "the-new-secret-1", now=WALL)
    assert verify(raw, headers, old, now=WALL)  # a receiver not yet updated still verifies
    clock.advance(timedelta(hours=24, seconds=1))
    status_event(hooks, clock)
    hooks.deliver_due(send)
    assert "X-Signature-Secondary" not in send.requests[1][2]
    with pytest.raises(WebhookSignatureError):
        verify(send.requests[1][1], send.requests[1][2], old, now=WALL)
    assert hooks.secret_state()["previousSecret"] is None


def test_the_secret_is_kept_with_the_data_and_a_given_one_replaces_it(tmp_path, clock):
    db = tmp_path / "s.sqlite3"
    first = SessionStore(db)
    made = WebhookDispatcher(first, clock).secret
    first.close()
    again = SessionStore(db)
    assert WebhookDispatcher(again, clock).secret == made
    assert WebhookDispatcher(again, clock, secret="given-secret").secret == "given-secret"
    again.close()


def test_a_deterministic_sandbox_signs_and_names_alike_run_after_run():
    runs = []
    for _ in range(2):
        service = build_service(deterministic=True, webhooks=[HOOK])
        status_event(service.webhooks, service.clock)
        send = Recorder()
        service.webhooks.wall = lambda: WALL
        service.webhooks.deliver_due(send)
        runs.append(send.requests)
        service.store.close()
    assert runs[0] == runs[1]


# ---------------------------------------------------------------- resend and trigger


def test_resend_delivers_the_same_event_again_like_a_dashboard_button(store, clock):
    hooks = dispatcher(store, clock, HOOK, OTHER)
    status_event(hooks, clock)
    send = Recorder()
    hooks.deliver_due(send)
    event_id = send.requests[0][2][EVENT_ID_HEADER]
    again = hooks.resend(event_id, endpoint=HOOK)
    assert again["eventId"] == event_id and len(again["deliveries"]) == 1
    hooks.deliver_due(send)
    assert send.requests[-1][0] == HOOK and send.requests[-1][2][EVENT_ID_HEADER] == event_id
    assert len(hooks.resend(event_id)["deliveries"]) == 2
    with pytest.raises(KeyError):
        hooks.resend("no-such-event")
    with pytest.raises(KeyError):
        hooks.resend(event_id, endpoint="http://127.0.0.1:1/unknown")


def test_trigger_raises_a_new_event_for_a_payment_with_overrides(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    result = hooks.trigger(
        "PAYMENT.STATUS", payment=payment_body("AUTHORIZED"),
        overrides={"payment": {"status": "SETTLED", "statusReason": {"type": "ISSUER_DECLINED"}}},
    )  # fmt: skip
    assert result["deliveries"] == 1 and result["paymentId"] == "DdRZ6YY0"
    send = Recorder()
    hooks.deliver_due(send)
    payment = body_of(send.requests[0])["payment"]
    assert payment["status"] == "SETTLED" and payment["statusReason"] == {"type": "ISSUER_DECLINED"}
    assert payment["orderId"] == "order-123"
    assert send.requests[0][2][EVENT_ID_HEADER] == result["eventId"]


def test_trigger_by_payment_id_uses_the_lookup_the_payments_service_plugs_in(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    with pytest.raises(LookupError, match="send the payment object"):
        hooks.trigger(payment_id="DdRZ6YY0")
    payments = {"DdRZ6YY0": payment_body("DECLINED")}
    hooks.payment_lookup = payments.get
    hooks.trigger("PAYMENT.REFUND", payment_id="DdRZ6YY0")
    with pytest.raises(KeyError):
        hooks.trigger(payment_id="missing")
    with pytest.raises(ValueError):
        hooks.trigger()
    send = Recorder()
    hooks.deliver_due(send)
    assert body_of(send.requests[0])["payment"]["status"] == "DECLINED"


def test_a_stale_signed_at_can_be_triggered_to_test_a_replay_check(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    hooks.trigger(payment=payment_body(), overrides={"signedAt": str(WALL - 3600)})
    send = Recorder()
    hooks.deliver_due(send)
    with pytest.raises(WebhookSignatureError) as caught:
        verify(send.requests[0][1], send.requests[0][2], hooks.secret, now=WALL)
    assert caught.value.reason == "stale"


# ---------------------------------------------------------------- faults


def test_drop_never_sends_and_logs_the_delivery_as_dropped(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    hooks.set_faults(drop=1.0, seed=1)
    status_event(hooks, clock)
    assert hooks.deliver_due(Recorder()) == 0
    (delivery,) = hooks.log()["deliveries"]
    assert delivery["state"] == "dropped" and delivery["faults"] == ["drop"]


def test_duplicate_sends_the_same_event_twice(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    hooks.set_faults(duplicate=1.0, seed=1)
    status_event(hooks, clock)
    send = Recorder()
    assert hooks.deliver_due(send) == 2
    assert send.requests[0][2][EVENT_ID_HEADER] == send.requests[1][2][EVENT_ID_HEADER]


def test_delay_holds_the_first_attempt_for_delay_seconds_of_sandbox_time(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    hooks.set_faults(delay=1.0, delay_seconds=90, seed=1)
    status_event(hooks, clock)
    assert hooks.deliver_due(Recorder()) == 0
    clock.advance(89)
    assert hooks.deliver_due(Recorder()) == 0
    clock.advance(1)
    assert hooks.deliver_due(Recorder()) == 1


def test_out_of_order_lets_the_next_event_overtake(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    hooks.set_faults(out_of_order=1.0, seed=1)
    status_event(hooks, clock, "AUTHORIZED", updated="2025-01-06T09:00:00.000000")
    hooks.clear_faults()
    status_event(hooks, clock, "SETTLED", updated="2025-01-06T09:00:01.000000")
    send = Recorder()
    hooks.deliver_due(send)
    assert [body_of(r)["payment"]["status"] for r in send.requests] == ["SETTLED", "AUTHORIZED"]
    # Primer's advice for this: keep the newest payment.dateUpdated.
    newest = max((parse_event(r[1]) for r in send.requests), key=lambda e: e.payment.date_updated)
    assert newest.payment_status == "SETTLED"


def test_a_held_event_goes_after_hold_seconds_when_nothing_overtakes_it(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    hooks.set_faults(out_of_order=1.0, hold_seconds=30, seed=1)
    status_event(hooks, clock)
    assert hooks.deliver_due(Recorder()) == 0
    assert hooks.log()["deliveries"][0]["state"] == "held"
    clock.advance(30)
    assert hooks.deliver_due(Recorder()) == 1


def test_idle_means_everything_due_on_the_sandbox_clock_was_attempted_and_recorded(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    assert hooks.idle()
    status_event(hooks, clock)
    assert not hooks.idle()  # due now, not sent yet
    (claim,) = hooks.claim_due()
    assert not hooks.idle()  # in flight: its answer is not recorded
    hooks.complete(claim, (500, 3, None))
    assert hooks.idle()  # the retry waits for the clock
    clock.advance(11)
    assert not hooks.idle()
    hooks.deliver_due(Recorder(200))
    assert hooks.idle()
    assert [d["state"] for d in hooks.log()["deliveries"]] == ["delivered"]


def test_a_held_delivery_keeps_the_sandbox_busy_once_a_later_event_overtook_it(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    hooks.set_faults(out_of_order=1.0, hold_seconds=30, seed=1)
    status_event(hooks, clock)
    assert hooks.idle()  # held until a later event goes, or for 30 s of sandbox time
    hooks.clear_faults()
    status_event(hooks, clock, "SETTLED")
    (later,) = hooks.claim_due()
    hooks.complete(later, (200, 1, None))
    assert not hooks.idle()  # the held one is released by the next look
    assert hooks.deliver_due(Recorder()) == 1
    assert hooks.idle()


def test_wait_idle_gives_up_after_its_timeout_when_nothing_sends(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    status_event(hooks, clock)  # due, but no worker here to send it
    with pytest.raises(PrimerTimeoutError, match=r"still due or in flight after 0\.05 s"):
        hooks.wait_idle(timeout=0.05)
    hooks.deliver_due(Recorder())
    hooks.wait_idle(timeout=0.05)


def test_stale_signature_signs_the_first_attempt_with_a_rotated_out_secret(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    hooks.rotate_secret("second-secret-123")
    clock.advance(timedelta(days=2))  # the first secret no longer signs anything
    hooks.set_faults(stale_signature=1.0, seed=1)
    status_event(hooks, clock)
    send = Recorder(400, 200)  # a receiver that verifies refuses it
    hooks.deliver_due(send)
    first = send.requests[0]
    with pytest.raises(WebhookSignatureError):
        verify(first[1], first[2], "second-secret-123", now=WALL)
    assert "X-Signature-Secondary" not in first[2]
    clock.advance(11)
    hooks.deliver_due(send)
    verify(send.requests[1][1], send.requests[1][2], "second-secret-123", now=WALL)


def test_faults_are_drawn_from_the_seed_and_replay_exactly(clock):
    plans = []
    for _ in range(2):
        store = SessionStore()
        hooks = dispatcher(store, clock, HOOK)
        hooks.set_faults(drop=0.3, duplicate=0.3, delay=0.3, out_of_order=0.2, stale_signature=0.3, seed=42)
        for n in range(30):
            status_event(hooks, clock, payment_id=f"pay-{n}")
        plans.append([(d["paymentId"], d["faults"], d["state"]) for d in hooks.log()["deliveries"]])
        store.close()
    assert plans[0] == plans[1]
    faults = {name for _, names, _ in plans[0] for name in names}
    assert faults == {"drop", "duplicate", "delay", "out_of_order", "stale_signature"}


def test_fault_rates_must_be_rates(store, clock):
    hooks = dispatcher(store, clock)
    with pytest.raises(ValueError):
        hooks.set_faults(drop=1.5)
    with pytest.raises(TypeError):
        hooks.set_faults(explode=1.0)
    assert hooks.faults.active is False


# ---------------------------------------------------------------- loopback only


@pytest.mark.parametrize(
    "url",
    ["http://example.com/hook", "http://10.0.0.8/hook", "http://192.168.1.2:8000/", "https://[2001:db8::1]/",
     "http://127.0.0.1.nip.io/", "http://0.0.0.0:8000/", "ftp://127.0.0.1/", "127.0.0.1:8000/hook",
     "http://127.0.0.1:99999/"],
)  # fmt: skip
def test_only_urls_on_this_machine_are_accepted(store, clock, url):
    with pytest.raises(ValueError):
        dispatcher(store, clock).add_endpoint(url)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/h", "http://localhost/h", "https://[::1]:8443/h", "http://127.1.2.3/"]
)
def test_loopback_urls_are_accepted(url):
    assert check_endpoint_url(url) == url


def test_loopback_hosts():
    assert is_loopback_host("LOCALHOST") and is_loopback_host("::1") and is_loopback_host("127.0.0.53")
    assert not is_loopback_host("localhost.example.com") and not is_loopback_host(None)


def test_remote_urls_need_the_explicit_allowance_even_from_an_old_database(tmp_path, clock):
    db = tmp_path / "s.sqlite3"
    store = SessionStore(db)
    allowed = dispatcher(store, clock, allow_remote=True)
    allowed.add_endpoint("https://hooks.example.com/primer")
    status_event(allowed, clock)
    store.close()
    store = SessionStore(db)
    strict = dispatcher(store, clock)  # the same data, without the allowance
    send = Recorder()
    assert strict.deliver_due(send) == 0
    assert send.requests == []
    (attempt,) = strict.log()["attempts"]
    assert attempt["outcome"] == "dropped" and "not on this machine" in attempt["error"]
    status_event(strict, clock)
    store.close()
    store = SessionStore(db)
    allowed = dispatcher(store, clock, allow_remote=True)
    allowed.deliver_due(send)
    assert [url for url, _, _ in send.requests] == ["https://hooks.example.com/primer"]
    store.close()


# ---------------------------------------------------------------- durability


def test_pending_deliveries_and_cut_short_attempts_survive_a_reopen(tmp_path, clock):
    db = tmp_path / "s.sqlite3"
    store = SessionStore(db)
    hooks = dispatcher(store, clock, HOOK)
    status_event(hooks, clock, "AUTHORIZED")
    status_event(hooks, clock, "SETTLED")
    hooks.deliver_due(Recorder(500), limit=1)  # AUTHORIZED failed: a retry is pending
    (claim,) = hooks.claim_due()  # SETTLED is out on the wire when the process dies
    store.close()

    store = SessionStore(db)
    reopened = dispatcher(store, clock)
    states = {d["paymentStatus"]: (d["state"], d["attempts"]) for d in reopened.log()["deliveries"]}
    assert states == {"AUTHORIZED": ("pending", 1), "SETTLED": ("pending", 0)}
    clock.advance(12)
    send = Recorder()
    assert reopened.deliver_due(send) == 2
    assert {r[2][EVENT_ID_HEADER] for r in send.requests} >= {claim.event_id}
    assert sorted(r[2][ATTEMPT_HEADER] for r in send.requests) == ["1", "2"]
    store.close()


def test_event_ids_never_repeat_across_reopens(tmp_path, clock):
    db = tmp_path / "s.sqlite3"
    ids = set()
    for _ in range(2):
        store = SessionStore(db)
        hooks = WebhookDispatcher(store, clock, seed=7)
        for _ in range(3):
            ids.add(hooks.trigger(payment=payment_body())["eventId"])
        store.close()
    assert len(ids) == 6


def test_build_service_registers_endpoints_and_refuses_remote_ones():
    service = build_service(webhooks=[HOOK, OTHER], webhook_secret="configured-secret")
    assert [e["url"] for e in service.webhooks.endpoints()] == [HOOK, OTHER]
    assert service.webhooks.secret == "configured-secret"
    service.store.close()
    with pytest.raises(ValueError, match="not on this machine"):
        build_service(webhooks=["http://example.com/"])


def test_an_attempt_out_when_its_endpoint_is_removed_is_not_retried(store, clock):
    hooks = dispatcher(store, clock, HOOK)
    status_event(hooks, clock)
    (claim,) = hooks.claim_due()
    hooks.remove_endpoint(HOOK)
    hooks.complete(claim, SendResult(500, 3))
    clock.advance(3600)
    assert hooks.deliver_due(Recorder()) == 0
    assert hooks.log()["deliveries"][0]["state"] == "cancelled"
    assert hooks.log()["attempts"][0]["nextRetryAt"] is None
