"""Payment frames, their styles and the plot of each payment's life."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import matplotlib
import pandas as pd
import pytest

from primer_nb import PrimerClient, tables
from primer_nb.api.payment import Payment, PaymentList

from .payment_helpers import SESSION

matplotlib.use("Agg")

PM_TOKEN = "PmTok0123456789abcdefghijklmnopQ"
T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def body(payment_id: str, currency: str = "GBP", status: str = "SETTLED", **extra) -> dict:
    return {
        "id": payment_id, "date": "2025-01-06T09:00:00.000000", "dateUpdated": "2025-01-06T09:26:00.000000",
        "status": status, "orderId": f"o-{payment_id}", "currencyCode": currency, "amount": 5900,
        "paymentMethod": {"paymentMethodToken": PM_TOKEN},
        "processor": {"amountCaptured": 2500, "amountRefunded": 1250},
        "transactions": [
            {"transactionType": "SALE", "date": "2025-01-06T09:00:00.000000", "amount": 5900, "currencyCode": currency,
             "processorStatus": status, "processorTransactionId": "sbx_1",
             "events": [{"id": "ev-auth", "date": "2025-01-06T09:00:00", "type": "AUTHORIZATION_SUCCEEDED", "amount": 5900},
                        {"id": "ev-cap", "date": "2025-01-06T09:20:00", "type": "CAPTURE_SUCCEEDED", "amount": 2500, "final": True}]},
            {"transactionType": "REFUND", "date": "2025-01-06T09:56:00.000000", "amount": 1250, "currencyCode": currency,
             "processorStatus": "SETTLED", "processorTransactionId": "sbx_2", "reason": "broken"},
        ],
        **extra,
    }  # fmt: skip


def test_payments_frame_shows_amounts_in_each_currencys_units_and_provenance():
    gbp = Payment.model_validate(body("a")).attach(provenance={"orderId": "overridden", "amount": "session",
                                                               "currency": "session", "metadata.x": "request"})  # fmt: skip
    declined = body("b", "JPY", "DECLINED", processor={}, transactions=[],
                    statusReason={"type": "ISSUER_DECLINED", "declineType": "HARD_DECLINE", "code": "DO_NOT_HONOR"})  # fmt: skip
    frame = tables.payments_frame([gbp, declined, body("c", "KWD")])
    assert list(frame.columns) == tables.PAYMENT_COLUMNS
    assert frame["amount"].tolist() == [Decimal("59.00"), Decimal("5900"), Decimal("5.900")]
    assert frame["authorized"].tolist() == [Decimal("59.00"), Decimal("0"), Decimal("5.900")]
    assert frame["captured"].tolist()[0] == Decimal("25.00") and frame["refunded"].tolist()[2] == Decimal(
        "1.250"
    )
    assert frame["decline_reason"].tolist() == [None, "ISSUER_DECLINED · HARD_DECLINE · DO_NOT_HONOR", None]
    assert frame.loc[0, ["from_session", "overridden", "from_request"]].tolist() == [
        "amount, currency",
        "orderId",
        "metadata.x",
    ]
    assert frame["from_session"].tolist()[1:] == [None, None]  # not made by the kit: unknown
    assert frame["created_at"].tolist()[0] == pd.Timestamp(T0)
    cells = re.findall(r">([^<>]*)</td>", tables.style(frame).to_html())
    assert {"£59.00", "£25.00", "£12.50", "¥5,900", "¥0", "KWD 5.900", "KWD 1.250"} <= set(cells)
    assert "2025-01-06 09:26:00 UTC" in cells and PM_TOKEN not in tables.style(frame).to_html()


def test_payments_frame_reads_search_summaries_and_keeps_columns_when_empty():
    summary = {"id": "s", "date": "2025-01-06T09:00:00", "dateUpdated": "2025-01-06T09:00:00", "status": "AUTHORIZED",
               "orderId": "o", "currencyCode": "JPY", "amount": 1500}  # fmt: skip
    frame = tables.payments_frame(PaymentList.model_validate({"data": [summary]}))
    assert frame["amount"].tolist() == [Decimal("1500")] and pd.isna(frame["captured"][0])
    assert "—" in re.findall(r">([^<>]*)</td>", tables.style(frame).to_html())
    assert list(tables.payments_frame([]).columns) == tables.PAYMENT_COLUMNS
    narrow = tables.payments_frame([summary])[["payment_id", "status", "amount", "currency"]]
    assert "¥1,500" in tables.style(narrow).to_html()
    with pytest.raises(TypeError):
        tables.payments_frame([42])


def test_transactions_frame_lists_events_when_expanded_and_transactions_otherwise():
    expanded = tables.transactions_frame([body("a")])
    assert list(expanded.columns) == tables.TRANSACTION_COLUMNS
    assert expanded["type"].tolist() == ["AUTHORIZATION_SUCCEEDED", "CAPTURE_SUCCEEDED", "REFUND"]
    assert expanded["amount"].tolist() == [Decimal("59.00"), Decimal("25.00"), Decimal("12.50")]
    assert expanded["event_id"].tolist()[:2] == ["ev-auth", "ev-cap"] and expanded["reason"][2] == "broken"
    plain = body("k", "KWD")
    del plain["transactions"][0]["events"]
    frame = tables.transactions_frame(plain)
    assert frame["type"].tolist() == ["SALE", "REFUND"]
    cells = re.findall(r">([^<>]*)</td>", tables.style(frame).to_html())
    assert "KWD 5.900" in cells and "KWD 1.250" in cells
    assert list(tables.transactions_frame([]).columns) == tables.TRANSACTION_COLUMNS


def test_provenance_frame_pairs_each_path_with_its_value():
    payment = Payment.model_validate(body("a", customer={"emailAddress": "a@example.com"}))
    payment.attach(provenance={"orderId": "overridden", "customer.emailAddress": "session"})
    frame = tables.provenance_frame(payment)
    assert frame.values.tolist() == [["orderId", "overridden", "o-a"],
                                     ["customer.emailAddress", "session", "a@example.com"]]  # fmt: skip
    assert "background-color: #fff3cd" in tables.style(frame).to_html()
    assert tables.provenance_frame(body("b")).empty


def test_the_frames_of_a_client_come_from_its_ledger(sandbox):
    with PrimerClient(sandbox=sandbox, preflight=False) as client:
        session = client.create_client_session(SESSION)
        paid = client.create_payment(
            {"paymentMethodToken": client.tokenize_card(session).token, "orderId": "x"}
        )
        sandbox.clock.advance(timedelta(minutes=3))
        client.capture_payment(paid, 1000)
        sandbox.clock.advance(timedelta(minutes=6))
        client.refund_payment(client.get_payment(paid), 100)
        client.create_payment({"paymentMethodToken": client.tokenize_card(session, "decline").token})
        frame = tables.payments_frame(client)
        assert frame["status"].tolist() == ["PARTIALLY_SETTLED", "DECLINED"]
        assert frame["overridden"][0] == "orderId" and "amount" in frame["from_session"][0]
        ax = tables.plot_payment_life(client)
    assert ax.get_title() == "Payments: status over time"
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        f"{paid.id}  x",
        f"{frame['payment_id'][1]}  order-1",
    ]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["AUTHORIZED", "SETTLING", "PARTIALLY_SETTLED", "DECLINED", "refund"]
    starts = [matplotlib.dates.num2date(patch.get_x()) for patch in ax.patches]
    assert len(starts) == 4  # three statuses of the first payment, one of the second
    assert abs(starts[1] - starts[0] - timedelta(minutes=3)) < timedelta(seconds=5)  # captured
    assert starts[2] - starts[1] == timedelta(minutes=5)  # settled on the sandbox clock
    assert len(ax.collections) == 1  # one refund mark


def test_the_plot_of_a_lone_payment_and_of_nothing():
    ax = tables.plot_payment_life([body("a")])
    assert len(ax.patches) == 1 and len(ax.collections) == 1  # its current status, one refund
    empty = tables.plot_payment_life([])
    assert empty.texts[0].get_text() == "no payments"
