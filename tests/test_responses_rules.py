"""Response bodies against a literal model: computed amount, payment-method defaults, field order."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from primer_nb.api.money import derived_amount
from primer_nb.api.responses import create_body, session_body
from primer_nb.api.session import DEFAULT_CARD_NETWORKS

# The order of the spec's session response schema.
SPEC_ORDER = [
    "customerId",
    "orderId",
    "currencyCode",
    "amount",
    "metadata",
    "customer",
    "order",
    "paymentMethod",
]
VAULT_FLAGS = ["vaultOnSuccess", "vaultOn3DS", "vaultOnAgreement"]

line_items = st.lists(
    st.fixed_dictionaries({"amount": st.integers(0, 1000)}, optional={"quantity": st.integers(1, 3)}),
    max_size=2,
)
orders = st.fixed_dictionaries(
    {},
    optional={
        "lineItems": line_items,
        "fees": st.lists(st.fixed_dictionaries({"amount": st.integers(0, 50)}), min_size=1, max_size=2),
        "shipping": st.fixed_dictionaries(
            {}, optional={"amount": st.integers(0, 90), "methodId": st.just("std")}
        ),
        "countryCode": st.just("GB"),
    },
)
payment_methods = st.fixed_dictionaries(
    {},
    optional={
        **{flag: st.booleans() for flag in VAULT_FLAGS},
        "orderedAllowedCardNetworks": st.lists(st.sampled_from(["VISA", "MASTERCARD", "AMEX"]), max_size=2),
        "descriptor": st.just("shop"),
    },
)
fields = {
    "customerId": st.just("c-1"),
    "orderId": st.just("o-1"),
    "currencyCode": st.sampled_from(["GBP", "JPY"]),
    "amount": st.integers(0, 10_000),
    "metadata": st.dictionaries(st.sampled_from("ab"), st.integers(0, 3), min_size=1),
    "customer": st.just({"emailAddress": "a@example.com"}),
    "order": orders,
    "paymentMethod": payment_methods,
    # Keys the spec's order does not name keep their place after the named ones.
    "x-extra": st.just(1),
    "x-other": st.just("2"),
}
# States arrive in any key order; the body must not depend on it.
states = st.lists(st.sampled_from(sorted(fields)), unique=True).flatmap(
    lambda keys: st.fixed_dictionaries({key: fields[key] for key in keys})
)


def reference_body(state: dict[str, Any]) -> dict[str, Any]:
    """§4: the caller's amount, else the derived one; vault flags false and every network by default."""
    body = dict(state)
    amount = state["amount"] if "amount" in state else derived_amount(state.get("order"))
    if amount is not None:
        body["amount"] = amount
    method = dict.fromkeys(VAULT_FLAGS, False) | state.get("paymentMethod", {})
    if not method.get("orderedAllowedCardNetworks"):
        method["orderedAllowedCardNetworks"] = list(DEFAULT_CARD_NETWORKS)
    body["paymentMethod"] = method
    return body


def expected_order(body: dict[str, Any], state: dict[str, Any]) -> list[str]:
    named = [key for key in SPEC_ORDER if key in body]
    return named + [key for key in state if key not in named]


@given(states)
@example({"amount": 5, "order": {"lineItems": [{"amount": 700}]}})
@example({"order": {"lineItems": [{"amount": 700, "quantity": 2}]}})
@example({"x-other": "2", "orderId": "o-1", "x-extra": 1})
def test_session_body_matches_the_reference(state):
    snapshot = copy.deepcopy(state)
    body = session_body(state)
    assert body == reference_body(state)
    assert list(body) == expected_order(body, state)
    assert state == snapshot


@given(
    states,
    st.text(min_size=1, max_size=8),
    st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(timezone(timedelta(hours=2)))),
    st.lists(st.just({"type": "APPLE_PAY"}), max_size=2),
)
def test_create_body_wraps_the_session_body(state, token, expires_at, warnings):
    body = create_body(state, token, expires_at, warnings)
    session = session_body(state)
    assert body == {
        "clientToken": token,
        "clientTokenExpirationDate": (
            expires_at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
        ),
        **session,
        "warnings": warnings,
    }
    assert list(body) == ["clientToken", "clientTokenExpirationDate", *session, "warnings"]


def test_create_body_example():
    expires = datetime(2025, 1, 6, 12, 30, tzinfo=UTC)
    body = create_body({"orderId": "o-1", "amount": 10}, "tok", expires, [])
    assert list(body)[:4] == ["clientToken", "clientTokenExpirationDate", "orderId", "amount"]
    assert body["clientTokenExpirationDate"] == "2025-01-06T12:30:00.000000"
    assert body["warnings"] == []
