"""Compact views of the kit's result objects: HTML for notebooks, one line of text for terminals.

Pure functions over a :class:`~primer_nb.api.session.ClientSession`-like object
(anything with the attributes of :class:`SessionLike`); ``ClientSession``'s
``_repr_html_`` and ``__repr__`` call them. The client token only ever
appears masked, every value is HTML-escaped, and a view never raises: a clock
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
    warnings: Sequence[Any]

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
    table = "".join(
        f'<tr><th style="{_CELL};font-weight:normal;{_MUTED}">{esc(label)}</th>'
        f'<td style="{_CELL}">{value}</td></tr>'
        for label, value in rows
    )
    return (
        f'<div class="primer-nb-session" style="border-left:4px solid #0d6efd;padding:2px 10px">'
        f"<b>{esc(name)}</b>"
        f'<table style="border-collapse:collapse;margin:2px 0">{table}</table></div>'
    )
