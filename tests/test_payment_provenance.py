"""Where a payment's fields came from: the pure rule beside the inheritance rule it explains."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from primer_nb.api.payment_rules import inherit, provenance

SESSION = {
    "orderId": "o-1",
    "currencyCode": "GBP",
    "customerId": "c-1",
    "order": {
        "countryCode": "GB",
        "lineItems": [{"amount": 1500, "quantity": 2}],
        "shipping": {"amount": 300},
    },
    "customer": {"firstName": "Ann", "billingAddress": {"city": "Leeds"}},
    "metadata": {"channel": "web"},
    "paymentMethod": {"vaultOnSuccess": False, "orderedAllowedCardNetworks": ["VISA"]},
}


def test_a_token_only_payment_takes_every_field_from_the_session():
    found = provenance({}, SESSION)
    assert set(found.values()) == {"session"}
    assert list(found) == [
        "orderId", "currencyCode", "amount", "order.countryCode", "order.lineItems", "order.shipping",
        "customerId", "customer.firstName", "customer.billingAddress", "metadata.channel",
        "paymentMethod.vaultOnSuccess",
    ]  # fmt: skip


def test_request_fields_override_the_sessions_and_new_ones_are_the_requests():
    overrides = {"orderId": "o-2", "customer": {"emailAddress": "a@example.com", "firstName": "Annie"},
                 "metadata": {"attempt": 2}}  # fmt: skip
    found = provenance(overrides, SESSION)
    assert found["orderId"] == "overridden"
    assert found["customer.firstName"] == "overridden"
    assert found["customer.emailAddress"] == "request"
    assert found["customer.billingAddress"] == "session"
    assert found["metadata.attempt"] == "request" and found["metadata.channel"] == "session"
    assert found["amount"] == "session"


def test_an_amount_derived_from_the_requests_line_items_is_the_requests():
    found = provenance({"order": {"lineItems": [{"amount": 700}]}}, SESSION)
    assert found["amount"] == "overridden" and found["order.lineItems"] == "overridden"
    assert found["order.shipping"] == "session"
    assert provenance({"amount": 5}, {"currencyCode": "GBP"})["amount"] == "request"


def test_an_unknown_session_leaves_only_request_and_session_and_skips_defaults():
    payment = {**inherit({"orderId": "x"}, SESSION), "paymentMethod": {"authorizationType": "FINAL"}}
    found = provenance({"orderId": "x"}, None, payment)
    assert found["orderId"] == "request"
    assert found["currencyCode"] == "session"
    assert "paymentMethod.authorizationType" not in found  # a default, not the session's


def test_defaults_the_api_adds_are_left_out_when_the_session_is_known():
    payment = {**inherit({}, SESSION), "paymentMethod": {"authorizationType": "FINAL"}}
    assert "paymentMethod.authorizationType" not in provenance({}, SESSION, payment)
    chosen = provenance({"paymentMethod": {"authorizationType": "ESTIMATED"}}, SESSION)
    assert chosen["paymentMethod.authorizationType"] == "request"


_text = st.text("abc", min_size=1, max_size=3)
_maps = st.dictionaries(st.sampled_from(["firstName", "emailAddress", "taxId"]), _text, max_size=3)


@given(
    session=st.fixed_dictionaries({}, optional={"orderId": _text, "currencyCode": st.just("GBP"),
                                                "amount": st.integers(0, 9), "customer": _maps}),
    overrides=st.fixed_dictionaries({}, optional={"orderId": _text, "amount": st.integers(0, 9),
                                                  "customer": _maps}),
)  # fmt: skip
def test_every_inherited_path_is_placed_and_each_source_is_right(session, overrides):
    fields = inherit(overrides, session)
    found = provenance(overrides, session)
    expected_paths = [
        f"customer.{key}" if name == "customer" else name
        for name, value in fields.items()
        for key in (value if name == "customer" else [None])
    ]
    assert sorted(found) == sorted(expected_paths)
    for path, source in found.items():
        top, _, key = path.partition(".")
        ours = (overrides.get(top) or {}).get(key) if key else overrides.get(top)
        theirs = (session.get(top) or {}).get(key) if key else session.get(top)
        assert source == ("session" if ours is None else "overridden" if theirs is not None else "request")
