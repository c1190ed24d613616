"""The PATCH rules both ways: apply_patch against a literal model, patch_body as its inverse.

Sessions here are stored states (free of empty values, as :func:`strip_empty`
leaves them) drawn over a small alphabet of keys and values, so that two
draws often share keys and differ in a few places, which is where a PATCH
rule can go wrong.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from primer_nb.api.patching import (
    MERGED_OBJECTS,
    NOT_PATCHABLE,
    apply_patch,
    patch_body,
    refused_changes,
    strip_empty,
    strip_session,
)

leaves = st.one_of(st.sampled_from(["", "a", "b"]), st.integers(0, 2), st.booleans())
json_values = st.recursive(
    st.one_of(st.none(), leaves),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from("xyz"), children, max_size=3)
    ),
    max_leaves=8,
)
# A merged object's children: a leaf, an address-like object or an array, or null.
children = st.dictionaries(st.sampled_from(["p", "q", "r", "options"]), json_values, max_size=4)
top_values = {
    "orderId": leaves,
    "amount": st.integers(0, 3),
    "metadata": st.dictionaries(st.sampled_from("xyz"), leaves, max_size=3),
    "customer": children,
    "order": children,
    "paymentMethod": children,
}
raw_sessions = st.fixed_dictionaries(
    {}, optional={key: st.one_of(st.none(), value) for key, value in top_values.items()}
)
sessions = raw_sessions.map(strip_empty)
patches = st.fixed_dictionaries(
    {}, optional={key: st.one_of(st.none(), value, json_values) for key, value in top_values.items()}
)


def without_empty(value: Any) -> Any:
    """Primer's answers leave out null, {} and [] under any object key, the rule stated literally."""
    if isinstance(value, dict):
        cleaned = {key: without_empty(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item not in (None, {}, [])}
    if isinstance(value, list):
        return [without_empty(item) for item in value]
    return value


def reference_apply(state: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Behaviour reference §5 word for word: null deletes; merged objects merge one level; rest replaced."""
    result = {}
    for key in [*state, *changes]:
        if key in changes:
            new = changes[key]
            if new is None:
                continue
            if key in MERGED_OBJECTS and isinstance(new, dict):
                old = state.get(key) or {}
                result[key] = {
                    c: new.get(c, old.get(c)) for c in [*old, *new] if new.get(c, old.get(c)) is not None
                }
            else:
                result[key] = new
        else:
            result[key] = state[key]
    return without_empty(result)


def containers(value: Any) -> list[Any]:
    """Every dict and list inside ``value``, ``value`` included."""
    if isinstance(value, dict):
        return [value, *(c for item in value.values() for c in containers(item))]
    if isinstance(value, list):
        return [value, *(c for item in value for c in containers(item))]
    return []


@given(sessions, patches)
@example({"customer": {"p": {"x": [1]}}}, {"customer": {"q": 1}})
@example({"order": {"p": 1}}, {"order": {"p": {"x": None}}})
def test_apply_patch_matches_the_reference_and_shares_nothing(state, changes):
    state_before, changes_before = copy.deepcopy(state), copy.deepcopy(changes)
    result = apply_patch(state, changes)
    assert result == reference_apply(state, changes)
    assert state == state_before and changes == changes_before
    # The result is a new tree: changing it later cannot reach the stored state or the request.
    inputs = {id(c) for c in containers(state) + containers(changes)}
    assert not any(id(c) in inputs for c in containers(result))


def with_options_of(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """``after`` with ``paymentMethod.options`` as in ``before`` (a PATCH cannot change it)."""
    after = copy.deepcopy(after)
    options = before.get("paymentMethod", {}).get("options")
    if options is not None:
        after.setdefault("paymentMethod", {})["options"] = copy.deepcopy(options)
    elif isinstance(after.get("paymentMethod"), dict):
        after["paymentMethod"].pop("options", None)
    return strip_empty(after)


def differing(before: Any, after: Any) -> list[str]:
    """Keys whose values differ between two objects, ``before``'s order first."""
    return [key for key in dict.fromkeys([*before, *after]) if before.get(key) != after.get(key)]


@given(sessions, sessions)
@example({"customer": {"p": 1}}, {"customer": {"p": 1, "q": 2}})
@example({}, {"paymentMethod": {"p": 1}})
@example({"metadata": {"x": 1, "y": 2}}, {"metadata": {"x": 1}})
@example({"paymentMethod": {"options": {"x": 1}, "p": 1}}, {"paymentMethod": {"options": {"x": 1}}})
def test_patch_body_is_the_smallest_inverse_of_apply_patch(before, after):
    after = with_options_of(after, before)
    snapshot = copy.deepcopy((before, after))
    changes = patch_body(before, after)
    assert apply_patch(before, changes) == after
    assert (before, after) == snapshot
    # Smallest: only what differs, a deleted value as null, merged objects only their changed children.
    assert list(changes) == differing(before, after)
    for key, value in changes.items():
        if key not in after:
            assert value is None
        elif key in MERGED_OBJECTS:
            old = before.get(key) or {}
            assert value == {child: after[key].get(child) for child in differing(old, after[key])}
        else:
            assert value == after[key]


@given(sessions)
def test_patch_body_of_a_session_to_itself_is_empty(session):
    assert patch_body(session, copy.deepcopy(session)) == {}


@given(sessions, children)
@example({"paymentMethod": {"options": {"x": 1}}}, {"options": {"y": 1}})
def test_patch_body_never_sends_what_cannot_be_patched(before, payment_method):
    after = {**before, "paymentMethod": payment_method}
    changes = patch_body(before, after)
    for parent, child in NOT_PATCHABLE:
        assert child not in (changes.get(parent) or {})
    # Everything else does arrive: the result is ``after`` with the options ``before`` had.
    assert apply_patch(before, changes) == with_options_of(strip_empty(after), before)


@given(json_values)
def test_strip_empty_is_idempotent_and_leaves_no_empty_value(value):
    cleaned = strip_empty(value)
    assert strip_empty(cleaned) == cleaned
    assert cleaned == without_empty(value)
    for container in containers(cleaned):
        if isinstance(container, dict):
            assert all(item not in (None, {}, []) for item in container.values())
    if isinstance(value, list):
        assert len(cleaned) == len(value)  # items keep their positions


# ---------------------------------------------------------------- what a PATCH may not touch

options_values = st.one_of(st.none(), st.just({}), st.just({"PAYPAL": {"surcharge": {"amount": 5}}}))
payment_method_changes = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={"vaultOnSuccess": st.booleans(), "options": options_values}),
)
stored_payment_methods = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "descriptor": st.just("shop"),
            "options": st.just({"GOOGLE_PAY": {"surcharge": {"amount": 1}}}),
        },
    ),
)


@given(stored_payment_methods, st.one_of(st.just("absent"), payment_method_changes), st.booleans())
def test_refused_changes_name_the_options_exactly_when_a_patch_would_touch_them(stored, change, other_field):
    state = {"orderId": "o"} if stored is None else {"orderId": "o", "paymentMethod": stored}
    changes: dict = {"orderId": "p"} if other_field else {}
    if change != "absent":
        changes["paymentMethod"] = change
    sends_options = isinstance(change, dict) and "options" in change
    clears_held_options = change is None and stored is not None and "options" in stored
    refused = refused_changes(state, changes)
    if sends_options or clears_held_options:
        (error,) = refused
        assert error.path == "$.paymentMethod.options"
        assert error.code == "options_not_updatable"
        assert error.description.endswith("; create a new session with the options you need")
        if sends_options:
            assert error.description.startswith(
                "paymentMethod.options cannot be changed by PATCH /client-session"
            )
        else:
            assert error.description.startswith(
                "paymentMethod: null would delete paymentMethod.options, which PATCH /client-session cannot "
                "change; clear the other paymentMethod fields one by one instead"
            )
    else:
        assert refused == []


def test_strip_session_keeps_options_as_sent_but_without_nulls():
    state = {
        "orderId": None,
        "metadata": {},
        "customer": {"emailAddress": "a@example.com", "billingAddress": {}},
        "paymentMethod": {
            "descriptor": None,
            "options": {
                "GOOGLE_PAY": {"surcharge": {}, "merchantName": None},
                "PAYPAL": {"surcharge": {"amount": 1}},
            },
        },
    }
    assert strip_session(state) == {
        "customer": {"emailAddress": "a@example.com"},
        "paymentMethod": {
            "options": {"GOOGLE_PAY": {"surcharge": {}}, "PAYPAL": {"surcharge": {"amount": 1}}}
        },
    }
    assert strip_session({"paymentMethod": {"options": {}}, "orderId": "o"}) == {"orderId": "o"}
    assert strip_session({"paymentMethod": None}) == {}
    # options holding only empty objects: the whole paymentMethod is empty to strip_empty, yet kept
    assert strip_session({"paymentMethod": {"options": {"GOOGLE_PAY": {"surcharge": {}}}}}) == {
        "paymentMethod": {"options": {"GOOGLE_PAY": {"surcharge": {}}}}
    }
    # inside the options, arrays keep their positions (a null item stays) and objects lose their nulls
    assert strip_session({"paymentMethod": {"options": {"X": {"list": [None, {"a": None, "b": 2}]}}}}) == {
        "paymentMethod": {"options": {"X": {"list": [None, {"b": 2}]}}}
    }
