"""pandas views of sessions, payments and webhooks: warnings, expirations, line items, PATCH diffs,
payments and their transactions, deliveries.

Every function takes whatever holds sessions (or payments): :class:`~primer_nb.api.session.ClientSession`
(:class:`~primer_nb.api.payment.Payment`) objects, raw response dicts, or a client (its ledger,
``client.sessions()``, ``client.payments()``), and returns a plain :class:`pandas.DataFrame` for
code. :func:`style` turns any of them into a coloured :class:`pandas.io.formats.style.Styler` for
notebooks. Tokens only ever appear masked. Session money stays in integer minor units in the
frames; payment and transaction amounts are ``Decimal`` in the currency's units (``12.50`` GBP,
``1250`` JPY, ``1.250`` KWD), beside the currency; the styled view formats both for the currency.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from primer_nb.api import money
from primer_nb.api.checkout_warnings import fix_hint, parse_warning_text
from primer_nb.api.masking import mask_token
from primer_nb.api.payment import Payment, PaymentSummary
from primer_nb.api.session import ClientSession, SessionWarning
from primer_nb.api.timestamps import parse_expiration
from primer_nb.api.webhooks import ReceivedDelivery

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes
    from pandas.io.formats.style import Styler

__all__ = [
    "DIFF_COLUMNS",
    "EXPIRATION_COLUMNS",
    "LINE_ITEM_COLUMNS",
    "PAYMENT_COLUMNS",
    "PROVENANCE_COLUMNS",
    "TRANSACTION_COLUMNS",
    "WARNING_COLUMNS",
    "WEBHOOK_COLUMNS",
    "diff_frame",
    "expirations_frame",
    "fix_hint",
    "line_items_frame",
    "payments_frame",
    "plot_expirations",
    "plot_payment_life",
    "plot_payment_timeline",
    "plot_warnings",
    "provenance_frame",
    "style",
    "transactions_frame",
    "warnings_frame",
    "webhooks_frame",
]

WARNING_COLUMNS = ["order_id", "client_token", "payment_method", "code", "field", "message", "fix"]
EXPIRATION_COLUMNS = ["order_id", "client_token", "expires_at", "time_left", "status"]
LINE_ITEM_COLUMNS = ["kind", "item_id", "description", "unit_amount", "quantity", "discount", "tax", "total"]
DIFF_COLUMNS = ["path", "kind", "old", "new"]
WEBHOOK_COLUMNS = [
    "event_id",
    "event",
    "payment",
    "status",
    "attempts",
    "verified",
    "delivered_at",
    "outcome",
]

PAYMENT_COLUMNS = [
    "payment_id",
    "order_id",
    "status",
    "currency",
    "amount",
    "authorized",
    "captured",
    "refunded",
    "decline_reason",
    "from_session",
    "overridden",
    "from_request",
    "created_at",
    "updated_at",
]
TRANSACTION_COLUMNS = [
    "payment_id",
    "order_id",
    "transaction",
    "type",
    "date",
    "amount",
    "currency",
    "processor_status",
    "reason",
    "event_id",
]
PROVENANCE_COLUMNS = ["path", "source", "value"]
_PAYMENT_MONEY = ["amount", "authorized", "captured", "refunded"]

# ----------------------------------------------------------------------------- inputs


def _sessions(source: Any) -> list[ClientSession]:
    if hasattr(source, "sessions") and callable(source.sessions):
        source = source.sessions()
    if isinstance(source, ClientSession | Mapping):
        source = [source]
    found: list[ClientSession] = []
    for item in source:
        if isinstance(item, ClientSession):
            found.append(item)
        elif isinstance(item, Mapping):
            found.append(ClientSession.model_validate(dict(item)))
        else:
            raise TypeError(f"expected ClientSession objects or response dicts, got {type(item).__name__}")
    return found


def _empty(columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({name: pd.Series(dtype="object") for name in columns})


def _tag(frame: pd.DataFrame, kind: str, **attrs: Any) -> pd.DataFrame:
    frame.attrs["primer_nb"] = kind
    frame.attrs.update(attrs)
    return frame


# ----------------------------------------------------------------------------- warnings


def _payment_method(warning: SessionWarning) -> str | None:
    return warning.type or parse_warning_text(warning.message)[0]


def warnings_frame(sessions: Any) -> pd.DataFrame:
    """One row per warning: order id, masked token, payment method, code, field, message, fix.

    Both warning forms are read: objects ``{type, code, message}`` and plain
    strings such as ``"Apple Pay is missing 'customerDetails.countryCode'"``
    (payment method ``APPLE_PAY``, field ``customerDetails.countryCode``, fix
    "set order.countryCode"). Sessions without warnings add no rows; an empty
    frame still has every column.
    """
    import pandas as pd

    rows = [
        {
            "order_id": session.order_id,
            "client_token": mask_token(session.client_token),
            "payment_method": _payment_method(warning),
            "code": warning.code,
            "field": warning.field,
            "message": warning.message,
            "fix": fix_hint(warning.field, warning.type),
        }
        for session in _sessions(sessions)
        for warning in session.warnings
    ]
    frame = pd.DataFrame(rows, columns=WARNING_COLUMNS) if rows else _empty(WARNING_COLUMNS)
    return _tag(frame, "warnings")


# ----------------------------------------------------------------------------- expirations


def _now_for(sessions: list[ClientSession]) -> datetime:
    for session in sessions:
        clock = getattr(session, "_clock", None)
        if clock is not None:
            return clock()  # the local sandbox's clock, when the sessions came from it
    return datetime.now(UTC)


def expirations_frame(
    sessions: Any, now: datetime | None = None, soon: timedelta = timedelta(hours=1)
) -> pd.DataFrame:
    """One row per session: order id, masked token, expiry (aware UTC), time left, status.

    Status is ``expired`` (no time left), ``expiring soon`` (less than ``soon``
    left) or ``active``; the most urgent come first. ``now`` defaults to the
    local sandbox's clock for sessions that came from it, else the current time.
    Sessions whose expiry is unknown are listed last with status ``unknown``.
    """
    import pandas as pd

    found = _sessions(sessions)
    current = parse_expiration(now) or _now_for(found)
    rows = []
    for session in found:
        expires = session.expires_at
        left = expires - current if expires is not None else None
        if left is None:
            status = "unknown"
        elif left <= timedelta(0):
            status = "expired"
        elif left < soon:
            status = "expiring soon"
        else:
            status = "active"
        rows.append(
            {
                "order_id": session.order_id,
                "client_token": mask_token(session.client_token),
                "expires_at": pd.Timestamp(expires) if expires is not None else pd.NaT,
                "time_left": pd.Timedelta(left) if left is not None else pd.NaT,
                "status": status,
            }
        )
    if not rows:
        frame = _empty(EXPIRATION_COLUMNS)
        frame["expires_at"] = pd.Series(dtype="datetime64[ns, UTC]")
        frame["time_left"] = pd.Series(dtype="timedelta64[ns]")
        return _tag(frame, "expirations", now=current, soon=soon)
    frame = pd.DataFrame(rows, columns=EXPIRATION_COLUMNS)
    frame["expires_at"] = pd.to_datetime(frame["expires_at"], utc=True)
    frame["time_left"] = pd.to_timedelta(frame["time_left"])
    frame = frame.sort_values("time_left", na_position="last", kind="stable").reset_index(drop=True)
    return _tag(frame, "expirations", now=current, soon=soon)


# ----------------------------------------------------------------------------- line items


def line_items_frame(session: ClientSession | Mapping[str, Any]) -> pd.DataFrame:
    """The order's arithmetic: one row per line item, then shipping, fees and the total.

    Amounts are integer minor units (``style()`` formats them for the
    currency). The total row holds the derived amount; when the session's
    top-level ``amount`` differs, an ``amount (override)`` row shows it and
    ``frame.attrs["amount_mismatch"]`` is true.
    """
    import pandas as pd

    (found,) = _sessions([session])
    order = found.order
    rows: list[dict[str, Any]] = []
    for item in found.line_items:
        rows.append(
            {
                "kind": "item",
                "item_id": item.item_id,
                "description": item.description or item.name,
                "unit_amount": item.amount,
                "quantity": item.quantity if item.quantity is not None else 1,
                "discount": item.discount_amount or 0,
                "tax": item.tax_amount or 0,
                "total": item.total(),
            }
        )
    if order is not None and order.shipping is not None and order.shipping.amount is not None:
        shipping = order.shipping
        rows.append(
            {"kind": "shipping", "item_id": shipping.method_id,
             "description": shipping.method_name or "shipping", "total": shipping.amount}
        )  # fmt: skip
    for fee in (order.fees or []) if order is not None else []:
        rows.append(
            {
                "kind": "fee",
                "item_id": fee.type,
                "description": fee.description or fee.type,
                "total": fee.amount,
            }
        )
    derived = found.derived_amount()
    rows.append({"kind": "total", "description": "derived amount", "total": derived})
    mismatch = found.amount is not None and derived is not None and found.amount != derived
    if mismatch:
        rows.append({"kind": "override", "description": "amount (override)", "total": found.amount})
    frame = pd.DataFrame(rows, columns=LINE_ITEM_COLUMNS)
    for column in ("unit_amount", "quantity", "discount", "tax", "total"):
        frame[column] = frame[column].astype("Int64")
    return _tag(
        frame, "line_items", currency=found.currency_code, amount_mismatch=mismatch, amount=found.amount
    )


# ----------------------------------------------------------------------------- diffs

_NOT_SESSION_DATA = {"clientToken", "clientTokenExpirationDate", "clientExpirationDate", "warnings"}


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping):
        flat: dict[str, Any] = {}
        for key, child in value.items():
            flat.update(_flatten(child, f"{prefix}.{key}" if prefix else str(key)))
        return flat if flat or not prefix else {prefix: {}}
    if isinstance(value, list):
        flat = {}
        for index, child in enumerate(value):
            flat.update(_flatten(child, f"{prefix}[{index}]"))
        return flat if flat else {prefix: []}
    return {prefix: value}


def _body(source: ClientSession | Mapping[str, Any]) -> dict[str, Any]:
    data = source.raw if isinstance(source, ClientSession) else dict(source)
    return {k: v for k, v in data.items() if k not in _NOT_SESSION_DATA}


def diff_frame(
    before: ClientSession | Mapping[str, Any],
    after: ClientSession | Mapping[str, Any],
    changes: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """What a PATCH changed, flattened to dotted paths (``order.lineItems[0].quantity``).

    ``kind`` is ``added``, ``changed``, ``removed`` or ``cleared``. Primer
    leaves empty fields out of its answers, so a field cleared with ``null``
    simply disappears; pass the PATCH body as ``changes`` to tell ``cleared``
    (sent as ``null``) from ``removed`` (dropped because an array or object
    was replaced). Tokens, expiry and warnings are not session data and are ignored.
    """
    import pandas as pd

    old, new = _flatten(_body(before)), _flatten(_body(after))
    nulled = {path for path, value in _flatten(dict(changes or {})).items() if value is None}
    rows = []
    for path in sorted(old.keys() | new.keys(), key=_path_order(old, new)):
        if path in old and path in new:
            if old[path] != new[path]:
                rows.append({"path": path, "kind": "changed", "old": old[path], "new": new[path]})
        elif path in new:
            rows.append({"path": path, "kind": "added", "old": None, "new": new[path]})
        else:
            cleared = any(path == n or path.startswith(n + ".") or path.startswith(n + "[") for n in nulled)
            rows.append(
                {"path": path, "kind": "cleared" if cleared else "removed", "old": old[path], "new": None}
            )
    # object columns: an amount stays 3600, not the 3600.0 a float column would show
    frame = pd.DataFrame(rows, columns=DIFF_COLUMNS, dtype=object) if rows else _empty(DIFF_COLUMNS)
    return _tag(frame, "diff")


def _path_order(old: Mapping[str, Any], new: Mapping[str, Any]) -> Any:
    # Keep the order the API writes fields in, before then after.
    position = {path: i for i, path in enumerate([*old, *[p for p in new if p not in old]])}
    return lambda path: position[path]


# ----------------------------------------------------------------------------- payments


def _payments(source: Any) -> list[Payment | PaymentSummary]:
    """Payments from a client or ledger (``.payments()``), a page of ``search_payments``, models or dicts."""
    if hasattr(source, "payments") and callable(source.payments):
        source = source.payments()
    if hasattr(source, "data") and not isinstance(source, Mapping):
        source = source.data  # a PaymentList
    if isinstance(source, Payment | PaymentSummary | Mapping):
        source = [source]
    found: list[Payment | PaymentSummary] = []
    for item in source:
        if isinstance(item, Payment | PaymentSummary):
            found.append(item)
        elif isinstance(item, Mapping):
            data = dict(item)
            summary = "paymentMethod" not in data and "transactions" not in data and "dateUpdated" in data
            found.append(PaymentSummary.model_validate(data) if summary else Payment.model_validate(data))
        else:
            raise TypeError(
                f"expected Payment objects, summaries or response dicts, got {type(item).__name__}"
            )
    return found


def _major(amount: int | None, currency: str | None) -> Decimal | int | None:
    """Minor units in the currency's units (``Decimal``); left as minor units for an unknown currency."""
    if amount is None:
        return None
    try:
        return money.from_minor(int(amount), currency) if currency else int(amount)
    except money.MoneyError:
        return int(amount)


def _paths(provenance: Mapping[str, str], source: str) -> str | None:
    if not provenance:
        return None
    return ", ".join(path for path, where in provenance.items() if where == source)


def payments_frame(source: Any) -> pd.DataFrame:
    """One row per payment: status, amounts in the currency's units, decline reason, provenance, dates.

    ``source`` is a client (its ledger: ``client.payments()``), payments,
    summaries (a ``search_payments`` page: their captured and refunded amounts
    are unknown) or response dicts. ``amount`` is the payment's amount;
    ``authorized`` what it was authorized for (0 while pending, when declined
    or failed, and once cancelled). ``from_session``, ``overridden`` and ``from_request`` list the
    fields the payment inherited from its session, the ones its request
    overrode, and the ones only the request had (empty when the kit did not
    make the payment).
    """
    import pandas as pd

    rows = []
    for payment in _payments(source):
        currency = payment.currency_code
        row: dict[str, Any] = {
            "payment_id": payment.id,
            "order_id": payment.order_id,
            "status": payment.status,
            "currency": currency,
            "amount": _major(payment.amount, currency),
            "created_at": payment.date,
            "updated_at": payment.date_updated,
        }
        if isinstance(payment, Payment):
            provenance = payment.provenance
            row.update(
                authorized=_major(payment.authorized_amount, currency),
                captured=_major(payment.captured_amount, currency),
                refunded=_major(payment.refunded_amount, currency),
                decline_reason=payment.decline_reason,
                from_session=_paths(provenance, "session"),
                overridden=_paths(provenance, "overridden"),
                from_request=_paths(provenance, "request"),
            )
        rows.append(row)
    if not rows:
        return _tag(_empty(PAYMENT_COLUMNS), "payments")
    frame = pd.DataFrame(rows, columns=PAYMENT_COLUMNS, dtype=object)
    for column in ("created_at", "updated_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return _tag(frame, "payments")


def _transaction_reason(transaction: Any) -> str | None:
    reason = transaction.processor_status_reason
    if reason is not None:
        head = " · ".join(part for part in (reason.type, reason.decline_type, reason.code) if part)
        return f"{head}: {reason.message}" if reason.message else head
    return transaction.reason


def transactions_frame(source: Any) -> pd.DataFrame:
    """One row per transaction of each payment (a ``SALE``, a ``REFUND`` per refund), oldest first.

    A payment fetched with ``get_payment(…, expand=True)`` lists its SALE's
    events instead: one row per authorization, adjustment, capture (with its
    amount and whether it was final) and cancellation, with the event id a
    refund can name. Amounts are in the currency's units.
    """
    import pandas as pd

    rows = []
    for payment in _payments(source):
        if not isinstance(payment, Payment):
            continue
        for transaction in payment.transactions:
            currency = transaction.currency_code or payment.currency_code
            base = {
                "payment_id": payment.id,
                "order_id": transaction.order_id or payment.order_id,
                "transaction": transaction.transaction_type,
                "currency": currency,
                "processor_status": transaction.processor_status,
                "reason": _transaction_reason(transaction),
            }
            if transaction.events:
                for event in transaction.events:
                    rows.append(
                        {**base, "type": event.type, "date": event.date,
                         "amount": _major(event.amount, currency), "event_id": event.id}
                    )  # fmt: skip
            else:
                rows.append(
                    {**base, "type": transaction.transaction_type, "date": transaction.date,
                     "amount": _major(transaction.amount, currency),
                     "event_id": transaction.processor_transaction_id}
                )  # fmt: skip
    if not rows:
        return _tag(_empty(TRANSACTION_COLUMNS), "transactions")
    frame = pd.DataFrame(rows, columns=TRANSACTION_COLUMNS, dtype=object)
    frame["date"] = pd.to_datetime(frame["date"], utc=True)
    frame = frame.sort_values(["date"], kind="stable").reset_index(drop=True)
    return _tag(frame, "transactions")


def _value_at(body: Mapping[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def provenance_frame(payment: Payment | Mapping[str, Any]) -> pd.DataFrame:
    """Where each field of one payment came from: ``path``, ``source`` (``session``, ``overridden``,
    ``request``) and the payment's ``value`` there.

    Empty for a payment the kit did not create (it knows provenance only for
    payments its client made).
    """
    import pandas as pd

    (found,) = _payments([payment])
    if not isinstance(found, Payment):
        raise TypeError("provenance needs a whole payment, not a search summary")
    body = found.raw or found.model_dump(mode="json", by_alias=True, exclude_none=True)
    rows = [
        {"path": path, "source": source, "value": _value_at(body, path)}
        for path, source in found.provenance.items()
    ]
    frame = (
        pd.DataFrame(rows, columns=PROVENANCE_COLUMNS, dtype=object) if rows else _empty(PROVENANCE_COLUMNS)
    )
    return _tag(frame, "provenance", currency=found.currency_code)


# ----------------------------------------------------------------------------- styling

_STATUS_COLOURS = {
    "expired": "background-color: #f8d7da; color: #842029",
    "expiring soon": "background-color: #fff3cd; color: #664d03",
    "active": "background-color: #d1e7dd; color: #0f5132",
    "unknown": "color: #6c757d",
}
_KIND_COLOURS = {
    "added": "background-color: #d1e7dd; color: #0f5132",
    "changed": "background-color: #cfe2ff; color: #084298",
    "removed": "background-color: #f8d7da; color: #842029",
    "cleared": "background-color: #e2e3e5; color: #41464b",
}
_PAYMENT_STATUS_COLOURS = {
    "AUTHORIZED": "background-color: #cfe2ff; color: #084298",
    "SETTLING": "background-color: #fff3cd; color: #664d03",
    "PARTIALLY_SETTLED": "background-color: #d1e7dd; color: #0f5132",
    "SETTLED": "background-color: #d1e7dd; color: #0f5132",
    "PENDING": "background-color: #fff3cd; color: #664d03",
    "DECLINED": "background-color: #f8d7da; color: #842029",
    "FAILED": "background-color: #f8d7da; color: #842029",
    "CANCELLED": "background-color: #e2e3e5; color: #41464b",
}
_SOURCE_COLOURS = {
    "session": "background-color: #e2e3e5; color: #41464b",
    "overridden": "background-color: #fff3cd; color: #664d03",
    "request": "background-color: #cfe2ff; color: #084298",
}
_OUTCOME_COLOURS = {
    "accepted": "background-color: #d1e7dd; color: #0f5132",
    "delivered": "background-color: #d1e7dd; color: #0f5132",
    "pending": "background-color: #fff3cd; color: #664d03",
    "held": "background-color: #fff3cd; color: #664d03",
    "in_flight": "background-color: #cfe2ff; color: #084298",
    "refused": "background-color: #f8d7da; color: #842029",
    "dropped": "background-color: #f8d7da; color: #842029",
    "cancelled": "color: #6c757d",
}


def _missing(value: Any) -> bool:
    import pandas as pd

    if isinstance(value, list | dict | tuple):
        return False
    return value is None or bool(pd.isna(value))


def _shown(value: Any) -> str:
    return (
        "—"
        if _missing(value)
        else json.dumps(value, ensure_ascii=False)
        if not isinstance(value, str)
        else value
    )


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value)


def _utc_seconds(value: Any) -> str:
    return "—" if _missing(value) else f"{value:%Y-%m-%d %H:%M:%S} UTC"


# ----------------------------------------------------------------------------- webhooks


def _deliveries(source: Any) -> list[ReceivedDelivery] | Mapping[str, Any]:
    """A receiver's deliveries, a list of them, or a sandbox's webhook log (deliveries and attempts)."""
    if isinstance(source, Mapping):
        if "deliveries" not in source or "attempts" not in source:
            raise TypeError("expected a sandbox's webhook log: the mapping sandbox.webhooks.log() returns")
        return source
    if hasattr(source, "deliveries") and not callable(source.deliveries):
        source = source.deliveries
    found = list(source)
    for item in found:
        if not isinstance(item, ReceivedDelivery):
            raise TypeError(
                f"expected a WebhookReceiver, its deliveries or a webhook log, got {type(item).__name__}"
            )
    return found


def _when(text: str | None) -> datetime | None:
    return parse_expiration(text) if text else None


def webhooks_frame(source: Any) -> pd.DataFrame:
    """One row per webhook event: id, type, payment, its status, attempts, verified, delivered at, outcome.

    ``source`` is a :class:`~primer_nb.webhooks.WebhookReceiver` (or its
    ``deliveries``): rows are the events it was sent, each once however often
    it came, ``verified`` says whether a delivery of it passed verification,
    ``delivered_at`` when one was first accepted, on the receiver's clock (the
    sandbox's, with ``start_receiver``). Or ``source`` is a sandbox's webhook
    log (``sandbox.webhooks.log()``): one row per delivery to an endpoint,
    ``verified`` unknown, ``outcome`` the delivery's state (delivered, pending,
    dropped …).
    """
    import pandas as pd

    found = _deliveries(source)
    rows: list[dict[str, Any]] = []
    if isinstance(found, Mapping):
        delivered = {a["deliveryId"]: a["at"] for a in found["attempts"] if a["outcome"] == "delivered"}
        rows = [
            {
                "event_id": d["eventId"], "event": d["eventType"], "payment": d["paymentId"],
                "status": d["paymentStatus"], "attempts": d["attempts"], "verified": None,
                "delivered_at": _when(delivered.get(d["deliveryId"])), "outcome": d["state"],
            }
            for d in found["deliveries"]
        ]  # fmt: skip
    else:
        groups: dict[Any, list[ReceivedDelivery]] = {}
        for number, delivery in enumerate(found):
            groups.setdefault(delivery.dedup_key() or ("delivery", number), []).append(delivery)
        for group in groups.values():
            event = next((d.event for d in group if d.event is not None), None)
            accepted = next((d for d in group if d.verified and d.acknowledged), None)
            attempts = max((d.attempt or 0 for d in group), default=0) or len(group)
            rows.append(
                {
                    "event_id": group[0].event_id, "event": group[0].event_type,
                    "payment": event.payment_id if event else None,
                    "status": event.payment_status if event else None, "attempts": attempts,
                    "verified": any(d.verified for d in group),
                    "delivered_at": accepted.received_at if accepted else None,
                    "outcome": "accepted" if accepted else "refused",
                }
            )  # fmt: skip
    if not rows:
        return _tag(_empty(WEBHOOK_COLUMNS), "webhooks")
    frame = pd.DataFrame(rows, columns=WEBHOOK_COLUMNS)
    frame["delivered_at"] = pd.to_datetime(frame["delivered_at"], utc=True)
    frame["attempts"] = frame["attempts"].astype("Int64")
    return _tag(frame, "webhooks")


def _format_left(value: Any) -> str:
    if _missing(value):
        return "—"
    seconds = int(value.total_seconds())
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{sign}{hours}h {rest // 60:02d}m"


def style(frame: pd.DataFrame) -> Styler:
    """A coloured, formatted display of any frame made by this module.

    Status and diff kinds are coloured, money is formatted for its currency and
    right-aligned, the index is hidden. Renders in JupyterLab and nbconvert HTML.
    """
    kind = frame.attrs.get("primer_nb")
    # An id from the content, not pandas' random one, so re-running a notebook only
    # changes its saved HTML where the data changed.
    digest = hashlib.blake2s(f"{kind}\n{frame.to_csv()}".encode(), digest_size=4).hexdigest()
    styler = frame.style.hide(axis="index").set_uuid(digest[:5])
    if kind == "expirations":
        styler = styler.map(lambda v: _STATUS_COLOURS.get(v, ""), subset=["status"]).format(
            {
                "time_left": _format_left,
                "expires_at": lambda v: "—" if v is None or v != v else f"{v:%Y-%m-%d %H:%M} UTC",
            }
        )
    elif kind == "diff":
        styler = styler.map(lambda v: _KIND_COLOURS.get(v, ""), subset=["kind"]).format(
            {"old": _shown, "new": _shown}
        )
    elif kind == "line_items":
        currency = frame.attrs.get("currency")
        money_columns = ["unit_amount", "discount", "tax", "total"]

        def as_money(value: Any) -> str:
            if _missing(value):
                return ""
            return money.format_minor(int(value), currency) if currency else str(value)

        # One format() call: in pandas 3 a later dict-format resets the columns it omits.
        formats: dict[str, Any] = dict.fromkeys(money_columns, as_money)
        formats.update(dict.fromkeys(["quantity", "item_id", "description"], _text))
        styler = styler.format(formats).set_properties(subset=money_columns, **{"text-align": "right"})
        totals = frame.index[frame["kind"].isin(["total", "override"])]
        styler = styler.set_properties(subset=(totals, frame.columns), **{"font-weight": "bold"})
        if frame.attrs.get("amount_mismatch"):
            flagged = frame.index[frame["kind"] == "override"]
            styler = styler.set_properties(subset=(flagged, ["total"]), **{"background-color": "#fff3cd"})
    elif kind == "warnings":
        styler = styler.format(na_rep="—").set_properties(subset=["fix"], **{"font-style": "italic"})
    elif kind in ("payments", "transactions"):
        styler = _style_payments(frame, styler, kind)
    elif kind == "provenance":
        styler = styler.map(lambda v: _SOURCE_COLOURS.get(v, ""), subset=["source"]).format({"value": _shown})
    elif kind == "webhooks":
        styler = styler.map(lambda v: _OUTCOME_COLOURS.get(v, ""), subset=["outcome"]).format(
            {
                "delivered_at": _utc_seconds,
                "verified": lambda v: "—" if _missing(v) else ("yes" if v else "NO"),
            },
            na_rep="—",
        )
    return styler


def _style_payments(frame: pd.DataFrame, styler: Styler, kind: str) -> Styler:
    """Statuses coloured, amounts formatted for each row's currency, times in UTC."""
    import pandas as pd

    money_columns = [c for c in (_PAYMENT_MONEY if kind == "payments" else ["amount"]) if c in frame.columns]
    status_column = "status" if kind == "payments" else "processor_status"
    when = {
        column: _utc_seconds for column in ("created_at", "updated_at", "date") if column in frame.columns
    }
    texts = [c for c in frame.columns if c not in money_columns and c not in when]
    # The whole-column formats first: in pandas 3 a later dict-format resets the columns it omits.
    styler = styler.format({**when, **dict.fromkeys(texts, _text)})
    if status_column in frame.columns:
        styler = styler.map(lambda v: _PAYMENT_STATUS_COLOURS.get(v, ""), subset=[status_column])
    currencies = frame["currency"].dropna().unique() if "currency" in frame.columns and money_columns else []
    for currency in currencies:
        rows = frame.index[frame["currency"] == currency]

        def as_money(value: Any, currency: str = str(currency)) -> str:
            if _missing(value):
                return "—"
            try:
                return money.format_minor(money.to_minor(value, currency), currency)
            except (money.MoneyError, TypeError, ValueError):
                return str(value)

        styler = styler.format(as_money, subset=pd.IndexSlice[rows, money_columns])
    return styler.set_properties(subset=money_columns, **{"text-align": "right"})


# ----------------------------------------------------------------------------- plots
# matplotlib plots datetimes and timedeltas through its unit converters, which its type stubs
# do not describe: the `type: ignore[arg-type]` below are for those arguments only.


def plot_expirations(frame: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """A timeline of token expiries against now, coloured by status; returns the Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(2.5, 0.3 * len(frame) + 1.5)))
    colours = {"expired": "#c0392b", "expiring soon": "#e6a700", "active": "#2e8b57", "unknown": "#999999"}
    known = frame.dropna(subset=["expires_at"])
    labels = [f"{o or '—'}  {t or ''}" for o, t in zip(known["order_id"], known["client_token"], strict=True)]
    positions = list(range(len(known)))
    for status, colour in colours.items():
        mask = (known["status"] == status).to_numpy()
        if mask.any():
            rows = [p for p, m in zip(positions, mask, strict=True) if m]
            times = known["expires_at"].dt.tz_convert(None)[mask]
            ax.scatter(times, rows, color=colour, label=status, zorder=3)
    now = frame.attrs.get("now")
    moments = list(known["expires_at"].dt.tz_convert(None))
    if now is not None:
        now_naive = now.astimezone(UTC).replace(tzinfo=None)
        moments.append(now_naive)
        ax.axvline(now_naive, color="#333333", linestyle="--", label="now")
    if moments:
        span = max(max(moments) - min(moments), timedelta(hours=2))
        ax.set_xlim(min(moments) - span * 0.08, max(moments) + span * 0.08)
    ax.set_yticks(positions, labels=labels)
    ax.invert_yaxis()
    ax.set_xlabel("token expiry (UTC)")
    ax.set_title("Client token expirations")
    ax.grid(axis="x", alpha=0.3)
    if len(known):
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.figure.autofmt_xdate()
    return ax


def _naive(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None)


def _timeline_points(source: Any, payment_id: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Attempts as ``{event, label, at, ok, raised_at, status}`` for one payment, oldest first."""
    found = _deliveries(source)
    points: list[dict[str, Any]] = []
    if isinstance(found, Mapping):
        attempts = list(found["attempts"])
        payment_id = payment_id or next((a["paymentId"] for a in attempts if a["paymentId"]), None)
        for a in attempts:
            if a["paymentId"] != payment_id:
                continue
            points.append(
                {
                    "event": a["eventId"], "label": f"{a['eventType']} {a['paymentStatus'] or ''}".strip(),
                    "at": _when(a["at"]), "outcome": a["outcome"], "raised_at": _when(a.get("eventAt")),
                    "status": a["paymentStatus"], "kind": a["eventType"],
                }
            )  # fmt: skip
        return points, payment_id
    payment_id = payment_id or next(
        (d.event.payment_id for d in found if d.event and d.event.payment_id), None
    )
    for number, d in enumerate(found):
        event = d.event
        if event is None or event.payment_id != payment_id:
            continue
        raised = getattr(event, "date", None)
        points.append(
            {
                "event": d.dedup_key() or number,
                "label": f"{event.event_type} {event.payment_status or ''}".strip(),
                "at": d.received_at, "outcome": "delivered" if d.verified and d.acknowledged else "failed",
                "raised_at": _when(raised) if isinstance(raised, str) else None,
                "status": event.payment_status, "kind": event.event_type,
            }
        )  # fmt: skip
    return points, payment_id


def plot_payment_timeline(
    source: Any,
    payment_id: str | None = None,
    *,
    status_history: Any = None,
    ax: Axes | None = None,
) -> Axes:
    """A payment's status history beside the webhooks about it: when each change happened, each attempt.

    ``source`` is a sandbox's webhook log (``sandbox.webhooks.log()``, every
    attempt on the sandbox clock) or a receiver (what arrived). The top row
    shows the status changes: ``status_history`` as ``(time, status)`` pairs
    when given (e.g. from the payment's transactions), else when each
    ``PAYMENT.STATUS`` event was raised. Below, one row per event: a dot per
    attempt, green when it was accepted, red when it failed, grey when
    dropped, joined to the change it reports. ``payment_id`` defaults to the
    first payment in ``source``. Returns the Axes.
    """
    import matplotlib.pyplot as plt

    points, payment_id = _timeline_points(source, payment_id)
    rows = list(dict.fromkeys(p["event"] for p in points))
    if ax is None:
        _, ax = plt.subplots(figsize=(9, max(2.5, 0.45 * len(rows) + 1.6)))
    if not points:
        ax.text(0.5, 0.5, "no webhooks for this payment", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    if status_history is not None:
        changes = [
            (parse_expiration(when) if isinstance(when, str) else when, status)
            for when, status in status_history
        ]
    else:
        changes = list(
            dict.fromkeys(
                (p["raised_at"], p["status"])
                for p in points
                if p["kind"] == "PAYMENT.STATUS" and p["raised_at"]
            )
        )
    dated: list[tuple[datetime, str]] = sorted((when, status) for when, status in changes if when is not None)
    for number, (when, status) in enumerate(dated):
        ax.scatter([_naive(when)], [0], marker="D", color="#1f4e79", zorder=3)  # type: ignore[arg-type]
        # Alternate above and below, so changes close in time keep readable labels.
        ax.annotate(
            status, (_naive(when), 0), textcoords="offset points", xytext=(0, 9 if number % 2 == 0 else -15),
            ha="center", fontsize="small",
        )  # fmt: skip
    if len(dated) > 1:
        ax.plot([_naive(w) for w, _ in dated], [0] * len(dated), color="#1f4e79", alpha=0.4)  # type: ignore[arg-type]
    labels = {p["event"]: p["label"] for p in points}
    colours = {"delivered": "#2e8b57", "failed": "#c0392b", "dropped": "#999999"}
    for row, event in enumerate(rows, start=1):
        mine = [p for p in points if p["event"] == event]
        times = [_naive(p["at"]) for p in mine]
        ax.plot(times, [row] * len(times), color="#bbbbbb", zorder=1)  # type: ignore[arg-type]
        for p in mine:
            colour = colours.get(p["outcome"], "#999999")
            ax.scatter([_naive(p["at"])], [row], color=colour, zorder=3)  # type: ignore[arg-type]
        raised = mine[0]["raised_at"]
        if raised is not None:
            link = [_naive(raised), times[0]]
            ax.plot(link, [0, row], color="#1f4e79", alpha=0.25, linestyle=":")  # type: ignore[arg-type]
    for outcome, colour in colours.items():
        ax.scatter([], [], color=colour, label=f"attempt {outcome}")
    ax.scatter([], [], marker="D", color="#1f4e79", label="status change")
    ax.set_yticks(range(len(rows) + 1), labels=["status", *(labels[e] for e in rows)])
    ax.set_ylim(len(rows) + 0.6, -0.8)
    ax.set_xlabel("sandbox time (UTC)")
    ax.set_title(f"Payment {payment_id}: status changes and webhook attempts")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.figure.autofmt_xdate()
    return ax


_LIFE_COLOURS = {
    "PENDING": "#e6a700",
    "AUTHORIZED": "#3d6fb6",
    "SETTLING": "#8fb3e0",
    "PARTIALLY_SETTLED": "#5fa777",
    "SETTLED": "#2e8b57",
    "DECLINED": "#c0392b",
    "FAILED": "#8e1b10",
    "CANCELLED": "#999999",
}


def plot_payment_life(source: Any, *, until: datetime | None = None, ax: Axes | None = None) -> Axes:
    """Each payment's life: one row per payment, a bar per status from when it began, refunds marked.

    ``source`` is what :func:`payments_frame` takes; a client's payments come
    with the statuses its ledger saw (``Payment.history``, on the server's
    clock: the sandbox's, with time travel). The last status runs to
    ``until`` (default: a little after the latest moment shown). Refunds are
    the ``×`` marks, at their transaction's date. Returns the Axes.
    """
    import matplotlib.pyplot as plt

    payments = [p for p in _payments(source) if isinstance(p, Payment)]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, max(2.2, 0.55 * len(payments) + 1.4)))
    lives = [(payment, [(w, s) for w, s in payment.history if w is not None]) for payment in payments]
    moments = [when for _, life in lives for when, _ in life]
    moments += [t.date for payment in payments for t in payment.transactions if t.date is not None]
    if not moments:
        ax.text(0.5, 0.5, "no payments", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    first, last = _naive(min(moments)), _naive(max(moments))
    span = max(last - first, timedelta(minutes=1))
    end = _naive(until) if until is not None else last + span * 0.15
    legend: dict[str, Any] = {}
    marks: dict[str, Any] = {}
    for row, (payment, life) in enumerate(lives):
        steps = [(_naive(when), status) for when, status in sorted(life, key=lambda point: point[0])]
        for index, (start, status) in enumerate(steps):
            stop = steps[index + 1][0] if index + 1 < len(steps) else end
            bars = ax.barh(
                row, max(stop - start, span * 0.004), left=start, height=0.5,  # type: ignore[arg-type]
                color=_LIFE_COLOURS.get(status, "#bbbbbb"),
            )  # fmt: skip
            legend.setdefault(status, bars)
        refunds = [t for t in payment.transactions if t.transaction_type == "REFUND" and t.date is not None]
        if refunds:
            times = [_naive(t.date) for t in refunds if t.date is not None]
            dots = ax.scatter(times, [row] * len(times), marker="x", color="#222222", zorder=3)  # type: ignore[arg-type]
            marks.setdefault("refund", dots)
    labels = [f"{p.id}  {p.order_id or ''}".strip() for p, _ in lives]
    ax.set_yticks(range(len(lives)), labels=labels)
    ax.set_ylim(len(lives) - 0.4, -0.6)
    ax.set_xlim(first - span * 0.05, end)  # type: ignore[arg-type]
    ax.set_xlabel("server time (UTC)")
    ax.set_title("Payments: status over time")
    ax.grid(axis="x", alpha=0.3)
    shown = {**legend, **marks}
    ax.legend(
        list(shown.values()), list(shown), loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small"
    )
    ax.figure.autofmt_xdate()
    return ax


def plot_warnings(frame: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Warnings counted by payment method, stacked by missing field; returns the Axes."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import AutoLocator

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    if frame.empty:
        ax.text(0.5, 0.5, "no warnings", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title("Warnings by payment method")
        return ax
    counts = (
        frame.assign(
            field=frame["field"].fillna("(unnamed)"), payment_method=frame["payment_method"].fillna("?")
        )
        .pivot_table(index="payment_method", columns="field", values="message", aggfunc="count", fill_value=0)
        .sort_index()
    )
    counts.plot.barh(stacked=True, ax=ax, width=0.7)
    ax.set_xlabel("warnings")
    ax.set_ylabel("payment method / module")
    ax.set_title("Warnings by payment method and missing field")
    ax.legend(title="missing field", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    whole_counts = AutoLocator()  # the axis' default locator, told the counts are integers
    whole_counts.set_params(integer=True)
    ax.xaxis.set_major_locator(whole_counts)
    return ax
