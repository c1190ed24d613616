"""A unique canary API key goes through every public path and must never come out."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
import uuid
import warnings

import httpx
import pytest
from IPython.core.formatters import DisplayFormatter
from IPython.lib.pretty import pretty

import primer_nb
from primer_nb import AsyncPrimerClient, LocalSandbox, PrimerClient, PrimerError, cli
from primer_nb.client import RetryPolicy
from primer_nb.config.settings import resolve_settings

LOGGERS = ["", "httpx", "httpcore", "uvicorn", "uvicorn.error", "uvicorn.access", "primer_nb", "asyncio"]


@pytest.fixture
def everything_logged():
    """Capture every log record, at DEBUG, from every logger that could see a request."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))
            records.append(repr(record.__dict__))

    handler = Keep(level=logging.DEBUG)
    saved = {}
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    yield records
    for name in LOGGERS:
        logging.getLogger(name).removeHandler(handler)
        logging.getLogger(name).setLevel(saved[name])


def describe(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    if hasattr(error, "_repr_html_"):
        texts.append(error._repr_html_())
    return texts


def test_the_canary_key_never_appears(everything_logged, capsys, monkeypatch):
    canary = f"sk_canary_{uuid.uuid4().hex}"
    produced: list[str] = []
    warnings.simplefilter("ignore")
    with LocalSandbox(api_key=canary) as sandbox:
        client = PrimerClient(
            canary, base_url=sandbox.base_url, retry=RetryPolicy(max_retries=1, base=0, cap=0)
        )
        produced += [
            repr(client),
            str(client),
            repr(sandbox),
            repr(resolve_settings(canary, base_url=sandbox.base_url)),
        ]

        created = client.create_client_session({"orderId": "c-1", "currencyCode": "GBP", "amount": 10})
        got = client.get_client_session(created.client_token)
        updated = client.update_client_session(
            created.client_token, {"metadata": {"k": "v"}, "orderId": None}
        )
        views: list[str] = []
        for session in (created, got, updated):
            views += [repr(session), pretty(session), session._repr_html_()]
            views += list(DisplayFormatter().format(session)[0].values())
            produced += [str(session), session.model_dump_json(), str(session.raw)]
            produced += [session.to_curl(), session.to_curl({"orderId": "x"})]
        assert all(created.client_token not in view for view in views)  # the token only ever masked
        produced += views
        produced += [
            client.to_curl({"orderId": "y"}),
            client.to_curl(method="GET", client_token=created.client_token),
        ]
        produced += [repr(s) for s in client.sessions()]
        produced += [s._repr_html_() for s in client.sessions()]
        produced += [str(row) for row in client.ledger.rows()]

        for call in (
            lambda: client.get_client_session("not-a-token"),
            lambda: client.update_client_session(created.client_token, {"paymentMethod": {"options": {}}}),
            lambda: client.create_client_session({"order": {"lineItems": [{"amount": -1}]}}),
        ):
            with pytest.raises(PrimerError) as caught:
                call()
            produced += describe(caught.value)

        sandbox.faults.set(rate=1.0, statuses=[503], seed=1, retry_after=0)
        with pytest.raises(PrimerError) as caught:
            client.create_client_session({"orderId": "fail"})
        produced += describe(caught.value)
        sandbox.faults.clear()

        async def batch():
            async with AsyncPrimerClient(canary, base_url=sandbox.base_url) as async_client:
                produced.append(repr(async_client))
                results = await async_client.create_many([{"orderId": "a"}, {"amount": -5}], progress=True)
                produced.extend(repr(r) for r in results)

        asyncio.run(batch())

    with LocalSandbox() as other:  # a sandbox that does not know the canary: 401
        stranger = PrimerClient(canary, base_url=other.base_url, ledger=False)
        with pytest.raises(PrimerError) as caught:
            stranger.create_client_session({})
        produced += describe(caught.value)

    with socket.socket() as probe:  # a port nobody listens on: connection error
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    offline = PrimerClient(canary, base_url=dead, ledger=False, retry=RetryPolicy(max_retries=0))
    with pytest.raises(PrimerError) as caught:
        offline.get_client_session("t")
    produced += describe(caught.value)

    with socket.socket() as taken:  # the command's own error reports, with and without --debug
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for debug in ([], ["--debug"]):
            assert cli.main([*debug, "sandbox", "--api-key", canary, "--port", port, "--db", "x.db"]) == 1
        monkeypatch.setenv("PRIMER_NB_SANDBOX_KEY", canary)
        assert cli.main(["--debug", "sandbox", "--port", port]) == 1
        monkeypatch.delenv("PRIMER_NB_SANDBOX_KEY")

    monkeypatch.setenv("PRIMER_API_KEY", canary)
    with pytest.raises(PrimerError) as caught:
        resolve_settings(environment="production")
    produced += describe(caught.value)
    remote = primer_nb.connect(transport=httpx.MockTransport(lambda r: httpx.Response(500, text=canary[:6])))
    produced += [repr(remote), repr(resolve_settings())]

    out = capsys.readouterr()
    everything = "\n".join([*produced, *everything_logged, out.out, out.err])
    assert len(everything_logged) > 10  # the loggers really were listening
    # The CLI's three reports were seen (two with tracebacks).
    assert out.err.count("primer-nb sandbox: error: port ") == 3 and "Traceback" in out.err
    assert canary not in everything
    assert created.client_token not in "\n".join(everything_logged)  # tokens are masked in logs too


def test_the_canary_key_and_the_card_number_never_appear_in_payments(everything_logged, capsys):
    from primer_nb import tables

    canary = f"sk_canary_{uuid.uuid4().hex}"
    card_number = "4242424242424242"
    produced: list[str] = []
    errors: list[str] = []
    warnings.simplefilter("ignore")
    with LocalSandbox(api_key=canary) as sandbox:
        client = PrimerClient(
            canary, base_url=sandbox.base_url, retry=RetryPolicy(max_retries=1, base=0, cap=0)
        )
        session = client.create_client_session({
            "orderId": "pay-1", "currencyCode": "GBP", "order": {"lineItems": [{"amount": 5000}]},
            "customer": {"emailAddress": "a@example.com", "billingAddress": {"countryCode": "GB"}},
        })  # fmt: skip
        card = client.tokenize_card(session, {"number": card_number, "cvv": "737", "expirationMonth": "12",
                                              "expirationYear": "2031"})  # fmt: skip
        payment = client.create_payment({"paymentMethodToken": card.token})
        captured = client.capture_payment(payment, 1000)
        sandbox.clock.advance(600)
        refunded = client.refund_payment(client.get_payment(captured, expand=True), 100)
        challenged = client.create_payment(
            {"paymentMethodToken": client.tokenize_card(session, "3ds-challenge").token}
        )
        resumed = client.resume_payment(challenged, client.complete_3ds_challenge(challenged).resume_token)
        spare = client.create_payment({"paymentMethodToken": client.tokenize_card(session).token})
        whole_tokens = [card.token, challenged.payment_method.payment_method_token,
                        challenged.required_action.client_token]  # fmt: skip
        for shown in (card, payment, captured, refunded, challenged, resumed, *client.payments()):
            views = [
                repr(shown),
                pretty(shown),
                shown._repr_html_(),
                *DisplayFormatter().format(shown)[0].values(),
            ]
            assert not any(token in view for view in views for token in whole_tokens)
            produced += [*views, shown.model_dump_json(), str(shown)]
        for frame in (tables.payments_frame(client), tables.transactions_frame(client),
                      tables.provenance_frame(payment)):  # fmt: skip
            produced += [frame.to_string(), tables.style(frame).to_html()]
        produced += [str(row) for row in client.ledger.payment_rows()]
        produced += [repr(client.search_payments(order_id="pay-1"))]
        for call in (
            lambda: client.refund_payment(resumed),  # nothing captured: InvalidPaymentStatus
            lambda: client.create_payment({"paymentMethodToken": card.token}),  # used already
            lambda: [client.cancel_payment(spare, idempotency_key="reused") for _ in range(2)],  # a replay
            lambda: client.tokenize_card(session, {**{"number": card_number[:-1] + "3"}, "cvv": "737",
                                                   "expirationMonth": "12", "expirationYear": "2031"}),
            lambda: client.tokenize_card(session, {"number": card_number, "cvv": "737", "expirationMonth": "12",
                                                   "expirationYear": "2001"}),  # expired: refused by the sandbox
        ):  # fmt: skip
            with pytest.raises(PrimerError) as caught:
                call()
            produced += describe(caught.value)
            errors.append(type(caught.value).__name__)
        sandbox.faults.set(rate=1.0, statuses=[503], seed=1, retry_after=0)
        with pytest.raises(PrimerError) as caught:
            client.capture_payment(resumed)
        produced += describe(caught.value)
        sandbox.faults.clear()
        ledger_bytes = b"".join(p.read_bytes() for p in client.ledger.path.parent.glob("ledger.sqlite3*"))

    assert errors == [
        "PaymentStateError", "InvalidRequestError", "IdempotencyError", "PrimerValidationError", "InvalidRequestError",
    ]  # fmt: skip
    out = capsys.readouterr()
    everything = "\n".join([*produced, *everything_logged, out.out, out.err])
    assert len(everything_logged) > 10
    assert canary not in everything and canary.encode() not in ledger_bytes
    assert card_number not in everything and card_number.encode() not in ledger_bytes
    assert card_number[:-1] + "3" not in everything
    assert not any(token in "\n".join(everything_logged) for token in whole_tokens)  # masked in logs too
    assert not any(token.encode() in ledger_bytes for token in whole_tokens)
