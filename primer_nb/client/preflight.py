"""Pre-flight checks: mistakes Primer accepts but people regret.

These never stop a request; they raise a :class:`PrimerPreflightWarning`
through Python's ``warnings`` module (shown once per place in a notebook,
filterable, turned into errors by ``-W error`` in CI if a team wants that).
"""

from __future__ import annotations

import warnings

from primer_nb.api import money
from primer_nb.api.checkout_warnings import DEFAULT_PROFILE, DashboardProfile
from primer_nb.api.session import ClientSessionRequest

__all__ = ["PrimerPreflightWarning", "preflight_messages", "warn_preflight"]


class PrimerPreflightWarning(UserWarning):
    """A create body that Primer accepts but that is probably not what was meant."""


def preflight_messages(
    request: ClientSessionRequest, profile: DashboardProfile = DEFAULT_PROFILE
) -> list[str]:
    """Every pre-flight finding for a create body, as sentences that say what to do."""
    found: list[str] = []
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


def warn_preflight(request: ClientSessionRequest, *, stacklevel: int = 3) -> list[str]:
    """Emit each finding as a :class:`PrimerPreflightWarning`; return them."""
    found = preflight_messages(request)
    for message in found:
        warnings.warn(message, PrimerPreflightWarning, stacklevel=stacklevel)
    return found
