"""The local sandbox over HTTP: every documented rule of the Client Session API."""

from __future__ import annotations

import asyncio
import base64
import json
import warnings
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from primer_nb.api.envelope import ApiError
from primer_nb.api.session import DEFAULT_CARD_NETWORKS
from primer_nb.sandbox import LocalSandbox
from primer_nb.sandbox.core.profile import DashboardProfile

BASKET = {
    "orderId": "order-1",
    "currencyCode": "GBP",
    "order": {
        "countryCode": "GB",
        "lineItems": [
            {"itemId": "shirt", "amount": 2500, "quantity": 2, "discountAmount": 500},
            {"itemId": "socks", "amount": 800, "taxAmount": 160},
        ],
        "shipping": {"amount": 399, "methodId": "std"},
        "fees": [{"amount": 50, "type": "SERVICE"}],
    },
    "customer": {
        "emailAddress": "ann@example.com",
        "firstName": "Ann",
        "billingAddress": {
            "addressLine1": "1 High St",
            "city": "Leeds",
            "countryCode": "GB",
            "postalCode": "LS1",
        },
    },
    "metadata": {"channel": "web", "attempt": 1},
}
BASKET_TOTAL = 2 * 2500 - 500 + 800 + 160 + 399 + 50


def error_of(response: httpx.Response) -> dict:
    """The ``error`` object of an envelope, after checking the envelope's shape."""
    envelope = ApiError.model_validate(response.json())
    assert envelope.error.diagnostics_id and envelope.error.diagnostics_id.isdigit()
    assert envelope.error.recovery_suggestion
    return response.json()["error"]


def create(api: httpx.Client, body: dict | None = None) -> dict:
    response = api.post("/client-session", json=BASKET if body is None else body)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- auth and version


def test_missing_api_key_is_401(sandbox):
    response = httpx.post(f"{sandbox.base_url}/client-session", json={}, headers={"X-Api-Version": "2.4"})
    assert response.status_code == 401
    assert error_of(response)["errorId"] == "Unauthorized"


def test_wrong_api_key_is_401_and_not_echoed(sandbox):
    wrong = "wrong-key-canary-12345"
    response = httpx.get(
        f"{sandbox.base_url}/client-session",
        params={"clientToken": "x"},
        headers={"X-Api-Key": wrong, "X-Api-Version": "2.4"},
    )
    assert response.status_code == 401
    assert wrong not in response.text
    assert sandbox.api_key not in response.text


@pytest.mark.parametrize("version", [None, "2.3", "2.4.0", ""])
def test_version_header_must_be_2_4(sandbox, version):
    headers = {"X-Api-Key": sandbox.api_key}
    if version is not None:
        headers["X-Api-Version"] = version
    response = httpx.post(f"{sandbox.base_url}/client-session", json={}, headers=headers)
    assert response.status_code == 422
    error = error_of(response)
    assert error["errorId"] == "RequestValidationError"
    assert error["validationErrors"][0]["errors"][0]["path"] == "$.headers['X-Api-Version']"


def test_lenient_version_accepts_a_missing_header():
    with LocalSandbox(lenient_version=True) as sandbox:
        ok = httpx.post(f"{sandbox.base_url}/client-session", json={}, headers={"X-Api-Key": sandbox.api_key})
        assert ok.status_code == 200
        wrong = httpx.post(
            f"{sandbox.base_url}/client-session",
            json={},
            headers={"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.1"},
        )
        assert wrong.status_code == 422


def test_header_names_are_case_insensitive(sandbox):
    headers = {"x-api-key": sandbox.api_key, "X-API-VERSION": "2.4"}
    assert httpx.post(f"{sandbox.base_url}/client-session", json={}, headers=headers).status_code == 200


# ---------------------------------------------------------------- create


def test_create_returns_a_jwt_expiring_in_24_hours(sandbox, api):
    before = sandbox.clock.now()
    body = create(api)
    token = body["clientToken"]
    assert token.count(".") == 2
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert set(claims) >= {"accessToken", "exp", "iat", "intent", "env", "configurationUrl", "analyticsUrlV2"}
    assert claims["exp"] - claims["iat"] == 24 * 3600
    assert claims["configurationUrl"].startswith(sandbox.base_url)
    expires = datetime.fromisoformat(body["clientTokenExpirationDate"])
    assert expires.tzinfo is None  # naive UTC, as the API writes it
    assert len(body["clientTokenExpirationDate"].split(".")[1]) == 6  # with microseconds
    assert expires.replace(tzinfo=UTC).timestamp() == claims["exp"]
    assert abs(expires.replace(tzinfo=UTC) - (before + timedelta(hours=24))) < timedelta(seconds=5)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "not-the-secret-but-long-enough-for-hs256!!", algorithms=["HS256"])


def test_create_echoes_the_session_with_derived_amount(api):
    body = create(api)
    assert body["amount"] == BASKET_TOTAL
    assert body["order"] == BASKET["order"]
    assert body["customer"] == BASKET["customer"]
    assert body["metadata"] == BASKET["metadata"]
    assert body["paymentMethod"]["orderedAllowedCardNetworks"] == list(DEFAULT_CARD_NETWORKS)
    assert body["warnings"] == []  # the basket has what every default method needs


def test_top_level_amount_overrides_the_derived_one(api):
    body = create(
        api,
        {"currencyCode": "GBP", "amount": 4999, "order": {"lineItems": [{"amount": 2500, "quantity": 2}]}},
    )
    assert body["amount"] == 4999


def test_amount_is_left_out_when_nothing_is_priced(api):
    body = create(api, {"orderId": "empty"})
    assert "amount" not in body
    assert "order" not in body and "metadata" not in body


def test_two_creates_give_different_tokens(api):
    assert create(api)["clientToken"] != create(api)["clientToken"]


# ---------------------------------------------------------------- warnings


def test_default_profile_warns_about_missing_data(api):
    warnings = create(api, {"currencyCode": "EUR", "order": {"lineItems": [{"amount": 100}]}})["warnings"]
    pairs = {(w["type"], w["message"].split("'")[1]) for w in warnings}
    assert ("APPLE_PAY", "order.countryCode") in pairs
    assert ("THREE_DS", "customer.emailAddress") in pairs
    assert ("PAYMENT", "orderId") in pairs
    assert all(w["code"] == "MISSING_DATA" for w in warnings)


def test_warnings_shrink_as_the_session_gains_data(api):
    bare = create(api, {})["warnings"]
    some = create(api, {"currencyCode": "GBP", "orderId": "o", "order": {"lineItems": [{"amount": 1}]}})[
        "warnings"
    ]
    full = create(api)["warnings"]
    assert len(bare) > len(some) > len(full) == 0


def test_string_warnings_from_a_profile_file(tmp_path):
    profile = tmp_path / "profile.toml"
    profile.write_text('warning_form = "string"\n[methods]\nAPPLE_PAY = true\n[modules]\nTAXJAR = true\n')
    with LocalSandbox(profile=profile) as sandbox:
        response = httpx.post(
            f"{sandbox.base_url}/client-session",
            json={"currencyCode": "GBP", "order": {"lineItems": [{"amount": 1}]}},
            headers={"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.4"},
        )
    assert response.json()["warnings"] == [
        "Apple Pay is missing 'order.countryCode'",
        "TaxJar is missing 'order.lineItems[].taxCode'",
        "TaxJar is missing 'order.shipping'",
        "TaxJar is missing 'customer.shippingAddress'",
    ]


def test_json_profile_and_bad_profiles(tmp_path):
    good = tmp_path / "p.json"
    good.write_text(json.dumps({"methods": {"KLARNA": True}}))
    from primer_nb.sandbox.core.profile import load_profile

    assert load_profile(good) == DashboardProfile(("KLARNA",), "object")
    bad = tmp_path / "bad.toml"
    bad.write_text("[methods]\nBITCOIN = true\n")
    with pytest.raises(ValueError, match="unknown method 'BITCOIN'"):
        load_profile(bad)


def test_paypal_vaulting_needs_the_client_metadata_id(api):
    body = {**BASKET, "paymentMethod": {"vaultOnSuccess": True}}
    assert [w["message"] for w in create(api, body)["warnings"]] == [
        "PayPal is missing 'metadata.paypal_client_metadata_id'"
    ]
    body["metadata"] = {"paypal_client_metadata_id": "abc"}
    assert create(api, body)["warnings"] == []


# ---------------------------------------------------------------- retrieve


def test_get_returns_the_session_without_token_or_warnings(api):
    created = create(api, {**BASKET, "metadata": {}})
    got = api.get("/client-session", params={"clientToken": created["clientToken"]})
    assert got.status_code == 200
    body = got.json()
    assert "clientToken" not in body and "warnings" not in body and "clientTokenExpirationDate" not in body
    assert "metadata" not in body  # empty fields are left out
    expected = {
        k: v for k, v in created.items() if k not in ("clientToken", "clientTokenExpirationDate", "warnings")
    }
    assert body == expected


def test_get_without_token_is_422(api):
    response = api.get("/client-session")
    assert response.status_code == 422
    assert error_of(response)["validationErrors"][0]["errors"][0]["path"] == "$.query.clientToken"


@pytest.mark.parametrize(
    "token", ["nonsense", "a.b.c", "eyJhbGciOiJub25lIn0.eyJhY2Nlc3NUb2tlbiI6IngiLCJleHAiOjk5OTk5OTk5OTl9."]
)
def test_malformed_tokens_are_400(api, token):
    for response in (
        api.get("/client-session", params={"clientToken": token}),
        api.patch("/client-session", json={"clientToken": token, "orderId": "x"}),
    ):
        assert response.status_code == 400
        assert error_of(response)["errorId"] == "ClientSessionValidationError"


def test_a_token_from_another_sandbox_is_400(api):
    with LocalSandbox() as other:
        foreign = httpx.post(
            f"{other.base_url}/client-session",
            json={},
            headers={"X-Api-Key": other.api_key, "X-Api-Version": "2.4"},
        ).json()["clientToken"]
    response = api.get("/client-session", params={"clientToken": foreign})
    assert response.status_code == 400
    assert "invalid" in error_of(response)["description"]


def test_expired_tokens_are_refused_on_get_and_patch(sandbox, api):
    token = create(api)["clientToken"]
    sandbox.clock.advance(timedelta(hours=23, minutes=59))
    assert api.get("/client-session", params={"clientToken": token}).status_code == 200
    assert api.patch("/client-session", json={"clientToken": token, "orderId": "still-ok"}).status_code == 200
    sandbox.clock.advance(60)
    for response in (
        api.get("/client-session", params={"clientToken": token}),
        api.patch("/client-session", json={"clientToken": token, "orderId": "late"}),
    ):
        assert response.status_code == 400
        error = error_of(response)
        assert error["errorId"] == "ClientSessionValidationError"
        assert "expired" in error["description"]


# ---------------------------------------------------------------- update


def patch(api: httpx.Client, token: str, **changes) -> dict:
    response = api.patch("/client-session", json={"clientToken": token, **changes})
    assert response.status_code == 200, response.text
    return response.json()


def test_patch_replaces_arrays_whole_and_recomputes_the_amount(api):
    token = create(api)["clientToken"]
    body = patch(api, token, order={"lineItems": [{"itemId": "hat", "amount": 1200}]})
    assert body["order"]["lineItems"] == [{"itemId": "hat", "amount": 1200}]
    assert body["order"]["countryCode"] == "GB"  # order merged one level deep
    assert body["order"]["shipping"] == BASKET["order"]["shipping"]
    assert body["amount"] == 1200 + 399 + 50


def test_patch_merges_customer_one_level_and_replaces_addresses(api):
    token = create(api)["clientToken"]
    body = patch(api, token, customer={"emailAddress": "bob@example.com", "billingAddress": {"city": "York"}})
    assert body["customer"]["emailAddress"] == "bob@example.com"
    assert body["customer"]["firstName"] == "Ann"
    assert body["customer"]["billingAddress"] == {"city": "York"}


def test_patch_null_clears_at_any_level(api):
    token = create(api)["clientToken"]
    body = patch(api, token, customer={"firstName": None}, order={"shipping": None}, orderId=None)
    assert "firstName" not in body["customer"]
    assert "shipping" not in body["order"]
    assert "orderId" not in body
    body = patch(api, token, customer=None)
    assert "customer" not in body


def test_patch_replaces_metadata_whole(api):
    token = create(api)["clientToken"]
    assert patch(api, token, metadata={"only": "this"})["metadata"] == {"only": "this"}


def test_patch_amount_override_and_clearing_it(api):
    token = create(api)["clientToken"]
    assert patch(api, token, amount=100)["amount"] == 100
    assert patch(api, token, amount=None)["amount"] == BASKET_TOTAL


def test_patch_vault_on_success_but_not_options(api):
    token = create(
        api, {**BASKET, "paymentMethod": {"options": {"GOOGLE_PAY": {"surcharge": {"amount": 20}}}}}
    )["clientToken"]
    body = patch(api, token, paymentMethod={"vaultOnSuccess": True})
    assert body["paymentMethod"]["vaultOnSuccess"] is True
    assert body["paymentMethod"]["options"] == {"GOOGLE_PAY": {"surcharge": {"amount": 20}}}
    response = api.patch("/client-session", json={"clientToken": token, "paymentMethod": {"options": {}}})
    assert response.status_code == 422
    assert error_of(response)["validationErrors"][0]["errors"][0]["path"] == "$.paymentMethod.options"


def test_patch_needs_a_client_token(api):
    response = api.patch("/client-session", json={"orderId": "x"})
    assert response.status_code == 422
    assert error_of(response)["validationErrors"][0]["errors"][0]["path"] == "$.clientToken"


def test_patch_keeps_the_token_and_does_not_extend_expiry(sandbox, api):
    token = create(api)["clientToken"]
    sandbox.clock.advance(timedelta(hours=20))
    body = patch(api, token, orderId="renamed")
    assert "clientToken" not in body and "warnings" not in body
    sandbox.clock.advance(timedelta(hours=4))
    assert api.get("/client-session", params={"clientToken": token}).status_code == 400


def test_bad_patch_leaves_the_session_untouched(api):
    created = create(api)
    token = created["clientToken"]
    before = api.get("/client-session", params={"clientToken": token}).json()
    for bad in (
        {"clientToken": token, "order": {"lineItems": [{"amount": -5}]}},
        {"clientToken": token, "metadata": {"": "x"}},
        {"clientToken": token, "surprise": 1},
    ):
        assert api.patch("/client-session", json=bad).status_code in (400, 422)
    assert api.get("/client-session", params={"clientToken": token}).json() == before


# ---------------------------------------------------------------- bad input


def test_validation_errors_use_primer_paths(api):
    response = api.post("/client-session", json={"order": {"lineItems": [{"amount": 10}, {"amount": -1}]}})
    assert response.status_code == 422
    error = error_of(response)
    assert error["errorId"] == "RequestValidationError"
    group = error["validationErrors"][0]
    assert group["model"] == "ClientSessionAPIRequest"
    assert group["errors"][0]["path"] == "$.order.lineItems[1].amount"
    assert "$.order.lineItems[1].amount" in error["recoverySuggestion"]


def test_empty_metadata_key_is_400(api):
    response = api.post("/client-session", json={"metadata": {"": "x"}})
    assert response.status_code == 400
    assert error_of(response)["errorId"] == "MetadataContainsEmptyKey"


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 422),
        (b"[1, 2]", "application/json", 422),
        (b"\xff\xfe", "application/json", 422),
        (b'{"orderId": "x"}', "text/plain", 415),
        (b'{"orderId": "x"}', "", 415),
        (b"null", "application/json", 422),
    ],
)
def test_malformed_bodies_get_a_4xx_envelope(api, content, content_type, status):
    response = api.post("/client-session", content=content, headers={"Content-Type": content_type})
    assert response.status_code == status
    error_of(response)


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


def test_deterministic_sandboxes_agree():
    def run() -> list[str]:
        with LocalSandbox(deterministic=True) as sandbox:
            headers = {"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.4"}
            url = f"{sandbox.base_url}/client-session"
            bodies = [httpx.post(url, json=BASKET, headers=headers).json() for _ in range(2)]
            bad = httpx.post(url, json={"amount": -1}, headers=headers).json()
            claims = [jwt.decode(b["clientToken"], options={"verify_signature": False}) for b in bodies]
            # The URLs in the claims name the (random) port; ids and times are seeded.
            return [(c["accessToken"], c["iat"], c["exp"]) for c in claims] + [
                bodies[0]["clientTokenExpirationDate"],
                bad["error"]["diagnosticsId"],
            ]

    assert run() == run()


def test_binds_loopback_only(sandbox):
    assert sandbox.base_url.startswith("http://127.0.0.1:")


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
