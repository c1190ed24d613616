"""The warnings catalogue: which payment method or module needs which session data.

Primer's create response warns about data that enabled payment methods and
checkout modules need (behaviour reference §7). This module is the one home
of that knowledge: the needs of each method and module (from Primer's guide
for each), the message a warning carries in both published forms (objects
``{type, code, message}`` and plain strings), how to read a message back into
a method and a field, and what to set to clear it.

Which methods are enabled lives in the merchant's Dashboard; a
:class:`DashboardProfile` stands for it. :data:`DEFAULT_PROFILE` is the one the
local sandbox and the client's pre-flight checks use unless told otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from primer_nb.api import money

__all__ = [
    "CATALOGUE",
    "DEFAULT_PROFILE",
    "MISSING_DATA",
    "DashboardProfile",
    "Feature",
    "Need",
    "fix_hint",
    "parse_warning_text",
    "warning_message",
]

Session = Mapping[str, Any]
MISSING_DATA = "MISSING_DATA"
"""The ``code`` of every data warning."""


def _has(path: str) -> Callable[[Session], bool]:
    parts = tuple(path.split("."))

    def check(session: Session) -> bool:
        value: Any = session
        for part in parts:
            if not isinstance(value, dict | Mapping):  # dict first: the hot path, and cheap
                return False
            value = value.get(part)
        return value not in (None, "", [], {})

    return check


def _every_line_has(key: str) -> Callable[[Session], bool]:
    def check(session: Session) -> bool:
        items = (session.get("order") or {}).get("lineItems") or []
        return bool(items) and all(item.get(key) for item in items)

    return check


def _amount_known(session: Session) -> bool:
    return money.session_amount(session.get("amount"), session.get("order")) is not None


def _paypal_vaulting_ready(session: Session) -> bool:
    vaulting = (session.get("paymentMethod") or {}).get("vaultOnSuccess")
    return not vaulting or _has("metadata.paypal_client_metadata_id")(session)


@dataclass(frozen=True)
class Need:
    """One piece of session data a method or module needs: its path, a check, and advice."""

    path: str
    present: Callable[[Session], bool]
    advice: str


@dataclass(frozen=True)
class Feature:
    """A payment method or checkout module: its type, the name messages use, and its needs."""

    type: str
    name: str
    needs: tuple[Need, ...]
    aliases: tuple[str, ...] = ()
    """Other names older guides use for it in warning texts."""


_CURRENCY = Need("currencyCode", _has("currencyCode"), "ISO 4217 code, e.g. 'GBP'")
_LINES = Need(
    "order.lineItems", _has("order.lineItems"), "at least one line item with an amount in minor units"
)
_COUNTRY = Need(
    "order.countryCode",
    _has("order.countryCode"),
    "two-letter ISO 3166-1 code of the order's country, e.g. 'GB'",
)
_CHECKOUT_BASICS = (_CURRENCY, _LINES, _COUNTRY)

CATALOGUE: dict[str, Feature] = {
    feature.type: feature
    for feature in (
        Feature("PAYMENT_CARD", "Card payments", ()),
        Feature("APPLE_PAY", "Apple Pay", _CHECKOUT_BASICS),
        Feature("GOOGLE_PAY", "Google Pay", _CHECKOUT_BASICS),
        Feature(
            "PAYPAL",
            "PayPal",
            (
                *_CHECKOUT_BASICS,
                Need(
                    "metadata.paypal_client_metadata_id",
                    _paypal_vaulting_ready,
                    "PayPal's client metadata id (needed to vault PayPal)",
                ),
            ),
        ),
        Feature("KLARNA", "Klarna", _CHECKOUT_BASICS),
        Feature("ADYEN_IDEAL", "iDEAL", (_CURRENCY, _LINES)),
        Feature(
            "THREE_DS",
            "3DS",
            (
                Need("customer.emailAddress", _has("customer.emailAddress"), "the buyer's email address"),
                Need(
                    "customer.billingAddress",
                    _has("customer.billingAddress"),
                    "the buyer's billing address (addressLine1, city, postalCode, countryCode)",
                ),
            ),
            aliases=("3D Secure",),
        ),
        Feature(
            "PAYMENT",
            "Payment creation",
            (
                Need("amount", _amount_known, "line items (the amount is derived) or a top-level amount"),
                _CURRENCY,
                Need("orderId", _has("orderId"), "your reference for the order"),
            ),
            aliases=("Payments",),
        ),
        Feature(
            "TAXJAR",
            "TaxJar",
            (
                Need(
                    "order.lineItems[].taxCode", _every_line_has("taxCode"), "a tax code on every line item"
                ),
                Need("order.shipping", _has("order.shipping"), "the shipping amount and method"),
                Need("customer.shippingAddress", _has("customer.shippingAddress"), "the delivery address"),
            ),
        ),
    )
}
"""Every known payment method and module, by type."""

_ADVICE = {need.path: need.advice for feature in CATALOGUE.values() for need in feature.needs}
# Field names of older guides (and the seed example) mapped to the v2.4 request field.
_LEGACY_FIELDS = {"customerDetails.countryCode": "order.countryCode"}
_LEGACY_PREFIXES = {"customerDetails.": "customer.", "orderDetails.": "order."}
_BY_NAME = {
    name.lower(): feature.type for feature in CATALOGUE.values() for name in (feature.name, *feature.aliases)
}
_MESSAGE = re.compile(r"^(?P<name>.+?) (?:is missing|requires|needs) '(?P<field>[^']+)'")
_NAME_ONLY = re.compile(r"^(?P<name>[A-Za-z0-9 ]+?) (?:is missing|requires|needs)\b")


def warning_message(feature: Feature, need: Need) -> str:
    """The text of a warning: ``"Apple Pay is missing 'order.countryCode'"``."""
    return f"{feature.name} is missing '{need.path}'"


def parse_warning_text(text: str) -> tuple[str | None, str | None]:
    """Read a warning's text back into (method or module type, missing field), either may be ``None``.

    Works for this kit's messages and for the older guides' strings
    (``"Apple Pay is missing 'customerDetails.countryCode'"``); an unknown
    name becomes its upper-snake form (``"Foo Pay"`` → ``FOO_PAY``).
    """
    match = _MESSAGE.match(text) or _NAME_ONLY.match(text)
    if match is None:
        return None, None
    name = match["name"].strip()
    kind = _BY_NAME.get(name.lower()) or re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") or None
    return kind, match.groupdict().get("field")


def fix_hint(field: str | None, warning_type: str | None = None) -> str:
    """Say which v2.4 request field to set to clear a warning about ``field`` (or of ``warning_type``)."""
    if field:
        target = _LEGACY_FIELDS.get(field, field)
        for old, new in _LEGACY_PREFIXES.items():
            if target.startswith(old):
                target = new + target[len(old) :]
        advice = _ADVICE.get(target)
        renamed = f" ('{field}' in older guides)" if target != field else ""
        return f"set {target}{renamed}" + (f": {advice}" if advice else "")
    feature = CATALOGUE.get(warning_type or "")
    if feature is not None and feature.needs:
        paths = [need.path for need in feature.needs]
        listed = paths[0] if len(paths) == 1 else ", ".join(paths[:-1]) + " and " + paths[-1]
        return f"set {listed}"
    return "see the message; Primer's docs for this payment method list what it needs"


@dataclass(frozen=True)
class DashboardProfile:
    """The enabled methods and modules, and the form warnings take."""

    enabled: tuple[str, ...] = field(default_factory=tuple)
    warning_form: Literal["object", "string"] = "object"

    def warnings(self, session: Session) -> list[dict[str, str] | str]:
        """The warnings a create response carries for ``session`` (camelCase wire dict)."""
        found: list[dict[str, str] | str] = []
        for kind in self.enabled:
            feature = CATALOGUE[kind]
            for need in feature.needs:
                if need.present(session):
                    continue
                message = warning_message(feature, need)
                if self.warning_form == "string":
                    found.append(message)
                else:
                    found.append({"type": kind, "code": MISSING_DATA, "message": message})
        return found

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "profile") -> DashboardProfile:
        """Build a profile from parsed TOML/JSON; raise ``ValueError`` naming a bad key."""
        form = data.get("warning_form", "object")
        if form not in ("object", "string"):
            raise ValueError(f"{source}: warning_form must be 'object' or 'string', got {form!r}")
        unknown_top = set(data) - {"warning_form", "methods", "modules"}
        if unknown_top:
            raise ValueError(
                f"{source}: unknown keys {sorted(unknown_top)}; use methods, modules, warning_form"
            )
        enabled: list[str] = []
        for section in ("methods", "modules"):
            table = data.get(section) or {}
            if not isinstance(table, Mapping):
                raise ValueError(f"{source}: [{section}] must be a table of NAME = true/false")
            for kind, on in table.items():
                if kind not in CATALOGUE:
                    raise ValueError(
                        f"{source}: unknown {section[:-1]} {kind!r}; known: {', '.join(CATALOGUE)}"
                    )
                if not isinstance(on, bool):
                    raise ValueError(f"{source}: {section}.{kind} must be true or false")
                if on:
                    enabled.append(kind)
        return cls(tuple(enabled), form)


DEFAULT_PROFILE = DashboardProfile(
    enabled=("PAYMENT_CARD", "APPLE_PAY", "GOOGLE_PAY", "PAYPAL", "THREE_DS", "PAYMENT")
)
"""Cards, Apple Pay, Google Pay and PayPal on; 3DS and payment creation checked.

``primer_nb/sandbox/core/default_profile.toml`` writes the same profile out as
a file to copy and edit (a test keeps the two equal).
"""
