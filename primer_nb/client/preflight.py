"""Pre-flight checks: mistakes Primer accepts but people regret.

These never stop a request; they raise a :class:`PrimerPreflightWarning`
through Python's ``warnings`` module (shown once per place in a notebook,
filterable, turned into errors by ``-W error`` in CI if a team wants that).

Among them: unknown keys inside nested objects. Primer's spec leaves those
objects open, so Primer accepts such a key and drops it; a typo
(``emailAdress``, ``line1``, a line item's ``sku``) silently loses data.
:func:`unknown_field_messages` names each one and, where a real field looks
meant, suggests it.
"""

from __future__ import annotations

import difflib
import types
import typing
import warnings
from typing import Any

from pydantic import BaseModel

from primer_nb.api import money
from primer_nb.api.checkout_warnings import DEFAULT_PROFILE, DashboardProfile
from primer_nb.api.fields import unknown_fields
from primer_nb.api.session import ClientSessionRequest
from primer_nb.api.validation import json_path

__all__ = [
    "PrimerPreflightWarning",
    "preflight_messages",
    "suggest_field",
    "unknown_field_messages",
    "warn_preflight",
]


class PrimerPreflightWarning(UserWarning):
    """A create body that Primer accepts but that is probably not what was meant."""


def preflight_messages(
    request: ClientSessionRequest, profile: DashboardProfile = DEFAULT_PROFILE
) -> list[str]:
    """Every pre-flight finding for a create body, as sentences that say what to do."""
    found = unknown_field_messages(request)
    derived = request.derived_amount()
    currency = request.currency_code
    if request.amount is not None and derived is not None and request.amount != derived:
        shown = (
            f"{money.format_minor(request.amount, currency)} vs {money.format_minor(derived, currency)}"
            if currency
            else f"{request.amount} vs {derived}"
        )
        found.append(
            f"amount {request.amount} differs from the line items' total {derived} ({shown}); "
            "the top-level amount wins, so drop it or make the lines add up."
        )
    total = request.total()
    unit = 10 ** money.exponent(currency) if currency else 1
    if currency and total and unit > 1 and total < unit:
        # Less than one major unit in total: almost always "49" meant as 49.00.
        found.append(
            f"the session amount is {total} minor units = {money.format_minor(total, currency)}; "
            f"amounts are in minor units, so {money.format_minor(total * unit, currency)} "
            f"is {total * unit}. Convert with primer_nb.to_minor()."
        )
    state = request.to_wire()
    missing = profile.warnings(state)
    if missing:
        messages = [w if isinstance(w, str) else w["message"] for w in missing]
        found.append(
            f"with the default dashboard profile this session gets {len(messages)} warning(s): "
            + "; ".join(messages)
        )
    return found


def unknown_field_messages(request: BaseModel) -> list[str]:
    """One sentence per unknown key in a nested object of ``request``, with a suggestion if one fits."""
    found = []
    for loc, model, key in unknown_fields(request):
        path = json_path((*loc, key))
        suggestion = suggest_field(key, type(model))
        hint = (
            f"did you mean {json_path((*loc, *suggestion.split('.')))}?"
            if suggestion
            else "check the spelling, or leave it out"
        )
        found.append(
            f"{path} is not a field of the v2.4 schema; Primer accepts the request but drops "
            f"this key, so it is not stored: {hint}"
        )
    return found


def suggest_field(key: str, model: type[BaseModel]) -> str | None:
    """The field of ``model`` that ``key`` most likely meant (wire name, ``a.b`` if nested), or ``None``.

    Tried in turn: the same name in another case (``itemID``), a close spelling
    (``emailAdress``), a field whose name contains it (``line1`` in
    ``addressLine1``), a field of a nested object with that name (a line
    item's ``sku`` is ``productData.sku``).
    """
    names = _wire_names(model)
    by_lower = {name.lower(): name for name in names}
    wanted = key.lower()
    if wanted in by_lower:
        return by_lower[wanted]
    close = difflib.get_close_matches(wanted, list(by_lower), n=1, cutoff=0.8)
    if close:
        return by_lower[close[0]]
    if len(wanted) >= 4:
        containing = [name for name in names if wanted in name.lower()]
        if len(containing) == 1:
            return containing[0]
    for name, annotation in names.items():
        child = _model_in(annotation)
        if child is not None:
            inner = {n.lower(): n for n in _wire_names(child)}
            if wanted in inner:
                return f"{name}.{inner[wanted]}"
    return None


def _wire_names(model: type[BaseModel]) -> dict[str, Any]:
    return {info.alias or name: info.annotation for name, info in model.model_fields.items()}


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside an annotation such as ``ProductData | None`` or ``list[LineItem]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def warn_preflight(request: ClientSessionRequest, *, stacklevel: int = 3) -> list[str]:
    """Emit each finding as a :class:`PrimerPreflightWarning`; return them."""
    found = preflight_messages(request)
    for message in found:
        warnings.warn(message, PrimerPreflightWarning, stacklevel=stacklevel)
    return found
