"""The client against a real local sandbox: round trips, faults, ledger, connect()."""

from __future__ import annotations

import asyncio
import stat
import sys
import warnings
from datetime import timedelta

import pytest

import primer_nb
from primer_nb import (
    AsyncPrimerClient,
    Ledger,
    PrimerClient,
    PrimerConfigError,
    PrimerPreflightWarning,
    SessionError,
)
from primer_nb.client import RetryPolicy

BASKET = {
    "orderId": "order-1",
    "currencyCode": "GBP",
    "order": {"countryCode": "GB", "lineItems": [{"itemId": "a", "amount": 2500, "quantity": 2}]},
    "customer": {"emailAddress": "ann@example.com", "billingAddress": {"city": "Leeds", "countryCode": "GB"}},
}


@pytest.fixture
def client(sandbox):
    with PrimerClient(sandbox.api_key, base_url=sandbox.base_url, clock=sandbox.clock.now) as client:
        yield client


def test_round_trip(client, sandbox):
    created = client.create_client_session(BASKET)
    assert created.amount == 5000 and created.warnings == []
    assert created.expires_in == timedelta(hours=24) or created.expires_in > timedelta(hours=23, minutes=59)
    got = client.get_client_session(created.client_token)
    assert got.order_id == "order-1" and got.expires_at == created.expires_at
    updated = client.update_client_session(created.client_token, {"order": {"lineItems": [{"amount": 100}]}})
    assert updated.amount == 100
    assert updated.order.country_code == "GB"
    assert updated.client_token == created.client_token
    sandbox.clock.advance(timedelta(hours=25))
    assert updated.expired  # the session reads the sandbox's clock
    with pytest.raises(SessionError, match="expired"):
        client.get_client_session(created.client_token)


def test_forty_creates_through_thirty_percent_faults(sandbox):
    sandbox.faults.set(rate=0.3, statuses=[503, 429], seed=11, retry_after=0)
    retry = RetryPolicy(max_retries=8, base=0.01, cap=0.05)
    with PrimerClient(sandbox.api_key, base_url=sandbox.base_url, retry=retry, preflight=False) as client:
        sessions = [client.create_client_session({**BASKET, "orderId": f"o-{i}"}) for i in range(40)]
    assert len({s.client_token for s in sessions}) == 40
    assert sandbox.service.store.count() == 40  # faults never created half a session


def test_create_many_against_the_sandbox(sandbox):
    bodies = [{**BASKET, "orderId": f"o-{i}"} for i in range(50)]
    bodies[7] = {"metadata": {"": "empty key"}}

    async def main():
        async with AsyncPrimerClient(sandbox.api_key, base_url=sandbox.base_url, preflight=False) as client:
            return await client.create_many(bodies, concurrency=8, progress=False)

    results = asyncio.run(main())
    assert sum(r.ok for r in results) == 49
    assert results[7].error.paths == ["$.metadata"]  # caught locally, before sending


class ImportLookups:
    """A meta-path finder that only notes which modules the import system went looking for."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, name, path=None, target=None):  # finds nothing: the next finders do
        self.names.append(name)


def test_async_requests_look_for_no_module(sandbox):
    # httpcore looks for sniffio whenever it sets up a lock; were it missing, each request
    # would repeat a failed import that scans sys.path.
    async def main(lookups: ImportLookups) -> None:
        async with AsyncPrimerClient(sandbox.api_key, base_url=sandbox.base_url, preflight=False) as client:
            await client.create_many([BASKET] * 3, concurrency=3, progress=False)  # warm: imports done
            sys.meta_path.insert(0, lookups)
            try:
                await client.create_many([BASKET] * 12, concurrency=4, progress=False)
            finally:
                sys.meta_path.remove(lookups)

    lookups = ImportLookups()
    asyncio.run(main(lookups))
    assert lookups.names == []


def test_ledger_records_creates_and_updates(client, kit_home):
    created = client.create_client_session(BASKET)
    client.update_client_session(created.client_token, {"orderId": "renamed"})
    ledger_file = kit_home / "ledger.sqlite3"
    assert stat.S_IMODE(ledger_file.stat().st_mode) == 0o600
    (row,) = Ledger(ledger_file).rows()
    assert row["order_id"] == "renamed" and row["environment"] == "local" and row["currency"] == "GBP"
    assert client._api_key not in str(row)
    (session,) = client.sessions()
    assert session.order_id == "renamed"
    assert session.expires_at == created.expires_at
    assert client.sessions(environment="sandbox") == []


def test_ledger_keeps_the_create_warnings_after_updates(client):
    with pytest.warns(PrimerPreflightWarning, match="default dashboard profile"):
        created = client.create_client_session({"currencyCode": "GBP"})
    assert created.warnings
    client.update_client_session(created.client_token, {"orderId": "x"})
    (session,) = client.sessions()
    assert [w.message for w in session.warnings] == [w.message for w in created.warnings]


def test_connect_starts_one_local_sandbox_and_says_so(capsys):
    first = primer_nb.connect()
    second = primer_nb.connect()
    out = capsys.readouterr().out
    assert out.count("primer-nb: using the local sandbox at http://127.0.0.1:") == 2
    assert first.base_url == second.base_url
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrimerPreflightWarning)
        assert first.create_client_session({"orderId": "x"}).order_id == "x"


def test_connect_uses_the_local_sandbox_when_asked_even_with_a_key(monkeypatch, capsys):
    monkeypatch.setenv("PRIMER_API_KEY", "sk_real_key_that_must_not_travel")
    monkeypatch.setenv("PRIMER_ENVIRONMENT", "local")
    client = primer_nb.connect()
    assert client.environment == "local"
    assert "sk_real_key_that_must_not_travel" not in repr(client)
    assert client._api_key != "sk_real_key_that_must_not_travel"
    assert "local sandbox" in capsys.readouterr().out


def test_connect_to_primers_sandbox_with_a_key(monkeypatch, capsys):
    monkeypatch.setenv("PRIMER_API_KEY", "sk_sandbox_key_9999")
    client = primer_nb.connect()
    assert client.base_url == "https://api.sandbox.primer.io"
    out = capsys.readouterr().out
    assert "Primer's sandbox API" in out and "****9999" in out and "sk_sandbox_key_9999" not in out


def test_a_client_starts_nothing_and_says_to_use_connect(monkeypatch):
    import subprocess
    import threading

    started: list[object] = []
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: started.append(a))
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    with pytest.raises(PrimerConfigError, match=r"connect\(\)"):
        PrimerClient()
    client = PrimerClient("k", base_url="http://127.0.0.1:9")
    assert client.environment == "local" and client.sandbox is None
    assert client._ledger is None, "the ledger opens on first use, not at construction"
    assert not started
