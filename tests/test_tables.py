"""Frames, styles and plots of primer_nb.tables."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import matplotlib
import pandas as pd
import pytest

from primer_nb import tables
from primer_nb.api.session import ClientSession

matplotlib.use("Agg")

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE4OTM0NTYwMDB9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def session(order_id: str, expires: datetime | None = None, warnings=(), **fields) -> ClientSession:
    data = {"clientToken": f"{TOKEN}{order_id}", "orderId": order_id, "warnings": list(warnings), **fields}
    if expires is not None:
        data["clientTokenExpirationDate"] = expires.replace(tzinfo=None).isoformat()
    return ClientSession.model_validate(data)


# ------------------------------------------------------------------ warnings


def test_warnings_frame_reads_both_forms():
    frame = tables.warnings_frame(
        [
            session("a", warnings=["Apple Pay is missing 'customerDetails.countryCode'"]),
            session("b", warnings=[{"type": "TAXJAR", "code": "MISSING_DATA", "message": "Shipping details are required for calculating tax."},
                                   {"type": "GOOGLE_PAY", "code": "MISSING_DATA", "message": "Google Pay is missing 'order.countryCode'"}]),
            session("c"),
        ]
    )  # fmt: skip
    assert list(frame.columns) == tables.WARNING_COLUMNS
    assert frame["order_id"].tolist() == ["a", "b", "b"]
    assert frame["payment_method"].tolist() == ["APPLE_PAY", "TAXJAR", "GOOGLE_PAY"]
    assert frame["code"].tolist() == ["MISSING_DATA"] * 3
    assert frame["field"].tolist()[0] == "customerDetails.countryCode" and pd.isna(frame["field"][1])
    assert frame["fix"][0].startswith("set order.countryCode ('customerDetails.countryCode' in older guides)")
    assert "order.shipping" in frame["fix"][1]
    assert frame["fix"][2].startswith("set order.countryCode")
    assert not frame["client_token"].str.contains(TOKEN).any()
    assert frame["client_token"][0].startswith("eyJhbG…")


def test_warnings_frame_accepts_raw_dicts_and_unknown_text():
    frame = tables.warnings_frame([{"orderId": "x", "warnings": ["Something else entirely"]}])
    assert frame["payment_method"].isna().all() and frame["message"][0] == "Something else entirely"
    assert "see the message" in frame["fix"][0]


def test_empty_frames_keep_their_columns():
    assert list(tables.warnings_frame([]).columns) == tables.WARNING_COLUMNS
    assert list(tables.warnings_frame([session("quiet")]).columns) == tables.WARNING_COLUMNS
    empty = tables.expirations_frame([], now=NOW)
    assert list(empty.columns) == tables.EXPIRATION_COLUMNS and empty.empty
    assert list(tables.diff_frame({"a": 1}, {"a": 1}).columns) == tables.DIFF_COLUMNS
    for frame in (tables.warnings_frame([]), empty):
        tables.style(frame).to_html()


# ------------------------------------------------------------------ expirations


def test_status_boundaries():
    soon = timedelta(hours=1)
    frame = tables.expirations_frame(
        [
            session("exactly-expired", NOW),
            session("long-gone", NOW - timedelta(days=1)),
            session("exactly-soon", NOW + soon),
            session("just-under-soon", NOW + soon - timedelta(microseconds=1)),
            session("active", NOW + timedelta(hours=20)),
            session("unknown"),
        ],
        now=NOW,
        soon=soon,
    )
    statuses = dict(zip(frame["order_id"], frame["status"], strict=True))
    assert statuses == {
        "exactly-expired": "expired",
        "long-gone": "expired",
        "exactly-soon": "active",  # exactly `soon` left is not less than `soon`
        "just-under-soon": "expiring soon",
        "active": "active",
        "unknown": "unknown",
    }
    assert frame["order_id"].tolist() == [
        "long-gone",
        "exactly-expired",
        "just-under-soon",
        "exactly-soon",
        "active",
        "unknown",
    ]
    assert str(frame["expires_at"].dt.tz) == "UTC"
    assert frame["time_left"][0] == pd.Timedelta(days=-1)


def test_naive_api_timestamps_are_utc_and_now_accepts_strings():
    frame = tables.expirations_frame(
        [{"orderId": "x", "clientTokenExpirationDate": "2030-01-01T13:00:00.000000"}],
        now="2030-01-01T12:00:00Z",
    )
    assert frame["time_left"][0] == pd.Timedelta(hours=1)
    assert frame["status"][0] == "active"


def test_expirations_default_to_the_sandbox_clock(sandbox):
    from primer_nb import PrimerClient

    client = PrimerClient(
        sandbox.api_key, base_url=sandbox.base_url, clock=sandbox.clock.now, preflight=False
    )
    client.create_client_session({"orderId": "travel"})
    sandbox.clock.advance(timedelta(hours=23, minutes=30))
    frame = tables.expirations_frame(client)
    assert frame["status"].tolist() == ["expiring soon"]
    sandbox.clock.advance(timedelta(hours=1))
    assert tables.expirations_frame(client.sessions())["status"].tolist() == ["expired"]


# ------------------------------------------------------------------ line items


@pytest.mark.parametrize(
    ("currency", "shown"),
    [("GBP", ["£25.00", "£1.00", "£0.50", "£49.50"]), ("JPY", ["¥2,500", "¥100", "¥50", "¥4,950"]),
     ("KWD", ["KWD 2.500", "KWD 0.100", "KWD 0.050", "KWD 4.950"])],
)  # fmt: skip
def test_line_items_frame_and_currency_formatting(currency, shown):
    found = session(
        "li", currencyCode=currency,
        order={"lineItems": [{"itemId": "tee", "description": "T-shirt", "amount": 2500, "quantity": 2, "discountAmount": 100, "taxAmount": 50}],
               "shipping": {"amount": 399, "methodName": "Standard"}, "fees": [{"amount": 25, "type": "SERVICE"}]},
    )  # fmt: skip
    frame = tables.line_items_frame(found)
    assert frame["kind"].tolist() == ["item", "shipping", "fee", "total"]
    assert frame["total"].tolist() == [4950, 399, 25, 5374]
    assert frame.attrs["amount_mismatch"] is False
    html = tables.style(frame).to_html()
    for text in shown:
        assert text in html
    assert "text-align: right" in html


def test_line_items_flag_an_override_that_differs():
    frame = tables.line_items_frame(
        {"currencyCode": "GBP", "amount": 4999, "order": {"lineItems": [{"amount": 2500, "quantity": 2}]}}
    )
    assert frame["kind"].tolist() == ["item", "total", "override"]
    assert frame["total"].tolist() == [5000, 5000, 4999]
    assert frame.attrs["amount_mismatch"] is True
    assert "#fff3cd" in tables.style(frame).to_html()


# ------------------------------------------------------------------ diffs


def test_diff_frame_nested_arrays_and_kinds():
    before = {"orderId": "o", "customerId": "c1", "customer": {"emailAddress": "a@example.com", "firstName": "Ann"},
              "order": {"lineItems": [{"itemId": "a", "amount": 100, "quantity": 1}, {"itemId": "b", "amount": 5}]},
              "clientToken": "t", "warnings": ["x"]}  # fmt: skip
    after = {"orderId": "o", "customer": {"emailAddress": "b@example.com", "firstName": "Ann", "lastName": "Lee"},
             "order": {"lineItems": [{"itemId": "a", "amount": 100, "quantity": 3}]}}  # fmt: skip
    frame = tables.diff_frame(before, after, changes={"customerId": None, "order": {"lineItems": []}})
    rows = {row.path: (row.kind, row.old, row.new) for row in frame.itertuples()}
    assert rows == {
        "customerId": ("cleared", "c1", None),
        "customer.emailAddress": ("changed", "a@example.com", "b@example.com"),
        "customer.lastName": ("added", None, "Lee"),
        "order.lineItems[0].quantity": ("changed", 1, 3),
        "order.lineItems[1].itemId": ("removed", "b", None),
        "order.lineItems[1].amount": ("removed", 5, None),
    }
    html = tables.style(frame).to_html()
    assert "#cfe2ff" in html and "#d1e7dd" in html


def test_diff_frame_keeps_integer_amounts_integers():
    frame = tables.diff_frame({"amount": 3050}, {"amount": 3600, "orderId": "o"})
    assert frame.loc[frame.path == "amount", "new"].item() == 3600
    html = tables.style(frame).to_html()
    assert ">3600<" in html and "3600.0" not in html


def test_diff_frame_from_client_sessions(sandbox):
    from primer_nb import PrimerClient

    client = PrimerClient(sandbox.api_key, base_url=sandbox.base_url, preflight=False)
    before = client.create_client_session(
        {"orderId": "o", "metadata": {"a": 1}, "order": {"lineItems": [{"amount": 10}]}}
    )
    changes = {"metadata": None, "order": {"lineItems": [{"amount": 10, "quantity": 2}]}}
    after = client.update_client_session(before.client_token, changes)
    rows = {row.path: row.kind for row in tables.diff_frame(before, after, changes).itertuples()}
    assert rows == {"amount": "changed", "metadata.a": "cleared", "order.lineItems[0].quantity": "added"}


# ------------------------------------------------------------------ tokens and plots


def test_no_full_token_in_any_frame_or_display():
    sessions = [session("a", NOW, ["Apple Pay is missing 'order.countryCode'"], currencyCode="GBP",
                        order={"lineItems": [{"amount": 1}]})]  # fmt: skip
    for frame in (tables.warnings_frame(sessions), tables.expirations_frame(sessions, now=NOW),
                  tables.line_items_frame(sessions[0]), tables.diff_frame(sessions[0], sessions[0])):  # fmt: skip
        assert TOKEN not in frame.to_string()
        assert TOKEN not in tables.style(frame).to_html()


def test_plots_render_and_return_axes(tmp_path):
    sessions = [
        session("old", NOW - timedelta(hours=2), ["Apple Pay is missing 'order.countryCode'"]),
        session("soon", NOW + timedelta(minutes=20), [{"type": "THREE_DS", "code": "MISSING_DATA", "message": "3DS is missing 'customer.emailAddress'"}]),
        session("fine", NOW + timedelta(hours=10)),
    ]  # fmt: skip
    ax = tables.plot_expirations(tables.expirations_frame(sessions, now=NOW))
    assert ax.get_title() == "Client token expirations" and ax.get_xlabel() == "token expiry (UTC)"
    assert len(ax.get_yticklabels()) == 3
    ax.figure.savefig(tmp_path / "exp.png")
    ax = tables.plot_warnings(tables.warnings_frame(sessions))
    assert "Warnings" in ax.get_title()
    assert {t.get_text() for t in ax.get_yticklabels()} == {"APPLE_PAY", "THREE_DS"}
    ax.figure.savefig(tmp_path / "warn.png")
    empty = tables.plot_warnings(tables.warnings_frame([]))
    assert empty.texts[0].get_text() == "no warnings"


def test_styled_tables_keep_their_html_ids_from_run_to_run():
    def ids(frame: pd.DataFrame) -> set[str]:
        return set(re.findall(r'id="(T_[0-9a-f]+)"', tables.style(frame).to_html()))

    first = tables.diff_frame({"amount": 3050}, {"amount": 3600})
    assert ids(first) == ids(tables.diff_frame({"amount": 3050}, {"amount": 3600})) != set()
    assert ids(first) != ids(tables.diff_frame({"amount": 3050}, {"amount": 3700}))
