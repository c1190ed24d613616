"""The local sandbox over HTTP: a thin contract layer over the service.

The rules themselves are tested on the framework-free service in
``test_sandbox_service.py``; here the app must hand every call to it unchanged,
keep Primer's envelope for what only HTTP can get wrong (unknown routes and
methods, streamed bodies over the limit, header spelling), serve the admin
routes, and listen on loopback only.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from primer_nb.sandbox import LocalSandbox, SandboxProcess
from primer_nb.sandbox.core.build import build_service

from .sandbox_support import BASKET, BASKET_TOTAL, ServiceClient, create, error_of


def _scrub(body: dict) -> dict:
    # Tokens embed the server's URL (configurationUrl), which differs between the two.
    return {k: v for k, v in body.items() if k != "clientToken"}


def test_the_app_answers_exactly_what_the_service_answers():
    """The same calls, over HTTP and on the service directly, give the same statuses and bodies."""
    service_api = ServiceClient(build_service(deterministic=True), {"X-Api-Version": "2.4"})
    with LocalSandbox(deterministic=True) as sandbox:
        service_api.headers["X-Api-Key"] = sandbox.api_key
        headers = {"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.4"}
        with httpx.Client(base_url=sandbox.base_url, headers=headers) as http_api:
            answers = []
            for api in (http_api, service_api):
                created = api.post("/client-session", json=BASKET)
                token = created.json()["clientToken"]
                calls = [
                    created,
                    api.get("/client-session", params={"clientToken": token}),
                    api.patch("/client-session", json={"clientToken": token, "orderId": "renamed"}),
                    api.post("/client-session", json={"amount": -1}),
                    api.post("/client-session", json={"metadata": {"": 1}}),
                    api.get("/client-session", params={"clientToken": "nonsense"}),
                    api.get("/client-session"),
                    api.post(
                        "/client-session", content=b"{oops", headers={"Content-Type": "application/json"}
                    ),
                    api.post("/client-session", json={}, headers={"X-Api-Key": ""}),
                ]
                answers.append([(r.status_code, _scrub(r.json())) for r in calls])
    assert answers[0] == answers[1]
    assert [status for status, _ in answers[0]] == [200, 200, 200, 422, 400, 400, 422, 422, 401]


def test_header_names_are_case_insensitive(sandbox):
    url = f"{sandbox.base_url}/client-session"
    spelled = {"x-API-key": sandbox.api_key, "X-API-VERSION": "2.4"}
    assert httpx.post(url, json={}, headers=spelled).status_code == 200
    assert httpx.post(url, json={}, headers={**spelled, "x-API-key": "wrong"}).status_code == 401
    assert httpx.post(url, json={}, headers={**spelled, "X-API-VERSION": "1.0"}).status_code == 422


def test_oversized_bodies_are_413(api):
    huge = {"metadata": {f"k{i}": "x" * 1000 for i in range(1100)}}
    response = api.post("/client-session", json=huge)
    assert response.status_code == 413
    assert error_of(response)["errorId"] == "RequestEntityTooLarge"


def test_unknown_routes_and_methods_use_the_envelope(api):
    assert error_of(api.get("/customers"))["errorId"] == "NotFound"
    response = api.delete("/client-session")
    assert response.status_code == 405
    assert error_of(response)["errorId"] == "MethodNotAllowed"


# ---------------------------------------------------------------- admin routes


def test_admin_routes_need_the_key(sandbox):
    assert httpx.get(f"{sandbox.base_url}/_sandbox/health").status_code == 401


def test_health_and_session_listing_masks_tokens(api):
    token = create(api)["clientToken"]
    assert api.get("/_sandbox/health").json()["sessions"] == 1
    listing = api.get("/_sandbox/sessions")
    assert token not in listing.text
    (row,) = listing.json()
    assert row["orderId"] == "order-1" and row["amount"] == BASKET_TOTAL and row["expired"] is False


def test_clock_routes(api):
    now = datetime.fromisoformat(api.get("/_sandbox/clock").json()["now"])
    moved = datetime.fromisoformat(api.post("/_sandbox/clock", json={"advanceSeconds": 3600}).json()["now"])
    assert timedelta(minutes=59) < moved - now < timedelta(minutes=61)
    pinned = api.post("/_sandbox/clock", json={"now": "2030-01-01T00:00:00Z"}).json()["now"]
    assert pinned.startswith("2030-01-01T00:00:0")
    for bad in ({}, {"advanceSeconds": 1, "now": "2030-01-01T00:00:00Z"}, {"advanceSeconds": "soon"}):
        response = api.post("/_sandbox/clock", json=bad)
        assert response.status_code == 422
        error_of(response)


def test_injected_faults_use_the_envelope_and_retry_after(api):
    settings = api.post("/_sandbox/faults", json={"rate": 1.0, "statuses": [429], "seed": 7, "retryAfter": 2})
    assert settings.json()["statuses"] == [429]
    response = api.post("/client-session", json=BASKET)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert error_of(response)["errorId"] == "TooManyRequests"
    api.delete("/_sandbox/faults")
    assert api.post("/client-session", json=BASKET).status_code == 200
    assert api.get("/_sandbox/health").json()["sessions"] == 1  # the faulted create stored nothing


def test_fault_rate_is_seeded_and_statuses_vary(sandbox, api):
    sandbox.faults.set(rate=0.5, statuses=[500, 503, 504], seed=3)
    first = [api.post("/client-session", json={}).status_code for _ in range(40)]
    sandbox.faults.set(rate=0.5, statuses=[500, 503, 504], seed=3)
    second = [api.post("/client-session", json={}).status_code for _ in range(40)]
    assert first == second
    assert {500, 503, 504, 200} == set(first)
    assert api.post("/_sandbox/faults", json={"rate": 2}).status_code == 422
    assert api.post("/_sandbox/faults", json={"rate": 0.5, "statuses": [418]}).status_code == 422


def test_injected_latency(sandbox, api):
    sandbox.faults.set(rate=0.0, latency_ms=150)
    response = api.post("/client-session", json={})
    assert response.status_code == 200
    assert response.elapsed >= timedelta(milliseconds=150)


# ---------------------------------------------------------------- determinism, binding, concurrency


def _listening_addresses(port: int) -> set[str]:
    """The local addresses with a socket listening on ``port``, read from the kernel's tables."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) != port or fields[3] != "0A":  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # /proc writes each 32-bit word in host byte order.
            words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(family, words))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc/net tables")
def test_sandboxes_listen_on_loopback_only(sandbox):
    with SandboxProcess() as child:
        for running in (sandbox, child):
            port = int(running.base_url.rsplit(":", 1)[1])
            assert _listening_addresses(port) == {"127.0.0.1"}


def test_sandbox_repr_hides_the_key(sandbox):
    assert sandbox.api_key not in repr(sandbox)


def test_200_concurrent_creates(sandbox):
    async def main() -> list[httpx.Response]:
        headers = {"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.4"}
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(
            base_url=sandbox.base_url, headers=headers, limits=limits, timeout=30
        ) as client:
            return await asyncio.gather(
                *(client.post("/client-session", json={**BASKET, "orderId": f"o-{i}"}) for i in range(200))
            )

    responses = asyncio.run(main())
    assert [r.status_code for r in responses] == [200] * 200
    assert len({r.json()["clientToken"] for r in responses}) == 200
    assert sandbox.service.store.count() == 200


def test_hosts_beyond_loopback_warn():
    from primer_nb.sandbox.serving.endpoint import warn_if_exposed

    with pytest.warns(UserWarning, match="reachable from other machines"):
        assert warn_if_exposed("0.0.0.0")  # noqa: S104 - only judged, never bound
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (
            not warn_if_exposed("127.0.0.1")
            and not warn_if_exposed("::1")
            and not warn_if_exposed("localhost")
        )


def test_idempotency_key_is_accepted_and_ignored(api):
    first = api.post("/client-session", json={"orderId": "i"}, headers={"X-Idempotency-Key": "same"})
    second = api.post("/client-session", json={"orderId": "i"}, headers={"X-Idempotency-Key": "same"})
    assert first.status_code == second.status_code == 200
    assert first.json()["clientToken"] != second.json()["clientToken"]
