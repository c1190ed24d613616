"""Money rules against small reference models: minor units, formatting, line and session totals.

Each property compares :mod:`primer_nb.api.money` with a literal model written
here from the spec's wording (integer arithmetic, no Decimal tricks), so a
changed operator, default or branch in the module shows up as a difference.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from primer_nb.api import money
from primer_nb.api.codes import CURRENCY_CODES
from primer_nb.api.money import (
    MoneyError,
    derived_amount,
    format_minor,
    from_minor,
    line_total,
    session_amount,
    to_minor,
)
from primer_nb.api.session import LineItem, Order

CODES = sorted(CURRENCY_CODES)
# One currency of each exponent, so rules that depend on the exponent meet all three.
BY_EXPONENT = {0: "JPY", 2: "GBP", 3: "KWD"}

codes = st.sampled_from(CODES)
minor_units = st.integers(min_value=0, max_value=10**15)


def major_text(minor: int, code: str) -> str:
    """``minor`` written in major units with exactly the currency's decimals, by integer arithmetic."""
    digits = money.exponent(code)
    if digits == 0:
        return str(minor)
    whole, fraction = divmod(minor, 10**digits)
    return f"{whole}.{fraction:0{digits}d}"


# ---------------------------------------------------------------- to_minor / from_minor


@given(minor_units, codes)
@example(0, "GBP")
@example(5, "KWD")
def test_to_minor_reads_major_units_written_with_the_currencys_decimals(minor, code):
    text = major_text(minor, code)
    assert to_minor(text, code) == minor
    assert to_minor(Decimal(text), code) == minor
    assert to_minor(f"  {text}\t", code) == minor
    assert to_minor(text, code.lower()) == minor


@given(minor_units, st.sampled_from(sorted(BY_EXPONENT.values())), st.integers(1, 3))
def test_trailing_zeros_are_not_extra_decimals(minor, code, zeros):
    text = major_text(minor, code)
    padded = text + ("0" * zeros if "." in text else "." + "0" * zeros)
    assert to_minor(padded, code) == minor


@given(st.integers(min_value=0, max_value=10**12), codes)
def test_whole_major_units_as_int(units, code):
    assert to_minor(units, code) == units * 10 ** money.exponent(code)


@given(
    st.lists(st.sampled_from("0123456789"), min_size=1, max_size=12),
    st.lists(st.tuples(st.integers(0, 12), st.sampled_from([",", "_", "__", ",_"])), max_size=4),
)
@example(list("1500"), [(1, "_")])
@example(list("1500"), [(1, "__")])
@example(list("1500"), [(0, "_")])
def test_thousands_separators_and_underscores_are_ignored(digits, separators):
    plain = "".join(digits)
    text = list(plain)
    for position, separator in sorted(separators, reverse=True):
        text.insert(min(position, len(text)), separator)
    assert to_minor("".join(text), "JPY") == int(plain)


@given(minor_units, st.sampled_from(sorted(BY_EXPONENT.items())), st.integers(1, 9))
def test_one_decimal_too_many_is_refused_with_the_rule(minor, exponent_and_code, extra):
    digits, code = exponent_and_code
    text = major_text(minor, code)
    text = f"{text}{extra}" if "." in text else f"{text}.{extra}"
    with pytest.raises(MoneyError) as raised:
        to_minor(text, code.lower())
    assert str(raised.value) == (
        f"{text!r} has more decimals than {code} allows ({digits}); round it to {digits} decimal places first."
    )


@given(minor_units.filter(bool), codes)
def test_negative_amounts_are_refused(minor, code):
    with pytest.raises(MoneyError, match="is negative"):
        to_minor("-" + major_text(minor, code), code)


@pytest.mark.parametrize("amount", ["abc", "", "1.2.3", "--1", "4 9"])
def test_text_that_is_not_a_number_is_refused(amount):
    with pytest.raises(MoneyError) as raised:
        to_minor(amount, "GBP")
    assert str(raised.value) == f"{amount!r} is not a number; write it like '49.99'."


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-inf", Decimal("Infinity"), Decimal("sNaN")])
def test_amounts_that_are_not_finite_are_refused(amount):
    with pytest.raises(MoneyError) as raised:
        to_minor(amount, "GBP")
    assert str(raised.value) == f"{amount!r} is not a finite number."


@pytest.mark.parametrize(("amount", "kind"), [(1.5, "float"), (True, "bool"), (0.0, "float")])
def test_floats_and_bools_are_refused_by_name(amount, kind):
    with pytest.raises(
        MoneyError, match=rf"^amount {amount!r} is a {kind}; pass a string such as '{amount}'"
    ):
        to_minor(amount, "GBP")


@pytest.mark.parametrize(("amount", "kind"), [(None, "NoneType"), ([1], "list"), (b"1", "bytes")])
def test_other_types_are_refused_by_name(amount, kind):
    with pytest.raises(MoneyError, match=rf"^cannot read an amount from {kind}; pass a str or Decimal\.$"):
        to_minor(amount, "GBP")  # type: ignore[arg-type]


@pytest.mark.parametrize("code", ["XXX", "gb", "", 826, None])
def test_unknown_currencies_are_refused_with_an_example(code):
    message = (
        f"{code!r} is not an ISO 4217 currency code the API accepts; "
        "use a three-letter code such as 'GBP', 'USD' or 'JPY'."
    )
    for call in (lambda: to_minor("1", code), lambda: from_minor(1, code), lambda: format_minor(1, code)):
        with pytest.raises(MoneyError) as raised:
            call()
        assert str(raised.value) == message


@given(minor_units, codes)
def test_from_minor_is_exact_and_keeps_the_currencys_decimals(minor, code):
    digits = money.exponent(code)
    major = from_minor(minor, code)
    assert major * 10**digits == minor
    assert major.as_tuple().exponent == -digits
    assert str(major) == major_text(minor, code)


@pytest.mark.parametrize("amount", [1.5, "100", Decimal(1), True, None])
def test_from_minor_takes_only_integers(amount):
    with pytest.raises(
        MoneyError, match=rf"^minor-unit amounts are integers; got {re.escape(repr(amount))}\.$"
    ):
        from_minor(amount, "GBP")  # type: ignore[arg-type]


# ---------------------------------------------------------------- format_minor


def reference_number(minor: int, code: str) -> str:
    """Major units with a comma every three whole digits and the currency's decimals."""
    whole, _, fraction = major_text(abs(minor), code).partition(".")
    groups = []
    while len(whole) > 3:
        whole, group = whole[:-3], whole[-3:]
        groups.insert(0, group)
    number = ",".join([whole, *groups])
    return f"{number}.{fraction}" if fraction else number


@given(st.integers(min_value=-(10**15), max_value=10**15), codes)
@example(0, "GBP")
@example(0, "KWD")
@example(-1, "JPY")
def test_format_minor_matches_a_reference_formatter(minor, code):
    text = format_minor(minor, code)
    sign = "-" if minor < 0 else ""
    assert text.startswith(sign)
    prefix = text[len(sign) : len(text) - len(reference_number(minor, code))]
    assert text == sign + prefix + reference_number(minor, code)
    assert prefix == f"{code} " or (len(prefix) == 1 and not prefix.isalnum())
    assert format_minor(minor, code.lower()) == text


@pytest.mark.parametrize(
    ("minor", "code", "text"),
    [(0, "GBP", "£0.00"), (1, "USD", "$0.01"), (-1, "EUR", "-€0.01"), (1234567, "JPY", "¥1,234,567"),
     (100000, "INR", "₹1,000.00"), (5, "KRW", "₩5"), (1, "BHD", "BHD 0.001"), (0, "CHF", "CHF 0.00")],
)  # fmt: skip
def test_format_minor_examples(minor, code, text):
    assert format_minor(minor, code) == text


# ---------------------------------------------------------------- line and session totals

LINE_FIELDS = ("amount", "quantity", "discountAmount", "taxAmount")
DEFAULTS = {"amount": 0, "quantity": 1, "discountAmount": 0, "taxAmount": 0}


def reference_line_total(item: dict[str, Any]) -> int:
    """amount × quantity − discountAmount + taxAmount; a missing or null field takes its default."""
    value = {name: DEFAULTS[name] if item.get(name) is None else item[name] for name in LINE_FIELDS}
    return value["amount"] * value["quantity"] - value["discountAmount"] + value["taxAmount"]


def reference_derived_amount(order: dict[str, Any] | None) -> int | None:
    """Lines + fees + shipping, or None when the order prices nothing at all."""
    if order is None:
        return None
    lines = [reference_line_total(item) for item in order.get("lineItems") or []]
    fees = [fee.get("amount") or 0 for fee in order.get("fees") or []]
    shipping = (order.get("shipping") or {}).get("amount")
    if not lines and not fees and shipping is None:
        return None
    return sum(lines) + sum(fees) + (shipping or 0)


def optional(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), values)


wire_line_items = st.fixed_dictionaries(
    {},
    optional={
        "itemId": st.sampled_from(["a", "b"]),
        "amount": optional(st.integers(0, 10_000)),
        "quantity": optional(st.integers(0, 5)),
        "discountAmount": optional(st.integers(0, 500)),
        "taxAmount": optional(st.integers(0, 500)),
    },
)
wire_orders = st.fixed_dictionaries(
    {},
    optional={
        "countryCode": st.just("GB"),
        "lineItems": optional(st.lists(wire_line_items, max_size=3)),
        "fees": optional(st.lists(st.fixed_dictionaries({}, optional={"amount": optional(st.integers(0, 300))}), max_size=2)),
        "shipping": optional(st.fixed_dictionaries({}, optional={"amount": optional(st.integers(0, 900)), "methodId": st.just("std")})),
    },
)  # fmt: skip


@given(wire_line_items)
@example({})
@example({"quantity": 3})
def test_line_total_matches_the_reference(item):
    assert line_total(item) == reference_line_total(item)


@given(optional(wire_orders))
@example({"fees": [{"amount": 0}]})
@example({"fees": [{}]})
@example({"shipping": {"amount": 0}})
@example({"lineItems": [{"amount": 0}]})
def test_derived_amount_matches_the_reference(order):
    assert derived_amount(order) == reference_derived_amount(order)


@given(optional(st.integers(0, 10_000)), optional(wire_orders))
def test_session_amount_is_the_override_else_the_derived_amount(amount, order):
    expected = amount if amount is not None else reference_derived_amount(order)
    assert session_amount(amount, order) == expected


# Valid models: every line worth at least nothing (a model refuses a negative line).
model_line_items = st.fixed_dictionaries(
    {"amount": st.integers(0, 10_000)},
    optional={
        "quantity": st.integers(1, 5),
        "discountAmount": st.integers(0, 500),
        "taxAmount": st.integers(0, 500),
    },
).filter(lambda item: reference_line_total(item) >= 0)
model_orders = st.fixed_dictionaries(
    {},
    optional={
        "lineItems": st.lists(model_line_items, max_size=3),
        "fees": st.lists(st.fixed_dictionaries({"amount": st.integers(0, 300)}), max_size=2),
        "shipping": st.fixed_dictionaries({}, optional={"amount": st.integers(0, 900), "methodId": st.just("std")}),
    },
)  # fmt: skip


@given(model_line_items)
def test_line_total_reads_a_line_item_model(item):
    assert line_total(LineItem.model_validate(item)) == reference_line_total(item)


@given(model_orders)
@example({"lineItems": [{"amount": 100, "discountAmount": 30, "taxAmount": 5}]})
def test_derived_amount_reads_an_order_model(order):
    assert derived_amount(Order.model_validate(order)) == reference_derived_amount(order)
