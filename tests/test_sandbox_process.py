"""The sandbox as a process: durability under kill -9, clean stop on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

KEY = "durability-test-key"
HEADERS = {"X-Api-Key": KEY, "X-Api-Version": "2.4"}


def start(
    db: Path, log: list[str] | None = None, *options: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """Start ``primer-nb sandbox`` on a free port; return the process and its URL.

    ``options`` are added to the command line and ``env`` to the environment.
    Its output is drained into ``log`` by a thread, so a chatty access log never
    fills the pipe and stalls the server.
    """
    env = {**os.environ, "PRIMER_NB_SANDBOX_KEY": KEY, "PYTHONUNBUFFERED": "1", **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "primer_nb.cli", "sandbox", "--port", "0", "--db", str(db), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+", first)
    if not match:
        process.kill()
        pytest.fail(f"sandbox did not print its URL: {first!r}")
    url = match.group(0)
    lines = log if log is not None else []
    lines.append(first)
    threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True).start()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_sandbox/health", headers=HEADERS).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    pytest.fail("sandbox did not become healthy")


@pytest.mark.slow
def test_acknowledged_sessions_survive_kill_9(tmp_path):
    db = tmp_path / "sessions.sqlite3"
    process, url = start(db)
    acknowledged: dict[str, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def load(worker: int) -> None:
        with httpx.Client(base_url=url, headers=HEADERS, timeout=5) as client:
            for i in range(10_000):
                if stop.is_set():
                    return
                order_id = f"w{worker}-{i}"
                try:
                    response = client.post(
                        "/client-session", json={"orderId": order_id, "currencyCode": "GBP"}
                    )
                except httpx.TransportError:
                    return  # the server died mid-request: not acknowledged
                if response.status_code == 200:
                    with lock:
                        acknowledged[response.json()["clientToken"]] = order_id

    workers = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    try:
        for worker in workers:
            worker.start()
        while len(acknowledged) < 300:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)  # mid-load, no chance to flush anything
        process.wait(timeout=10)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
        process.kill()
    assert process.returncode == -signal.SIGKILL

    process, url = start(db)
    try:
        with httpx.Client(base_url=url, headers=HEADERS) as client:
            for token, order_id in acknowledged.items():
                response = client.get("/client-session", params={"clientToken": token})
                assert response.status_code == 200, response.text
                assert response.json()["orderId"] == order_id
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_sigterm_stops_cleanly_and_logs_no_secrets(tmp_path):
    log: list[str] = []
    process, url = start(tmp_path / "s.sqlite3", log)
    token = httpx.post(f"{url}/client-session", json={}, headers=HEADERS).json()["clientToken"]
    assert (
        httpx.get(f"{url}/client-session", params={"clientToken": token}, headers=HEADERS).status_code == 200
    )
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)
    time.sleep(0.2)  # let the drain thread take the last lines
    output = "".join(log)
    assert process.returncode == 0
    assert "stopped" in output
    assert "GET /client-session?clientToken=" in output
    assert KEY not in output
    assert token not in output
