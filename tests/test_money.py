"""Minor units, formatting and the totals rule."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from primer_nb.api import money
from primer_nb.api.codes import CURRENCY_CODES
from primer_nb.api.money import MoneyError, derived_amount, format_minor, from_minor, line_total, to_minor


def test_exponents_agree_with_the_iso4217_package():
    iso4217 = pytest.importorskip("iso4217")
    checked = 0
    for code in sorted(CURRENCY_CODES):
        try:
            reference = iso4217.Currency(code).exponent
        except ValueError:
            continue  # historic codes the package dropped (BYR, MRO, HRK, ...)
        assert money.exponent(code) == (reference or 0), code
        checked += 1
    assert checked > 150


@pytest.mark.parametrize(("code", "digits"), [("GBP", 2), ("JPY", 0), ("KWD", 3), ("BHD", 3), ("JOD", 3),
                                               ("USD", 2), ("CLP", 0), ("BYR", 0), ("MRO", 2), ("XAU", 0)])  # fmt: skip
def test_exponent(code, digits):
    assert money.exponent(code) == digits


@pytest.mark.parametrize(
    ("amount", "code", "minor"),
    [("49.99", "GBP", 4999), ("25", "GBP", 2500), (Decimal("0.10"), "GBP", 10), ("1500", "JPY", 1500),
     ("1,500", "JPY", 1500), ("1.234", "KWD", 1234), (7, "USD", 700), ("0", "EUR", 0)],
)  # fmt: skip
def test_to_minor(amount, code, minor):
    assert to_minor(amount, code) == minor


@pytest.mark.parametrize(
    ("amount", "code", "words"),
    [(49.99, "GBP", "never a float"), ("1.234", "GBP", "more decimals"), ("1.5", "JPY", "more decimals"),
     ("-1", "GBP", "negative"), ("abc", "GBP", "not a number"), ("1", "XXX", "ISO 4217"), ("NaN", "GBP", "finite"),
     (True, "GBP", "never a float")],
)  # fmt: skip
def test_to_minor_refuses_with_a_reason(amount, code, words):
    with pytest.raises(MoneyError, match=words):
        to_minor(amount, code)


def test_from_minor_and_format():
    assert from_minor(4999, "GBP") == Decimal("49.99")
    assert str(from_minor(1500, "JPY")) == "1500"
    assert str(from_minor(1234, "KWD")) == "1.234"
    assert format_minor(5000, "GBP") == "£50.00"
    assert format_minor(1500, "JPY") == "¥1,500"
    assert format_minor(1234, "KWD") == "KWD 1.234"
    assert format_minor(123456789, "USD") == "$1,234,567.89"
    assert format_minor(-250, "EUR") == "-€2.50"
    with pytest.raises(MoneyError):
        from_minor(1.5, "GBP")  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=2**63 - 1), st.sampled_from(sorted(CURRENCY_CODES)))
def test_minor_units_round_trip(minor, code):
    assert to_minor(from_minor(minor, code), code) == minor
    assert to_minor(str(from_minor(minor, code)), code) == minor


def test_line_total_applies_discount_and_tax_to_the_whole_line():
    assert line_total({"amount": 1000, "quantity": 3, "discountAmount": 500, "taxAmount": 200}) == 2700
    assert line_total({"amount": 1000}) == 1000  # quantity defaults to 1
    assert line_total({"amount": 1000, "quantity": 0, "taxAmount": 5}) == 5


def test_derived_amount_adds_lines_shipping_and_fees():
    # The GET example of the v2.4 reference: 500 + 100 fee + 50 shipping.
    order = {
        "lineItems": [{"amount": 500, "quantity": 1}],
        "fees": [{"amount": 100}],
        "shipping": {"amount": 50},
    }
    assert derived_amount(order) == 650
    # The TaxJar guide: 2000 - 100 discount + 100 tax + 500 shipping.
    order = {
        "lineItems": [{"amount": 2000, "discountAmount": 100, "taxAmount": 100}],
        "shipping": {"amount": 500},
    }
    assert derived_amount(order) == 2500
    assert derived_amount({"countryCode": "GB"}) is None
    assert derived_amount(None) is None
    assert derived_amount({"lineItems": [], "shipping": {"methodId": "std"}}) is None


def test_session_amount_override_wins():
    order = {"lineItems": [{"amount": 2500, "quantity": 2}]}
    assert money.session_amount(4999, order) == 4999
    assert money.session_amount(None, order) == 5000


def test_models_use_the_same_rule():
    from primer_nb.api.session import Order

    order = Order.model_validate(
        {
            "lineItems": [{"amount": 1234, "quantity": 2, "discountAmount": 34, "taxAmount": 100}],
            "fees": [{"amount": 7}],
        }
    )
    assert order.derived_amount() == 2 * 1234 - 34 + 100 + 7
    assert order.line_items[0].total() == line_total(order.line_items[0].model_dump(by_alias=True))
