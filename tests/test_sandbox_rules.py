"""The domain core's PATCH rules and their inverse (property-based), response bodies, tokens."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primer_nb.api.patching import NOT_PATCHABLE, apply_patch, patch_body, strip_empty
from primer_nb.api.responses import session_body
from primer_nb.api.session import DEFAULT_CARD_NETWORKS
from primer_nb.sandbox import build_service
from primer_nb.sandbox.core.tokens import TOKEN_LIFETIME, InvalidToken, TokenIssuer

MERGED = {"customer", "order", "paymentMethod"}


def reference_patch(state: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A small, literal model of the documented PATCH semantics (behaviour reference §5)."""

    def without_nulls(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: without_nulls(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [without_nulls(v) for v in value]
        return value

    result: dict[str, Any] = {}
    for key in state.keys() | changes.keys():
        if key not in changes:
            result[key] = state[key]
        elif changes[key] is None:
            continue  # null clears
        elif key in MERGED:
            old, new = state.get(key) or {}, changes[key]
            result[key] = {
                k: (without_nulls(new[k]) if k in new else old[k])
                for k in old.keys() | new.keys()
                if not (k in new and new[k] is None)
            }
        else:
            result[key] = without_nulls(changes[key])  # scalars, metadata and arrays: replaced
    return strip_empty(result)


scalars = st.one_of(st.text(min_size=1, max_size=5), st.integers(0, 10_000))
line_items = st.lists(
    st.fixed_dictionaries(
        {"amount": st.integers(0, 1000)}, optional={"itemId": st.text(min_size=1, max_size=4)}
    ),
    max_size=3,
)
address = st.fixed_dictionaries(
    {},
    optional={
        "city": st.one_of(st.none(), st.text(min_size=1, max_size=5)),
        "countryCode": st.sampled_from(["GB", "FR"]),
    },
)
customer = st.fixed_dictionaries(
    {},
    optional={
        "emailAddress": st.one_of(st.none(), st.just("a@example.com")),
        "firstName": st.one_of(st.none(), st.text(min_size=1, max_size=5)),
        "billingAddress": st.one_of(st.none(), address),
    },
)
order = st.fixed_dictionaries(
    {},
    optional={
        "lineItems": st.one_of(st.none(), line_items),
        "countryCode": st.one_of(st.none(), st.sampled_from(["GB", "DE"])),
        "shipping": st.one_of(st.none(), st.fixed_dictionaries({"amount": st.integers(0, 500)})),
    },
)
payment_method = st.fixed_dictionaries(
    {},
    optional={
        "vaultOnSuccess": st.one_of(st.none(), st.booleans()),
        "descriptor": st.one_of(st.none(), st.text(min_size=1, max_size=5)),
    },
)
metadata = st.dictionaries(st.text(min_size=1, max_size=3), scalars, max_size=3)
changes = st.fixed_dictionaries(
    {},
    optional={
        "orderId": st.one_of(st.none(), st.text(min_size=1, max_size=5)),
        "amount": st.one_of(st.none(), st.integers(0, 10_000)),
        "metadata": st.one_of(st.none(), metadata),
        "customer": st.one_of(st.none(), customer),
        "order": st.one_of(st.none(), order),
        "paymentMethod": st.one_of(st.none(), payment_method),
    },
)  # fmt: skip
states = changes.map(lambda c: apply_patch({}, c))


@given(states, changes)
def test_apply_patch_matches_the_reference_model(state, patch):
    original = copy.deepcopy(state)
    assert apply_patch(state, patch) == reference_patch(state, patch)
    assert state == original  # the stored state is never mutated in place


@given(states, changes)
def test_apply_patch_is_idempotent(state, patch):
    once = apply_patch(state, patch)
    assert apply_patch(once, patch) == once


@given(states)
def test_empty_patch_changes_nothing(state):
    assert apply_patch(state, {}) == state


surcharges = st.dictionaries(
    st.sampled_from(["GOOGLE_PAY", "PAYPAL"]),
    st.fixed_dictionaries({"surcharge": st.fixed_dictionaries({"amount": st.integers(0, 50)})}),
    min_size=1,
    max_size=2,
)


@st.composite
def sessions_with_options(draw: st.DrawFn) -> dict[str, Any]:
    """A stored session whose paymentMethod may carry options (which no PATCH can change)."""
    state = draw(states)
    options = draw(st.one_of(st.none(), surcharges))
    if options is not None:
        state = {**state, "paymentMethod": {**(state.get("paymentMethod") or {}), "options": options}}
    return state


def _keep_options(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``after`` with ``before``'s paymentMethod.options: the part of a target a PATCH can reach."""
    target = copy.deepcopy(after)
    payment_method = dict(target.get("paymentMethod") or {})
    payment_method.pop("options", None)
    if (before.get("paymentMethod") or {}).get("options"):
        payment_method["options"] = before["paymentMethod"]["options"]
    if payment_method:
        target["paymentMethod"] = payment_method
    else:
        target.pop("paymentMethod", None)
    return target


@given(sessions_with_options(), sessions_with_options())
def test_the_smallest_patch_and_the_patch_rules_are_inverses(before, after):
    reachable = _keep_options(before, after)
    body = patch_body(before, reachable)
    assert apply_patch(before, body) == reachable
    assert all(
        name not in (body.get(parent) or {})
        for parent, name in NOT_PATCHABLE
        if isinstance(body.get(parent), dict)
    ), "never sends what cannot be patched"
    # smallest: nothing unchanged is sent, at the top level or inside the merged objects
    for key, value in body.items():
        assert before.get(key) != reachable.get(key)
        if isinstance(value, dict) and key in MERGED and isinstance(before.get(key), dict):
            assert all(before[key].get(child) != reachable[key].get(child) for child in value)


@given(sessions_with_options(), changes)
def test_patching_then_diffing_gives_back_a_patch_with_the_same_effect(state, patch):
    after = apply_patch(state, patch)
    assert apply_patch(state, patch_body(state, after)) == after


def test_patch_body_leaves_options_out_and_clears_with_null():
    before = {"orderId": "a", "paymentMethod": {"options": {"PAYPAL": {"surcharge": {"amount": 1}}}}}
    after = {"paymentMethod": {"options": {"PAYPAL": {"surcharge": {"amount": 9}}}, "vaultOnSuccess": True}}
    assert patch_body(before, after) == {"orderId": None, "paymentMethod": {"vaultOnSuccess": True}}


@settings(max_examples=60, deadline=None)
@given(states, changes)
def test_service_patch_agrees_with_the_reference(state, patch):
    service = build_service(deterministic=True)
    headers = {"content-type": "application/json"}
    created = service.create(headers, json.dumps(state).encode(), "http://127.0.0.1:1")
    assert created.status == 200, created.body
    token = created.body["clientToken"]
    updated = service.update(headers, json.dumps({"clientToken": token, **patch}).encode())
    assert updated.status == 200, updated.body
    assert updated.body == session_body(reference_patch(state, patch))
    assert service.retrieve(token).body == updated.body


def test_session_body_defaults_and_order():
    body = session_body({"order": {"lineItems": [{"amount": 5}]}, "orderId": "o"})
    assert list(body) == ["orderId", "amount", "order", "paymentMethod"]
    assert body["paymentMethod"] == {
        "vaultOnSuccess": False,
        "vaultOn3DS": False,
        "vaultOnAgreement": False,
        "orderedAllowedCardNetworks": list(DEFAULT_CARD_NETWORKS),
    }
    kept = session_body({"paymentMethod": {"orderedAllowedCardNetworks": ["VISA"], "vaultOnSuccess": True}})
    assert kept["paymentMethod"]["orderedAllowedCardNetworks"] == ["VISA"]


def test_strip_empty_drops_nulls_and_empty_containers():
    assert strip_empty({"a": None, "b": {}, "c": [], "d": {"e": None}, "f": [1, {}], "g": 0, "h": False}) == {
        "f": [1, {}],
        "g": 0,
        "h": False,
    }


def literal_strip_empty(value: Any) -> Any:
    """The rule as first written: clean every child, then drop the empty ones."""
    if isinstance(value, dict):
        cleaned = {k: literal_strip_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [literal_strip_empty(v) for v in value]
    return value


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2, 2), st.sampled_from(["", "x"])),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from("abc"), children, max_size=3)
    ),
    max_leaves=12,
)


@given(json_values)
def test_strip_empty_matches_the_literal_rule(value):
    assert strip_empty(value) == literal_strip_empty(value)


# ---------------------------------------------------------------- tokens


def test_tokens_are_exactly_what_pyjwt_signs():
    issuer = TokenIssuer("a-secret-long-enough-for-hs256-signing!!")
    issued_at = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
    token, expires = issuer.issue("session-1", issued_at, "http://127.0.0.1:8787/")
    claims = jwt.decode(token, "a-secret-long-enough-for-hs256-signing!!", algorithms=["HS256"],
                        options={"verify_exp": False})  # fmt: skip
    assert token == jwt.encode(claims, "a-secret-long-enough-for-hs256-signing!!", algorithm="HS256")
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    assert claims["accessToken"] == "session-1" and claims["coreUrl"] == "http://127.0.0.1:8787"
    assert expires == issued_at + TOKEN_LIFETIME
    assert issuer.verify(token).access_token == "session-1"
    with pytest.raises(InvalidToken, match="malformed"):
        TokenIssuer("another-secret-long-enough-for-hs256!!!!").verify(token)
