"""The API's wire protocol: versions, paths and header names.

Every part of the kit that speaks to Primer (the client, the local sandbox,
its admin handle, the curl exports) takes these from here.

Versions and their lifecycle live here too: :data:`SUPPORTED_VERSIONS` lists
each ``X-Api-Version`` value Primer supports with its deprecation and
end-of-life dates, and :func:`judge_version` decides, for a header value and
an instant, which version serves the request or why none does. It is a pure
function; the local sandbox applies it with its own clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal
from urllib.parse import quote

__all__ = [
    "API_KEY_HEADER",
    "API_VERSION",
    "API_VERSION_HEADER",
    "CHECKOUT_TOKEN_HEADER",
    "CLIENT_SESSION_PATH",
    "IDEMPOTENCY_KEY_HEADER",
    "PAYMENTS_PATH",
    "PAYMENT_INSTRUMENTS_PATH",
    "SANDBOX_ADMIN_PREFIX",
    "SUPPORTED_VERSIONS",
    "ApiVersion",
    "VersionVerdict",
    "judge_version",
    "payment_path",
    "three_ds_auth_path",
]

API_VERSION = "2.4"
"""The version this kit implements and sends."""

API_KEY_HEADER = "X-Api-Key"
API_VERSION_HEADER = "X-Api-Version"
IDEMPOTENCY_KEY_HEADER = "X-Idempotency-Key"
CHECKOUT_TOKEN_HEADER = "primer-client-token"  # noqa: S105 - a header name
"""The header of the checkout's own calls (under the client token's ``pciUrl``): its ``accessToken``."""

CLIENT_SESSION_PATH = "/client-session"
PAYMENTS_PATH = "/payments"
PAYMENT_INSTRUMENTS_PATH = "/payment-instruments"
"""Under ``pciUrl``: where a checkout tokenizes a card."""
SANDBOX_ADMIN_PREFIX = "/_sandbox"
"""Where the local sandbox's own routes (clock, faults, health) live; not part of Primer's API."""

Stage = Literal["GA", "Supported", "Deprecated", "End of life"]


@dataclass(frozen=True)
class ApiVersion:
    """One ``X-Api-Version`` value and the dates that move it through Primer's lifecycle.

    A version is deprecated from the start (00:00 UTC) of ``deprecated_on``
    and answers 410 Gone from the start of ``end_of_life_on``.
    """

    number: str
    deprecated_on: date | None = None
    end_of_life_on: date | None = None

    def stage(self, at: datetime) -> Stage:
        """Where this version stands at the instant ``at`` (GA has no dates)."""
        day = _utc_day(at)
        if self.end_of_life_on is not None and day >= self.end_of_life_on:
            return "End of life"
        if self.deprecated_on is not None and day >= self.deprecated_on:
            return "Deprecated"
        return "GA" if self.deprecated_on is None and self.end_of_life_on is None else "Supported"

    def gone(self, at: datetime) -> bool:
        """Whether calls with this version get 410 Gone at ``at``."""
        return self.stage(at) == "End of life"


# Primer's API lifecycle page: v2.4 is GA; v2.1 to v2.3 are Supported, deprecated on
# 2026-06-01 and at end of life on 2027-06-01. The page also lists v2, whose header value
# was a date (2021-09-27) and which had no GET or PATCH /client-session; it is not served.
SUPPORTED_VERSIONS: tuple[ApiVersion, ...] = (
    ApiVersion("2.1", date(2026, 6, 1), date(2027, 6, 1)),
    ApiVersion("2.2", date(2026, 6, 1), date(2027, 6, 1)),
    ApiVersion("2.3", date(2026, 6, 1), date(2027, 6, 1)),
    ApiVersion("2.4"),
)
"""Every version Primer documents as supported, earliest first."""

_BY_NUMBER = {version.number: version for version in SUPPORTED_VERSIONS}


@dataclass(frozen=True)
class VersionVerdict:
    """What :func:`judge_version` decided.

    ``problem`` is ``None`` when the request is served, by ``version``.
    Otherwise it says why not: ``"missing"`` (strict mode and no header),
    ``"unknown"`` (not a version Primer supports), ``"strict"`` (a supported
    version other than :data:`API_VERSION` in strict mode) or ``"gone"``
    (past its end of life at the instant judged); ``version`` is then the
    version the header named, if it names one.
    """

    sent: str | None
    version: ApiVersion | None
    problem: Literal["missing", "unknown", "strict", "gone"] | None = None

    @property
    def accepted(self) -> bool:
        """Whether a version serves the request."""
        return self.problem is None


def judge_version(sent: str | None, at: datetime, *, strict: bool = False) -> VersionVerdict:
    """Decide which API version serves a request whose ``X-Api-Version`` header is ``sent``.

    Parameters
    ----------
    sent:
        The header's value, or ``None`` when the header is absent.
    at:
        The instant of the request; deprecation and end of life are judged at it.
    strict:
        Accept only :data:`API_VERSION` and refuse a missing header.

    Returns
    -------
    VersionVerdict
        A missing header gets the earliest version not yet at its end of life
        (Primer's getting-started page: an omitted header "defaults to the
        earliest supported version"); a supported version gets itself unless
        it is past its end of life (``problem="gone"``); anything else is
        ``problem="unknown"``.
    """
    if sent is not None:
        sent = sent.strip()
    if strict:
        if sent == API_VERSION:
            return VersionVerdict(sent, _BY_NUMBER[API_VERSION])
        named = _BY_NUMBER.get(sent) if sent is not None else None
        problem: Literal["missing", "unknown", "strict"] = (
            "missing" if sent is None else "strict" if named is not None else "unknown"
        )
        return VersionVerdict(sent, named, problem)
    if sent is None:
        served = next(v for v in SUPPORTED_VERSIONS if not v.gone(at) or v.number == API_VERSION)
        return VersionVerdict(None, served)
    version = _BY_NUMBER.get(sent)
    if version is None:
        return VersionVerdict(sent, None, "unknown")
    if version.gone(at):
        return VersionVerdict(sent, version, "gone")
    return VersionVerdict(sent, version)


def payment_path(payment_id: str, action: str | None = None) -> str:
    """``/payments/{id}`` or ``/payments/{id}/{action}``, the id escaped for a URL path."""
    path = f"{PAYMENTS_PATH}/{quote(str(payment_id), safe='')}"
    return f"{path}/{action}" if action else path


def three_ds_auth_path(payment_method_token: str) -> str:
    """Under ``pciUrl``: where a checkout reports a 3DS authentication for a payment method token."""
    return f"/3ds/{quote(str(payment_method_token), safe='')}/auth"


def _utc_day(at: datetime) -> date:
    return (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)).date()
