"""Dashboard profiles: which payment methods and modules are on, and what they need.

Primer's create response warns about data that enabled payment methods and
checkout modules need (behaviour reference §7). Which ones are enabled lives
in the merchant's Dashboard; the sandbox reads it from a profile file instead.
The needs below come from Primer's guides for each method.
"""

from __future__ import annotations

import functools
import json
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from primer_nb import money

__all__ = ["NEEDS", "DashboardProfile", "Need", "default_profile", "load_profile"]

Session = Mapping[str, Any]


def _has(path: str) -> Callable[[Session], bool]:
    parts = tuple(path.split("."))

    def check(session: Session) -> bool:
        value: Any = session
        for part in parts:
            if not isinstance(value, Mapping):
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
    """One piece of session data a method or module needs, and how to check for it."""

    path: str
    present: Callable[[Session], bool]


_CHECKOUT_BASICS = (
    Need("currencyCode", _has("currencyCode")),
    Need("order.lineItems", _has("order.lineItems")),
    Need("order.countryCode", _has("order.countryCode")),
)

NEEDS: dict[str, tuple[str, tuple[Need, ...]]] = {
    # type: (display name, needs)
    "PAYMENT_CARD": ("Card payments", ()),
    "APPLE_PAY": ("Apple Pay", _CHECKOUT_BASICS),
    "GOOGLE_PAY": ("Google Pay", _CHECKOUT_BASICS),
    "PAYPAL": (
        "PayPal",
        (*_CHECKOUT_BASICS, Need("metadata.paypal_client_metadata_id", _paypal_vaulting_ready)),
    ),
    "KLARNA": ("Klarna", _CHECKOUT_BASICS),
    "ADYEN_IDEAL": ("iDEAL", _CHECKOUT_BASICS[:2]),
    "THREE_DS": (
        "3DS",
        (
            Need("customer.emailAddress", _has("customer.emailAddress")),
            Need("customer.billingAddress", _has("customer.billingAddress")),
        ),
    ),
    "PAYMENT": (
        "Payment creation",
        (
            Need("amount", _amount_known),
            Need("currencyCode", _has("currencyCode")),
            Need("orderId", _has("orderId")),
        ),
    ),
    "TAXJAR": (
        "TaxJar",
        (
            Need("order.lineItems[].taxCode", _every_line_has("taxCode")),
            Need("order.shipping", _has("order.shipping")),
            Need("customer.shippingAddress", _has("customer.shippingAddress")),
        ),
    ),
}
"""What each known payment method (``methods``) or module (``modules``) needs."""


@dataclass(frozen=True)
class DashboardProfile:
    """The enabled methods and modules, and the form warnings take."""

    enabled: tuple[str, ...] = field(default_factory=tuple)
    warning_form: Literal["object", "string"] = "object"

    def warnings(self, session: Session) -> list[dict[str, str] | str]:
        """The warnings a create response carries for ``session`` (camelCase wire dict)."""
        found: list[dict[str, str] | str] = []
        for kind in self.enabled:
            name, needs = NEEDS[kind]
            for need in needs:
                if need.present(session):
                    continue
                message = f"{name} is missing '{need.path}'"
                if self.warning_form == "string":
                    found.append(message)
                else:
                    found.append({"type": kind, "code": "MISSING_DATA", "message": message})
        return found

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str = "profile") -> DashboardProfile:
        """Build a profile from the parsed TOML/JSON; raise ``ValueError`` naming a bad key."""
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
                if kind not in NEEDS:
                    raise ValueError(f"{source}: unknown {section[:-1]} {kind!r}; known: {', '.join(NEEDS)}")
                if not isinstance(on, bool):
                    raise ValueError(f"{source}: {section}.{kind} must be true or false")
                if on:
                    enabled.append(kind)
        return cls(tuple(enabled), form)


@functools.cache
def default_profile() -> DashboardProfile:
    """The profile shipped with the kit (``default_profile.toml``), read once."""
    text = resources.files("primer_nb.sandbox").joinpath("default_profile.toml").read_text()
    return DashboardProfile.from_mapping(tomllib.loads(text), source="default profile")


def load_profile(path: str | Path | None = None) -> DashboardProfile:
    """Load a profile from a TOML or JSON file, or the kit's default when ``path`` is ``None``."""
    if path is None:
        return default_profile()
    path = Path(path)
    text = path.read_text()
    data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    return DashboardProfile.from_mapping(data, source=str(path))
