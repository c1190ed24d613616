"""The PATCH rules of ``PATCH /client-session``, both ways.

:func:`apply_patch` is what the API does with a PATCH body (behaviour
reference §5): scalars and ``metadata`` are replaced; ``customer``, ``order``
and ``paymentMethod`` (:data:`MERGED_OBJECTS`) are merged one level deep, their
own children (addresses, ``shipping``, every array) replaced whole; ``null``
deletes at any level. :func:`patch_body` is its inverse: the smallest PATCH
that turns one session into another. ``paymentMethod.options``
(:data:`NOT_PATCHABLE`) cannot be patched, so the inverse leaves it out, and
:func:`refused_changes` names a PATCH that would change or delete it, even
by clearing its parent (``"paymentMethod": null``).

Sessions are camelCase wire dicts; Primer leaves empty values out of its
answers, which :func:`strip_empty` reproduces.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from primer_nb.api.envelope import FieldError

__all__ = [
    "MERGED_OBJECTS",
    "NOT_PATCHABLE",
    "apply_patch",
    "patch_body",
    "refused_changes",
    "strip_empty",
    "strip_session",
]

MERGED_OBJECTS = frozenset({"customer", "order", "paymentMethod"})
"""Top-level objects a PATCH merges one level deep; everything else is replaced whole."""

NOT_PATCHABLE = frozenset({("paymentMethod", "options")})
"""(object, child) pairs a PATCH may not change."""


def strip_empty(value: Any) -> Any:
    """Drop ``None``, empty objects and empty arrays at every depth (Primer leaves them out).

    Items of an array are cleaned but never dropped, so positions keep their meaning.
    """
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            if isinstance(item, dict | list):
                item = strip_empty(item)
                if not item:
                    continue
            elif item is None:
                continue
            cleaned[key] = item
        return cleaned
    if isinstance(value, list):
        # strip_empty() returns other items unchanged: calling it on them too is an equivalent mutant.
        return [strip_empty(item) if isinstance(item, dict | list) else item for item in value]
    return value


def apply_patch(state: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Return the session state after a PATCH with ``changes``, without touching ``state``."""
    # strip_empty() builds every container anew, so shallow copies in place of these deep ones are
    # equivalent mutants; the deep copies keep the result independent of its inputs on their own.
    result = copy.deepcopy(dict(state))
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
        elif key in MERGED_OBJECTS and isinstance(value, dict):
            merged = dict(result.get(key) or {})
            for child, child_value in value.items():
                if child_value is None:
                    merged.pop(child, None)
                else:
                    merged[child] = strip_empty(copy.deepcopy(child_value))
            result[key] = merged
        else:
            result[key] = strip_empty(copy.deepcopy(value))
    return strip_session(result)


def strip_session(state: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`strip_empty` for a whole session, but ``paymentMethod.options`` is kept as sent.

    An option may hold an object its schema requires even when it is empty (a
    ``surcharge`` without an amount), so inside the options only nulls are dropped.
    """
    cleaned = strip_empty(dict(state))
    payment_method = state.get("paymentMethod")
    options = payment_method.get("options") if isinstance(payment_method, Mapping) else None
    if isinstance(options, Mapping) and options:
        cleaned.setdefault("paymentMethod", {})["options"] = _without_nulls(options)
    return cleaned


def _without_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def refused_changes(state: Mapping[str, Any], changes: Mapping[str, Any]) -> list[FieldError]:
    """The fields of :data:`NOT_PATCHABLE` that ``changes`` would alter in ``state``, as errors.

    Sending the field at all (``null`` included) is refused; so is clearing
    its parent object (``"paymentMethod": null``) while the session holds it.
    Clearing a parent that holds none of them is allowed: it clears the rest.
    """
    refused: list[FieldError] = []
    # NOT_PATCHABLE holds one pair today, so `break` for either `continue` below
    # behaves the same (two equivalent mutants); the loop is for the rule, not the count.
    for parent, child in sorted(NOT_PATCHABLE):
        if parent not in changes:
            continue
        value = changes[parent]
        current = state.get(parent)
        if isinstance(value, Mapping) and child in value:
            reason = f"{parent}.{child} cannot be changed by PATCH /client-session"
        elif value is None and isinstance(current, Mapping) and child in current:
            reason = (
                f"{parent}: null would delete {parent}.{child}, which PATCH /client-session cannot "
                f"change; clear the other {parent} fields one by one instead"
            )
        else:
            continue
        refused.append(
            FieldError(
                f"$.{parent}.{child}",
                f"{reason}; create a new session with the {child} you need",
                "options_not_updatable",
            )
        )
    return refused


def patch_body(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The changes (camelCase, ``None`` to clear) that make ``before`` into ``after``."""
    changes: dict[str, Any] = {}
    for key in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if new is None:
            changes[key] = None
        elif key in MERGED_OBJECTS and isinstance(new, Mapping):
            previous: Mapping[str, Any] = old if isinstance(old, Mapping) else {}
            child = {
                name: new.get(name)
                for name in [*previous, *(n for n in new if n not in previous)]
                if previous.get(name) != new.get(name) and (key, name) not in NOT_PATCHABLE
            }
            if child:
                changes[key] = child
        else:
            changes[key] = new
    return changes
