"""The checkout's own calls with the client token: configuration, card tokenization, payments, 3DS."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta

import httpx
import pytest

from primer_nb.api.payment import PaymentInstrument
from primer_nb.sandbox import LocalSandbox

from .payment_helpers import (
    SESSION,
    SESSION_TOTAL,
    card_token,
    checkout_headers,
    claims_of,
    error_of,
    new_session,
    tokenize,
)


def test_the_token_names_the_checkouts_urls_on_the_sandbox(api, sandbox):
    claims = new_session(api)
    assert claims["pciUrl"] == f"{sandbox.base_url}/_checkout"
    assert claims["coreUrl"] == sandbox.base_url
    assert claims["configurationUrl"] == f"{sandbox.base_url}/_checkout/configuration"
    assert claims["analyticsUrlV2"].startswith(sandbox.base_url)
    assert claims["intent"] == "CHECKOUT"


@pytest.mark.parametrize("suffix", ["", "/?withDisplayMetadata=true"])
def test_configuration_names_the_urls_the_methods_and_the_session(api, sandbox, suffix):
    claims = new_session(api)
    response = httpx.get(claims["configurationUrl"] + suffix, headers=checkout_headers(claims))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["pciUrl"], body["coreUrl"], body["env"]) == (claims["pciUrl"], sandbox.base_url, "SANDBOX")
    assert [m["type"] for m in body["paymentMethods"]] == [
        "PAYMENT_CARD",
        "APPLE_PAY",
        "GOOGLE_PAY",
        "PAYPAL",
    ]
    assert all({"type", "name", "implementationType"} <= set(m) for m in body["paymentMethods"])
    assert body["checkoutModules"] == []
    session = body["clientSession"]
    assert session["clientSessionId"] == claims["accessToken"]
    assert session["order"]["totalOrderAmount"] == SESSION_TOTAL
    assert session["order"]["lineItems"] == SESSION["order"]["lineItems"]
    assert session["customer"]["customerId"] == "cust-1"
    assert "VISA" in session["paymentMethod"]["orderedAllowedCardNetworks"]


def test_configuration_follows_the_dashboard_profile(tmp_path):
    profile = tmp_path / "profile.toml"
    profile.write_text("[methods]\nPAYMENT_CARD = true\nKLARNA = true\n[modules]\nTHREE_DS = false\n")
    with LocalSandbox(profile=profile) as sandbox:
        api = httpx.Client(
            base_url=sandbox.base_url, headers={"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.4"}
        )
        claims = new_session(api)
        body = httpx.get(claims["configurationUrl"], headers=checkout_headers(claims)).json()
        assert [m["type"] for m in body["paymentMethods"]] == ["PAYMENT_CARD", "KLARNA"]
        assert body["paymentMethods"][0]["options"]["threeDSecureEnabled"] is False
        # With 3DS off in the dashboard, a challenge card just authorizes.
        token = card_token(claims, "4000000000000051")
        payment = api.post(
            "/payments", json={"paymentMethodToken": token, "customer": {"emailAddress": "a@example.com"}}
        ).json()
        assert payment["status"] == "AUTHORIZED"


def test_tokenization_returns_the_public_card_data_only(api):
    claims = new_session(api)
    response = tokenize(claims, "5555555555554444", cardholderName="Ann Smith", expirationMonth="03")
    assert response.status_code == 200
    instrument = PaymentInstrument.model_validate(response.json())
    assert instrument.token_type == "SINGLE_USE" and instrument.payment_instrument_type == "PAYMENT_CARD"
    data = response.json()["paymentInstrumentData"]
    assert (data["first6Digits"], data["last4Digits"], data["network"]) == ("555555", "4444", "Mastercard")
    assert (data["expirationMonth"], data["expirationYear"], data["cardholderName"]) == (
        "03",
        "2030",
        "Ann Smith",
    )
    assert data["binData"]["network"] == "MASTERCARD" and data["binData"]["accountFundingType"] == "CREDIT"
    assert "5555555555554444" not in response.text


def test_a_co_badged_card_takes_the_preferred_network(api):
    claims = new_session(api)
    data = tokenize(claims, "4035500000000000", preferredNetwork="CARTES_BANCAIRES").json()
    assert data["paymentInstrumentData"]["binData"]["network"] == "CARTES_BANCAIRES"
    assert data["paymentInstrumentData"]["network"] == "Cartes Bancaires"


@pytest.mark.parametrize(
    ("card", "path"),
    [
        ({"number": "4111111111111112"}, "$.paymentInstrument.number"),  # Luhn
        ({"number": "4111 1111 1111 1111"}, "$.paymentInstrument.number"),
        ({"cvv": "12"}, "$.paymentInstrument.cvv"),
        ({"expirationMonth": "13"}, "$.paymentInstrument.expirationMonth"),
        ({"expirationYear": "30"}, "$.paymentInstrument.expirationYear"),
        ({"expirationYear": "2020"}, "$.paymentInstrument.expirationYear"),  # expired
    ],
)
def test_bad_cards_get_a_clear_422(api, card, path):
    claims = new_session(api)
    response = tokenize(claims, card.pop("number", "4111111111111111"), **card)
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["validationErrors"][0]["errors"][0]["path"] == path
    assert path.rsplit(".", 1)[1] in error["recoverySuggestion"]


def test_a_card_is_good_until_the_end_of_its_expiry_month(api, sandbox):
    claims = new_session(api)
    now = sandbox.clock.now()
    this_month = {"expirationMonth": f"{now.month:02d}", "expirationYear": str(now.year)}
    assert tokenize(claims, **this_month).status_code == 200
    last = now.replace(day=1) - timedelta(days=1)
    last_month = {"expirationMonth": f"{last.month:02d}", "expirationYear": str(last.year)}
    assert tokenize(claims, **last_month).status_code == 422


def test_the_card_number_and_cvv_are_never_stored(tmp_path):
    db = tmp_path / "sandbox.sqlite3"
    with LocalSandbox(db=db) as sandbox:
        api = httpx.Client(
            base_url=sandbox.base_url, headers={"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.4"}
        )
        claims = new_session(api)
        response = tokenize(claims, "4242424242424242", cvv="7391")
        api.post("/payments", json={"paymentMethodToken": response.json()["token"]})
        stored = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith("sandbox"))
        rows = sqlite3.connect(db).execute("SELECT instrument, scenario FROM payment_tokens").fetchall()
    assert b"4242424242424242" not in stored
    assert b'"7391"' not in stored
    # "cvv" as a name (a JSON key, a column), not three letters inside a random token or id
    assert re.search(rb"(?i)(?<![A-Za-z0-9_-])cvv(?![A-Za-z0-9_-])", stored) is None
    assert "424242" in rows[0][0] and "4242" in rows[0][0]  # what Primer returns is kept


@pytest.mark.parametrize(
    ("headers", "error_id"),
    [
        ({}, "InvalidClientToken"),
        ({"primer-client-token": "3c90c3cc-0d44-4b50-8888-8dd25736052a"}, "InvalidClientToken"),
    ],
)
def test_unknown_access_tokens_are_refused(api, headers, error_id):
    claims = new_session(api)
    for response in (
        httpx.get(claims["configurationUrl"], headers=headers),
        httpx.post(f"{claims['pciUrl']}/payment-instruments", json={}, headers=headers),
        httpx.post(f"{claims['pciUrl']}/payments", json={"paymentMethodToken": "x"}, headers=headers),
    ):
        assert response.status_code == 401
        assert error_of(response)["errorId"] == error_id


def test_expired_access_tokens_are_refused(api, sandbox):
    claims = new_session(api)
    token = card_token(claims)
    sandbox.clock.advance(timedelta(hours=24, seconds=1))
    for response in (
        httpx.get(claims["configurationUrl"], headers=checkout_headers(claims)),
        tokenize(claims),
        httpx.post(
            f"{claims['pciUrl']}/payments",
            json={"paymentMethodToken": token},
            headers=checkout_headers(claims),
        ),
    ):
        assert response.status_code == 401
        assert error_of(response)["errorId"] == "ExpiredClientToken"


def test_the_checkout_pays_with_its_token_and_sees_checkout_statuses(api):
    claims = new_session(api)
    url = f"{claims['pciUrl']}/payments"
    success = httpx.post(
        url, json={"paymentMethodToken": card_token(claims)}, headers=checkout_headers(claims)
    )
    assert success.status_code == 200
    body = success.json()
    assert body["status"] == "SUCCESS"
    assert {"id", "date", "status", "orderId", "currencyCode", "amount"} <= set(body)
    assert body["amount"] == SESSION_TOTAL
    assert api.get(f"/payments/{body['id']}").json()["status"] == "AUTHORIZED"
    declined = httpx.post(
        url,
        json={"paymentMethodToken": card_token(claims, "4000000000000002")},
        headers=checkout_headers(claims),
    ).json()
    assert (declined["status"], declined["paymentFailureReason"]) == ("FAILED", "payment-failed")


def test_the_checkout_cannot_pay_with_another_sessions_token(api):
    mine, theirs = new_session(api), new_session(api)
    token = card_token(theirs)
    response = httpx.post(
        f"{mine['pciUrl']}/payments", json={"paymentMethodToken": token}, headers=checkout_headers(mine)
    )
    assert response.status_code == 400 and "another client session" in error_of(response)["description"]


def test_the_checkout_runs_a_3ds_challenge_end_to_end(api):
    session = {**SESSION, "customer": {**SESSION["customer"], "emailAddress": "ann@example.com"}}
    claims = new_session(api, session)
    token = card_token(claims, "5267648608924299")
    pending = httpx.post(
        f"{claims['pciUrl']}/payments", json={"paymentMethodToken": token}, headers=checkout_headers(claims)
    ).json()
    assert pending["status"] == "PENDING"
    action = pending["requiredAction"]
    assert {"name", "description", "clientToken"} <= set(action) and action["name"] == "3DS_AUTHENTICATION"
    three_ds = claims_of(action["clientToken"])
    assert three_ds["intent"] == "3DS_AUTHENTICATION" and three_ds["pciUrl"] == claims["pciUrl"]
    headers = checkout_headers(three_ds)
    valid = httpx.post(
        f"{three_ds['pciUrl']}/client-token/validate", json={"clientToken": "x"}, headers=headers
    )
    assert valid.json() == {"success": True}
    auth = httpx.post(
        f"{three_ds['pciUrl']}/3ds/{token}/auth", json={"maxProtocolVersion": "2.2.0"}, headers=headers
    )
    assert auth.status_code == 200 and auth.json()["token"] == token
    resumed = httpx.post(
        f"{three_ds['pciUrl']}/payments/{pending['id']}/resume",
        json={"resumeToken": auth.json()["resumeToken"]},
        headers=headers,
    )
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "SUCCESS" and "requiredAction" not in resumed.json()


def test_a_3ds_auth_for_a_payment_that_waits_for_nothing_is_refused(api):
    claims = new_session(api)
    token = card_token(claims)
    httpx.post(
        f"{claims['pciUrl']}/payments", json={"paymentMethodToken": token}, headers=checkout_headers(claims)
    )
    response = httpx.post(f"{claims['pciUrl']}/3ds/{token}/auth", json={}, headers=checkout_headers(claims))
    assert response.status_code == 400 and error_of(response)["errorId"] == "InvalidPaymentStatus"


def test_analytics_are_accepted_and_dropped(api):
    claims = new_session(api)
    response = httpx.post(claims["analyticsUrlV2"], json=[{"eventType": "SDK_FUNCTION_EVENT"}])
    assert response.status_code == 200
    assert api.get("/_sandbox/health").status_code == 200
