"""The forms, headless: values round-trip, totals follow the money rules, errors show inline."""

from __future__ import annotations

import ipywidgets as widgets
import pytest
import traitlets

from primer_nb import PrimerClient
from primer_nb.widgets import CustomerForm, LineItemsForm, MetadataForm, PaymentPanel, SessionBuilder
from primer_nb.widgets._common import Looks

ITEMS = [
    {
        "itemId": "tee",
        "description": "T-shirt",
        "amount": 2500,
        "quantity": 2,
        "discountAmount": 100,
        "taxAmount": 50,
    },
    {"itemId": "cap", "amount": 1234, "quantity": 1, "productType": "PHYSICAL"},
]


# ------------------------------------------------------------------ line items


def test_line_items_value_round_trips():
    form = LineItemsForm("GBP", ITEMS)
    assert form.value == ITEMS
    assert form.rows[0].amount.value == "25.00" and form.rows[0].discount.value == "1.00"
    assert form.total == 2 * 2500 - 100 + 50 + 1234
    assert "£61.84" in form._total.value
    form.value = ITEMS[:1]
    assert len(form.rows) == 1 and form.value == ITEMS[:1]


@pytest.mark.parametrize(
    ("currency", "typed", "minor", "shown"),
    [("GBP", ("25.00", "1.50", "0.20"), (2500, 150, 20), "£48.70"),
     ("JPY", ("1500", "100", "50"), (1500, 100, 50), "¥2,950"),
     ("KWD", ("1.234", "0.100", "0.010"), (1234, 100, 10), "KWD 2.378")],
)  # fmt: skip
def test_totals_in_each_currency_with_discount_and_tax(currency, typed, minor, shown):
    form = LineItemsForm(currency)
    row = form.add_row()
    row.amount.value, row.discount.value, row.tax.value = typed
    row.quantity.value = 2
    assert form.value == [
        {"amount": minor[0], "discountAmount": minor[1], "taxAmount": minor[2], "quantity": 2}
    ]
    assert form.total == 2 * minor[0] - minor[1] + minor[2]
    assert shown in form._total.value


def test_edits_update_value_and_observers():
    form = LineItemsForm("GBP", ITEMS)
    seen = []
    form.observe(lambda change: seen.append(change["new"]), names="value")
    form.rows[1].amount.value = "20.00"
    assert seen[-1][1]["amount"] == 2000
    assert form.total == 4950 + 2000


def test_add_duplicate_and_remove_rows():
    form = LineItemsForm("GBP", ITEMS)
    form.rows[0].duplicate.click()
    assert [i["itemId"] for i in form.value] == ["tee", "tee", "cap"]
    form.rows[2].remove.click()
    assert [i["itemId"] for i in form.value] == ["tee", "tee"]
    form._add.click()
    assert len(form.rows) == 3 and len(form.value) == 2  # the empty new row waits for input
    assert form.errors == []


def test_changing_currency_reinterprets_the_typed_amounts():
    form = LineItemsForm("GBP")
    row = form.add_row()
    row.amount.value = "25"
    assert form.value[0]["amount"] == 2500
    form.currency = "JPY"
    assert form.value[0]["amount"] == 25
    form.currency = "KWD"
    assert form.value[0]["amount"] == 25000
    row.amount.value = "25.50"
    form.currency = "JPY"
    assert form.value == [] and "more decimals than JPY" in form.errors[0]
    with pytest.raises(traitlets.TraitError, match="ISO 4217"):
        form.currency = "XXX"


def test_line_item_errors_are_inline_and_input_is_kept():
    form = LineItemsForm("GBP", ITEMS)
    row = form.rows[0]
    row.amount.value = "12.345"
    assert "more decimals than GBP" in row.error.text
    assert row.amount.value == "12.345"
    assert form.errors == [
        "line 1: amount: '12.345' has more decimals than GBP allows (2); round it to 2 decimal places first."
    ]
    row.amount.value = "0.50"
    row.discount.value = "5.00"
    assert "negative" in form.errors[0]
    row.discount.value = ""
    assert form.errors == [] and row.error.text.startswith("sends 50")


# ------------------------------------------------------------------ metadata


def test_metadata_round_trip_and_types():
    form = MetadataForm({"channel": "web", "attempt": 3})
    assert form.value == {"channel": "web", "attempt": 3}
    assert [r.kind.value for r in form.rows] == ["string", "integer"]
    form.value = {"x": "1"}
    assert form.value == {"x": "1"} and form.rows[0].kind.value == "string"


def test_metadata_inline_errors():
    form = MetadataForm()
    first, second, third = form.add_row(), form.add_row(), form.add_row()
    first.value.value = "orphan"
    assert "key is empty" in first.error.text
    second.key.value, second.value.value = "n", "1.5"
    second.kind.value = "integer"
    assert "not an integer" in second.error.text
    third.key.value, third.value.value = "n", "dup"
    assert "already used" in third.error.text
    assert len(form.errors) == 3
    assert first.value.value == "orphan"  # nothing typed is lost
    first.key.value = "named"
    second.value.value = "2"
    third.key.value = "other"
    assert form.errors == [] and form.value == {"named": "orphan", "n": 2, "other": "dup"}


# ------------------------------------------------------------------ customer


def test_customer_round_trip_and_errors():
    data = {"emailAddress": "ann@example.com", "firstName": "Ann",
            "billingAddress": {"addressLine1": "1 High St", "city": "Leeds", "countryCode": "GB"}}  # fmt: skip
    form = CustomerForm(data)
    assert form.value == data
    assert form.fields["billingAddress.countryCode"].value == "GB"
    form.fields["emailAddress"].value = "not-an-email"
    assert form.errors and form.errors[0].startswith("customer.emailAddress")
    assert "@-sign" in form.field_errors["emailAddress"].text
    assert form.fields["emailAddress"].value == "not-an-email"


# ------------------------------------------------------------------ session builder


@pytest.fixture
def builder(sandbox):
    client = PrimerClient(sandbox.api_key, base_url=sandbox.base_url, clock=sandbox.clock.now)
    return SessionBuilder(client, currency="GBP", order_id="wb-1", line_items=ITEMS, metadata={"a": 1})


def test_builder_request_and_preview(builder):
    assert builder.request.to_wire() == {
        "currencyCode": "GBP",
        "orderId": "wb-1",
        "order": {"lineItems": ITEMS},
        "metadata": {"a": 1},
    }
    assert "POST /client-session" in builder.preview.value and "wb-1" in builder.preview.value
    builder.currency.value = "JPY"
    assert builder.line_items.currency == "JPY"
    assert '"currencyCode": "JPY"' in builder.preview.value


def test_builder_create_shows_masked_token_expiry_and_warnings(builder):
    session = builder.create()
    assert session is not None and builder.mode == "update"
    assert "Session created" in builder.result.value  # the browser test once caught "updated" here
    assert session.client_token not in builder.result.value
    assert session.masked_token in builder.result.value
    assert "23 h 59 min left" in builder.result.value or "24 h 00 min left" in builder.result.value
    assert "£61.84" in builder.result.value
    assert "primer-nb-warnings" in builder.result.value and "set order.countryCode" in builder.result.value
    assert builder.update_button.disabled is False and builder.create_button.disabled is True


def test_builder_update_sends_only_the_changes(builder):
    session = builder.create()
    builder.country.value = "GB"
    builder.metadata.value = {}
    assert builder.changes() == {"order": {"countryCode": "GB"}, "metadata": None}
    assert "PATCH /client-session" in builder.preview.value
    assert session.client_token not in builder.preview.value
    updated = builder.update()
    assert updated.order.country_code == "GB" and updated.metadata is None
    assert "Session updated" in builder.result.value
    assert "cleared" in builder.diff.value and "order.countryCode" in builder.diff.value
    assert builder.changes() == {}
    assert builder.update() is None and "Nothing has changed" in builder.message.text


def test_builder_shows_api_and_validation_errors_inline(builder, sandbox):
    builder.line_items.rows[0].amount.value = "oops"
    assert builder.create() is None
    assert "Fix the highlighted fields" in builder.message.text
    builder.line_items.rows[0].amount.value = "25.00"
    sandbox.faults.set(rate=1.0, statuses=[500], seed=1)
    assert builder.create() is None
    assert "500 InternalServerError" in builder.message.text
    sandbox.faults.clear()
    assert builder.create() is not None


def test_builder_routes_field_errors_beside_their_fields(builder):
    from primer_nb.api.errors import FieldError, PrimerValidationError

    builder._show_failure(PrimerValidationError([
        FieldError("$.order.lineItems[1].amount", "too big"),
        FieldError("$.customer.emailAddress", "bad email"),
        FieldError("$.orderId", "too long"),
        FieldError("$.somethingElse", "odd"),
    ]))  # fmt: skip
    assert "too big" in builder.line_items.rows[1].error.text
    assert "bad email" in builder.customer.field_errors["emailAddress"].text
    assert "too long" in builder.top_errors["orderId"].text
    assert "$.somethingElse: odd" in builder.message.text


def test_button_callbacks_never_lose_an_exception(builder, monkeypatch):
    def explode():
        raise RuntimeError("kaboom")

    monkeypatch.setattr(builder, "create", explode)
    builder.create_button.click()  # must not raise
    assert "RuntimeError: kaboom" in builder.message.text


def test_key_widgets_have_stable_css_classes(builder):
    classes = {c for w in (builder, builder.create_button, builder.update_button, builder.result, builder.preview,
                           builder.line_items, builder.line_items._total, builder.line_items.rows[0].amount,
                           builder.metadata) for c in w._dom_classes}  # fmt: skip
    assert {"primer-nb-session-builder", "primer-nb-create", "primer-nb-update", "primer-nb-result",
            "primer-nb-preview", "primer-nb-line-items", "primer-nb-total", "primer-nb-amount",
            "primer-nb-metadata"} <= classes  # fmt: skip


def test_widgets_of_a_form_share_layouts_and_styles():
    looks = Looks()
    narrow, search, plain = (
        looks.make(widgets.Text, layout={"width": "90px"}),
        looks.make(widgets.Combobox, layout={"width": "90px"}),
        looks.make(widgets.Text),
    )
    assert narrow.layout is search.layout and narrow.layout.width == "90px"
    assert plain.layout is not narrow.layout and plain.layout.width is None
    assert narrow.style is search.style is plain.style  # Text and Combobox both take a TextStyle
    assert looks.make(widgets.Button).style is not plain.style

    form = LineItemsForm(items=[{"amount": 100}, {"amount": 200}])
    first, second = form.rows
    assert first.amount.layout is second.amount.layout and first.amount.style is second.tax.style
    customer = CustomerForm()
    assert len({id(field.style) for field in customer.fields.values()}) == 1
    # Two forms never share: restyling one cannot change the other.
    assert LineItemsForm(items=[{"amount": 100}]).rows[0].amount.layout is not first.amount.layout


# ------------------------------------------------------------------ payment panel


@pytest.fixture
def panel(builder):
    builder.customer.value = {"emailAddress": "ann@example.com", "billingAddress": {"countryCode": "GB"}}
    return builder.payment_panel()


def test_the_panel_follows_the_builders_session(builder, panel):
    assert panel.session is None and panel.pay_button.disabled
    assert panel.pay() is None and "Create a session first" in panel.message.text
    session = builder.create()
    assert panel.session is session and not panel.pay_button.disabled
    assert (
        session.masked_token in panel.session_view.value
        and session.client_token not in panel.session_view.value
    )
    assert "£61.84" in panel.session_view.value
    assert [label.split(":")[0] for label, _ in panel.card.options] == [
        "success", "decline", "failure", "3ds-challenge", "3ds-frictionless", "3ds-failure",
    ]  # fmt: skip
    seen = []
    panel.observe(lambda change: seen.append(change["new"]), names="value")
    panel.pay_button.click()
    assert panel.value is panel.payment is seen[-1] and panel.payment.status == "AUTHORIZED"
    assert panel.payment.provenance["orderId"] == "session"
    assert "AUTHORIZED" in panel.result.value and not panel.capture_button.disabled


@pytest.mark.parametrize(
    ("currency", "typed", "minor", "shown"),
    [("GBP", "10.50", 1050, "£10.50"), ("JPY", "1050", 1050, "¥1,050"), ("KWD", "1.050", 1050, "KWD 1.050")],
)
def test_capture_and_refund_take_major_units_of_the_payments_currency(
    builder, panel, sandbox, currency, typed, minor, shown
):
    builder.currency.value = currency
    builder.line_items.value = [{"itemId": "x", "amount": 5000}]
    assert builder.create() is not None
    panel.pay()
    panel.amount.value = typed
    panel.capture_button.click()
    assert panel.payment.captured_amount == minor and panel.amount.value == ""
    assert shown in panel.result.value
    sandbox.clock.advance(301)
    panel.refund(typed)
    assert panel.payment.refunded_amount == minor


def test_errors_show_inline_and_keep_what_was_typed(builder, panel, sandbox):
    builder.currency.value = "JPY"
    builder.line_items.value = [{"itemId": "x", "amount": 5000}]
    assert builder.create() is not None
    panel.pay()
    panel.amount.value = "10.5"
    panel.capture_button.click()
    assert "more decimals than JPY allows" in panel.amount_error.text and panel.amount.value == "10.5"
    assert panel.payment.captured_amount == 0
    panel.amount.value = "999999"
    assert panel.capture() is None
    assert "is more than" in panel.amount_error.text and "422 RequestValidationError" in panel.message.text
    assert panel.amount.value == "999999"
    panel.amount.value = ""
    panel.refund_button.click()
    assert "400 InvalidPaymentStatus" in panel.message.text and "cannot be refunded" in panel.message.text
    panel.cancel_button.click()
    assert panel.payment.status == "CANCELLED" and panel.message.text == ""


def test_declines_and_a_3ds_challenge_from_the_panel(builder, panel):
    builder.create()
    declined = panel.pay("decline")
    assert declined.status == "DECLINED" and "Generic decline" in panel.result.value
    assert panel.challenge_button.disabled
    pending = panel.pay("3ds-challenge")
    assert pending.status == "PENDING" and not panel.challenge_button.disabled
    panel.challenge_button.click()
    assert panel.payment.status == "AUTHORIZED" and panel.challenge_button.disabled
    assert "AUTH_SUCCESS, challenged" in panel.result.value


def test_a_panel_for_a_plain_session_and_a_new_session_resets_it(sandbox):
    client = PrimerClient(sandbox=sandbox, preflight=False)
    first = client.create_client_session({"orderId": "p-1", "currencyCode": "EUR", "amount": 500})
    panel = PaymentPanel(client, session=first, card="failure")
    assert panel.pay().status == "FAILED" and panel.currency == "EUR"
    panel.session = client.create_client_session({"orderId": "p-2", "currencyCode": "EUR", "amount": 700})
    assert panel.value is None and panel.capture_button.disabled and "p-2" in panel.session_view.value
    assert panel.capture() is None and "Pay first" in panel.message.text


def test_panel_callbacks_never_lose_an_exception(panel, monkeypatch):
    def explode(*_):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(panel, "capture", explode)
    panel.capture_button.click()
    assert "RuntimeError: kaboom" in panel.message.text
    assert {"primer-nb-payment-panel", "primer-nb-pay", "primer-nb-card"} <= {
        c for w in (panel, panel.pay_button, panel.card) for c in w._dom_classes
    }
