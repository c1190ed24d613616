"""PrimerClient and AsyncPrimerClient against httpx.MockTransport handlers."""

from __future__ import annotations

import asyncio
import json
import ssl
import warnings
from datetime import UTC, datetime

import httpx
import pytest

from primer_nb import (
    AsyncPrimerClient,
    AuthenticationError,
    ClientSessionRequest,
    ClientSessionUpdate,
    InvalidRequestError,
    PrimerAPIError,
    PrimerClient,
    PrimerConfigError,
    PrimerConnectionError,
    PrimerPreflightWarning,
    PrimerTimeoutError,
    PrimerValidationError,
    RateLimitError,
    ServerError,
    SessionError,
)
from primer_nb.client import RetryPolicy
from primer_nb.client.aio import _PoolSet
from primer_nb.config.settings import resolve_settings
from primer_nb.config.tls import shared_tls_context, tls_context_for

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE4OTM0NTYwMDAsImFjY2Vzc1Rva2VuIjoiYSJ9.c2lnbmF0dXJl"
TOKEN_EXPIRY = datetime(2030, 1, 1, tzinfo=UTC)  # the exp claim above
KEY = "sk_test_unit_0123456789"
CREATED = {
    "clientToken": TOKEN,
    "clientTokenExpirationDate": "2030-01-01T00:00:00.000000",
    "orderId": "o-1",
    "currencyCode": "GBP",
    "amount": 5000,
    "warnings": [
        {"type": "APPLE_PAY", "code": "MISSING_DATA", "message": "Apple Pay is missing 'order.countryCode'"}
    ],
}
BODY = {"orderId": "o-1", "currencyCode": "GBP", "order": {"countryCode": "GB", "lineItems": [{"amount": 2500, "quantity": 2}]},
        "customer": {"emailAddress": "a@example.com", "billingAddress": {"city": "Leeds"}}}  # fmt: skip
NO_SLEEP = RetryPolicy(max_retries=3, base=0.0, cap=0.0)


def envelope(error_id: str, **extra) -> dict:
    return {"error": {"errorId": error_id, "description": f"{error_id} happened", "diagnosticsId": "123",
                      "recoverySuggestion": "do the fix", **extra}}  # fmt: skip


def client_for(handler, **options) -> PrimerClient:
    options.setdefault("retry", NO_SLEEP)
    return PrimerClient(
        KEY, environment="sandbox", transport=httpx.MockTransport(handler), ledger=False, **options
    )


def test_create_sends_headers_and_camel_case_body():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=CREATED)

    session = client_for(handler).create_client_session(BODY)
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://api.sandbox.primer.io/client-session"
    assert request.headers["X-Api-Key"] == KEY
    assert request.headers["X-Api-Version"] == "2.4"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == BODY
    assert session.client_token == TOKEN
    assert session.expires_at == TOKEN_EXPIRY
    assert session.amount == 5000
    assert [w.type for w in session.warnings] == ["APPLE_PAY"]
    assert session.raw == CREATED


def test_models_are_accepted_as_bodies():
    from primer_nb import ClientSessionRequest

    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content) == {"orderId": "x", "currencyCode": "JPY"}
        return httpx.Response(200, json={**CREATED, "currencyCode": "JPY"})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrimerPreflightWarning)
        client_for(handler).create_client_session(ClientSessionRequest(order_id="x", currency_code="JPY"))


def test_local_validation_error_sends_nothing():
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("nothing should be sent")

    with pytest.raises(PrimerValidationError) as caught:
        client_for(handler).create_client_session({"order": {"lineItems": [{"amount": "12.50"}]}})
    assert caught.value.paths == ["$.order.lineItems[0].amount"]
    assert "to_minor" in str(caught.value)


def test_get_and_update_fill_in_token_and_expiry():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            assert request.url.params["clientToken"] == TOKEN
        else:
            assert json.loads(request.content) == {
                "clientToken": TOKEN,
                "customerId": None,
                "metadata": {"a": 1},
            }
        return httpx.Response(200, json={"orderId": "o-1", "metadata": {"a": 1}})

    client = client_for(handler)
    got = client.get_client_session(TOKEN)
    updated = client.update_client_session(TOKEN, {"customerId": None, "metadata": {"a": 1}})
    for session in (got, updated):
        assert session.client_token == TOKEN
        assert session.expires_at == TOKEN_EXPIRY  # read from the token's exp claim
        assert TOKEN not in repr(session)


def test_update_refuses_a_second_token():
    client = client_for(lambda r: httpx.Response(200, json={}))
    with pytest.raises(PrimerValidationError, match="clientToken"):
        client.update_client_session(TOKEN, {"clientToken": "other", "orderId": "x"})
    with pytest.raises(PrimerValidationError, match=r"\$.paymentMethod.options"):
        client.update_client_session(TOKEN, {"paymentMethod": {"options": {}}})


@pytest.mark.parametrize(
    ("status", "body", "cls", "error_id"),
    [
        (400, envelope("ClientSessionValidationError"), SessionError, "ClientSessionValidationError"),
        (400, envelope("MetadataContainsEmptyKey"), InvalidRequestError, "MetadataContainsEmptyKey"),
        (422, envelope("RequestValidationError", validationErrors=[{"model": "M", "errors": [{"path": "$.orderId", "description": "bad"}]}]), InvalidRequestError, "RequestValidationError"),
        (401, envelope("Unauthorized"), AuthenticationError, "Unauthorized"),
        (429, envelope("TooManyRequests"), RateLimitError, "TooManyRequests"),
        (500, envelope("InternalServerError"), ServerError, "InternalServerError"),
    ],
)  # fmt: skip
def test_errors_map_to_named_classes(status, body, cls, error_id):
    client = client_for(lambda r: httpx.Response(status, json=body), retry=RetryPolicy(max_retries=0))
    with pytest.raises(cls) as caught:
        client.get_client_session(TOKEN)
    error = caught.value
    assert error.status_code == status and error.error_id == error_id
    assert error.diagnostics_id == "123" and error.recovery_suggestion == "do the fix"
    assert TOKEN not in str(error) and TOKEN not in repr(error)
    assert "<div" in error._repr_html_()
    if status == 422:
        assert [str(e) for e in error.field_errors] == ["$.orderId: bad"]


def test_a_proxy_html_page_still_gives_a_clear_error():
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    client = client_for(lambda r: httpx.Response(502, text=page), retry=RetryPolicy(max_retries=0))
    with pytest.raises(ServerError) as caught:
        client.get_client_session(TOKEN)
    assert "without Primer's error envelope" in str(caught.value)
    assert "502 Bad Gateway" in str(caught.value)


def test_non_json_success_body_is_an_api_error():
    client = client_for(lambda r: httpx.Response(200, text="OK"))
    with pytest.raises(PrimerAPIError, match="not JSON"):
        client.get_client_session(TOKEN)


def counting(*responses):
    """A handler that answers with ``responses`` in turn, and the list of requests it saw."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = responses[min(len(seen) - 1, len(responses) - 1)]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler, seen


def test_retries_429_and_503_then_succeeds():
    handler, seen = counting(
        httpx.Response(429, json=envelope("TooManyRequests"), headers={"Retry-After": "0"}),
        httpx.Response(503, json=envelope("ServiceUnavailable")),
        httpx.Response(200, json=CREATED),
    )
    assert client_for(handler).create_client_session(BODY).client_token == TOKEN
    assert len(seen) == 3


def test_gives_up_after_max_retries():
    handler, seen = counting(httpx.Response(503, json=envelope("ServiceUnavailable")))
    with pytest.raises(ServerError):
        client_for(handler, retry=RetryPolicy(max_retries=2, base=0, cap=0)).get_client_session(TOKEN)
    assert len(seen) == 3


@pytest.mark.parametrize("status", [502, 504])
def test_create_is_not_retried_when_it_may_have_been_processed(status):
    handler, seen = counting(httpx.Response(status, json=envelope("X")), httpx.Response(200, json=CREATED))
    with pytest.raises(ServerError):
        client_for(handler).create_client_session(BODY)
    assert len(seen) == 1


@pytest.mark.parametrize("status", [502, 504])
def test_get_and_patch_are_retried_on_gateway_errors(status):
    handler, seen = counting(
        httpx.Response(status, json=envelope("X")), httpx.Response(200, json={"orderId": "o"})
    )
    client_for(handler).get_client_session(TOKEN)
    assert len(seen) == 2


def test_create_retries_connect_errors_but_not_read_timeouts():
    handler, seen = counting(httpx.ConnectError("refused"), httpx.Response(200, json=CREATED))
    client_for(handler).create_client_session(BODY)
    assert len(seen) == 2
    handler, seen = counting(httpx.ReadTimeout("slow"), httpx.Response(200, json=CREATED))
    with pytest.raises(PrimerTimeoutError, match="ReadTimeout"):
        client_for(handler).create_client_session(BODY)
    assert len(seen) == 1
    handler, seen = counting(httpx.ReadTimeout("slow"), httpx.Response(200, json={"orderId": "o"}))
    client_for(handler).get_client_session(TOKEN)
    assert len(seen) == 2


def test_connection_errors_become_primer_errors_without_the_token():
    handler, _ = counting(httpx.ConnectError("refused"))
    with pytest.raises(PrimerConnectionError) as caught:
        client_for(handler).get_client_session(TOKEN)
    assert TOKEN not in str(caught.value)


def test_retry_policy_backoff_and_retry_after():
    policy = RetryPolicy(max_retries=5, base=0.5, cap=4.0)
    assert policy.delay("GET", 0, status=503, rng=lambda: 1.0) == 0.5
    assert policy.delay("GET", 3, status=503, rng=lambda: 1.0) == 4.0  # capped
    assert policy.delay("GET", 4, status=503, rng=lambda: 0.5) == 2.0  # jitter
    assert policy.delay("GET", 1, status=429, retry_after=7) == 7
    assert policy.delay("GET", 1, status=429, retry_after=600) == 60  # bounded
    assert policy.delay("GET", 5, status=503) is None
    assert policy.delay("GET", 0, status=400) is None
    assert policy.delay("POST", 0, status=504) is None
    assert policy.delay("POST", 0, sent=False, rng=lambda: 1.0) == 0.5


def test_retry_after_header_is_honoured(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("primer_nb.client.sync.time.sleep", slept.append)
    handler, _ = counting(
        httpx.Response(429, json=envelope("TooManyRequests"), headers={"Retry-After": "3"}),
        httpx.Response(200, json={"orderId": "o"}),
    )
    PrimerClient(
        KEY, environment="sandbox", transport=httpx.MockTransport(handler), ledger=False
    ).get_client_session(TOKEN)
    assert slept == [3.0]


def test_default_timeout_is_below_primers_90_seconds():
    client = client_for(lambda r: httpx.Response(200, json={}))
    assert client.timeout < 90
    assert client._http.timeout.read == client.timeout


def test_preflight_warnings():
    client = client_for(lambda r: httpx.Response(200, json=CREATED))
    with pytest.warns(PrimerPreflightWarning) as record:
        client.create_client_session(
            {
                "orderId": "o",
                "currencyCode": "GBP",
                "amount": 5000,
                "order": {"lineItems": [{"amount": 4900}]},
            }
        )
    messages = [str(w.message) for w in record]
    assert any("differs from the line items' total 4900" in m for m in messages)
    assert any("default dashboard profile" in m for m in messages)
    with pytest.warns(PrimerPreflightWarning, match="minor units = £0.49"):
        client.create_client_session({**BODY, "order": {**BODY["order"], "lineItems": [{"amount": 49}]}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.create_client_session(BODY)  # a complete, consistent body warns about nothing


def test_to_curl_reads_the_key_from_the_environment():
    client = client_for(lambda r: httpx.Response(200, json={}))
    curl = client.to_curl({"orderId": "it's"})
    assert KEY not in curl
    assert '"X-Api-Key: $PRIMER_API_KEY"' in curl
    assert "https://api.sandbox.primer.io/client-session" in curl
    assert '-d \'{"orderId": "it\'"\'"\'s"}\'' in curl
    assert "clientToken=" in client.to_curl(method="GET", client_token=TOKEN)
    assert '"clientToken"' in client.to_curl({"orderId": "y"}, method="PATCH", client_token=TOKEN)


def test_to_curl_takes_either_request_model_in_camel_case():
    client = client_for(lambda r: httpx.Response(200, json={}))
    create = ClientSessionRequest.model_validate({"orderId": "o-1", "customerId": "c-1"})
    update = ClientSessionUpdate.model_validate({"clientToken": TOKEN, "customerId": "c-2"})
    assert '-d \'{"orderId": "o-1", "customerId": "c-1"}\'' in client.to_curl(create)
    patched = client.to_curl(create, method="PATCH", client_token=TOKEN)
    assert '"orderId": "o-1", "customerId": "c-1"' in patched and "order_id" not in patched
    assert '"customerId": "c-2"' in client.to_curl(update, method="PATCH", client_token=TOKEN)


def test_repr_never_shows_the_key():
    client = client_for(lambda r: httpx.Response(200, json={}))
    assert KEY not in repr(client)
    assert KEY not in repr(resolve_settings(KEY, environment="sandbox"))


# ---------------------------------------------------------------- configuration


def test_production_needs_an_explicit_opt_in():
    with pytest.raises(PrimerConfigError, match="PRIMER_ALLOW_PRODUCTION=1"):
        PrimerClient(KEY, environment="production", ledger=False)
    client = PrimerClient(KEY, environment="production", allow_production=True, ledger=False)
    assert client.base_url == "https://api.primer.io"
    settings = resolve_settings(KEY, environment="production", env={"PRIMER_ALLOW_PRODUCTION": "1"})
    assert settings.base_url == "https://api.primer.io"


def test_settings_sources_and_defaults(tmp_path, monkeypatch):
    assert resolve_settings(env={}).environment == "local"
    assert resolve_settings(env={"PRIMER_API_KEY": KEY}).environment == "sandbox"
    local = resolve_settings(env={"PRIMER_API_KEY": KEY, "PRIMER_ENVIRONMENT": "local"})
    assert local.environment == "local" and local.api_key is None  # Primer's key never goes to a local server
    assert (
        resolve_settings(env={"PRIMER_API_KEY": KEY, "PRIMER_BASE_URL": "http://127.0.0.1:8787"}).environment
        == "local"
    )
    with pytest.raises(PrimerConfigError, match="no API key"):
        resolve_settings(environment="sandbox", env={})
    with pytest.raises(PrimerConfigError, match="use one of"):
        resolve_settings(environment="staging", env={})
    (tmp_path / ".env").write_text(f"PRIMER_API_KEY={KEY}\nPRIMER_ENVIRONMENT=sandbox\n")
    monkeypatch.chdir(tmp_path)
    from_file = resolve_settings(env={})
    assert (from_file.environment, from_file.api_key) == ("sandbox", KEY)
    assert (
        resolve_settings(env={"PRIMER_ENVIRONMENT": "local"}).environment == "local"
    )  # environment beats .env


# ---------------------------------------------------------------- async


def test_async_client_mirrors_the_sync_one():
    handler, seen = counting(
        httpx.Response(503, json=envelope("ServiceUnavailable")),
        httpx.Response(200, json=CREATED),
        httpx.Response(200, json={"orderId": "o-2"}),
    )

    async def main():
        async with AsyncPrimerClient(KEY, environment="sandbox", transport=httpx.MockTransport(handler),
                                     ledger=False, retry=NO_SLEEP) as client:  # fmt: skip
            created = await client.create_client_session(BODY)
            updated = await client.update_client_session(created.client_token, {"orderId": "o-2"})
            return created, updated

    created, updated = asyncio.run(main())
    assert created.client_token == updated.client_token == TOKEN
    assert updated.order_id == "o-2" and updated.expires_at == TOKEN_EXPIRY
    assert [r.method for r in seen] == ["POST", "POST", "PATCH"]


def test_create_many_records_failures_without_aborting():
    def handler(request: httpx.Request) -> httpx.Response:
        order = json.loads(request.content)["orderId"]
        if order == "boom":
            return httpx.Response(422, json=envelope("RequestValidationError"))
        return httpx.Response(200, json={**CREATED, "orderId": order})

    bodies = [{**BODY, "orderId": f"o-{i}"} for i in range(5)]
    bodies[1] = {**BODY, "orderId": "boom"}
    bodies[3] = {"amount": -1}

    async def main():
        async with AsyncPrimerClient(
            KEY, environment="sandbox", transport=httpx.MockTransport(handler), ledger=False
        ) as c:
            return await c.create_many(bodies, concurrency=2, progress=False)

    results = asyncio.run(main())
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert [r.ok for r in results] == [True, False, True, False, True]
    assert isinstance(results[1].error, InvalidRequestError)
    assert isinstance(results[3].error, PrimerValidationError)
    assert results[4].session.order_id == "o-4"


def test_clients_share_one_verifying_tls_context():
    context = tls_context_for("https://api.sandbox.primer.io")
    assert context is shared_tls_context() is tls_context_for("https://api.primer.io")
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # a CA bundle is loaded


def test_plain_http_clients_skip_the_ca_bundle_but_still_verify():
    context = tls_context_for("http://127.0.0.1:8787")
    assert context is not shared_tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0  # trusts nothing: any TLS attempt fails closed


def test_async_requests_take_the_least_busy_pool_and_reuse_the_first_when_idle():
    pools = _PoolSet(["a", "b", "c"])  # type: ignore[list-item]
    with pools.lease() as first:
        assert first == "a"
    with pools.lease() as again:
        assert again == "a"  # one request after another: one pool, so one kept-alive connection
        with pools.lease() as second, pools.lease() as third:
            assert (second, third) == ("b", "c")
            with pools.lease() as fourth:
                assert fourth == "a" and pools.busy == [2, 1, 1]
    assert pools.busy == [0, 0, 0]
