"""Sandbox fidelity: accept what Primer accepts, refuse what Primer refuses (issue 15).

Each test pins one rule against its source: Primer's v2.4 spec, its error
example files, its lifecycle page or its guides (see the README's "where
sources disagree" table).
"""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primer_nb import PrimerClient, PrimerPreflightWarning
from primer_nb.api.errors import PrimerValidationError, VersionGoneError, error_from_response
from primer_nb.api.fields import INT64_MAX
from primer_nb.api.protocol import API_VERSION, SUPPORTED_VERSIONS, judge_version
from primer_nb.api.validation import parse_request, parse_update
from primer_nb.cli import build_parser
from primer_nb.client.preflight import suggest_field, unknown_field_messages
from primer_nb.sandbox import LocalSandbox, SandboxProcess, build_service

from .conftest import REFERENCE

EXAMPLES = REFERENCE / "primer-openapi"
VERSION_HEADER = "$.headers['X-Api-Version']"
OPTIONS = {
    "GOOGLE_PAY": {"surcharge": {"amount": 20}},
    "PAYMENT_CARD": {"networks": {"VISA": {"surcharge": {"amount": 10}}}},
}


def create(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/client-session", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def get(api: httpx.Client, token: str) -> dict[str, Any]:
    response = api.get("/client-session", params={"clientToken": token})
    assert response.status_code == 200, response.text
    return response.json()


def paths_of(response: httpx.Response) -> list[str]:
    return [e["path"] for g in response.json()["error"]["validationErrors"] for e in g["errors"]]


# ---------------------------------------------------------------- 1. paymentMethod.options and PATCH


@pytest.mark.parametrize(
    "change",
    [
        {"paymentMethod": {"options": None}},
        {"paymentMethod": None},
        {"paymentMethod": {"options": {}}},
        {"paymentMethod": {"vaultOnSuccess": True, "options": None}},
    ],
)
def test_patch_can_neither_change_nor_delete_the_options(api, change):
    token = create(api, {"orderId": "o", "paymentMethod": {"descriptor": "Shoes", "options": OPTIONS}})[
        "clientToken"
    ]
    before = get(api, token)
    response = api.patch("/client-session", json={"clientToken": token, **change})
    assert response.status_code == 422
    assert response.json()["error"]["errorId"] == "RequestValidationError"
    assert paths_of(response) == ["$.paymentMethod.options"]
    after = get(api, token)
    assert after == before
    assert after["paymentMethod"]["options"] == OPTIONS


def test_payment_method_null_clears_the_other_fields_when_there_are_no_options(api):
    token = create(api, {"paymentMethod": {"vaultOnSuccess": True, "descriptor": "Shoes"}})["clientToken"]
    response = api.patch("/client-session", json={"clientToken": token, "paymentMethod": None})
    assert response.status_code == 200, response.text
    method = response.json()["paymentMethod"]
    assert method["vaultOnSuccess"] is False  # back to the documented default
    assert "descriptor" not in method


def test_the_other_payment_method_fields_still_change_beside_options(api):
    token = create(api, {"paymentMethod": {"options": OPTIONS}})["clientToken"]
    response = api.patch(
        "/client-session", json={"clientToken": token, "paymentMethod": {"vaultOnSuccess": True}}
    )
    assert response.status_code == 200
    assert response.json()["paymentMethod"]["vaultOnSuccess"] is True
    assert response.json()["paymentMethod"]["options"] == OPTIONS


def test_client_refuses_options_null_before_sending():
    with pytest.raises(PrimerValidationError) as caught:
        parse_update({"clientToken": "t", "paymentMethod": {"options": None}})
    assert caught.value.paths == ["$.paymentMethod.options"]
    assert parse_update({"clientToken": "t", "paymentMethod": None}).changes() == {"paymentMethod": None}


# ---------------------------------------------------------------- 2. Content-Type


@pytest.mark.parametrize(
    "content_type", ["application/x-www-form-urlencoded", "text/plain", "", "application/json; charset=utf-8"]
)
def test_a_json_body_is_accepted_whatever_its_content_type(api, content_type):
    body = json.dumps({"orderId": "o", "currencyCode": "GBP"}).encode()
    response = api.post("/client-session", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    token = response.json()["clientToken"]
    patch = json.dumps({"clientToken": token, "orderId": "p"}).encode()
    patched = api.patch("/client-session", content=patch, headers={"Content-Type": content_type})
    assert patched.status_code == 200, patched.text
    assert patched.json()["orderId"] == "p"


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"orderId=o&currencyCode=GBP", "application/x-www-form-urlencoded", 415),
        (b"", "", 415),
        (b"orderId=o", "application/json", 422),
        (b'{"orderId": 5}', "text/plain", 422),  # JSON, so judged: a number is not a string
    ],
)
def test_a_body_that_does_not_parse_still_gets_the_envelope(api, content, content_type, status):
    response = api.post("/client-session", content=content, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.json()["error"]["diagnosticsId"].isdigit()


# ---------------------------------------------------------------- 3. versions


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def test_supported_versions_and_their_lifecycle():
    assert [v.number for v in SUPPORTED_VERSIONS] == ["2.1", "2.2", "2.3", "2.4"]
    for version in SUPPORTED_VERSIONS[:-1]:
        assert (version.deprecated_on, version.end_of_life_on) == (date(2026, 6, 1), date(2027, 6, 1))
        assert version.stage(at(date(2026, 5, 31))) == "Supported"
        assert version.stage(at(date(2026, 6, 1))) == "Deprecated"
        assert version.stage(at(date(2027, 6, 1)) - timedelta(microseconds=1)) == "Deprecated"
        assert version.stage(at(date(2027, 6, 1))) == "End of life"
    assert SUPPORTED_VERSIONS[-1].stage(at(date(2099, 1, 1))) == "GA"


@pytest.mark.parametrize("sent", ["2.1", "2.2", "2.3", "2.4", " 2.2 "])
def test_every_supported_version_is_served_until_its_end_of_life(sent):
    before = judge_version(sent, at(date(2027, 6, 1)) - timedelta(microseconds=1))
    assert before.accepted and before.version is not None and before.version.number == sent.strip()
    after = judge_version(sent, at(date(2027, 6, 1)))
    assert after.accepted == (sent.strip() == "2.4")
    if sent.strip() != "2.4":
        assert after.problem == "gone"


def test_a_missing_header_gets_the_earliest_version_still_served():
    served = judge_version(None, at(date(2026, 1, 1)))
    assert served.accepted and served.version is not None and served.version.number == "2.1"
    later = judge_version(None, at(date(2030, 1, 1)))
    assert later.accepted and later.version is not None and later.version.number == "2.4"


@pytest.mark.parametrize("sent", ["1.7", "abc", "2.4.0", "v2.4", "2", "2021-09-27", ""])
def test_unknown_versions_are_refused(sent):
    verdict = judge_version(sent, at(date(2026, 1, 1)))
    assert not verdict.accepted and verdict.problem == "unknown"


@pytest.mark.parametrize(
    ("sent", "problem"), [("2.4", None), (None, "missing"), ("2.1", "strict"), ("abc", "unknown")]
)
def test_strict_mode_serves_2_4_only(sent, problem):
    assert judge_version(sent, at(date(2026, 1, 1)), strict=True).problem == problem


def test_sandbox_serves_older_versions_and_a_missing_header(sandbox):
    # Primer's own example server (primer-io/checkout-web) creates sessions with 2.2.
    for version in ("2.1", "2.2", "2.3"):
        headers = {"X-Api-Key": sandbox.api_key, "X-Api-Version": version}
        response = httpx.post(f"{sandbox.base_url}/client-session", json={}, headers=headers)
        assert response.status_code == 200 and response.json()["clientToken"]
    bare = {"X-Api-Key": sandbox.api_key}
    created = httpx.post(f"{sandbox.base_url}/client-session", json={"orderId": "o"}, headers=bare)
    assert created.status_code == 200
    token = created.json()["clientToken"]
    got = httpx.get(f"{sandbox.base_url}/client-session", params={"clientToken": token}, headers=bare)
    assert got.status_code == 200
    patched = httpx.patch(
        f"{sandbox.base_url}/client-session", json={"clientToken": token, "orderId": "p"}, headers=bare
    )
    assert patched.status_code == 200


@pytest.mark.parametrize("version", ["1.7", "abc"])
def test_sandbox_refuses_unknown_versions_naming_the_header(sandbox, version):
    headers = {"X-Api-Key": sandbox.api_key, "X-Api-Version": version}
    response = httpx.post(f"{sandbox.base_url}/client-session", json={}, headers=headers)
    assert response.status_code == 422
    assert paths_of(response) == [VERSION_HEADER]
    assert repr(version) in response.json()["error"]["validationErrors"][0]["errors"][0]["description"]


def test_end_of_life_is_judged_on_the_sandbox_clock(sandbox):
    url = f"{sandbox.base_url}/client-session"
    old = {"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.1"}
    token = httpx.post(url, json={}, headers=old).json()["clientToken"]
    sandbox.clock.set(datetime(2027, 6, 1, tzinfo=UTC) - timedelta(seconds=1))
    assert httpx.get(url, params={"clientToken": token}, headers=old).status_code != 410
    sandbox.clock.set(datetime(2027, 6, 1, tzinfo=UTC))
    for response in (
        httpx.post(url, json={}, headers=old),
        httpx.get(url, params={"clientToken": token}, headers=old),
        httpx.patch(url, json={"clientToken": token}, headers=old),
    ):
        assert response.status_code == 410
        error = response.json()["error"]
        assert error["errorId"] == "Gone" and "2027-06-01" in error["description"]
        assert isinstance(error_from_response(410, response.json()), VersionGoneError)
    current = {"X-Api-Key": sandbox.api_key, "X-Api-Version": API_VERSION}
    assert httpx.post(url, json={}, headers=current).status_code == 200
    assert httpx.post(url, json={}, headers={"X-Api-Key": sandbox.api_key}).status_code == 200


def test_strict_version_option_on_the_command_line():
    parser = build_parser()
    assert parser.parse_args(["sandbox", "--strict-version"]).strict_version is True
    assert parser.parse_args(["sandbox"]).strict_version is False
    assert parser.parse_args(["sandbox", "--lenient-version"]).strict_version is False  # hidden no-op
    sandbox_help = parser._subparsers._group_actions[0].choices["sandbox"].format_help()
    assert "--strict-version" in sandbox_help and "--lenient-version" not in sandbox_help


def test_strict_version_reaches_a_sandbox_process():
    with SandboxProcess(strict_version=True) as sandbox:
        url = f"{sandbox.base_url}/client-session"
        assert httpx.post(url, json={}, headers={"X-Api-Key": sandbox.api_key}).status_code == 422
    with SandboxProcess() as sandbox:
        url = f"{sandbox.base_url}/client-session"
        assert httpx.post(url, json={}, headers={"X-Api-Key": sandbox.api_key}).status_code == 200


def test_strict_sandbox_names_the_header():
    with LocalSandbox(strict_version=True) as sandbox:
        url = f"{sandbox.base_url}/client-session"
        response = httpx.post(url, json={}, headers={"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.2"})
        assert response.status_code == 422 and paths_of(response) == [VERSION_HEADER]
        assert "strict" in response.json()["error"]["validationErrors"][0]["errors"][0]["description"]
        ok = httpx.post(url, json={}, headers={"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.4"})
        assert ok.status_code == 200


# ---------------------------------------------------------------- 4. open nested objects, PATCH limits


def test_unknown_nested_keys_are_accepted_and_dropped(api):
    body = {
        "orderId": "o",
        "order": {"lineItems": [{"amount": 100, "sku": "S-1"}], "giftWrap": True},
        "customer": {"billingAddress": {"line1": "1 High St", "city": "Leeds"}},
        "paymentMethod": {
            "paymentMethodType": "PAYMENT_CARD",
            "options": {
                "GOOGLE_PAY": {"surcharge": {"amount": 5, "currency": "GBP"}, "buttonColour": "black"},
                "KLARNA": {"surcharge": {"amount": 0}, "extraMerchantData": {"anything": {"goes": [1]}}},
            },
        },
    }
    created = create(api, body)
    for session in (created, get(api, created["clientToken"])):
        assert session["order"] == {"lineItems": [{"amount": 100}]}
        assert session["customer"] == {"billingAddress": {"city": "Leeds"}}
        assert "paymentMethodType" not in session["paymentMethod"]
        assert session["paymentMethod"]["options"] == {
            "GOOGLE_PAY": {"surcharge": {"amount": 5}},
            "KLARNA": {"surcharge": {"amount": 0}, "extraMerchantData": {"anything": {"goes": [1]}}},
        }
    patched = api.patch(
        "/client-session",
        json={"clientToken": created["clientToken"], "customer": {"emailAdress": "a@example.com"}},
    )
    assert patched.status_code == 200
    assert patched.json()["customer"] == {"billingAddress": {"city": "Leeds"}}


def test_the_specs_own_create_example_is_accepted(api, spec):
    example = copy.deepcopy(spec["components"]["schemas"]["ClientSessionAPIRequest"]["example"])
    example["order"]["countryCode"] = "FR"  # the example's "FR," is not a country code
    assert example["paymentMethod"]["paymentMethodType"] == "PAYMENT_CARD"
    created = create(api, example)
    assert "paymentMethodType" not in created["paymentMethod"]
    assert created["paymentMethod"]["descriptor"] == "Purchase: Shoes"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"orderID": "o"}, "$.orderID"),  # the two request objects are closed
        ({"paymentMethod": {"options": {"PAYMENT_CARD": {"networks": {"EFTPOS": {}}}}}},
         "$.paymentMethod.options.PAYMENT_CARD.networks.EFTPOS"),  # so is the networks map
    ],
)  # fmt: skip
def test_closed_objects_still_refuse_unknown_keys(api, body, path):
    response = api.post("/client-session", json=body)
    assert response.status_code == 422
    assert path in paths_of(response)


def test_patch_takes_what_the_patch_schema_allows_within_what_a_session_can_hold(api):
    token = create(api, {"orderId": "o", "customerId": "c", "currencyCode": "GBP"})["clientToken"]

    def patch(**change: Any) -> httpx.Response:
        return api.patch("/client-session", json={"clientToken": token, **change})

    # The PATCH schema sets no minimum length; the response schema none either.
    assert patch(orderId="", customerId="").json()["orderId"] == ""
    assert patch(orderId="x" * 255).status_code == 200
    # The response schema caps orderId/customerId at 255 and keeps currencyCode to ISO 4217.
    for change, path in (
        ({"orderId": "x" * 256}, "$.orderId"),
        ({"customerId": "x" * 256}, "$.customerId"),
        ({"currencyCode": "XYZ"}, "$.currencyCode"),
        ({"currencyCode": "gbp"}, "$.currencyCode"),
    ):
        response = patch(**change)
        assert response.status_code == 422 and paths_of(response) == [path], response.text
    assert get(api, token)["currencyCode"] == "GBP"
    # The client checks a PATCH body against the PATCH schema only, and leaves the rest to the server.
    assert parse_update({"clientToken": token, "currencyCode": "XYZ", "orderId": "x" * 300}).changes() == {
        "currencyCode": "XYZ",
        "orderId": "x" * 300,
    }


@pytest.mark.parametrize(
    ("key", "model", "suggestion"),
    [
        ("emailAdress", "Customer", "emailAddress"),
        ("itemID", "LineItem", "itemId"),
        ("quantitiy", "LineItem", "quantity"),
        ("sku", "LineItem", "productData.sku"),
        ("line1", "Address", "addressLine1"),
        ("discount", "LineItem", "discountAmount"),
        ("paymentMethodType", "PaymentMethodOptions", None),
        ("colour", "LineItem", None),
    ],
)
def test_suggestions_for_unknown_keys(key, model, suggestion):
    from primer_nb.api import session

    assert suggest_field(key, getattr(session, model)) == suggestion


def test_preflight_warns_about_likely_typos():
    def handler(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)
        assert sent["customer"]["emailAdress"] == "a@example.com"  # sent as given: Primer decides
        return httpx.Response(200, json={"clientToken": "t", **sent})

    client = PrimerClient("sk_test_fidelity_0123", environment="sandbox",
                          transport=httpx.MockTransport(handler), ledger=False)  # fmt: skip
    with pytest.warns(PrimerPreflightWarning) as record:
        client.create_client_session({"orderId": "o", "customer": {"emailAdress": "a@example.com"}})
    messages = [str(w.message) for w in record]
    assert any("$.customer.emailAdress" in m and "$.customer.emailAddress?" in m for m in messages)
    assert unknown_field_messages(parse_request({"customer": {"emailAddress": "a@example.com"}})) == []


# ---------------------------------------------------------------- 5. every format of the request schemas

PROBES: dict[str, list[Any]] = {
    "int64": [2**63, 2**64],
    "email": ["not an email", "ann@"],
    "date-time": ["not a date-time", "2025-06-01", "2025-06-01T00:00:00", "2025-13-01T00:00:00Z", 1748736000],
    "uri": ["not a url", "example.com/manage", "https://exa mple.com"],
}
VALID = {"email": "ann@example.com", "date-time": "2025-06-01T00:00:00Z", "uri": "https://example.com/manage"}
GENERIC_METHOD = "<PAYMENT_METHOD_TYPE>"


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema or "allOf" in schema:
        if "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        else:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged = {**_resolve(spec, part), **merged}
            schema = merged
    return schema


def _wire(key: str) -> str:
    return "GOOGLE_PAY" if key == GENERIC_METHOD else key


def formats_in(
    spec: dict[str, Any], schema: dict[str, Any], path: tuple = ()
) -> list[tuple[tuple, str, dict]]:
    """Every ``(path, format, schema)`` under ``schema``; properties sharing a $ref are walked once."""
    found = []
    if "format" in schema:
        found.append((path, schema["format"], schema))
    resolved = _resolve(spec, schema)
    if "format" in resolved and "format" not in schema:
        found.append((path, resolved["format"], resolved))
    if resolved.get("type") == "array" or "items" in resolved:
        found += formats_in(spec, resolved["items"], (*path, 0))
    seen_refs = set()
    for key, prop in (resolved.get("properties") or {}).items():
        if "$ref" in prop and prop["$ref"] in seen_refs:
            continue
        seen_refs.add(prop.get("$ref"))
        found += formats_in(spec, prop, (*path, _wire(key)))
    return found


def minimal(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """The smallest valid instance of ``schema``: required properties only."""
    schema = _resolve(spec, schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        return {k: minimal(spec, schema["properties"][k]) for k in schema.get("required", [])}
    if kind == "string":
        return VALID.get(schema.get("format", ""), "x" * max(1, schema.get("minLength", 1)))
    if kind == "integer":
        return int(schema.get("minimum", 0))
    return {"number": 0, "boolean": False, "array": []}[kind]


def body_with(spec: dict[str, Any], schema: dict[str, Any], path: tuple, value: Any) -> Any:
    """A minimal valid instance of ``schema`` with ``value`` placed at ``path``."""
    if not path:
        return value
    schema = _resolve(spec, schema)
    head, *rest = path
    if head == 0:
        return [body_with(spec, schema["items"], tuple(rest), value)]
    properties = schema["properties"]
    prop = properties.get(head) or properties[GENERIC_METHOD]
    body = {k: minimal(spec, properties[k]) for k in schema.get("required", []) if k != head}
    body[head] = body_with(spec, prop, tuple(rest), value)
    return body


def json_path_of(path: tuple) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


REQUESTS = {"POST": "ClientSessionAPIRequest", "PATCH": "ClientSessionUpdateAPIRequest"}


def test_the_request_schemas_declare_the_formats_we_probe(spec):
    schemas = spec["components"]["schemas"]
    found = {fmt for name in REQUESTS.values() for _, fmt, _ in formats_in(spec, schemas[name])}
    assert found == set(PROBES), "a format appeared or went: give it probe values"


@pytest.mark.parametrize("method", sorted(REQUESTS))
def test_every_format_in_the_request_schemas_is_enforced(spec, api, method):
    root = spec["components"]["schemas"][REQUESTS[method]]
    token = create(api, {})["clientToken"]
    checked: set[str] = set()
    for path, fmt, schema in formats_in(spec, root):
        if method == "PATCH" and path[:2] == ("paymentMethod", "options"):
            continue  # options cannot be patched at all

        def send(value: Any, path: tuple = path) -> httpx.Response:
            body = body_with(spec, root, path, value)
            if method == "PATCH":
                body["clientToken"] = token
            return api.request(method, "/client-session", json=body)

        valid = VALID.get(fmt, int(schema.get("minimum", 0)))
        assert send(valid).status_code == 200, (path, send(valid).text)
        for probe in PROBES[fmt]:
            response = send(probe)
            assert response.status_code == 422, (path, probe, response.text)
            assert json_path_of(path) in paths_of(response), (path, probe, response.text)
        checked.add(fmt)
    # Apple Pay's uri and date-time fields live under paymentMethod.options, which PATCH cannot reach.
    assert checked == (set(PROBES) if method == "POST" else {"int64", "email"})


def test_int64_limits_are_exact(api):
    assert create(api, {"amount": INT64_MAX})["amount"] == INT64_MAX
    interval = {"label": "Plan", "recurringIntervalCount": "3"}
    request = {"managementUrl": "https://example.com/m", "regularBilling": interval}
    body = {"paymentMethod": {"options": {"APPLE_PAY": {"recurringPaymentRequest": request}}}}
    response = api.post("/client-session", json=body)
    assert response.status_code == 422  # a numeric string is not an integer
    weight = {"order": {"lineItems": [{"amount": 1, "productData": {"weight": "1.5"}}]}}
    assert api.post("/client-session", json=weight).status_code == 422  # nor a number


def test_formats_are_kept_as_written(api):
    request = {
        "managementUrl": "https://Example.com/manage?x=1",
        "regularBilling": {"label": "Plan", "recurringStartDate": "2025-06-01T00:00:00+02:00"},
    }
    body = {"paymentMethod": {"options": {"APPLE_PAY": {"recurringPaymentRequest": request}}}}
    stored = create(api, body)["paymentMethod"]["options"]["APPLE_PAY"]["recurringPaymentRequest"]
    assert stored == request


# ---------------------------------------------------------------- 6. Primer's own error texts


def example(name: str) -> dict[str, Any]:
    path = EXAMPLES / name
    if not path.exists():
        pytest.skip(f"Primer's error example is not beside the project (set PRIMER_NB_REFERENCE): {path}")
    return json.loads(path.read_text())["error"]


def same_words(response: httpx.Response, expected: dict[str, Any]) -> None:
    error = response.json()["error"]
    assert error["errorId"] == expected["errorId"]
    assert error["description"] == expected["description"]
    assert error.get("recoverySuggestion") == expected.get("recoverySuggestion")


def test_empty_metadata_key_uses_primers_words(api):
    expected = example("primer-post-client-session-response-400-metadatacontainsemptykey.json")
    response = api.post("/client-session", json={"metadata": {"": "x"}})
    assert response.status_code == 400
    same_words(response, expected)
    token = create(api, {})["clientToken"]
    patched = api.patch("/client-session", json={"clientToken": token, "metadata": {"": "x"}})
    assert patched.status_code == 400
    same_words(patched, expected)


@pytest.mark.parametrize(
    ("method", "name"),
    [
        ("GET", "primer-post-client-session-response-400-clientsessionvalidationerror.json"),
        ("PATCH", "primer-patch-client-session-response-400-clientsessionvalidationerror.json"),
    ],
)
def test_invalid_client_tokens_use_primers_words(sandbox, api, method, name):
    expected = example(name)
    stale = create(api, {})["clientToken"]
    sandbox.clock.advance(timedelta(hours=25))
    for token, reason in (("nonsense", "not a client token"), (stale, "expired")):
        if method == "GET":
            response = api.get("/client-session", params={"clientToken": token})
        else:
            response = api.patch("/client-session", json={"clientToken": token, "orderId": "x"})
        assert response.status_code == 400
        same_words(response, expected)
        (problem,) = response.json()["error"]["validationErrors"][0]["errors"]
        assert problem["path"] == "$.clientToken" and reason in problem["description"]


def test_422_uses_the_specs_generic_description(spec, api):
    expected = spec["paths"]["/client-session"]["post"]["responses"]["422"]["content"]["application/json"][
        "example"
    ]["error"]
    response = api.post("/client-session", json={"customerId": 5})
    assert response.status_code == 422
    same_words(response, expected)
    group = response.json()["error"]["validationErrors"][0]
    assert group["model"] == expected["validationErrors"][0]["model"]
    assert group["errors"][0]["path"] == expected["validationErrors"][0]["errors"][0]["path"]
    assert group["errors"][0]["description"]  # the kit's own hint stays here


# ---------------------------------------------------------------- 7. expiry precision


def test_expiry_keeps_microseconds_and_exp_is_its_whole_second():
    created_at = datetime(2025, 3, 1, 12, 0, 0, 578695, tzinfo=UTC)
    with LocalSandbox(deterministic=True) as sandbox:
        sandbox.clock.set(created_at)
        headers = {"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.4"}
        with httpx.Client(base_url=sandbox.base_url, headers=headers) as api:
            body = create(api, {})
            assert body["clientTokenExpirationDate"] == "2025-03-02T12:00:00.578695"
            claims = jwt.decode(body["clientToken"], options={"verify_signature": False})
            expiry = datetime.fromisoformat(body["clientTokenExpirationDate"]).replace(tzinfo=UTC)
            assert (
                claims["exp"]
                == math.floor(expiry.timestamp())
                == int(datetime(2025, 3, 2, 12, tzinfo=UTC).timestamp())
            )
            assert claims["exp"] - claims["iat"] == 24 * 3600
            # The written expiry decides: valid through its last microsecond, refused from it on.
            sandbox.clock.set(expiry - timedelta(microseconds=1))
            assert api.get("/client-session", params={"clientToken": body["clientToken"]}).status_code == 200
            sandbox.clock.set(expiry)
            assert api.get("/client-session", params={"clientToken": body["clientToken"]}).status_code == 400


def test_whole_second_creation_still_writes_microseconds(sandbox, api):
    sandbox.clock.set(datetime(2025, 3, 1, 12, tzinfo=UTC))
    text = create(api, {})["clientTokenExpirationDate"]
    assert len(text.split(".")[1]) == 6


# ---------------------------------------------------------------- never 5xx, whatever a PATCH holds

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
)
json_values = st.recursive(
    json_leaves,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["amount", "options", "vaultOnSuccess", "x", "", "GOOGLE_PAY"]),
            children,
            max_size=3,
        )
    ),
    max_leaves=10,
)
patch_bodies = st.dictionaries(
    st.sampled_from(
        [
            "orderId",
            "customerId",
            "currencyCode",
            "amount",
            "metadata",
            "customer",
            "order",
            "paymentMethod",
            "surprise",
        ]
    ),
    json_values,
    max_size=4,
)


@settings(max_examples=300, database=None)
@given(body=patch_bodies)
def test_a_patch_with_a_valid_token_never_fails_the_server(body):
    service = build_service()
    try:
        headers = {"x-api-key": "k", "content-type": "application/json"}
        session = json.dumps({"orderId": "o", "paymentMethod": {"options": OPTIONS}}).encode()
        token = service.create(headers, session, "http://sb/").body["clientToken"]
        before = service.retrieve(token).body
        reply = service.update(headers, json.dumps({**body, "clientToken": token}).encode())
        assert reply.status in (200, 400, 422), reply.body
        after = service.retrieve(token).body
        assert after["paymentMethod"]["options"] == OPTIONS
        if reply.status != 200:
            assert after == before
    finally:
        service.store.close()
