"""``CustomerForm``: the buyer's details and addresses, validated like the API does."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import traitlets
from pydantic import ValidationError

from primer_nb.api.codes import COUNTRY_CODES
from primer_nb.api.session import Customer
from primer_nb.api.validation import field_errors
from primer_nb.widgets._common import ErrorText, Looks, QuietValue, labelled

__all__ = ["CustomerForm"]

_COUNTRIES = tuple(sorted(COUNTRY_CODES))

_PEOPLE = (("emailAddress", "Email"), ("firstName", "First name"), ("lastName", "Last name"),
           ("mobileNumber", "Mobile"))  # fmt: skip
_ADDRESS = (
    ("addressLine1", "Address line 1"), ("addressLine2", "Address line 2"), ("city", "City"),
    ("state", "State / county"), ("postalCode", "Postal code"), ("countryCode", "Country"),
)  # fmt: skip


class CustomerForm(QuietValue, widgets.VBox):
    """Email, names, mobile, billing and shipping address (country: a searchable list of ISO codes).

    ``value`` is the camelCase ``customer`` object with empty fields left out
    (settable); ``errors`` lists problems by API path, each also shown under
    its field.
    """

    value = traitlets.Dict(help="the customer object, camelCase")

    def __init__(self, data: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self._updating = False
        self._errors: list[str] = []
        self.fields: dict[str, widgets.Widget] = {}
        self.field_errors: dict[str, ErrorText] = {}
        self._looks = looks = Looks()
        people = [self._field(key, label, f"customer.{key}") for key, label in _PEOPLE]
        sections = [
            looks.make(widgets.HBox, children=people[:2]),
            looks.make(widgets.HBox, children=people[2:]),
        ]
        for address, title in (
            ("billingAddress", "Billing address"),
            ("shippingAddress", "Shipping address"),
        ):
            # Under a heading that names customer.<address>, each field shows its own key only.
            boxes = [self._field(f"{address}.{key}", label, key) for key, label in _ADDRESS]
            sections.append(looks.make(widgets.HTML, value=f"<b>{title}</b> <code>customer.{address}</code>"))
            sections += [
                looks.make(widgets.HBox, children=boxes[:3]),
                looks.make(widgets.HBox, children=boxes[3:]),
            ]
        super().__init__(sections, **kwargs)
        self.add_class("primer-nb-customer")
        self.observe(self._on_value, names="value")
        if data:
            self.value = dict(data)

    def _field(self, key: str, label: str, api_path: str) -> widgets.VBox:
        looks = self._looks
        if key.endswith("countryCode"):
            widget: widgets.Widget = looks.make(
                widgets.Combobox, options=_COUNTRIES, placeholder="type to search: GB", ensure_option=True
            )
        else:
            widget = looks.make(widgets.Text, placeholder="")
        widget.add_class("primer-nb-" + key.replace(".", "-"))
        widget.observe(lambda _: self._refresh(), names="value")
        error = looks.make(ErrorText)
        self.fields[key] = widget
        self.field_errors[key] = error
        return looks.make(
            widgets.VBox, children=[labelled(widget, label, api_path, looks, width="230px"), error]
        )

    @property
    def errors(self) -> list[str]:
        """What is wrong, as ``customer.path: message``."""
        return list(self._errors)

    def show_error(self, path: str, message: str) -> None:
        """Show an error beside the field at ``path`` (relative to ``customer``, dotted)."""
        target = self.field_errors.get(path)
        if target is None and path:
            target = next((e for k, e in self.field_errors.items() if k.startswith(path)), None)
        if target is not None:
            target.show(message)

    def _collect(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, widget in self.fields.items():
            text = str(widget.value).strip()
            if not text:
                continue
            if "." in key:
                outer, inner = key.split(".", 1)
                data.setdefault(outer, {})[inner] = text
            else:
                data[key] = text
        return data

    def _refresh(self) -> None:
        if self._updating:
            return
        data = self._collect()
        for error in self.field_errors.values():
            error.clear()
        problems: list[str] = []
        try:
            Customer.model_validate(data)
        except ValidationError as exc:
            for item in field_errors(exc):
                path = item.path.removeprefix("$.")
                self.show_error(path, item.description)
                problems.append(f"customer.{path}: {item.description}")
        self._errors = problems
        self._publish(data)

    def _on_value(self, change: dict[str, Any]) -> None:
        if self._updating:
            return
        data = change["new"] or {}
        self._updating = True
        try:
            for key, widget in self.fields.items():
                outer, _, inner = key.partition(".")
                value = (data.get(outer) or {}).get(inner) if inner else data.get(key)
                widget.value = "" if value is None else str(value)
        finally:
            self._updating = False
        self._refresh()
