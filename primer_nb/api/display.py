"""Compact views of the kit's result objects: HTML for notebooks, one line of text for terminals.

Pure functions over a :class:`~primer_nb.api.session.ClientSession`-like object
(anything with the attributes of :class:`SessionLike`), a
:class:`~primer_nb.api.payment.Payment` or a
:class:`~primer_nb.api.payment.PaymentInstrument`; the models' ``_repr_html_``
and ``__repr__`` call them. Client tokens and payment method tokens only ever
appear masked, every value is HTML-escaped, and a view never raises: a clock
that cannot be read leaves out the time left, an unknown currency shows minor units.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from primer_nb.api import money

__all__ = [
    "MAX_LINE_ITEMS",
    "MAX_WARNINGS",
    "SessionLike",
    "format_amount",
    "format_time_left",
    "instrument_html",
    "instrument_text",
    "payment_html",
    "payment_text",
    "session_html",
    "session_text",
]

MAX_LINE_ITEMS = 5
"""Line items listed in a session's HTML view; the rest are counted."""
MAX_WARNINGS = 8
"""Warnings listed in a session's HTML view; the rest are counted."""

_MUTED = "color:#6c757d"
_CELL = "text-align:left;padding:1px 12px 1px 0;vertical-align:top;border:none"


class SessionLike(Protocol):
    """What the views read from a session (``ClientSession`` has all of it)."""

    order_id: str | None
    customer_id: str | None
    currency_code: str | None
    amount: int | None

    @property
    def warnings(self) -> Sequence[Any]:
        """The session's warnings (read only here, so any sequence of them will do)."""

    @property
    def masked_token(self) -> str | None:
        """The client token with its middle hidden."""

    @property
    def expires_at(self) -> datetime | None:
        """When the token expires (aware UTC)."""

    @property
    def expires_in(self) -> timedelta | None:
        """Time left on the session's clock."""

    @property
    def line_items(self) -> Sequence[Any]:
        """The order's line items."""


def format_amount(amount: int | None, currency: str | None, *, code: bool = True) -> str:
    """An amount in minor units shown in the currency's units: ``£50.00 GBP``, ``¥1,500 JPY``, ``KWD 1.234``.

    ``code=False`` leaves out the trailing currency code. ``—`` when there is
    no amount; minor units and the code when the currency is unknown.
    """
    if amount is None:
        return "—"
    if not currency:
        return f"{amount} (minor units, no currency)"
    try:
        shown = money.format_minor(amount, currency)
    except (money.MoneyError, TypeError, ValueError):
        return f"{amount} {currency} (minor units)"
    currency = currency.upper()
    return shown if not code or currency in shown else f"{shown} {currency}"


def format_time_left(left: timedelta | None) -> str:
    """``in 23h59m``, ``in 42s``, ``expired 1h05m ago``, ``expired 3d04h ago``; ``unknown`` without one.

    Rounded down: to the second under a minute, to the hour from two days.
    """
    if left is None:
        return "unknown"
    seconds = int(abs(left.total_seconds()))
    hours, minutes = divmod(seconds // 60, 60)
    if seconds < 60:
        span = f"{seconds}s"
    elif hours < 48:
        span = f"{hours}h{minutes:02d}m"
    else:
        span = f"{hours // 24}d{hours % 24:02d}h"
    return f"in {span}" if left.total_seconds() > 0 else f"expired {span} ago"


def _time_left(session: SessionLike) -> timedelta | None:
    try:
        return session.expires_in
    except Exception:  # a remote sandbox clock that stopped answering: show the expiry alone
        return None


def _expiry(session: SessionLike) -> tuple[str, str]:
    """(``2025-01-07 09:00 UTC``, ``in 24h00m``), or ``("unknown", "")``."""
    expires_at = session.expires_at
    if expires_at is None:
        return "unknown", ""
    left = _time_left(session)
    return f"{expires_at:%Y-%m-%d %H:%M} UTC", "" if left is None else format_time_left(left)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def session_text(session: SessionLike, name: str = "ClientSession") -> str:
    """A one-line summary: ``ClientSession(order_id='o-1', amount=£50.00 GBP, token=eyJhbG…Qos, ...)``."""
    parts = [f"order_id={session.order_id!r}"]
    if session.amount is not None:
        parts.append(f"amount={format_amount(session.amount, session.currency_code)}")
    elif session.currency_code:
        parts.append(f"currency={session.currency_code}")
    items = len(session.line_items)
    if items:
        parts.append(_plural(items, "line item"))
    if session.masked_token:
        parts.append(f"token={session.masked_token}")
    when, left = _expiry(session)
    if when != "unknown":
        parts.append(
            f"expires {when}" if not left else left if left.startswith("expired") else f"expires {left}"
        )
    parts.append(_plural(len(session.warnings), "warning"))
    return f"{name}({', '.join(parts)})"


def _line_item(item: Any, currency: str | None) -> str:
    esc = html.escape
    label = getattr(item, "item_id", None) or getattr(item, "name", None) or "item"
    description = getattr(item, "description", None)
    quantity = getattr(item, "quantity", None)
    quantity = 1 if quantity is None else quantity
    unit = format_amount(getattr(item, "amount", None), currency, code=False)
    try:
        total = format_amount(money.line_total(item), currency, code=False)
    except Exception:
        total = "—"
    text = f"<code>{esc(str(label))}</code>"
    if description:
        text += f" {esc(str(description))}"
    return f"<li>{text} <span style='{_MUTED}'>{quantity} × {esc(unit)} →</span> {esc(total)}</li>"


def _warning(warning: Any) -> str:
    kind = getattr(warning, "type", None)
    message = getattr(warning, "message", None) or str(warning)
    head = f"<b>{html.escape(str(kind))}</b> " if kind else ""
    return f"<li>{head}{html.escape(str(message))}</li>"


def _bullets(rows: list[str], total: int, limit: int, css_class: str) -> str:
    more = f"<li style='{_MUTED}'>… and {total - limit} more</li>" if total > limit else ""
    return f'<ul class="{css_class}" style="margin:2px 0 2px 0;padding-left:18px">{"".join(rows)}{more}</ul>'


def _table(rows: list[tuple[str, str]]) -> str:
    esc = html.escape
    body = "".join(
        f'<tr><th style="{_CELL};font-weight:normal;{_MUTED}">{esc(label)}</th>'
        f'<td style="{_CELL}">{value}</td></tr>'
        for label, value in rows
    )
    return f'<table style="border-collapse:collapse;margin:2px 0">{body}</table>'


def session_html(session: SessionLike, name: str = "ClientSession") -> str:
    """A compact card for a notebook: masked token, expiry and time left, amount, order id,
    line items in brief and the warnings as a short list."""
    esc = html.escape
    when, left = _expiry(session)
    expired = left.startswith("expired")
    expiry = esc(when) + (
        f' <span style="{"color:#b02a37" if expired else _MUTED}">({esc(left)})</span>' if left else ""
    )
    amount = esc(format_amount(session.amount, session.currency_code))
    if session.amount is not None:
        amount += f' <span style="{_MUTED}">({session.amount} minor units)</span>'
    rows = [
        ("order id", f"<code>{esc(session.order_id)}</code>" if session.order_id else "—"),
        ("amount", amount),
        ("client token", f"<code>{esc(session.masked_token)}</code>" if session.masked_token else "—"),
        ("expires", expiry),
    ]
    if session.customer_id:
        rows.append(("customer id", f"<code>{esc(session.customer_id)}</code>"))
    items = list(session.line_items)
    if items:
        listed = [_line_item(item, session.currency_code) for item in items[:MAX_LINE_ITEMS]]
        rows.append(
            (
                _plural(len(items), "line item"),
                _bullets(listed, len(items), MAX_LINE_ITEMS, "primer-nb-items"),
            )
        )
    warnings = list(session.warnings)
    if warnings:
        listed = [_warning(w) for w in warnings[:MAX_WARNINGS]]
        warned = _bullets(listed, len(warnings), MAX_WARNINGS, "primer-nb-session-warnings")
    else:
        warned = "none"
    rows.append((_plural(len(warnings), "warning"), warned))
    return (
        f'<div class="primer-nb-session" style="border-left:4px solid #0d6efd;padding:2px 10px">'
        f"<b>{esc(name)}</b>{_table(rows)}</div>"
    )


# ----------------------------------------------------------------------------- payments

_STATUS_STYLE = {
    "AUTHORIZED": "background:#cfe2ff;color:#084298",
    "SETTLING": "background:#fff3cd;color:#664d03",
    "PARTIALLY_SETTLED": "background:#d1e7dd;color:#0f5132",
    "SETTLED": "background:#d1e7dd;color:#0f5132",
    "PENDING": "background:#fff3cd;color:#664d03",
    "DECLINED": "background:#f8d7da;color:#842029",
    "FAILED": "background:#f8d7da;color:#842029",
    "CANCELLED": "background:#e2e3e5;color:#41464b",
}


def _card_text(data: Any) -> str | None:
    """``Visa •••• 1111 (12/2028)`` from a card's public data (a model or a dict)."""
    if data is None:
        return None
    if isinstance(data, dict):
        last4, network = data.get("last4Digits"), data.get("network")
        month, year = data.get("expirationMonth"), data.get("expirationYear")
    else:
        last4, network = getattr(data, "last4_digits", None), getattr(data, "network", None)
        month, year = getattr(data, "expiration_month", None), getattr(data, "expiration_year", None)
    if not last4:
        return None
    text = f"{network or 'card'} •••• {last4}"
    return f"{text} ({month}/{year})" if month and year else text


def _payment_card(payment: Any) -> str | None:
    method = getattr(payment, "payment_method", None)
    return _card_text(getattr(method, "payment_method_data", None)) if method is not None else None


def _three_ds(payment: Any) -> str | None:
    method = getattr(payment, "payment_method", None)
    secure = getattr(method, "three_d_secure_authentication", None) if method is not None else None
    if secure is None:
        return None
    text = str(secure.response_code)
    if secure.challenge_issued is not None:
        text += ", challenged" if secure.challenge_issued else ", frictionless"
    return text


def payment_text(payment: Any, name: str = "Payment") -> str:
    """One line: ``Payment(id='x', status=AUTHORIZED, amount=£50.00 GBP, card=Visa •••• 1111, ...)``."""
    currency = payment.currency_code
    parts = [f"id={payment.id!r}", f"status={payment.status}"]
    parts.append(f"amount={format_amount(payment.amount, currency)}")
    if payment.captured_amount:
        parts.append(f"captured={format_amount(payment.captured_amount, currency, code=False)}")
    if payment.refunded_amount:
        parts.append(f"refunded={format_amount(payment.refunded_amount, currency, code=False)}")
    if payment.order_id:
        parts.append(f"order_id={payment.order_id!r}")
    card = _payment_card(payment)
    if card:
        parts.append(f"card={card}")
    if payment.decline_reason:
        parts.append(f"reason={payment.decline_reason!r}")
    if payment.required_action is not None:
        parts.append(f"required_action={payment.required_action.name}")
    if payment.masked_token:
        parts.append(f"token={payment.masked_token}")
    return f"{name}({', '.join(parts)})"


def _status_badge(status: str) -> str:
    style = _STATUS_STYLE.get(status, "")
    return (
        f'<span class="primer-nb-status" style="{style};padding:0 6px;border-radius:3px">'
        f"{html.escape(status)}</span>"
    )


def _when(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M:%S} UTC"


def _provenance_rows(provenance: dict[str, str]) -> list[tuple[str, str]]:
    labels = {"session": "from the session", "overridden": "overridden", "request": "from the request"}
    rows = []
    for source, label in labels.items():
        paths = [path for path, where in provenance.items() if where == source]
        if paths:
            rows.append((label, ", ".join(f"<code>{html.escape(p)}</code>" for p in paths)))
    return rows


def payment_html(payment: Any, name: str = "Payment") -> str:
    """A compact card for a notebook: status, amounts authorized/captured/refunded in the currency's
    units, the card, 3DS, the decline reason, a required action, the masked token, and (when the kit
    made the payment) which fields came from the session and which the request overrode."""
    esc = html.escape
    currency = payment.currency_code

    def shown(amount: int | None) -> str:
        return esc(format_amount(amount, currency))

    amount = shown(payment.amount)
    if payment.amount is not None:
        amount += f' <span style="{_MUTED}">({payment.amount} minor units)</span>'
    rows = [
        ("payment id", f"<code>{esc(payment.id)}</code>"),
        ("status", _status_badge(payment.status)),
        ("order id", f"<code>{esc(payment.order_id)}</code>" if payment.order_id else "—"),
        ("amount", amount),
        (
            "authorized · captured · refunded",
            " · ".join(
                esc(format_amount(value, currency, code=False))
                for value in (payment.authorized_amount, payment.captured_amount, payment.refunded_amount)
            ),
        ),
    ]
    card = _payment_card(payment)
    if card:
        rows.append(("card", esc(card)))
    three_ds = _three_ds(payment)
    if three_ds:
        rows.append(("3DS", esc(three_ds)))
    if payment.decline_reason:
        rows.append(("reason", f'<span style="color:#b02a37">{esc(payment.decline_reason)}</span>'))
    if payment.required_action is not None:
        action = payment.required_action
        rows.append(("required action", f"<b>{esc(action.name)}</b> {esc(action.description or '')}"))
    if payment.masked_token:
        rows.append(("payment method token", f"<code>{esc(payment.masked_token)}</code>"))
    rows.append(("created · updated", f"{esc(_when(payment.date))} · {esc(_when(payment.date_updated))}"))
    kinds = [t.transaction_type or "?" for t in payment.transactions]
    if kinds:
        counted = ", ".join(
            f"{kind}" if kinds.count(kind) == 1 else f"{kind} ×{kinds.count(kind)}"
            for kind in dict.fromkeys(kinds)
        )
        rows.append(("transactions", esc(counted)))
    rows += _provenance_rows(dict(payment.provenance))
    return (
        f'<div class="primer-nb-payment" style="border-left:4px solid #6f42c1;padding:2px 10px">'
        f"<b>{esc(name)}</b>{_table(rows)}</div>"
    )


def instrument_text(instrument: Any, name: str = "PaymentInstrument") -> str:
    """One line: ``PaymentInstrument(Visa •••• 1111 (12/2028), SINGLE_USE, token=abcdef…wxyz)``."""
    card = _card_text(instrument.payment_instrument_data) or instrument.payment_instrument_type
    return f"{name}({card}, {instrument.token_type}, token={instrument.masked_token})"


def instrument_html(instrument: Any, name: str = "PaymentInstrument") -> str:
    """A compact card for a tokenized card: what Primer keeps of it, and the masked token."""
    esc = html.escape
    data = instrument.payment_instrument_data
    bin_data = getattr(data, "bin_data", None)
    rows = [
        ("card", esc(_card_text(data) or "—")),
        ("first six digits", f"<code>{esc(str(getattr(data, 'first6_digits', None) or '—'))}</code>"),
        ("token", f"<code>{esc(instrument.masked_token or '—')}</code> ({esc(instrument.token_type)})"),
    ]
    if bin_data is not None:
        funding = bin_data.account_funding_type or "UNKNOWN"
        rows.append(("network · funding", f"{esc(bin_data.network)} · {esc(funding)}"))
    return (
        f'<div class="primer-nb-instrument" style="border-left:4px solid #20c997;padding:2px 10px">'
        f"<b>{esc(name)}</b>{_table(rows)}</div>"
    )
