"""``SessionBuilder``: compose a whole session, preview its JSON, create it, then patch it."""

from __future__ import annotations

import html
import json
import re
import warnings
from datetime import timedelta
from typing import Any

import ipywidgets as widgets
import traitlets

from primer_nb.api import money
from primer_nb.api.codes import COUNTRY_CODES, CURRENCY_CODES
from primer_nb.api.errors import FieldError, PrimerAPIError, PrimerError, PrimerValidationError
from primer_nb.api.patching import patch_body
from primer_nb.api.session import ClientSession, ClientSessionRequest
from primer_nb.api.validation import parse_request
from primer_nb.widgets._common import ErrorText, Looks, api_failure, labelled, safe_callback
from primer_nb.widgets.customer import CustomerForm
from primer_nb.widgets.line_items import LineItemsForm
from primer_nb.widgets.metadata import MetadataForm

__all__ = ["SessionBuilder"]

_LINE = re.compile(r"^\$\.order\.lineItems\[(\d+)\]")


def _report(builder: SessionBuilder, exc: BaseException) -> None:
    builder.message.show(f"{type(exc).__name__}: {exc}")


def _left(delta: timedelta | None) -> str:
    if delta is None:
        return "unknown"
    if delta <= timedelta(0):
        return "expired"
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min left"


class SessionBuilder(widgets.VBox):
    """Build a client session in forms, see the JSON, create it, then update it.

    Before creation the preview shows the ``POST`` body; ``create()`` (or the
    button) sends it and shows the masked token, the expiry countdown, the
    amount and the warnings with what clears each. After that the builder is in
    update mode: the preview shows only what changed (``null`` for cleared
    fields) and ``update()`` sends it as a ``PATCH``, then shows a before/after diff.
    Problems appear beside the field they concern; what was typed is kept.
    ``session`` is a trait: observe it, or hand the builder to a
    :class:`~primer_nb.widgets.PaymentPanel` (``payment_panel()``) to pay for
    the session once it is created.
    """

    session = traitlets.Any(None, allow_none=True, help="The created (then updated) ClientSession.")

    def __init__(
        self,
        client: Any = None,
        currency: str = "GBP",
        order_id: str | None = None,
        line_items: list[dict[str, Any]] | None = None,
        metadata: dict[str, str | int] | None = None,
        customer: dict[str, Any] | None = None,
        country_code: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._client = client
        self._sent: dict[str, Any] | None = None
        self._last_action = "created"
        looks = Looks()
        self.currency = looks.make(
            widgets.Dropdown,
            options=sorted(CURRENCY_CODES),
            value=currency.upper(),
            layout={"width": "110px"},
        )
        self.currency.add_class("primer-nb-currency")
        self.order_id = looks.make(widgets.Text, value=order_id or "", placeholder="order-1001")
        self.order_id.add_class("primer-nb-order-id")
        self.country = looks.make(
            widgets.Combobox, options=sorted(COUNTRY_CODES), value=country_code or "", placeholder="GB",
            ensure_option=True,
        )  # fmt: skip
        self.country.add_class("primer-nb-country")
        self.top_errors = {
            "currencyCode": looks.make(ErrorText),
            "orderId": looks.make(ErrorText),
            "order.countryCode": looks.make(ErrorText),
        }
        self.line_items = LineItemsForm(currency=currency, items=line_items)
        self.metadata = MetadataForm(metadata)
        self.customer = CustomerForm(customer)
        self.preview = looks.make(widgets.HTML)
        self.preview.add_class("primer-nb-preview")
        self.create_button = looks.make(
            widgets.Button, description="Create session", button_style="primary", icon="play"
        )
        self.create_button.add_class("primer-nb-create")
        self.update_button = looks.make(
            widgets.Button, description="Update session", icon="pencil", disabled=True
        )
        self.update_button.add_class("primer-nb-update")
        self.message = looks.make(ErrorText)
        self.message.add_class("primer-nb-message")
        self.notes = looks.make(widgets.HTML)
        self.result = looks.make(widgets.HTML)
        self.result.add_class("primer-nb-result")
        self.diff = looks.make(widgets.HTML)
        self.diff.add_class("primer-nb-diff")

        def field(widget: widgets.Widget, label: str, api_field: str) -> widgets.VBox:
            return looks.make(
                widgets.VBox, children=[labelled(widget, label, api_field, looks), self.top_errors[api_field]]
            )

        top = looks.make(widgets.HBox, children=[
            field(self.currency, "Currency", "currencyCode"),
            field(self.order_id, "Order ID", "orderId"),
            field(self.country, "Order country", "order.countryCode"),
        ])  # fmt: skip
        sections = looks.make(
            widgets.Accordion,
            children=[self.line_items, self.customer, self.metadata],
            # The wire name only where it differs from the title ("Customer customer" reads as a typo).
            titles=("Line items · order.lineItems", "Customer", "Metadata"),
            selected_index=0,
        )
        super().__init__(
            [top, sections, looks.make(widgets.HBox, children=[self.create_button, self.update_button]),
             self.message, self.notes, looks.make(widgets.HTML, value="<b>Request preview</b>"), self.preview,
             self.result, self.diff],
            **kwargs,
        )  # fmt: skip
        self.add_class("primer-nb-session-builder")
        self.currency.observe(self._on_currency_value, names="value")
        for part in (self.order_id, self.country, self.line_items, self.metadata, self.customer):
            part.observe(self._on_part_value, names="value")
        self.create_button.on_click(self._on_create_click)
        self.update_button.on_click(self._on_update_click)
        self._render_preview()

    # ------------------------------------------------------------------ the request

    def body(self) -> dict[str, Any]:
        """The camelCase request body the forms describe (empty parts left out)."""
        body: dict[str, Any] = {"currencyCode": self.currency.value}
        if self.order_id.value.strip():
            body["orderId"] = self.order_id.value.strip()
        order: dict[str, Any] = {}
        if self.country.value:
            order["countryCode"] = self.country.value
        if self.line_items.value:
            order["lineItems"] = list(self.line_items.value)
        if order:
            body["order"] = order
        if self.customer.value:
            body["customer"] = dict(self.customer.value)
        if self.metadata.value:
            body["metadata"] = dict(self.metadata.value)
        return body

    @property
    def request(self) -> ClientSessionRequest:
        """The validated create request (raises :class:`PrimerValidationError` when invalid)."""
        return parse_request(self.body())

    @property
    def mode(self) -> str:
        """``"create"`` until a session exists, then ``"update"``."""
        return "create" if self.session is None else "update"

    def changes(self) -> dict[str, Any]:
        """In update mode, the PATCH body (without the token) that the forms' edits amount to."""
        return patch_body(self._sent or {}, self.body()) if self._sent is not None else {}

    @property
    def errors(self) -> list[str]:
        """Every problem the forms currently show."""
        return [*self.line_items.errors, *self.customer.errors, *self.metadata.errors]

    # ------------------------------------------------------------------ actions

    def _client_or_connect(self) -> Any:
        if self._client is None:
            from primer_nb.connection import connect

            self._client = connect()
        return self._client

    def create(self) -> ClientSession | None:
        """Send the request; show and return the session (``None`` if it could not be created)."""
        self._clear_errors()
        if self.errors:
            self.message.show(["Fix the highlighted fields first:", *self.errors])
            return None
        try:
            request = self.request
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                session = self._client_or_connect().create_client_session(request)
        except PrimerError as exc:
            self._show_failure(exc)
            return None
        self.session = session
        self._sent = request.to_wire()
        self._show_notes([str(w.message) for w in caught])
        self.update_button.disabled = False
        self.create_button.disabled = True
        self._render_result()
        self._render_preview()
        return session

    def update(self) -> ClientSession | None:
        """Send what changed as a PATCH; show the diff and return the updated session."""
        self._clear_errors()
        if self.session is None or self._sent is None:
            self.message.show("Create the session first.")
            return None
        if self.errors:
            self.message.show(["Fix the highlighted fields first:", *self.errors])
            return None
        changes = self.changes()
        if not changes:
            self.message.show("Nothing has changed since the last send.")
            return None
        before = self.session
        try:
            self.request  # the edited whole must still be a valid session  # noqa: B018
            after = self._client_or_connect().update_client_session(str(before.client_token), changes)
        except PrimerError as exc:
            self._show_failure(exc)
            return None
        self.session = after
        self._sent = self.body()
        self._last_action = "updated"
        from primer_nb import tables

        frame = tables.diff_frame(before, after, changes)
        self.diff.value = "<b>What the PATCH changed</b>" + tables.style(frame).to_html()
        self._render_result()
        self._render_preview()
        return after

    def payment_panel(self, **options: Any) -> Any:
        """A :class:`~primer_nb.widgets.PaymentPanel` that pays for this builder's session (once created)."""
        from primer_nb.widgets.payment import PaymentPanel

        return PaymentPanel(self._client, session=self, **options)

    # ------------------------------------------------------------------ callbacks

    @safe_callback(_report)
    def _on_create_click(self, _: widgets.Button) -> None:
        self.create()

    @safe_callback(_report)
    def _on_update_click(self, _: widgets.Button) -> None:
        self.update()

    @safe_callback(_report)
    def _on_currency_value(self, change: dict[str, Any]) -> None:
        self.line_items.currency = change["new"]
        self._render_preview()

    @safe_callback(_report)
    def _on_part_value(self, change: dict[str, Any]) -> None:
        self._render_preview()

    # ------------------------------------------------------------------ display

    def _render_preview(self) -> None:
        if self.mode == "create":
            title, body = "POST /client-session", self.body()
        else:
            title, body = "PATCH /client-session", {"clientToken": "<the session's token>", **self.changes()}
        text = json.dumps(body, indent=2, ensure_ascii=False)
        self.preview.value = (
            f'<div style="font-size:0.85em;color:#6c757d">{title}</div>'
            '<pre style="max-height:260px;overflow:auto;background:#f8f9fa;padding:6px">'
            f"{html.escape(text, quote=False)}</pre>"
        )

    def _render_result(self) -> None:
        from primer_nb import tables

        session = self.session
        if session is None:
            self.result.value = ""
            return
        currency = session.currency_code
        amount = (
            money.format_minor(session.amount, currency) if session.amount is not None and currency else "—"
        )
        expires = f"{session.expires_at:%Y-%m-%d %H:%M} UTC" if session.expires_at else "unknown"
        frame = tables.warnings_frame([session])[["payment_method", "field", "message", "fix"]]
        frame.attrs["primer_nb"] = "warnings"
        warnings_html = (
            '<p class="primer-nb-no-warnings">No warnings: every enabled payment method '
            "has what it needs.</p>"
            if frame.empty
            else f'<div class="primer-nb-warnings">{tables.style(frame).to_html()}</div>'
        )
        self.result.value = (
            '<div style="border-left:4px solid #198754;padding:4px 10px">'
            f"<b>Session {self._last_action}</b><br>"
            'client token <code class="primer-nb-token">'
            f"{html.escape(session.masked_token or '—')}</code><br>"
            f'expires <span class="primer-nb-expiry">{expires} ({_left(session.expires_in)})</span><br>'
            f'amount <span class="primer-nb-amount-result">{html.escape(amount)}</span></div>'
            f"<b>Warnings</b> ({len(session.warnings)}){warnings_html}"
        )

    def _show_notes(self, notes: list[str]) -> None:
        self.notes.value = "".join(
            f'<div style="color:#664d03;font-size:0.85em">ℹ {html.escape(n)}</div>' for n in notes
        )

    def _clear_errors(self) -> None:
        self.message.clear()
        for error in self.top_errors.values():
            error.clear()

    def _show_failure(self, exc: PrimerError) -> None:
        found: list[FieldError] = []
        if isinstance(exc, PrimerValidationError):
            found = exc.errors
            self.message.show(f"The request is not valid ({len(found)} problem(s)); see the fields.")
        elif isinstance(exc, PrimerAPIError):
            found = exc.field_errors
            self.message.show(api_failure(exc))
        else:
            self.message.show(str(exc))
        unplaced = [e for e in found if not self._place(e)]
        if unplaced:
            self.message.show([self.message.text, *[str(e) for e in unplaced]])

    def _place(self, error: FieldError) -> bool:
        """Show ``error`` beside its field; return whether a field was found."""
        path = error.path
        if (match := _LINE.match(path)) is not None:
            self.line_items.show_error(int(match.group(1)), f"{path}: {error.description}")
            return True
        if path.startswith("$.metadata"):
            self.metadata.show_error(error.description)
            return bool(self.metadata.rows)
        if path.startswith("$.customer."):
            self.customer.show_error(path.removeprefix("$.customer."), error.description)
            return True
        key = path.removeprefix("$.")
        if key in self.top_errors:
            self.top_errors[key].show(error.description)
            return True
        return False
