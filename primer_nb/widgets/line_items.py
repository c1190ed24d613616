"""``LineItemsForm``: build ``order.lineItems`` with amounts typed in major units."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import traitlets
from pydantic import ValidationError

from primer_nb.api import money
from primer_nb.api.session import LineItem
from primer_nb.api.validation import field_errors
from primer_nb.widgets._common import ErrorText, Looks, QuietValue, breakable

__all__ = ["LineItemsForm"]

_PRODUCT_TYPES = [("—", ""), ("physical", "PHYSICAL"), ("digital", "DIGITAL")]


class _Row(widgets.HBox):
    """One line item: its inputs, the minor units it will send, and its errors."""

    def __init__(self, form: LineItemsForm, looks: Looks) -> None:
        self._form = form
        self.item_id = looks.make(widgets.Text, placeholder="sku-123", layout={"width": "110px"})
        self.description = looks.make(widgets.Text, placeholder="Blue shoe", layout={"width": "150px"})
        self.amount = looks.make(widgets.Text, placeholder="0.00", layout={"width": "90px"})
        self.amount.add_class("primer-nb-amount")
        self.quantity = looks.make(
            widgets.BoundedIntText, value=1, min=0, max=10**9, layout={"width": "70px"}
        )
        self.quantity.add_class("primer-nb-quantity")
        self.discount = looks.make(widgets.Text, placeholder="0", layout={"width": "80px"})
        self.tax = looks.make(widgets.Text, placeholder="0", layout={"width": "80px"})
        self.product_type = looks.make(
            widgets.Dropdown, options=_PRODUCT_TYPES, value="", layout={"width": "100px"}
        )
        self.duplicate = looks.make(
            widgets.Button, icon="copy", tooltip="Duplicate this line", layout={"width": "36px"}
        )
        self.remove = looks.make(
            widgets.Button, icon="trash", tooltip="Remove this line", layout={"width": "36px"}
        )
        self.remove.add_class("primer-nb-remove")
        # One status cell per row: what the line sends, or what is wrong with it.
        self.error = looks.make(ErrorText, layout={"width": "220px"})
        self.error.add_class("primer-nb-minor")
        self.inputs = (self.item_id, self.description, self.amount, self.quantity, self.discount, self.tax,
                       self.product_type)  # fmt: skip
        super().__init__(
            [*self.inputs, self.duplicate, self.remove, self.error], layout=looks.layout(width="auto")
        )
        self.add_class("primer-nb-line-item")
        self.item: dict[str, Any] | None = None
        self.problems: list[str] = []
        for widget in self.inputs:
            widget.observe(self._on_input_value, names="value")
        self.duplicate.on_click(lambda _: form._duplicate(self))
        self.remove.on_click(lambda _: form._remove(self))

    def _on_input_value(self, change: dict[str, Any]) -> None:
        self._form._row_changed(self)

    def fill(self, item: dict[str, Any], currency: str) -> None:
        """Show a camelCase line item (amounts in minor units) in the inputs."""

        def major(key: str) -> str:
            value = item.get(key)
            return "" if value is None else str(money.from_minor(int(value), currency))

        with self.hold_trait_notifications():
            self.item_id.value = item.get("itemId") or ""
            self.description.value = item.get("description") or ""
            self.amount.value = major("amount")
            self.quantity.value = int(item.get("quantity") or 1) if item.get("quantity") != 0 else 0
            self.discount.value = major("discountAmount")
            self.tax.value = major("taxAmount")
            self.product_type.value = item.get("productType") or ""

    def parse(self, currency: str) -> None:
        """Read the inputs into ``self.item`` (camelCase, minor units) and ``self.problems``."""
        problems: list[str] = []
        item: dict[str, Any] = {}
        if self.item_id.value.strip():
            item["itemId"] = self.item_id.value.strip()
        if self.description.value.strip():
            item["description"] = self.description.value.strip()
        for key, widget, required in (("amount", self.amount, True), ("discountAmount", self.discount, False),
                                      ("taxAmount", self.tax, False)):  # fmt: skip
            text = widget.value.strip()
            if not text:
                if required:
                    problems.append(f"{key}: enter the unit price, e.g. {money.from_minor(2500, currency)}")
                continue
            try:
                item[key] = money.to_minor(text, currency)
            except money.MoneyError as exc:
                problems.append(f"{key}: {exc}")
        item["quantity"] = int(self.quantity.value)
        if self.product_type.value:
            item["productType"] = self.product_type.value
        if not problems:
            try:
                LineItem.model_validate(item)
            except ValidationError as exc:
                problems += [
                    f"{e.path.removeprefix('$.') or 'line'}: {e.description}" for e in field_errors(exc)
                ]
        self.item = None if problems else item
        self.problems = problems
        if problems:
            self.error.show(problems)
        else:
            self.error.value = (
                f'<span style="color:#6c757d;font-size:0.85em">sends {item["amount"]} → '
                f"{html.escape(money.format_minor(money.line_total(item), currency))}</span>"
            )


class LineItemsForm(QuietValue, widgets.VBox):
    """Rows of line items with a live total in the currency.

    Amounts are typed in major units (``25.00`` GBP, ``1500`` JPY, ``1.234``
    KWD) and sent in minor units; each row shows what it will send.
    ``value`` is the list of camelCase line items (settable: setting it
    refills the form), ``total`` the derived total in minor units, ``errors``
    what is wrong, row by row. Observe ``value`` to react to edits.
    """

    value = traitlets.List(help="the line items as camelCase dicts in minor units")
    currency = traitlets.Unicode("GBP", help="ISO 4217 code the amounts are typed in")

    def __init__(
        self, currency: str = "GBP", items: list[dict[str, Any]] | None = None, **kwargs: Any
    ) -> None:
        self._rows: list[_Row] = []
        self._looks = Looks()
        self._updating = False
        self._rows_box = widgets.VBox()
        self._rows_box.add_class("primer-nb-line-item-rows")
        self._add = widgets.Button(description="Add line item", icon="plus")
        self._add.add_class("primer-nb-add-line-item")
        self._total = widgets.HTML()
        self._total.add_class("primer-nb-total")
        # Each heading is exactly as wide as its input below (widgets have 2px margins) and its
        # grey wire name may break before a capital (discount|Amount) rather than run into the next.
        header = widgets.HTML(
            '<div style="display:flex;font-size:0.8em;color:#495057;line-height:1.3">'
            + "".join(
                f'<span class="primer-nb-heading" style="flex:none;box-sizing:border-box;width:{w};'
                f'margin:0 2px;overflow-wrap:anywhere">{html.escape(t)}<br>'
                f'<code class="primer-nb-hint" style="color:#6c757d">{breakable(f)}</code></span>'
                for t, f, w in (
                    ("Item ID", "itemId", "110px"),
                    ("Description", "description", "150px"),
                    ("Unit price", "amount", "90px"),
                    ("Qty", "quantity", "70px"),
                    ("Discount", "discountAmount", "80px"),
                    ("Tax", "taxAmount", "80px"),
                    ("Type", "productType", "100px"),
                )
            )
            + "</div>"
        )
        header.add_class("primer-nb-line-items-header")
        super().__init__([header, self._rows_box, widgets.HBox([self._add, self._total])], **kwargs)
        self.add_class("primer-nb-line-items")
        self._add.on_click(lambda _: self.add_row())
        self.currency = currency
        self.observe(self._on_value, names="value")
        self.observe(self._on_currency, names="currency")
        if items:
            self.value = list(items)
        else:
            self._refresh()

    # ------------------------------------------------------------------ public

    @property
    def total(self) -> int:
        """The derived total of the valid rows, in minor units."""
        return sum(money.line_total(row.item) for row in self._rows if row.item is not None)

    @property
    def errors(self) -> list[str]:
        """Every problem, as ``line N: field: message``."""
        return [f"line {i + 1}: {p}" for i, row in enumerate(self._rows) for p in row.problems]

    @property
    def rows(self) -> list[_Row]:
        """The row widgets, in order (for tests and advanced use)."""
        return list(self._rows)

    def add_row(self, item: dict[str, Any] | None = None) -> _Row:
        """Append a row, filled from ``item`` (camelCase, minor units) if given."""
        row = _Row(self, self._looks)
        if item:  # an empty new row waits for input before it reports problems
            row.fill(item, self.currency)
            row.parse(self.currency)
        self._rows.append(row)
        self._rows_box.children = (*self._rows_box.children, row)
        self._refresh()
        return row

    def show_error(self, index: int, message: str) -> None:
        """Show an error (e.g. from the API) beside row ``index``."""
        if 0 <= index < len(self._rows):
            self._rows[index].error.show(message)

    # ------------------------------------------------------------------ internals

    def _row_changed(self, row: _Row) -> None:
        if self._updating:
            return
        row.parse(self.currency)
        self._refresh()

    def _duplicate(self, row: _Row) -> None:
        position = self._rows.index(row) + 1
        copy = _Row(self, self._looks)
        if row.item is not None:
            copy.fill(row.item, self.currency)
        else:
            for source, target in zip(row.inputs, copy.inputs, strict=True):
                target.value = source.value
        copy.parse(self.currency)
        self._rows.insert(position, copy)
        self._rows_box.children = tuple(self._rows)
        self._refresh()

    def _remove(self, row: _Row) -> None:
        self._rows.remove(row)
        self._rows_box.children = tuple(self._rows)
        self._refresh()

    def _refresh(self) -> None:
        total = self.total
        problems = sum(bool(r.problems) for r in self._rows)
        note = f' <span style="color:#b02a37">({problems} line(s) need fixing)</span>' if problems else ""
        self._total.value = (
            f"<b>Total: {html.escape(money.format_minor(total, self.currency))}</b> "
            f'<span style="color:#6c757d">({total} minor units)</span>{note}'
        )
        self._publish([dict(row.item) for row in self._rows if row.item is not None])

    def _on_value(self, change: dict[str, Any]) -> None:
        if self._updating:
            return
        items = list(change["new"])
        self._updating = True
        try:
            self._rows = []
            rows = []
            for item in items:
                row = _Row(self, self._looks)
                row.fill(item, self.currency)
                row.parse(self.currency)
                rows.append(row)
            self._rows = rows
            self._rows_box.children = tuple(rows)
        finally:
            self._updating = False
        self._refresh()

    @traitlets.validate("currency")
    def _valid_currency(self, proposal: dict[str, Any]) -> str:
        code = str(proposal["value"]).upper()
        try:
            money.exponent(code)
        except money.MoneyError as exc:
            raise traitlets.TraitError(str(exc)) from None
        return code

    def _on_currency(self, change: dict[str, Any]) -> None:
        # Re-read what was typed: "25.00" is 2500 in GBP, 25 in JPY (and 25.50 is refused there).
        for row in self._rows:
            row.parse(change["new"])
        self._refresh()
