"""``MetadataForm``: key/value rows where each value is a string or an integer."""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import traitlets

from primer_nb.widgets._common import ErrorText, Looks, QuietValue

__all__ = ["MetadataForm"]


class _Row(widgets.HBox):
    def __init__(self, form: MetadataForm, key: str = "", value: str | int = "") -> None:
        looks = form._looks
        self.key = looks.make(widgets.Text, value=key, placeholder="key", layout={"width": "160px"})
        self.key.add_class("primer-nb-metadata-key")
        self.kind = looks.make(
            widgets.Dropdown,
            options=[("string", "string"), ("integer", "integer")],
            value="integer" if isinstance(value, int) and not isinstance(value, bool) else "string",
            layout={"width": "90px"},
        )
        self.value = looks.make(
            widgets.Text, value=str(value), placeholder="value", layout={"width": "200px"}
        )
        self.value.add_class("primer-nb-metadata-value")
        self.remove = looks.make(
            widgets.Button, icon="trash", tooltip="Remove this entry", layout={"width": "36px"}
        )
        self.error = looks.make(ErrorText)
        super().__init__([self.key, self.kind, self.value, self.remove, self.error], layout=looks.layout())
        self.add_class("primer-nb-metadata-row")
        for widget in (self.key, self.kind, self.value):
            widget.observe(lambda _: form._refresh(), names="value")
        self.remove.on_click(lambda _: form._remove(self))


class MetadataForm(QuietValue, widgets.VBox):
    """Metadata as rows of key, type (string or integer) and value.

    ``value`` is the dict of valid rows (settable: setting it refills the form);
    ``errors`` lists empty keys, duplicate keys and integers that are not
    integers, each also shown beside its row.
    """

    value = traitlets.Dict(help="metadata: keys to strings or integers")

    def __init__(self, data: dict[str, str | int] | None = None, **kwargs: Any) -> None:
        self._rows: list[_Row] = []
        self._updating = False
        self._errors: list[str] = []
        self._looks = Looks()
        self._rows_box = widgets.VBox()
        self._add = widgets.Button(description="Add metadata", icon="plus")
        self._add.add_class("primer-nb-add-metadata")
        caption = widgets.HTML('<span style="font-size:0.85em">Your own keys, sent as <code>metadata</code>; '
                               "each value is a string or an integer</span>")  # fmt: skip
        super().__init__([caption, self._rows_box, self._add], **kwargs)
        self.add_class("primer-nb-metadata")
        self._add.on_click(lambda _: self.add_row())
        self.observe(self._on_value, names="value")
        if data:
            self.value = dict(data)

    @property
    def errors(self) -> list[str]:
        """What is wrong, row by row."""
        return list(self._errors)

    @property
    def rows(self) -> list[_Row]:
        """The row widgets, in order."""
        return list(self._rows)

    def add_row(self, key: str = "", value: str | int = "") -> _Row:
        """Append a row."""
        row = _Row(self, key, value)
        self._rows.append(row)
        self._rows_box.children = tuple(self._rows)
        self._refresh()
        return row

    def show_error(self, message: str) -> None:
        """Show an error (e.g. from the API) beside the first row, or under the form."""
        if self._rows:
            self._rows[0].error.show(message)

    def _remove(self, row: _Row) -> None:
        self._rows.remove(row)
        self._rows_box.children = tuple(self._rows)
        self._refresh()

    def _refresh(self) -> None:
        data: dict[str, str | int] = {}
        errors: list[str] = []
        seen: dict[str, int] = {}
        for index, row in enumerate(self._rows, start=1):
            key, text = row.key.value, row.value.value
            problem = None
            if not key.strip() and not text:
                row.error.clear()
                continue  # an untouched empty row is not an entry yet
            if not key.strip():
                problem = "the key is empty; give it a name or remove the row (Primer refuses empty keys)"
            elif key in seen:
                problem = f"'{key}' is already used on row {seen[key]}; keys must be unique"
            elif row.kind.value == "integer":
                try:
                    data[key] = int(text.strip().replace("_", ""))
                except ValueError:
                    problem = f"'{text}' is not an integer; fix it or make the row a string"
            else:
                data[key] = text
            seen.setdefault(key, index)
            if problem:
                row.error.show(problem)
                errors.append(f"row {index}: {problem}")
            else:
                row.error.clear()
        self._errors = errors
        self._publish(data)

    def _on_value(self, change: dict[str, Any]) -> None:
        if self._updating:
            return
        self._rows = [_Row(self, key, value) for key, value in change["new"].items()]
        self._rows_box.children = tuple(self._rows)
        self._refresh()
