"""Money in integer minor units, and the one rule for session totals.

Primer's API carries every amount as a non-negative integer in the currency's
minor unit (pence for GBP, yen for JPY, fils for KWD). This module converts
between what people type (``"49.99"``) and what the API wants (``4999``),
formats amounts for display, and owns the totals rule that the sandbox, the
client's pre-flight checks, the widgets and the tables all share.

Floats never enter a money path: ``0.1 + 0.2`` is not ``0.3``, and a payment
amount that is off by one minor unit is a real bug. Passing a float raises
:class:`MoneyError` and says to pass a string or a ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from primer_nb.api.codes import CURRENCY_CODES

__all__ = [
    "MoneyError",
    "derived_amount",
    "exponent",
    "format_minor",
    "from_minor",
    "line_total",
    "session_amount",
    "to_minor",
]

# ISO 4217 minor-unit exponents. Two decimals is the rule; these are the
# exceptions among the codes the API accepts (checked against the `iso4217`
# package in tests/test_money.py). Historic codes the API still lists keep
# their last published exponent: BYR 0, MRO 2.
_ZERO_DECIMALS = frozenset("BIF BYR CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split())
_THREE_DECIMALS = frozenset("BHD IQD JOD KWD LYD OMR TND".split())
# Precious metals, SDRs and testing codes have no minor unit in ISO 4217
# ("N.A."); Primer passes their amounts as whole units, like JPY.
_NO_MINOR_UNIT = frozenset("XAG XAU XBA XBB XBC XBD XDR XFU XPD XPT XSU XTS XUA".split())

_SYMBOLS = {
    "GBP": "£",
    "USD": "$",
    "EUR": "€",
    "JPY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "ILS": "₪",
    "NGN": "₦",
    "PHP": "₱",
    "VND": "₫",
    "UAH": "₴",
}


class MoneyError(ValueError):
    """An amount or currency that cannot be turned into minor units."""


def _currency(code: str) -> str:
    if not isinstance(code, str) or code.upper() not in CURRENCY_CODES:
        raise MoneyError(
            f"{code!r} is not an ISO 4217 currency code the API accepts; "
            "use a three-letter code such as 'GBP', 'USD' or 'JPY'."
        )
    return code.upper()


def exponent(currency: str) -> int:
    """Return the number of minor-unit digits of ``currency`` (GBP 2, JPY 0, KWD 3)."""
    code = _currency(currency)
    if code in _ZERO_DECIMALS or code in _NO_MINOR_UNIT:
        return 0
    if code in _THREE_DECIMALS:
        return 3
    return 2


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """Convert an amount in major units to integer minor units.

    Parameters
    ----------
    amount:
        The amount as people write it: ``"49.99"``, ``Decimal("1.234")`` or an
        ``int`` of whole major units. Thousands separators (``"1,500"``) and
        surrounding spaces are accepted in strings.
    currency:
        ISO 4217 code; decides how many decimals are allowed.

    Raises
    ------
    MoneyError
        For floats (pass a string or ``Decimal`` instead), negative amounts,
        more decimals than the currency has, or text that is not a number.

    Examples
    --------
    >>> to_minor("49.99", "GBP"), to_minor("1500", "JPY"), to_minor("1.234", "KWD")
    (4999, 1500, 1234)
    """
    digits = exponent(currency)
    if isinstance(amount, bool | float):
        raise MoneyError(
            f"amount {amount!r} is a {type(amount).__name__}; pass a string such as "
            f"'{amount}' or a decimal.Decimal, never a float, so no minor unit is lost."
        )
    if isinstance(amount, str):
        # Decimal() skips underscores by itself; dropping them here too says so (an equivalent mutant).
        text = amount.strip().replace(",", "").replace("_", "")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise MoneyError(f"{amount!r} is not a number; write it like '49.99'.") from None
    elif isinstance(amount, int | Decimal):
        value = Decimal(amount)
    else:
        raise MoneyError(f"cannot read an amount from {type(amount).__name__}; pass a str or Decimal.")
    if not value.is_finite():
        raise MoneyError(f"{amount!r} is not a finite number.")
    if value < 0:
        raise MoneyError(f"{amount!r} is negative; Primer amounts are never below zero.")
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise MoneyError(
            f"{amount!r} has more decimals than {currency.upper()} allows ({digits}); "
            # No currency has exactly one decimal, so mutants differing only for digits == 1 are equivalent.
            f"round it to {digits} decimal place{'s' if digits != 1 else ''} first."
        )
    return int(scaled)


def from_minor(amount: int, currency: str) -> Decimal:
    """Convert integer minor units to a ``Decimal`` in major units (``4999`` GBP → ``49.99``)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyError(f"minor-unit amounts are integers; got {amount!r}.")
    digits = exponent(currency)
    # quantize() reads only its argument's exponent, so another digit than 1 is an equivalent mutant.
    return Decimal(amount).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def format_minor(amount: int, currency: str) -> str:
    """Format minor units for people: ``£50.00``, ``¥1,500``, ``KWD 1.234``."""
    code = _currency(currency)
    digits = exponent(code)
    major = from_minor(abs(amount), code)
    number = f"{major:,.{digits}f}"
    sign = "-" if amount < 0 else ""
    symbol = _SYMBOLS.get(code)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{code} {number}"


def _field(item: Mapping[str, Any], key: str, default: int) -> int:
    value = item.get(key)
    return default if value is None else int(value)


def line_total(item: Mapping[str, Any] | Any) -> int:
    """Return one line item's total: ``amount × quantity − discountAmount + taxAmount``.

    Discount and tax apply to the whole line, not per unit (as Primer's spec
    says). ``item`` is a wire dict in camelCase or a :class:`~primer_nb.api.session.LineItem`.
    """
    if not isinstance(item, Mapping):
        item = item.model_dump(by_alias=True)
    return (
        _field(item, "amount", 0) * _field(item, "quantity", 1)
        - _field(item, "discountAmount", 0)
        + _field(item, "taxAmount", 0)
    )


def derived_amount(order: Mapping[str, Any] | Any | None) -> int | None:
    """Return the amount Primer derives from an order, or ``None`` if nothing is priced.

    The sum of every line total, plus ``shipping.amount``, plus every fee.
    Surcharges in ``paymentMethod.options`` are not part of it: the checkout
    adds them as a ``SURCHARGE`` fee once a method is chosen.
    """
    if order is None:
        return None
    if not isinstance(order, Mapping):
        # Nulls read below count as absent, so keeping them (an equivalent mutant) changes nothing.
        order = order.model_dump(by_alias=True, exclude_none=True)
    items: Iterable[Any] = order.get("lineItems") or []
    fees: Iterable[Any] = order.get("fees") or []
    shipping = order.get("shipping") or {}
    parts = [line_total(item) for item in items]
    parts += [int(fee.get("amount") or 0) for fee in fees]
    if shipping.get("amount") is not None:
        parts.append(int(shipping["amount"]))
    return sum(parts) if parts else None


def session_amount(amount: int | None, order: Mapping[str, Any] | Any | None) -> int | None:
    """Return a session's amount: the top-level ``amount`` when set, else the derived one."""
    return amount if amount is not None else derived_amount(order)
