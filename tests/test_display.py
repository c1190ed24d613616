"""How a ClientSession reads in a notebook cell (HTML) and a terminal (one line of text)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from IPython.core.formatters import DisplayFormatter
from IPython.lib.pretty import pretty

from primer_nb.api.display import (
    MAX_LINE_ITEMS,
    format_amount,
    format_time_left,
    session_html,
    session_text,
)
from primer_nb.api.payment import Payment, PaymentInstrument
from primer_nb.api.session import ClientSession

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJhY2Nlc3NUb2tlbiI6ImFiYyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUQos"
EXPIRES = datetime(2025, 1, 7, 9, 0, tzinfo=UTC)


def make(
    currency: str = "GBP",
    amount: int | None = 5000,
    *,
    now: datetime | None = EXPIRES - timedelta(hours=23, minutes=59, seconds=30),
    **extra,
) -> ClientSession:
    body = {
        "clientToken": TOKEN,
        "clientTokenExpirationDate": "2025-01-07T09:00:00.000000",
        "orderId": "order-<1001>",
        "currencyCode": currency,
        "amount": amount,
        "order": {
            "countryCode": "GB",
            "lineItems": [
                {"itemId": "tee", "description": "White <T-shirt>", "amount": 2500, "quantity": 2},
                {"itemId": "socks", "amount": 800, "discountAmount": 300},
            ],
        },
        "warnings": [
            {"type": "THREE_DS", "code": "MISSING_DATA", "message": "3DS is missing 'customer.emailAddress'"},
            "Apple Pay is missing 'order.countryCode'",
        ],
        **extra,
    }
    session = ClientSession.model_validate(body)
    if now is not None:
        session.attach(clock=lambda: now)
    return session


@pytest.mark.parametrize(
    ("currency", "amount", "shown"),
    [("GBP", 5000, "£50.00 GBP"), ("JPY", 1500, "¥1,500 JPY"), ("KWD", 1234, "KWD 1.234")],
)
def test_the_amount_is_shown_in_the_currencys_units(currency, amount, shown):
    session = make(currency, amount)
    assert format_amount(amount, currency) == shown
    assert f"amount={shown}," in repr(session)
    assert f"{shown} <span" in session._repr_html_()
    assert f"({amount} minor units)" in session._repr_html_()


def test_unknown_or_missing_amounts_never_break_the_view():
    assert format_amount(None, "GBP") == "—"
    assert format_amount(150, "XYZ") == "150 XYZ (minor units)"
    session = make("XYZ", 150)
    assert "150 XYZ (minor units)" in session._repr_html_()
    assert "amount=" not in repr(make(amount=None)) and "currency=GBP" in repr(make(amount=None))


def test_the_html_masks_the_token_and_escapes_everything():
    page = make()._repr_html_()
    assert TOKEN not in page and TOKEN[:20] not in page
    assert "<code>eyJhbG…UQos</code>" in page
    assert "order-&lt;1001&gt;" in page and "White &lt;T-shirt&gt;" in page
    assert "<T-shirt>" not in page and "order-<1001>" not in page
    assert "3DS is missing &#x27;customer.emailAddress&#x27;" in page


def test_the_html_lists_line_items_in_brief_and_the_warnings():
    page = make()._repr_html_()
    items = re.search(r'<ul class="primer-nb-items".*?</ul>', page).group(0)
    assert items.count("<li>") == 2
    assert "<code>tee</code> White &lt;T-shirt&gt;" in items and "2 × £25.00 →</span> £50.00" in items
    assert "1 × £8.00 →</span> £5.00" in items  # the discount applies to the line
    warned = re.search(r'<ul class="primer-nb-session-warnings".*?</ul>', page).group(0)
    assert warned.count("<li>") == 2
    assert "<b>THREE_DS</b>" in warned and "<b>APPLE_PAY</b> Apple Pay is missing" in warned
    assert ">2 warnings</th>" in page and ">2 line items</th>" in page


def test_long_orders_are_cut_short():
    many = [{"itemId": f"sku-{i}", "amount": 100} for i in range(MAX_LINE_ITEMS + 3)]
    page = make(order={"lineItems": many})._repr_html_()
    assert page.count("<code>sku-") == MAX_LINE_ITEMS
    assert "… and 3 more" in page


def test_time_left_is_read_from_the_sessions_clock():
    session = make()
    assert "2025-01-07 09:00 UTC" in session._repr_html_()
    assert "(in 23h59m)" in session._repr_html_()
    assert "expires in 23h59m" in repr(session)

    later = EXPIRES + timedelta(hours=1, minutes=5)
    session.attach(clock=lambda: later)  # the same session, on a clock moved past expiry
    assert "expired 1h05m ago" in repr(session)
    assert "expires" not in repr(session).split("token=")[1].split(",")[1]
    assert "(expired 1h05m ago)" in session._repr_html_()


@pytest.mark.parametrize(
    ("left", "shown"),
    [
        (timedelta(hours=24), "in 24h00m"),
        (timedelta(seconds=42.9), "in 42s"),
        (timedelta(hours=-1, minutes=-5, seconds=-59), "expired 1h05m ago"),
        (timedelta(days=-3, hours=-4, minutes=-30), "expired 3d04h ago"),
        (timedelta(0), "expired 0s ago"),
        (None, "unknown"),
    ],
)
def test_format_time_left(left, shown):
    assert format_time_left(left) == shown


def test_a_clock_that_fails_leaves_out_the_time_left():
    session = make(now=None)

    def unreachable() -> datetime:
        raise ConnectionError("the sandbox has stopped")

    session.attach(clock=unreachable)
    assert "expires 2025-01-07 09:00 UTC" in repr(session)
    page = session._repr_html_()
    assert "2025-01-07 09:00 UTC</td>" in page


def test_the_text_repr_is_one_concise_line():
    text = repr(make())
    assert text == (
        "ClientSession(order_id='order-<1001>', amount=£50.00 GBP, 2 line items, token=eyJhbG…UQos, "
        "expires in 23h59m, 2 warnings)"
    )
    assert "\n" not in text and TOKEN not in text
    assert session_text(make(), "Session").startswith("Session(")
    empty = ClientSession.model_validate({})
    assert repr(empty) == "ClientSession(order_id=None, 0 warnings)"
    assert "<b>ClientSession</b>" in session_html(empty) and ">none</td>" in session_html(empty)


def test_ipython_uses_the_compact_views():
    session = make()
    assert pretty(session) == repr(session)
    shown, _ = DisplayFormatter().format(session)
    assert shown["text/plain"] == repr(session)
    assert shown["text/html"] == session._repr_html_()
    assert 'class="primer-nb-session"' in shown["text/html"]


# ------------------------------------------------------------------ payments and tokenized cards

PM_TOKEN = "PmTok0123456789abcdefghijklmnopQ"


def payment_body(currency: str = "GBP", **extra) -> dict:
    return {
        "id": "pay<1>",
        "date": "2025-01-06T09:00:00.000000",
        "dateUpdated": "2025-01-06T09:26:00.000000",
        "status": "PARTIALLY_SETTLED",
        "orderId": "order-<1001>",
        "currencyCode": currency,
        "amount": 5900,
        "paymentMethod": {
            "paymentMethodToken": PM_TOKEN,
            "paymentMethodData": {"last4Digits": "1111", "first6Digits": "411111", "expirationMonth": "12",
                                  "expirationYear": "2028", "network": "Visa"},
            "threeDSecureAuthentication": {"responseCode": "NOT_PERFORMED"},
        },
        "processor": {"amountCaptured": 2500, "amountRefunded": 1250},
        "transactions": [{"transactionType": "SALE"}, {"transactionType": "REFUND"}, {"transactionType": "REFUND"}],
        **extra,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("currency", "amount", "captured", "refunded"),
    [("GBP", "£59.00 GBP", "£25.00", "£12.50"), ("JPY", "¥5,900 JPY", "¥2,500", "¥1,250"),
     ("KWD", "KWD 5.900", "KWD 2.500", "KWD 1.250")],
)  # fmt: skip
def test_a_payment_reads_in_its_currencys_units_with_its_token_masked(currency, amount, captured, refunded):
    payment = Payment.model_validate(payment_body(currency))
    assert repr(payment) == (
        f"Payment(id='pay<1>', status=PARTIALLY_SETTLED, amount={amount}, captured={captured}, "
        f"refunded={refunded}, order_id='order-<1001>', card=Visa •••• 1111 (12/2028), token=PmTok0…nopQ)"
    )  # fmt: skip
    page = payment._repr_html_()
    assert f"{captured} · {refunded}" in page and PM_TOKEN not in page + repr(payment)
    assert "pay&lt;1&gt;" in page and "order-&lt;1001&gt;" in page and "<1001>" not in page
    assert "SALE, REFUND ×2" in page and "NOT_PERFORMED" in page
    assert "2025-01-06 09:26:00 UTC" in page


def test_a_declined_or_pending_payment_says_why_and_what_waits():
    declined = Payment.model_validate(payment_body(
        status="DECLINED", processor={},
        statusReason={"type": "ISSUER_DECLINED", "declineType": "SOFT_DECLINE", "code": "DECLINED", "message": "No <funds>"},
    ))  # fmt: skip
    assert declined.decline_reason == "ISSUER_DECLINED · SOFT_DECLINE · DECLINED: No <funds>"
    assert "reason='ISSUER_DECLINED · SOFT_DECLINE · DECLINED: No <funds>'" in repr(declined)
    assert "No &lt;funds&gt;" in declined._repr_html_() and declined.authorized_amount == 0
    pending = Payment.model_validate(payment_body(
        status="PENDING", requiredAction={"name": "3DS_AUTHENTICATION", "description": "Authenticate", "clientToken": TOKEN},
    ))  # fmt: skip
    assert "required_action=3DS_AUTHENTICATION" in repr(pending)
    assert TOKEN not in repr(pending) + pending._repr_html_() + str(pending.required_action)


def test_provenance_is_listed_when_the_kit_knows_it():
    payment = Payment.model_validate(payment_body())
    assert "from the session" not in payment._repr_html_()
    payment.attach(provenance={"orderId": "overridden", "amount": "session", "metadata.x": "request"})
    page = payment._repr_html_()
    assert "from the session</th>" in page and "<code>amount</code>" in page
    assert "overridden</th>" in page and "from the request</th>" in page


def test_minimal_payments_and_instruments_never_break_the_views():
    bare = Payment.model_validate({"id": "p", "status": "FAILED"})
    assert repr(bare) == "Payment(id='p', status=FAILED, amount=—)"
    assert "<b>Payment</b>" in bare._repr_html_() and bare.history == []
    instrument = PaymentInstrument.model_validate({
        "token": PM_TOKEN, "tokenType": "SINGLE_USE", "analyticsId": "a", "paymentInstrumentType": "PAYMENT_CARD",
        "paymentInstrumentData": {"last4Digits": "4444", "first6Digits": "555555", "expirationMonth": "01",
                                  "expirationYear": "2031", "network": "Mastercard",
                                  "binData": {"network": "MASTERCARD", "accountFundingType": "CREDIT"}},
    })  # fmt: skip
    assert (
        repr(instrument) == "PaymentInstrument(Mastercard •••• 4444 (01/2031), SINGLE_USE, token=PmTok0…nopQ)"
    )
    page = instrument._repr_html_()
    assert PM_TOKEN not in page and "MASTERCARD · CREDIT" in page and "555555" in page
    shown, _ = DisplayFormatter().format(instrument)
    assert shown["text/plain"] == repr(instrument) and pretty(bare) == repr(bare)
