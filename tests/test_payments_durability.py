"""Payments under stress: kill -9 mid-load loses nothing acknowledged; concurrent refunds never over-refund."""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import orjson
import pytest

from primer_nb.sandbox.core.build import build_service

from .payment_helpers import card_token, claims_of, paid
from .test_sandbox_process import HEADERS, start

REFUNDERS = 50


def settled_payment(api: httpx.Client, sandbox, amount: int) -> str:
    payment = paid(api, amount=amount)
    assert api.post(f"/payments/{payment['id']}/capture", json={}).status_code == 200
    sandbox.clock.advance(timedelta(minutes=10))
    assert api.get(f"/payments/{payment['id']}").json()["status"] == "SETTLED"
    return str(payment["id"])


def test_50_concurrent_partial_refunds_over_http_never_refund_more_than_captured(api, sandbox):
    payment_id = settled_payment(api, sandbox, 1000)
    start_together = threading.Barrier(REFUNDERS)

    def refund(_: int) -> httpx.Response:
        with httpx.Client(base_url=sandbox.base_url, headers=dict(api.headers), timeout=30) as client:
            start_together.wait()
            return client.post(f"/payments/{payment_id}/refund", json={"amount": 30})

    with ThreadPoolExecutor(REFUNDERS) as pool:
        responses = list(pool.map(refund, range(REFUNDERS)))
    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code != 200]
    assert len(ok) == 1000 // 30
    assert {(r.status_code, r.json()["error"]["errorId"]) for r in refused} == {
        (422, "UnprocessableRefundAmount")
    }
    final = api.get(f"/payments/{payment_id}").json()
    assert final["processor"]["amountRefunded"] == 30 * len(ok) <= final["processor"]["amountCaptured"]
    assert len([t for t in final["transactions"] if t["transactionType"] == "REFUND"]) == len(ok)


def test_50_threads_refunding_through_the_service_never_refund_more_than_captured():
    service = build_service(deterministic=True)
    headers = {"content-type": "application/json", "x-api-key": "k", "x-api-version": "2.4"}
    created = service.create(
        headers, orjson.dumps({"orderId": "o", "currencyCode": "GBP", "amount": 1000}), "http://s"
    )
    access = claims_of(created.body["clientToken"])["accessToken"]
    card = {"number": "4111111111111111", "cvv": "123", "expirationMonth": "12", "expirationYear": "2030"}
    token = service.checkout.tokenize(
        {**headers, "primer-client-token": access}, orjson.dumps({"paymentInstrument": card})
    ).body["token"]
    payment_id = service.payments.create(
        headers, orjson.dumps({"paymentMethodToken": token}), "http://s"
    ).body["id"]
    service.payments.settings.settlement_delay = timedelta(0)
    assert service.payments.act("capture", payment_id, headers, b"").body["status"] == "SETTLED"
    start_together = threading.Barrier(REFUNDERS)

    def refund(amount: int) -> int:
        start_together.wait()
        return service.payments.act("refund", payment_id, headers, orjson.dumps({"amount": amount})).status

    amounts = [10 + (i % 7) * 11 for i in range(REFUNDERS)]  # 10..76, 2_000-odd in all
    with ThreadPoolExecutor(REFUNDERS) as pool:
        statuses = list(pool.map(refund, amounts))
    record = service.payments.record(payment_id)
    assert record is not None
    assert record.amount_refunded == sum(r.amount for r in record.refunds) <= record.amount_captured == 1000
    assert statuses.count(200) == len(record.refunds)
    assert record.amount_captured - record.amount_refunded < min(amounts)  # stopped only when nothing fit
    service.store.close()


@pytest.mark.slow
def test_acknowledged_payments_captures_and_refunds_survive_kill_9(tmp_path):
    db = tmp_path / "payments.sqlite3"
    process, url = start(db)
    acknowledged: dict[str, dict[str, int]] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def load(worker: int) -> None:
        with httpx.Client(base_url=url, headers=HEADERS, timeout=5) as client:
            for i in range(10_000):
                if stop.is_set():
                    return
                try:
                    session = client.post(
                        "/client-session", json={"orderId": f"w{worker}-{i}", "currencyCode": "GBP"}
                    )
                    token = card_token(claims_of(session.json()["clientToken"]))
                    created = client.post("/payments", json={"paymentMethodToken": token, "amount": 1000})
                    if created.status_code != 200:
                        return
                    payment_id = created.json()["id"]
                    with lock:
                        acknowledged[payment_id] = {"captured": 0, "refunded": 0}
                    for step in range(3):
                        captured = client.post(
                            f"/payments/{payment_id}/capture", json={"amount": 200, "final": False}
                        )
                        if captured.status_code != 200:
                            return
                        with lock:
                            acknowledged[payment_id]["captured"] = 200 * (step + 1)
                        refunded = client.post(f"/payments/{payment_id}/refund", json={"amount": 50})
                        if refunded.status_code != 200:
                            return
                        with lock:
                            acknowledged[payment_id]["refunded"] = 50 * (step + 1)
                except httpx.TransportError:
                    return  # the server died mid-request: not acknowledged

    workers = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    try:
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)  # mid-load, no chance to flush anything
        process.wait(timeout=10)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
        process.kill()
    assert process.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 60

    process, url = start(db)
    try:
        with httpx.Client(base_url=url, headers=HEADERS) as client:
            for payment_id, amounts in acknowledged.items():
                response = client.get(f"/payments/{payment_id}")
                assert response.status_code == 200, response.text
                processor = response.json()["processor"]
                # A request the server committed but could not answer may add one step more.
                assert amounts["captured"] <= processor["amountCaptured"] <= amounts["captured"] + 200
                assert amounts["refunded"] <= processor["amountRefunded"] <= amounts["refunded"] + 50
                refunds = [t for t in response.json()["transactions"] if t["transactionType"] == "REFUND"]
                assert sum(t["amount"] for t in refunds) == processor["amountRefunded"]
            listed = client.get("/payments", params={"limit": 100}).json()["data"]
            assert len(listed) >= min(100, len(acknowledged))
    finally:
        process.terminate()
        process.wait(timeout=10)
