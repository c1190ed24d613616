"""The local sandbox's rules, checked on the framework-free service (no HTTP, no FastAPI).

Every documented rule of the Client Session API: auth and version, create,
warnings and profiles, retrieve, PATCH, token errors and bad input. The
requests go through :class:`tests.service_driver.ServiceClient`, which hands
the service what the app's routes hand it; ``test_sandbox_http.py`` shows the
app does exactly that.
"""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest

from primer_nb.api.checkout_warnings import DashboardProfile
from primer_nb.api.session import DEFAULT_CARD_NETWORKS
from primer_nb.sandbox.core.build import build_service
from primer_nb.sandbox.core.clock import DETERMINISTIC_START
from primer_nb.sandbox.core.service import SandboxService

from .sandbox_support import BASKET, BASKET_TOTAL, ServiceClient, create, error_of

KEY = "service-test-key"
HEADERS = {"X-Api-Key": KEY, "X-Api-Version": "2.4"}


@pytest.fixture
def service() -> SandboxService:
    """A fresh in-memory sandbox service that accepts only ``KEY``."""
    built = build_service(api_key=KEY)
    yield built
    built.store.close()


@pytest.fixture
def api(service) -> ServiceClient:
    """Calls to ``service`` with the key and version headers set."""
    return ServiceClient(service, HEADERS)


# ---------------------------------------------------------------- auth and version


def test_missing_api_key_is_401(service):
    response = ServiceClient(service, {"X-Api-Version": "2.4"}).post("/client-session", json={})
    assert response.status_code == 401
    assert error_of(response)["errorId"] == "Unauthorized"


def test_wrong_api_key_is_401_and_not_echoed(service):
    wrong = "wrong-key-canary-12345"
    response = ServiceClient(service, {"X-Api-Key": wrong, "X-Api-Version": "2.4"}).get(
        "/client-session", params={"clientToken": "x"}
    )
    assert response.status_code == 401
    assert wrong not in response.text and KEY not in response.text


def test_without_a_configured_key_any_non_empty_key_is_accepted():
    service = build_service()
    assert (
        ServiceClient(service, {"X-Api-Key": "anything", "X-Api-Version": "2.4"})
        .post("/client-session", json={})
        .status_code
        == 200
    )
    assert (
        ServiceClient(service, {"X-Api-Key": "", "X-Api-Version": "2.4"})
        .post("/client-session", json={})
        .status_code
        == 401
    )


@pytest.mark.parametrize("version", ["2.4.0", "", "1.7", "abc"])
def test_version_header_must_name_a_supported_version(service, version):
    headers = {"X-Api-Key": KEY, "X-Api-Version": version}
    response = ServiceClient(service, headers).post("/client-session", json={})
    assert response.status_code == 422
    error = error_of(response)
    assert error["errorId"] == "RequestValidationError"
    assert error["validationErrors"][0]["errors"][0]["path"] == "$.headers['X-Api-Version']"


def test_strict_version_refuses_a_missing_header_and_older_versions():
    service = build_service(strict_version=True)
    assert ServiceClient(service, {"X-Api-Key": "k"}).post("/client-session", json={}).status_code == 422
    older = ServiceClient(service, {"X-Api-Key": "k", "X-Api-Version": "2.1"}).post(
        "/client-session", json={}
    )
    assert older.status_code == 422


def test_auth_is_judged_before_the_version_and_faults_after_both(service):
    service.faults.set(rate=1.0, statuses=[503], seed=1)
    assert ServiceClient(service, {"X-Api-Version": "9"}).post("/client-session", json={}).status_code == 401
    assert (
        ServiceClient(service, {"X-Api-Key": KEY, "X-Api-Version": "9"})
        .post("/client-session", json={})
        .status_code
        == 422
    )
    assert ServiceClient(service, HEADERS).post("/client-session", json={}).status_code == 503


# ---------------------------------------------------------------- create


def test_create_returns_a_jwt_expiring_in_24_hours(service, api):
    before = service.clock.now()
    body = create(api)
    token = body["clientToken"]
    assert token.count(".") == 2
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert set(claims) >= {"accessToken", "exp", "iat", "intent", "env", "configurationUrl", "analyticsUrlV2"}
    assert claims["exp"] - claims["iat"] == 24 * 3600
    assert claims["configurationUrl"].startswith("http://sandbox.invalid/")
    expires = datetime.fromisoformat(body["clientTokenExpirationDate"])
    assert expires.tzinfo is None  # naive UTC, as the API writes it
    assert len(body["clientTokenExpirationDate"].split(".")[1]) == 6  # with microseconds
    assert math.floor(expires.replace(tzinfo=UTC).timestamp()) == claims["exp"]
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
    api = ServiceClient(build_service(profile=profile), HEADERS)
    response = api.post(
        "/client-session", json={"currencyCode": "GBP", "order": {"lineItems": [{"amount": 1}]}}
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
    other = ServiceClient(build_service(), HEADERS)
    foreign = other.post("/client-session", json={}).json()["clientToken"]
    response = api.get("/client-session", params={"clientToken": foreign})
    assert response.status_code == 400
    assert "invalid" in error_of(response)["description"]


def test_expired_tokens_are_refused_on_get_and_patch(service, api):
    token = create(api)["clientToken"]
    service.clock.advance(timedelta(hours=23, minutes=59))
    assert api.get("/client-session", params={"clientToken": token}).status_code == 200
    assert api.patch("/client-session", json={"clientToken": token, "orderId": "still-ok"}).status_code == 200
    service.clock.advance(60)
    for response in (
        api.get("/client-session", params={"clientToken": token}),
        api.patch("/client-session", json={"clientToken": token, "orderId": "late"}),
    ):
        assert response.status_code == 400
        error = error_of(response)
        assert error["errorId"] == "ClientSessionValidationError"
        assert "expired" in error["validationErrors"][0]["errors"][0]["description"]


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


def test_patch_keeps_the_token_and_does_not_extend_expiry(service, api):
    token = create(api)["clientToken"]
    service.clock.advance(timedelta(hours=20))
    body = patch(api, token, orderId="renamed")
    assert "clientToken" not in body and "warnings" not in body
    service.clock.advance(timedelta(hours=4))
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
    assert "negative" in group["errors"][0]["description"]


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
        (b"orderId=x", "application/x-www-form-urlencoded", 415),
        (b"orderId=x", "", 415),
        (b"null", "application/json", 422),
    ],
)
def test_malformed_bodies_get_a_4xx_envelope(api, content, content_type, status):
    response = api.post("/client-session", content=content, headers={"Content-Type": content_type})
    assert response.status_code == status
    error_of(response)


# ---------------------------------------------------------------- determinism


def _session_facts(service: SandboxService) -> list[object]:
    api = ServiceClient(service, {"X-Api-Key": "k", "X-Api-Version": "2.4"})
    bodies = [create(api) for _ in range(2)]
    bad = api.post("/client-session", json={"amount": -1}).json()
    claims = [jwt.decode(b["clientToken"], options={"verify_signature": False}) for b in bodies]
    return [
        *[(c["accessToken"], c["iat"], c["exp"]) for c in claims],
        bodies[0]["clientTokenExpirationDate"],
        bad["error"]["diagnosticsId"],
    ]


def test_deterministic_services_repeat_seeded_ids_on_a_frozen_clock():
    first = _session_facts(build_service(deterministic=True))
    assert first == _session_facts(build_service(deterministic=True))
    (token_a, iat_a, exp_a), (token_b, iat_b, _) = first[0], first[1]
    assert token_a != token_b, "ids are drawn from a seeded sequence, not fixed"
    assert iat_a == iat_b == int(DETERMINISTIC_START.timestamp()), "the clock is frozen at the start"
    assert exp_a - iat_a == 24 * 3600
    assert first[2] == (DETERMINISTIC_START + timedelta(hours=24)).replace(tzinfo=None).isoformat(
        timespec="microseconds"
    )
    assert _session_facts(build_service()) != first, "without the flag, ids and times are fresh"


def test_payment_method_options_are_kept_as_sent_even_when_an_object_in_them_is_empty(api):
    # The response schema requires an option's surcharge, which may be sent without an amount.
    options = {
        "GOOGLE_PAY": {"surcharge": {}, "merchantName": "Shop"},
        "PAYPAL": {"surcharge": {"amount": 5}},
    }
    created = create(api, {**BASKET, "paymentMethod": {"options": options}})
    assert created["paymentMethod"]["options"] == options
    token = created["clientToken"]
    patched = api.patch("/client-session", json={"clientToken": token, "orderId": "still-there"}).json()
    assert patched["paymentMethod"]["options"] == options
    got = api.get("/client-session", params={"clientToken": token}).json()
    assert got["paymentMethod"]["options"] == options
