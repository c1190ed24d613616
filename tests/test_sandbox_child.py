"""The sandbox in a child process (what connect() starts) and handles on a running sandbox."""

from __future__ import annotations

import base64
import gc
import json
import os
import subprocess
import sys
import textwrap
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

import primer_nb
from primer_nb import PrimerClient, PrimerPreflightWarning
from primer_nb.api.errors import PrimerConnectionError, RateLimitError
from primer_nb.connection import shared_sandbox, stop_shared_sandbox
from primer_nb.sandbox import LocalSandbox, SandboxHandle, SandboxProcess

BASKET = {
    "orderId": "o-1",
    "currencyCode": "GBP",
    "order": {"countryCode": "GB", "lineItems": [{"amount": 1500}]},
}


@pytest.fixture(autouse=True)
def _quiet_preflight():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrimerPreflightWarning)
        yield


@pytest.fixture
def process():
    with SandboxProcess() as sandbox:
        yield sandbox


def _gone(pid: int, url: str, timeout: float = 10.0) -> bool:
    """Whether the process ``pid`` ended (a zombie counts) and ``url`` refuses connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with Path(f"/proc/{pid}/stat").open() as stat:
                alive = stat.read().split(")")[-1].split()[0] != "Z"
        except FileNotFoundError:
            alive = False
        if not alive:
            try:
                httpx.get(f"{url}/_sandbox/health", timeout=1)
            except httpx.TransportError:
                return True
        time.sleep(0.05)
    return False


def test_serves_the_api_and_drives_clock_and_faults_over_http(process):
    with PrimerClient(process.api_key, base_url=process.base_url, clock=process.clock.now) as client:
        created = client.create_client_session(BASKET)
        assert created.amount == 1500
        assert client.get_client_session(created.client_token).order_id == "o-1"

        start = process.clock.now()
        assert process.clock.advance(timedelta(hours=25)) - start >= timedelta(hours=25)
        assert created.expired  # judged on the child's clock
        with pytest.raises(primer_nb.SessionError):
            client.get_client_session(created.client_token)
        moved = process.clock.set(datetime(2030, 1, 1, 12))  # naive means UTC; the clock runs on
        assert timedelta(0) <= moved - datetime(2030, 1, 1, 12, tzinfo=UTC) < timedelta(seconds=5)

        process.faults.set(rate=1.0, statuses=[429], retry_after=0)
        with pytest.raises(RateLimitError):
            PrimerClient(process.api_key, base_url=process.base_url, max_retries=0).create_client_session(
                BASKET
            )
        process.faults.clear()
        assert client.create_client_session(BASKET).order_id == "o-1"
    with pytest.raises(ValueError, match="cannot inject"):
        process.faults.set(rate=0.5, statuses=[418])
    assert process.health()["sessions"] == 2
    assert all("…" in row["clientToken"] for row in process.sessions())


def test_deterministic_child_answers_exactly_like_the_thread_sandbox():
    with SandboxProcess(deterministic=True) as child, LocalSandbox(deterministic=True) as thread:
        bodies = []
        for sandbox in (child, thread):
            headers = {"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.4"}
            response = httpx.post(f"{sandbox.base_url}/client-session", json=BASKET, headers=headers)
            body = response.json()
            # The token carries the sandbox's own URL (its port); the rest must match exactly.
            payload = body.pop("clientToken").split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            bodies.append((body, json.dumps(claims).replace(sandbox.base_url, "URL")))
        assert bodies[0] == bodies[1]
        assert child.api_key == thread.api_key
        assert child.clock.now() == thread.clock.now() and child.clock.frozen


def test_requests_made_while_it_starts_wait_instead_of_failing():
    sandbox = SandboxProcess().start(wait=False)
    try:
        with PrimerClient(sandbox.api_key, base_url=sandbox.base_url, max_retries=0) as client:
            assert client.create_client_session(BASKET).order_id == "o-1"
    finally:
        sandbox.stop()
    assert not sandbox.running


def test_stop_ends_the_child_and_frees_the_port(process):
    pid, url = process.pid, process.base_url
    assert pid is not None
    process.stop()
    assert _gone(pid, url)
    process.stop()  # twice is fine


def test_stop_without_waiting_still_reaps_the_child(process):
    pid, url = process.pid, process.base_url
    assert pid is not None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        process.stop(wait=False)
        assert _gone(pid, url)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        gc.collect()
    assert not Path(f"/proc/{pid}").exists(), "the stopped child was left a zombie"
    # A Popen dropped while its child runs warns "subprocess <pid> is still running".
    assert not [w for w in caught if issubclass(w.category, ResourceWarning) and str(pid) in str(w.message)]


def test_the_child_dies_with_its_parent_even_on_sigkill(tmp_path):
    script = textwrap.dedent(
        """
        import sys, time
        from primer_nb.sandbox import SandboxProcess
        sandbox = SandboxProcess().start()
        print(sandbox.pid, sandbox.base_url, flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        pid, url = parent.stdout.readline().split()
        assert httpx.get(f"{url}/_sandbox/health", timeout=5).status_code in (200, 401)
        parent.kill()
        parent.wait()
        assert _gone(int(pid), url)
    finally:
        parent.kill()


def test_the_child_is_out_of_reach_of_a_kernel_interrupt_and_its_key_off_the_command_line(process):
    pid = process.pid
    assert os.getsid(pid) != os.getsid(0)  # its own session: SIGINT to the kernel's group misses it
    with Path(f"/proc/{pid}/cmdline").open("rb") as cmdline:
        assert process.api_key.encode() not in cmdline.read()
    assert process.api_key not in repr(process)


def test_a_child_that_cannot_start_is_reported(tmp_path):
    sandbox = SandboxProcess(profile=tmp_path / "no-such-profile.toml")
    with pytest.raises(RuntimeError, match="exited with status"):
        sandbox.start(timeout=20)
    sandbox.stop()


def test_connect_uses_the_sandbox_a_runner_names_and_leaves_it_running(process, monkeypatch, capsys):
    for name, value in process.environment().items():
        monkeypatch.setenv(name, value)
    stop_shared_sandbox()
    client = primer_nb.connect()
    assert client.base_url == process.base_url
    assert isinstance(client.sandbox, SandboxHandle) and not isinstance(client.sandbox, SandboxProcess)
    assert client.create_client_session(BASKET).order_id == "o-1"
    assert process.api_key not in capsys.readouterr().out
    stop_shared_sandbox()
    assert process.running and process.health()["sessions"] == 1


def test_connect_starts_a_child_process_of_its_own():
    stop_shared_sandbox()
    sandbox = shared_sandbox()
    try:
        assert isinstance(sandbox, SandboxProcess) and sandbox.running
        assert primer_nb.connect(quiet=True).sandbox is sandbox
        assert "fastapi" not in sys.modules or "uvicorn" in sys.modules  # the server lives in the child
    finally:
        stop_shared_sandbox()
    assert not sandbox.running


def test_connect_drives_a_sandbox_given_by_url(process, monkeypatch):
    monkeypatch.setenv("PRIMER_BASE_URL", process.base_url)
    client = primer_nb.connect(process.api_key, quiet=True)
    handle = client.sandbox
    assert isinstance(handle, SandboxHandle) and handle.base_url == process.base_url
    handle.clock.advance(3600)
    assert abs(handle.clock.now() - process.clock.now()) < timedelta(seconds=5)
    client.close()
    handle.close()


def test_a_client_reports_the_sandbox_it_was_given_and_none_otherwise(process):
    with PrimerClient(sandbox=process) as client:
        assert client.sandbox is process
        assert client.base_url == process.base_url and client.environment == "local"
    assert PrimerClient("sk_x_1234", environment="sandbox").sandbox is None


def test_a_handle_on_nothing_says_so():
    handle = SandboxHandle("http://127.0.0.1:9", "key")
    assert not handle.running
    with pytest.raises(PrimerConnectionError, match="could not reach"):
        handle.clock.now()
