"""The pydantic models against Primer's spec, its examples and the seed guide."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from primer_nb.api import envelope
from primer_nb.api import session as models
from primer_nb.api.errors import PrimerValidationError
from primer_nb.api.session import ClientSession, ClientSessionRequest, ClientSessionUpdate, SessionWarning
from primer_nb.api.validation import json_path, parse_request, parse_update

REQUEST_SCHEMAS: dict[str, type[BaseModel]] = {
    "ClientSessionAPIRequest": ClientSessionRequest,
    "ClientSessionUpdateAPIRequest": ClientSessionUpdate,
    "CheckoutPaymentMethodApplePayOptionAPISchema": models.ApplePayOption,
    "ApplePayRecurringRequest": models.ApplePayRecurringRequest,
    "ApplePayDeferredRequest": models.ApplePayDeferredRequest,
    "ApplePayAutomaticReloadRequest": models.ApplePayAutomaticReloadRequest,
    "ApplePayRegularBilling": models.ApplePayRegularBilling,
    "ApplePayTrialBilling": models.ApplePayTrialBilling,
    "ApplePayDeferredBilling": models.ApplePayDeferredBilling,
    "ApplePayAutomaticReloadBilling": models.ApplePayAutomaticReloadBilling,
}
RESPONSE_SCHEMAS = {"ClientSessionAPIResponse", "ClientSessionWithTokenAPIResponse"}


def fix_spec_quirks(name: str, example: dict[str, Any]) -> dict[str, Any]:
    """Mend the published examples that contradict the published schemas.

    - ClientSessionAPIRequest sends ``order.countryCode: "FR,"``: not an ISO
      3166-1 code; the intended value is plainly ``FR``.
    - ClientSessionAPIResponse nests ``paymentMethod`` inside ``order``; it
      belongs at the top level (response models tolerate it either way).
    """
    fixed = copy.deepcopy(example)
    if name == "ClientSessionAPIRequest":
        assert fixed["order"]["countryCode"] == "FR,"
        fixed["order"]["countryCode"] = "FR"
    return fixed


def test_every_schema_example_in_the_spec_is_checked(spec):
    with_examples = {name for name, schema in spec["components"]["schemas"].items() if "example" in schema}
    assert with_examples == set(REQUEST_SCHEMAS) | RESPONSE_SCHEMAS


@pytest.mark.parametrize("name", sorted(REQUEST_SCHEMAS))
def test_spec_request_examples_validate(spec, name):
    example = fix_spec_quirks(name, spec["components"]["schemas"][name]["example"])
    model = REQUEST_SCHEMAS[name].model_validate(example)
    assert model.model_dump(mode="json", by_alias=True, exclude_unset=True) == _jsonable(example)


def _jsonable(value: Any) -> Any:
    # The YAML loader turns date-times into datetime objects; the wire has strings.
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def test_spec_create_example_fails_without_the_quirk_fixes(spec):
    example = spec["components"]["schemas"]["ClientSessionAPIRequest"]["example"]
    with pytest.raises(PrimerValidationError) as caught:
        parse_request(example)
    # paymentMethod.paymentMethodType is not a field either, but nested objects are open.
    assert caught.value.paths == ["$.order.countryCode"]


@pytest.mark.parametrize("name", sorted(RESPONSE_SCHEMAS))
def test_spec_response_examples_parse(spec, name):
    session = ClientSession.model_validate(spec["components"]["schemas"][name]["example"])
    assert session.currency_code == "GBP"
    assert session.order_id == "order-abc"


def test_spec_example_expiry_spelling_and_z_suffix(spec):
    example = spec["components"]["schemas"]["ClientSessionWithTokenAPIResponse"]["example"]
    session = ClientSession.model_validate({**example, "clientExpirationDate": "2019-08-24T14:15:22Z"})
    assert session.expires_at == datetime(2019, 8, 24, 14, 15, 22, tzinfo=UTC)
    assert [(w.type, w.code) for w in session.warnings] == [("TAXJAR", "MISSING_DATA")]


def test_seed_guide_round_trip(seed_example):
    request = parse_request(seed_example["request"])
    assert request.to_wire() == seed_example["request"]
    assert request.total() == 4999  # the top-level amount overrides...
    assert request.derived_amount() == 5000  # ...the 2 × 2500 the lines add up to

    session = ClientSession.model_validate(seed_example["response"])
    assert session.model_dump(mode="json", by_alias=True, exclude_unset=True) == seed_example["response"]
    assert session.raw == seed_example["response"]
    assert session.expires_at == datetime(2021, 8, 12, 16, 14, 8, 578695, tzinfo=UTC)
    assert [(w.type, w.field) for w in session.warnings] == [
        ("APPLE_PAY", "customerDetails.countryCode"),
        ("GOOGLE_PAY", "order.countryCode"),
    ]


def test_response_tolerates_unknown_keys_everywhere():
    session = ClientSession.model_validate(
        {
            "orderId": "o",
            "brandNewField": {"x": 1},
            "order": {"lineItems": [{"amount": 1, "futureFlag": True}], "newOrderThing": 2},
            "customer": {"emailAddress": "a@example.com", "loyaltyTier": "gold"},
            "paymentMethod": {"vaultOnSuccess": True, "newMethodOption": 1},
        }
    )
    assert session.model_extra == {"brandNewField": {"x": 1}}
    assert session.line_items[0].amount == 1


def test_request_forbids_unknown_keys_at_the_top_level_only():
    # The spec closes the two request objects, not the nested ones (Primer drops those keys).
    with pytest.raises(PrimerValidationError) as caught:
        parse_request({"orderID": "x", "order": {"lineItems": [{"amount": 1, "price": 2}]}})
    assert caught.value.paths == ["$.orderID"]
    assert "camelCase" in str(caught.value)
    nested = parse_request({"order": {"lineItems": [{"amount": 1, "price": 2}]}})
    assert nested.to_wire() == {"order": {"lineItems": [{"amount": 1, "price": 2}]}}
    assert nested.to_wire(known_only=True) == {"order": {"lineItems": [{"amount": 1}]}}


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ({"order": {"lineItems": [{"amount": -1}]}}, "$.order.lineItems[0].amount", "negative"),
        ({"order": {"lineItems": [{"amount": 49.99}]}}, "$.order.lineItems[0].amount", "to_minor"),
        ({"order": {"lineItems": [{"amount": "100"}]}}, "$.order.lineItems[0].amount", "whole number"),
        ({"order": {"lineItems": [{"amount": True}]}}, "$.order.lineItems[0].amount", "whole number"),
        ({"order": {"lineItems": [{"amount": 2**63}]}}, "$.order.lineItems[0].amount", "int64"),
        ({"order": {"lineItems": [{"amount": 1, "quantity": -2}]}}, "$.order.lineItems[0].quantity", ""),
        ({"order": {"lineItems": [{"itemId": "x"}]}}, "$.order.lineItems[0].amount", "required"),
        ({"order": {"lineItems": [{"amount": 1, "productType": "physical"}]}}, "$.order.lineItems[0].productType", "PHYSICAL"),
        ({"order": {"fees": [{"amount": 1, "type": ""}]}}, "$.order.fees[0].type", "at least 1"),
        ({"orderId": "x" * 256}, "$.orderId", "at most 255"),
        ({"customerId": ""}, "$.customerId", "at least 1"),
        ({"currencyCode": "gbp"}, "$.currencyCode", "'GBP'"),
        ({"currencyCode": "XYZ"}, "$.currencyCode", "ISO 4217"),
        ({"order": {"countryCode": "UK"}}, "$.order.countryCode", "ISO 3166-1"),
        ({"customer": {"billingAddress": {"countryCode": "fr"}}}, "$.customer.billingAddress.countryCode", "'FR'"),
        ({"customer": {"emailAddress": "john.example.com"}}, "$.customer.emailAddress", "@-sign"),
        ({"customer": {"mobileNumber": ""}}, "$.customer.mobileNumber", "at least 1"),
        ({"metadata": {"flag": True}}, "$.metadata.flag", "strings or integers"),
        ({"metadata": {"ratio": 0.5}}, "$.metadata.ratio", "strings or integers"),
        ({"metadata": {"nested": {"a": 1}}}, "$.metadata.nested", "strings or integers"),
        ({"metadata": {"": "x"}}, "$.metadata", "empty key"),
        ({"metadata": {"order ref": None}}, '$.metadata["order ref"]', "strings or integers"),
        ({"paymentMethod": {"vaultOnSuccess": "true"}}, "$.paymentMethod.vaultOnSuccess", "boolean"),
        ({"paymentMethod": {"paymentType": "RECURRING"}}, "$.paymentMethod.paymentType", "SUBSCRIPTION"),
        ({"paymentMethod": {"authorizationType": "final"}}, "$.paymentMethod.authorizationType", "FINAL"),
        ({"paymentMethod": {"orderedAllowedCardNetworks": ["VISA", "VISA"]}}, "$.paymentMethod.orderedAllowedCardNetworks", "once"),
        ({"paymentMethod": {"options": {"KLARNA": {}}}}, "$.paymentMethod.options.KLARNA.surcharge", "required"),
        ({"paymentMethod": {"options": {"PAYMENT_CARD": {"networks": {"EFTPOS": {}}}}}}, "$.paymentMethod.options.PAYMENT_CARD.networks.EFTPOS", ""),
        ({"order": {"lineItems": [{"amount": 100, "discountAmount": 150}]}}, "$.order.lineItems[0]", "negative"),
    ],
)  # fmt: skip
def test_validation_errors_name_the_json_path_and_the_fix(body, path, words):
    with pytest.raises(PrimerValidationError) as caught:
        parse_request(body)
    assert path in caught.value.paths, caught.value
    description = next(e.description for e in caught.value.errors if e.path == path)
    assert words in description


def test_internationalised_email_is_kept_as_written():
    request = parse_request({"customer": {"emailAddress": "Jöhn@Exämple.com"}})
    assert request.to_wire() == {"customer": {"emailAddress": "Jöhn@Exämple.com"}}


def test_snake_case_attributes_camel_case_wire():
    request = ClientSessionRequest(
        order_id="o-1",
        currency_code="JPY",
        order=models.Order(line_items=[models.LineItem(amount=1500, discount_amount=0)]),
        payment_method=models.PaymentMethodOptions(vault_on_3ds=True),
    )
    assert request.to_wire() == {
        "orderId": "o-1",
        "currencyCode": "JPY",
        "order": {"lineItems": [{"amount": 1500, "discountAmount": 0}]},
        "paymentMethod": {"vaultOn3DS": True},
    }


def test_update_keeps_explicit_null_apart_from_absent():
    update = parse_update(
        {"clientToken": "tok", "customerId": None, "customer": {"emailAddress": None, "firstName": "Ann"}}
    )
    assert update.changes() == {"customerId": None, "customer": {"emailAddress": None, "firstName": "Ann"}}
    assert "orderId" not in update.to_wire()
    assert update.to_wire()["clientToken"] == "tok"


def test_update_requires_client_token_and_refuses_options():
    with pytest.raises(PrimerValidationError) as caught:
        parse_update({"orderId": "x"})
    assert caught.value.paths == ["$.clientToken"]
    with pytest.raises(PrimerValidationError) as caught:
        parse_update({"clientToken": "t", "paymentMethod": {"options": {"GOOGLE_PAY": {"surcharge": {}}}}})
    assert caught.value.paths == ["$.paymentMethod.options"]
    assert "cannot be changed" in caught.value.errors[0].description
    assert parse_update({"clientToken": "t", "paymentMethod": {"vaultOnSuccess": True}}).changes() == {
        "paymentMethod": {"vaultOnSuccess": True}
    }


def test_warnings_in_both_forms_keep_their_original_text():
    text = SessionWarning.model_validate("Apple Pay is missing 'customerDetails.countryCode'")
    assert (text.type, text.code, text.field) == ("APPLE_PAY", "MISSING_DATA", "customerDetails.countryCode")
    obj = SessionWarning.model_validate(
        {
            "type": "TAXJAR",
            "code": "MISSING_DATA",
            "message": "Shipping details are required for calculating tax.",
        }
    )
    assert (obj.type, obj.field) == ("TAXJAR", None)
    assert obj.model_dump() == {
        "type": "TAXJAR",
        "code": "MISSING_DATA",
        "message": "Shipping details are required for calculating tax.",
    }
    unknown = SessionWarning.model_validate("Something odd happened")
    assert (unknown.type, unknown.message) == (None, "Something odd happened")


def test_single_warning_object_as_the_schema_says():
    session = ClientSession.model_validate({"warnings": {"type": "TAXJAR", "code": "X", "message": "m"}})
    assert [w.type for w in session.warnings] == ["TAXJAR"]


@pytest.mark.parametrize(
    "value", ["2030-01-02T03:04:05.123456", "2030-01-02T03:04:05.123456Z", "2030-01-02T03:04:05.123456+00:00"]
)
def test_expiry_is_aware_utc_whatever_the_spelling(value):
    session = ClientSession.model_validate({"clientTokenExpirationDate": value})
    assert session.expires_at == datetime(2030, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    dumped = session.model_dump(mode="json", by_alias=True, exclude_unset=True)
    assert dumped == {"clientTokenExpirationDate": "2030-01-02T03:04:05.123456"}


def test_repr_masks_the_client_token(seed_example):
    session = ClientSession.model_validate(seed_example["response"])
    token = seed_example["response"]["clientToken"]
    assert token not in repr(session)
    assert token not in str(session)
    assert session.masked_token in repr(session)
    update = ClientSessionUpdate(client_token=token)
    assert token not in repr(update)


def test_api_error_envelope_parses_the_spec_example(spec):
    example = spec["paths"]["/client-session"]["post"]["responses"]["422"]["content"]["application/json"][
        "example"
    ]
    error = envelope.ApiError.model_validate(example)
    assert error.error.error_id == "RequestValidationError"
    assert error.error.validation_errors[0]["errors"][0]["path"] == "$.customerId"


def test_json_path_formats_indexes_and_odd_keys():
    assert json_path(()) == "$"
    assert (
        json_path(("order", "lineItems", 3, "productData", "sku")) == "$.order.lineItems[3].productData.sku"
    )
    assert json_path(("metadata", "a-b")) == '$.metadata["a-b"]'


def test_plain_pydantic_error_still_available():
    with pytest.raises(ValidationError):
        ClientSessionRequest.model_validate({"amount": -1})
