"""Webhooks over real HTTP: the sandbox's worker and admin routes, the kit's receiver, ``primer-nb listen``.

The delivery rules are tested on the dispatcher itself (``test_webhooks_dispatcher.py``);
here a running sandbox posts to a running receiver, and the clock, not sleeps,
drives the retries.
"""

from __future__ import annotations

import inspect
import os
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from primer_nb.api.errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    PrimerError,
    PrimerTimeoutError,
)
from primer_nb.api.webhooks import EVENT_ID_HEADER, PaymentStatusEvent, sign
from primer_nb.client import PrimerClient
from primer_nb.sandbox import LocalSandbox, SandboxHandle
from primer_nb.sandbox.core.webhooks import WebhookControls, WebhookDispatcher
from primer_nb.sandbox.serving.handle import RemoteWebhooks
from primer_nb.webhooks import WebhookReceiver, start_receiver
from primer_nb.webhooks.listen import delivery_line

from .webhook_support import payment_body, wait_until


@pytest.fixture
def sandbox():
    """A deterministic sandbox (frozen clock: retries fall due only when the test advances it)."""
    with LocalSandbox(deterministic=True) as running:
        yield running


@pytest.fixture
def handle(sandbox):
    """The same sandbox driven through its admin API, as a notebook kernel drives a child process."""
    remote = SandboxHandle(sandbox.base_url, sandbox.api_key)
    yield remote
    remote.close()


def states(webhooks: WebhookControls) -> list[str]:
    return [d["state"] for d in webhooks.log()["deliveries"]]


# ---------------------------------------------------------------- the sandbox sends, the receiver verifies


def test_an_event_reaches_a_receiver_in_one_line_verified(sandbox):
    receiver = start_receiver(sandbox)
    try:
        sandbox.webhooks.on_payment_event("PAYMENT.STATUS", payment_body("SETTLED"), sandbox.clock.now())
        (event,) = receiver.wait_for(1)
        assert isinstance(event, PaymentStatusEvent)
        assert event.payment.model_dump(mode="json", by_alias=True, exclude_unset=True) == payment_body(
            "SETTLED"
        )
        assert event.notification_config.description == "primer-nb receiver"
        (delivery,) = receiver.deliveries
        assert delivery.verified and delivery.status == 200 and delivery.attempt == 1
        assert delivery.received_at == sandbox.clock.now()  # on the sandbox's clock
        wait_until(lambda: states(sandbox.webhooks) == ["delivered"], what="the attempt to be recorded")
        (attempt,) = sandbox.webhooks.log()["attempts"]
        assert attempt["status"] == 200 and attempt["latencyMs"] >= 0
    finally:
        receiver.stop()
    assert sandbox.webhooks.endpoints() == []  # stop() unregisters


def test_refusals_are_retried_when_the_clock_advances(sandbox, handle):
    receiver = start_receiver(handle)  # through the admin API, like a kernel beside a child sandbox
    try:
        receiver.fail_next(2, status=503)
        result = handle.webhooks.trigger("PAYMENT.STATUS", payment=payment_body())
        receiver.wait_for_deliveries(1)
        wait_until(lambda: handle.webhooks.log()["deliveries"][0]["state"] == "pending", what="the retry")
        handle.clock.advance(11)  # the worker wakes on the clock change
        receiver.wait_for_deliveries(2)
        wait_until(lambda: len(handle.webhooks.log()["attempts"]) == 2, what="attempt 2 recorded")
        handle.clock.advance(66)
        receiver.wait_for(1)
        assert [(d.attempt, d.status) for d in receiver.deliveries] == [(1, 503), (2, 503), (3, 200)]
        assert {d.event_id for d in receiver.deliveries} == {result["eventId"]}
        wait_until(lambda: states(handle.webhooks) == ["delivered"], what="delivery recorded")
        outcomes = [(a["attempt"], a["status"], a["outcome"]) for a in handle.webhooks.log()["attempts"]]
        assert outcomes == [(1, 503, "failed"), (2, 503, "failed"), (3, 200, "delivered")]
    finally:
        receiver.stop()


def test_wait_idle_returns_once_the_answers_are_logged_and_the_receiver_has_them(handle):
    receiver = start_receiver(handle)
    try:
        receiver.fail_next(1)
        first = handle.webhooks.trigger(payment=payment_body())["eventId"]
        second = handle.webhooks.trigger(payment=payment_body("SETTLED"))["eventId"]
        handle.webhooks.wait_idle()  # no polling of the log: both attempts are in it
        attempts = handle.webhooks.log()["attempts"]
        assert [(a["eventId"], a["status"], a["outcome"]) for a in attempts] == [
            (first, 500, "failed"), (second, 200, "delivered")
        ]  # fmt: skip
        assert attempts[0]["nextRetryAt"] > attempts[0]["at"]
        assert [d.event_id for d in receiver.deliveries] == [first, second]
        assert handle.webhooks.idle()  # the retry waits for the frozen clock
        handle.clock.advance(12)
        handle.webhooks.wait_idle()
        assert [d["state"] for d in handle.webhooks.log()["deliveries"]] == ["delivered", "delivered"]
        assert [d.status for d in receiver.deliveries] == [500, 200, 200]
    finally:
        receiver.stop()


def test_a_tampered_or_foreign_delivery_is_refused_with_400_and_kept(sandbox):
    with WebhookReceiver(sandbox.webhook_secret) as receiver:
        body = b'{"eventType":"PAYMENT.STATUS","signedAt":"1","payment":{"id":"p"}}'
        answer = httpx.post(
            receiver.url, content=body, headers={"X-Signature-Primary": sign(body, "another")}
        )
        assert answer.status_code == 400
        (delivery,) = receiver.deliveries
        assert not delivery.verified and "mismatch" in delivery.error
        assert receiver.events == []
        assert httpx.post(receiver.url.replace("/webhooks", "/nope"), content=body).status_code == 404


def test_the_receiver_deduplicates_and_can_be_told_what_to_answer(sandbox):
    receiver = start_receiver(sandbox)
    try:
        sandbox.webhooks.set_faults(duplicate=1.0, seed=3)
        sandbox.webhooks.trigger(payment=payment_body())
        receiver.wait_for_deliveries(2)
        assert len(receiver.events) == 1  # two deliveries, one event
        receiver.respond_with(500)
        sandbox.webhooks.clear_faults()
        sandbox.webhooks.trigger(payment=payment_body("SETTLED"))
        receiver.wait_for_deliveries(3)
        assert receiver.deliveries[-1].status == 500 and len(receiver.events) == 1
        receiver.respond_with(None)
        sandbox.clock.advance(11)
        assert len(receiver.wait_for(2)) == 2
    finally:
        receiver.stop()


def test_wait_for_says_what_came_when_it_times_out():
    with (
        WebhookReceiver("secret-1") as receiver,
        pytest.raises(PrimerTimeoutError, match="0 deliveries came"),
    ):
        receiver.wait_for(1, timeout=0.05)


def test_a_rotation_keeps_an_old_receiver_verifying_until_it_refreshes(sandbox):
    receiver = start_receiver(sandbox)
    try:
        old = sandbox.webhook_secret
        sandbox.webhooks.rotate_secret()
        sandbox.webhooks.trigger(payment=payment_body())
        receiver.wait_for(1)
        assert receiver.secrets == [old]  # verified through X-Signature-Secondary
        assert "X-Signature-Secondary" in receiver.deliveries[0].headers
        sandbox.clock.advance(24 * 3600 + 1)
        sandbox.webhooks.trigger(payment=payment_body("SETTLED"))
        refused = receiver.wait_for_deliveries(2)[-1]
        assert not refused.verified and refused.status == 400
        receiver.refresh_secret()
        sandbox.clock.advance(11)
        assert len(receiver.wait_for(2)) == 2
    finally:
        receiver.stop()


def test_a_receiver_forwards_verified_deliveries_unchanged(sandbox):
    with WebhookReceiver(sandbox.webhook_secret) as app:  # "your app", verifying on its own
        receiver = start_receiver(sandbox, forward_to=app.url)
        try:
            app.fail_next(1, status=500)
            sandbox.webhooks.trigger(payment=payment_body())
            first = receiver.wait_for_deliveries(1)[0]
            assert (first.status, first.forwarded_status) == (500, 500)  # its failure goes back: retried
            sandbox.clock.advance(11)
            receiver.wait_for(1)
            (event,) = app.wait_for(1)
            assert event.payment_id == "DdRZ6YY0"
            assert app.deliveries[-1].body == receiver.deliveries[-1].body
        finally:
            receiver.stop()


def test_start_receiver_takes_a_client_and_refuses_what_has_no_sandbox(sandbox):
    client = PrimerClient(sandbox=sandbox)
    receiver = start_receiver(client, events=["PAYMENT.REFUND"])
    try:
        assert sandbox.webhooks.endpoints()[0]["events"] == ["PAYMENT.REFUND"]
    finally:
        receiver.stop()
        client.close()
    with pytest.raises(PrimerError, match="needs a local sandbox"):
        start_receiver(object())


# ---------------------------------------------------------------- the worker, off the request path


@pytest.fixture
def silent_port():
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def test_a_silent_endpoint_holds_up_neither_api_requests_nor_other_endpoints(sandbox, silent_port):
    receiver = start_receiver(sandbox)
    try:
        silent = sandbox.webhooks.add_endpoint(f"http://127.0.0.1:{silent_port}/hook")["url"]
        sandbox.webhooks.trigger(payment=payment_body())
        receiver.wait_for(1)  # the other endpoint got it while the silent one hangs (10 s timeout)
        headers = {"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.4"}
        answer = httpx.post(f"{sandbox.base_url}/client-session", json={"orderId": "o"}, headers=headers)
        assert answer.status_code == 200
        hanging = [d for d in sandbox.webhooks.log()["deliveries"] if d["url"] == silent]
        assert hanging[0]["state"] == "in_flight"  # still out while the API answered
    finally:
        receiver.stop()


def test_no_answer_within_the_timeout_fails_the_attempt(sandbox, silent_port):
    sandbox.service.webhooks.timeout = 0.2  # Primer's is 10 s; the rule is the same
    sandbox.webhooks.add_endpoint(f"http://127.0.0.1:{silent_port}/hook")
    sandbox.webhooks.trigger(payment=payment_body())
    (attempt,) = wait_until(lambda: sandbox.webhooks.log()["attempts"], what="the timeout")
    assert (attempt["status"], attempt["error"], attempt["outcome"]) == (
        None,
        "no answer within 0.2 s",
        "failed",
    )
    assert attempt["latencyMs"] >= 200


def test_a_refused_connection_is_logged_and_retried(sandbox):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        sandbox.webhooks.add_endpoint(f"http://127.0.0.1:{port}/hook")
        sandbox.webhooks.trigger(payment=payment_body())
        wait_until(lambda: sandbox.webhooks.log()["attempts"], what="the attempt")
    (attempt,) = sandbox.webhooks.log()["attempts"]
    assert attempt["status"] is None and "ConnectError" in attempt["error"]
    assert attempt["outcome"] == "failed" and attempt["nextRetryAt"]


def test_a_redirect_fails_the_attempt_and_is_not_followed(sandbox):
    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(307)
            self.send_header("Location", "http://192.0.2.1/elsewhere")  # TEST-NET: never reached
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sandbox.webhooks.add_endpoint(f"http://127.0.0.1:{server.server_address[1]}/hook")
        sandbox.webhooks.trigger(payment=payment_body())
        wait_until(lambda: sandbox.webhooks.log()["attempts"], what="the attempt")
        (attempt,) = sandbox.webhooks.log()["attempts"]
        assert (attempt["status"], attempt["outcome"], attempt["error"]) == (307, "failed", None)
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- admin routes


def test_remote_webhooks_offer_what_the_dispatcher_offers():
    public = {name for name in dir(WebhookControls) if not name.startswith("_")}
    for cls in (WebhookDispatcher, RemoteWebhooks):
        for name in public:
            mine = getattr(cls, name)
            assert not getattr(mine, "__isabstractmethod__", False), f"{cls.__name__}.{name}"
            if callable(mine):
                assert inspect.signature(mine) == inspect.signature(getattr(WebhookControls, name)), name


def test_admin_routes_register_list_and_remove_endpoints(handle, silent_port):
    url = f"http://127.0.0.1:{silent_port}/h"
    made = handle.webhooks.add_endpoint(url, "Mine", ["PAYMENT.STATUS"])
    assert made["url"] == url and made["events"] == ["PAYMENT.STATUS"] and made["description"] == "Mine"
    assert handle.webhooks.endpoints() == [made]
    assert handle.webhooks.remove_endpoint(url)["removed"] == made
    handle.webhooks.add_endpoint(url)
    endpoint_id = handle.webhooks.endpoints()[0]["id"]
    handle.webhooks.remove_endpoint(endpoint_id)
    with pytest.raises(NotFoundError):
        handle.webhooks.remove_endpoint(endpoint_id)
    with pytest.raises(InvalidRequestError, match="not on this machine") as caught:
        handle.webhooks.add_endpoint("http://example.com/hook")
    assert "--allow-remote-webhooks" in caught.value.recovery_suggestion
    with pytest.raises(ValueError):  # refused before it is sent, as the dispatcher refuses it
        handle.webhooks.add_endpoint(url, events=["NOT.AN.EVENT"])
    answer = httpx.post(
        f"{handle.base_url}/_sandbox/webhooks/endpoints", json={"url": url, "events": ["NOT.AN.EVENT"]},
        headers={"X-Api-Key": handle.api_key},
    )  # fmt: skip
    assert answer.status_code == 422 and answer.json()["error"]["validationErrors"]


def test_admin_routes_for_secret_faults_trigger_resend_and_the_log(sandbox, handle):
    assert handle.webhook_secret == sandbox.webhook_secret
    rotated = handle.webhooks.rotate_secret("a-brand-new-secret")
    assert rotated["secret"] == sandbox.webhook_secret == "a-brand-new-secret" and rotated["previousSecret"]
    faults = handle.webhooks.set_faults(drop=1.0, seed=5)
    assert faults["drop"] == 1.0 and sandbox.webhooks.faults.drop == 1.0
    assert handle.webhooks.clear_faults()["drop"] == 0.0
    with pytest.raises(ValueError):
        handle.webhooks.set_faults(drop=2.0)
    receiver = start_receiver(handle)
    try:
        first = handle.webhooks.trigger("PAYMENT.REFUND", payment=payment_body("SETTLED", refund="SETTLED"))
        second = handle.webhooks.trigger(payment=payment_body(payment_id="other"))
        receiver.wait_for(2)
        assert handle.webhooks.resend(first["eventId"])["eventId"] == first["eventId"]
        receiver.wait_for_deliveries(3)
        assert receiver.deliveries[-1].event_id == first["eventId"]
        assert {d["eventId"] for d in handle.webhooks.log(payment_id="other")["deliveries"]} == {
            second["eventId"]
        }
        assert len(handle.webhooks.log(event_id=first["eventId"])["deliveries"]) == 2
        with pytest.raises(NotFoundError):
            handle.webhooks.resend("no-such-event")
        with pytest.raises(NotFoundError, match="DdRZ6YY0"):
            handle.webhooks.trigger(payment_id="DdRZ6YY0")  # looked up among the sandbox's payments
    finally:
        receiver.stop()


def test_admin_routes_need_the_key(sandbox):
    for method, path in [("GET", "/_sandbox/webhooks"), ("GET", "/_sandbox/webhooks/secret"), ("GET", "/_sandbox/webhooks/idle"),
                         ("POST", "/_sandbox/webhooks/trigger"), ("POST", "/_sandbox/webhooks/secret/rotate")]:  # fmt: skip
        answer = httpx.request(method, f"{sandbox.base_url}{path}", json={})
        assert answer.status_code == 401, path
        assert sandbox.webhook_secret not in answer.text
    with pytest.raises(AuthenticationError):
        SandboxHandle(sandbox.base_url, "wrong-key").webhook_secret  # noqa: B018


def test_sandbox_options_register_endpoints_and_set_the_secret(silent_port):
    url = f"http://localhost:{silent_port}/hook"
    with LocalSandbox(webhooks=[url], webhook_secret="my-local-secret") as sandbox:
        assert [e["url"] for e in sandbox.webhooks.endpoints()] == [url]
        assert sandbox.webhook_secret == "my-local-secret"
        assert "my-local-secret" not in repr(sandbox)
    with pytest.raises(ValueError, match="not on this machine"):
        LocalSandbox(webhooks=["http://example.com/hook"])
    remote = LocalSandbox(webhooks=["https://hooks.example.com/p"], allow_remote_webhooks=True)
    assert remote.webhooks.endpoints()[0]["url"] == "https://hooks.example.com/p"
    remote.service.store.close()


# ---------------------------------------------------------------- primer-nb listen


def test_listen_prints_one_line_per_delivery_and_unregisters_on_ctrl_c(sandbox):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "primer_nb.cli", "listen", "--sandbox-url", sandbox.base_url, "--api-key", sandbox.api_key],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("Ready: webhooks from") and "/webhooks" in ready
        assert [e["description"] for e in sandbox.webhooks.endpoints()] == ["primer-nb listen"]
        result = sandbox.webhooks.trigger(payment=payment_body("SETTLED"))
        line = process.stdout.readline()
        assert "PAYMENT.STATUS" in line and "DdRZ6YY0" in line and "SETTLED" in line
        assert "attempt 1" in line and "verified" in line and "-> 200" in line and result["eventId"] in line
        assert sandbox.webhook_secret not in line
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "stopped listening" in out
    assert sandbox.webhooks.endpoints() == []


def test_listen_reports_an_unreachable_sandbox_in_one_line():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "primer_nb.cli", "listen", "--sandbox-url", f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    assert result.returncode == 1
    assert "could not reach the sandbox" in result.stderr and "Traceback" not in result.stderr


def test_a_delivery_line_names_a_refusal():
    from .webhook_support import at

    with WebhookReceiver("secret-one") as receiver:
        body = b'{"eventType":"PAYMENT.STATUS","signedAt":"1","payment":{"id":"p","status":"PENDING"}}'
        httpx.post(
            receiver.url,
            content=body,
            headers={"X-Signature-Primary": sign(body, "x"), EVENT_ID_HEADER: "e9"},
        )
        delivery = receiver.wait_for_deliveries(1)[0]
    delivery.received_at = at("2025-01-06T09:00:00")
    assert delivery_line(delivery) == (
        "2025-01-06 09:00:00  PAYMENT.STATUS   p  PENDING    attempt ?  REJECTED (mismatch)  -> 400  [e9]"
    )


def test_a_receiver_without_a_secret_accepts_and_says_it_did_not_verify():
    with WebhookReceiver(None) as receiver:
        body = b'{"eventType":"PAYMENT.STATUS","signedAt":"1","payment":{"id":"p"}}'
        assert httpx.post(receiver.url, content=body).status_code == 200
        (event,) = receiver.wait_for(1)
        assert event.payment_id == "p"
        assert not receiver.deliveries[0].verified and "no secret" in receiver.deliveries[0].error


def test_stopping_a_receiver_after_its_sandbox_is_harmless():
    with LocalSandbox() as sandbox:
        receiver = start_receiver(sandbox)
    receiver.stop()
    assert not receiver.running


def test_the_worker_sleeps_until_the_next_retry_and_never_spins_on_a_busy_endpoint():
    from primer_nb.sandbox.core.clock import SandboxClock
    from primer_nb.sandbox.core.store import SessionStore
    from primer_nb.sandbox.serving.webhooks import DeliveryWorker

    store = SessionStore()
    hooks = WebhookDispatcher(store, SandboxClock())  # a running clock
    worker = DeliveryWorker(hooks, send=lambda *_: None, poll=60.0)  # not started: its decisions only
    assert worker._sleep() == 60.0  # nothing waits
    hooks.add_endpoint("http://127.0.0.1:9/hook")
    hooks.trigger(payment=payment_body())
    hooks.trigger(payment=payment_body("SETTLED"))
    (first,) = hooks.claim_due()
    assert worker._sleep() == 60.0  # the second is due but waits for the first: woken when it ends
    hooks.complete(first, (500, 0, None))
    (second,) = hooks.claim_due()
    hooks.complete(second, (200, 0, None))
    assert 8 < worker._sleep() <= 11  # until the first one's retry, about 10 s away
    store.close()
