"""Compute the smallest PATCH body that turns one session request into another.

The inverse of the API's PATCH rules (see ``primer_nb.sandbox.rules.apply_patch``):
top-level fields that changed are sent; ``customer``, ``order`` and
``paymentMethod`` are compared one level deep, so only their changed children
go out; arrays, addresses and ``metadata`` are sent whole; anything that
disappeared is sent as ``null``. ``paymentMethod.options`` cannot be patched
and is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MERGED_OBJECTS", "patch_body"]

MERGED_OBJECTS = frozenset({"customer", "order", "paymentMethod"})
_NOT_PATCHABLE = {("paymentMethod", "options")}


def patch_body(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The changes (camelCase, ``None`` to clear) that make ``before`` into ``after``."""
    changes: dict[str, Any] = {}
    for key in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if new is None:
            changes[key] = None
        elif key in MERGED_OBJECTS and isinstance(old, Mapping) and isinstance(new, Mapping):
            child = {
                name: new.get(name)
                for name in [*old, *(n for n in new if n not in old)]
                if old.get(name) != new.get(name) and (key, name) not in _NOT_PATCHABLE
            }
            if child:
                changes[key] = child
        elif key in MERGED_OBJECTS and isinstance(new, Mapping):
            trimmed = {n: v for n, v in new.items() if (key, n) not in _NOT_PATCHABLE}
            if trimmed:
                changes[key] = trimmed
        else:
            changes[key] = new
    return changes
