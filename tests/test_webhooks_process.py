"""Webhooks from a sandbox in its own process: pending deliveries survive ``kill -9``; options reach the child."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import pytest

from primer_nb.sandbox import SandboxHandle, SandboxProcess
from primer_nb.webhooks import WebhookReceiver, start_receiver

from .test_sandbox_process import KEY, start
from .webhook_support import payment_body, wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_with_webhooks(db, hook: str, log: list[str]) -> tuple[subprocess.Popen[str], str]:
    """``primer-nb sandbox --deterministic --webhook hook`` on ``db``; the process and its URL."""
    env = {"PRIMER_NB_WEBHOOK_SECRET": "durable-webhook-secret"}
    return start(db, log, "--webhook", hook, "--deterministic", env=env)


@pytest.mark.slow
def test_pending_deliveries_survive_kill_9_and_resume(tmp_path):
    db = tmp_path / "sandbox.sqlite3"
    port = free_port()  # nothing listens here yet: every attempt is refused
    hook = f"http://127.0.0.1:{port}/webhooks"
    log: list[str] = []
    process, url = start_with_webhooks(db, hook, log)
    try:
        sandbox = SandboxHandle(url, KEY)
        event_ids = [
            sandbox.webhooks.trigger(payment=payment_body(status, payment_id=f"pay-{n}"))["eventId"]
            for n, status in enumerate(["PENDING", "AUTHORIZED", "SETTLED"])
        ]
        wait_until(lambda: len(sandbox.webhooks.log()["attempts"]) == 3, what="three refused attempts")
        assert {a["outcome"] for a in sandbox.webhooks.log()["attempts"]} == {"failed"}
        sandbox.close()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL

    with WebhookReceiver("durable-webhook-secret", port=port) as receiver:
        process, url = start_with_webhooks(db, hook, log)  # the same --webhook again: kept, not doubled
        try:
            sandbox = SandboxHandle(url, KEY)
            assert [e["url"] for e in sandbox.webhooks.endpoints()] == [hook]
            states = {d["state"] for d in sandbox.webhooks.log()["deliveries"]}
            assert states == {"pending"}
            sandbox.clock.advance(
                12
            )  # a restarted deterministic clock starts again; the retries are due after
            events = receiver.wait_for(3, timeout=15)
            assert {d.event_id for d in receiver.deliveries} == set(event_ids)
            assert {e.payment_id for e in events} == {"pay-0", "pay-1", "pay-2"}
            assert all(d.attempt == 2 and d.verified for d in receiver.deliveries)
            sandbox.close()
        finally:
            process.terminate()
            process.wait(timeout=15)
    output = "".join(log)
    assert f"webhooks to {hook}" in output
    assert "durable-webhook-secret" not in output


def test_a_sandbox_process_takes_webhook_options_and_serves_a_receiver(tmp_path):
    other = WebhookReceiver("unused").start()
    try:
        with SandboxProcess(webhooks=[other.url], webhook_secret="process-secret-1") as sandbox:
            assert sandbox.webhook_secret == "process-secret-1"
            assert [e["url"] for e in sandbox.webhooks.endpoints()] == [other.url]
            assert "process-secret-1" not in repr(sandbox)
            receiver = start_receiver(sandbox)
            try:
                sandbox.webhooks.trigger(payment=payment_body())
                (event,) = receiver.wait_for(1)
                assert event.payment_id == "DdRZ6YY0"
            finally:
                receiver.stop()
    finally:
        other.stop()
    with pytest.raises(ValueError, match="not on this machine"):
        SandboxProcess(webhooks=["http://example.com/hook"])


def test_the_sandbox_command_refuses_a_remote_webhook_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "primer_nb.cli", "sandbox", "--port", "0", "--webhook", "http://203.0.113.5/hook"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--webhook 'http://203.0.113.5/hook' is not on this machine" in result.stderr
    assert "--allow-remote-webhooks" in result.stderr and "Traceback" not in result.stderr
