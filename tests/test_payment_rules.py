"""The pure payment rules of the domain core: cards, inheritance, amounts (unit and property tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primer_nb.api import money
from primer_nb.api.cards import (
    TEST_CARDS,
    CardScenario,
    card_network,
    card_scenario,
    expiry_problem,
    luhn_valid,
    public_card,
)
from primer_nb.api.payment import CaptureRequest, PaymentCreateRequest, RefundRequest
from primer_nb.api.payment_rules import (
    ALLOWED,
    CHECKOUT_STATUS,
    PaymentRecord,
    Refusal,
    capture,
    checkout_body,
    inherit,
    missing_fields,
    new_payment,
    payment_body,
    refund,
    settle,
)

NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)

# ---------------------------------------------------------------- cards

# Primer's pages, as published (Primer Sandbox Processor; Testing 3D Secure).
SANDBOX_PAGE = {
    "4111111111111111": "AUTHORIZED", "4242424242424242": "AUTHORIZED", "5252525252525258": "AUTHORIZED",
    "5555555555554444": "AUTHORIZED", "4035500000000000": "AUTHORIZED", "5132000000000000": "AUTHORIZED",
    "4970000000000008": "AUTHORIZED", "4000000000000002": "DECLINED", "5100000000000008": "DECLINED",
    "4000000000000010": "FAILED", "5100000000000016": "FAILED",
}  # fmt: skip
THREE_DS_PAGE = {
    "4916994064252017": "CHALLENGE", "4000000000000051": "CHALLENGE", "5306889942833340": "CHALLENGE",
    "5267648608924299": "CHALLENGE", "4929251897047956": "FRICTIONLESS_SUCCESS",
    "4000000000000010": "FRICTIONLESS_SUCCESS", "5512459816707531": "FRICTIONLESS_SUCCESS",
    "5333259155643223": "FRICTIONLESS_SUCCESS", "4716429323842524": "FRICTIONLESS_FAILURE",
    "4000000000000044": "FRICTIONLESS_FAILURE", "5487971631330522": "FRICTIONLESS_FAILURE",
    "5328720384582224": "FRICTIONLESS_FAILURE",
}  # fmt: skip


def test_the_catalogue_is_primers_two_pages():
    assert set(TEST_CARDS) == set(SANDBOX_PAGE) | set(THREE_DS_PAGE)
    for number, outcome in SANDBOX_PAGE.items():
        assert TEST_CARDS[number].authorization == outcome
    for number, outcome in THREE_DS_PAGE.items():
        assert TEST_CARDS[number].three_ds == outcome
    assert all(luhn_valid(number) for number in TEST_CARDS)
    assert all(card.source.startswith("https://primer.io/docs/testing/") for card in TEST_CARDS.values())


@given(st.text(alphabet="0123456789", min_size=11, max_size=18))
def test_luhn_accepts_the_check_digit_and_catches_any_single_digit_change(body):
    check = next(d for d in "0123456789" if luhn_valid(body + d))
    number = body + check
    assert sum(luhn_valid(body + d) for d in "0123456789") == 1
    position = len(number) // 2
    for digit in "0123456789":
        if digit != number[position]:
            assert not luhn_valid(number[:position] + digit + number[position + 1 :])


@pytest.mark.parametrize(
    ("number", "network"),
    [("4012888888881881", "VISA"), ("5105105105105100", "MASTERCARD"), ("2223003122003222", "MASTERCARD"),
     ("378282246310005", "AMEX"), ("6011111111111117", "DISCOVER"), ("3530111333300000", "JCB"),
     ("36227206271667", "DINERS_CLUB"), ("6200000000000005", "UNIONPAY"), ("9999999999999995", "OTHER"),
     ("4970000000000008", "CARTES_BANCAIRES")],
)  # fmt: skip
def test_networks_by_leading_digits(number, network):
    assert card_network(number) == network


def test_cards_outside_the_catalogue_fail():
    assert card_scenario("4012888888881881") == CardScenario("NOT_A_TEST_CARD")
    assert card_scenario("4000000000000051") == CardScenario("AUTHORIZED", "CHALLENGE")


@pytest.mark.parametrize(
    ("month", "year", "ok"),
    [
        (1, 2025, True),
        (12, 2024, False),
        (2, 2025, True),
        (12, 2099, True),
        (13, 2030, False),
        (0, 2030, False),
    ],
)
def test_a_card_is_good_to_the_end_of_its_month(month, year, ok):
    assert (expiry_problem(month, year, date(2025, 1, 31)) is None) is ok


def test_public_card_data_never_holds_the_number():
    data = public_card("4242424242424242", "12", "2030", "Ann").payment_method_data()
    assert "4242424242424242" not in repr(data)
    assert (data["first6Digits"], data["last4Digits"], data["network"]) == ("424242", "4242", "Visa")


# ---------------------------------------------------------------- inheritance

_text = st.text(alphabet="abcxyz-", min_size=1, max_size=6)
_money = st.integers(min_value=0, max_value=10**6)
_address = st.fixed_dictionaries(
    {}, optional={"city": _text, "postalCode": _text, "countryCode": st.just("GB")}
)
_customer = st.fixed_dictionaries(
    {}, optional={"emailAddress": st.just("a@example.com"), "firstName": _text, "billingAddress": _address}
)
_line = st.fixed_dictionaries({"amount": _money}, optional={"quantity": st.integers(1, 5), "itemId": _text})
_order = st.fixed_dictionaries(
    {}, optional={"lineItems": st.lists(_line, min_size=1, max_size=3), "countryCode": st.just("FR"),
                  "shipping": st.fixed_dictionaries({"amount": _money})}
)  # fmt: skip
_fields = {
    "orderId": _text, "currencyCode": st.sampled_from(["GBP", "EUR"]), "amount": _money, "customerId": _text,
    "customer": _customer, "order": _order, "metadata": st.dictionaries(_text, _text, max_size=2),
    "paymentMethod": st.fixed_dictionaries({}, optional={"authorizationType": st.sampled_from(["FINAL", "ESTIMATED"]),
                                                         "descriptor": _text}),
}  # fmt: skip
sessions = st.fixed_dictionaries({}, optional=_fields)
requests = st.fixed_dictionaries({}, optional=_fields)


@given(sessions, requests)
def test_request_fields_win_and_absent_ones_come_from_the_session(session, request):
    merged = inherit(request, session)
    for key in ("orderId", "currencyCode", "customerId"):
        expected = request.get(key, session.get(key))
        assert merged.get(key) == expected
    for key in ("customer", "metadata", "paymentMethod"):
        expected = {**session.get(key, {}), **request.get(key, {})}
        assert merged.get(key, {}) == expected
    order = {**session.get("order", {}), **request.get("order", {})}
    assert merged.get("order", {}) == order


@given(sessions, requests)
def test_the_amount_is_the_requests_else_its_own_order_else_the_sessions_rule(session, request):
    merged = inherit(request, session)
    if "amount" in request:
        assert merged["amount"] == request["amount"]
    elif any(key in request.get("order", {}) for key in ("lineItems", "fees", "shipping")):
        assert merged.get("amount") == money.derived_amount(merged["order"])
    else:
        assert merged.get("amount") == money.session_amount(session.get("amount"), session.get("order"))


@given(sessions, requests)
def test_missing_fields_are_exactly_those_neither_side_has(session, request):
    merged = inherit(request, session)
    missing = {error.path for error in missing_fields(merged)}
    for key in ("currencyCode", "orderId"):
        assert (f"$.{key}" in missing) == (key not in request and key not in session)
    assert ("$.amount" in missing) == (merged.get("amount") is None)


@given(sessions, requests)
def test_inheritance_changes_neither_input(session, request):
    import copy

    before = copy.deepcopy((session, request))
    merged = inherit(request, session)
    if merged.get("customer"):
        merged["customer"]["mutated"] = True
    assert (session, request) == before


def test_the_guides_example_billing_address_from_session_email_from_request():
    session = {
        "customer": {"billingAddress": {"city": "Paris"}},
        "currencyCode": "EUR",
        "orderId": "o",
        "amount": 5,
    }
    request = PaymentCreateRequest(payment_method_token="t", customer={"emailAddress": "a@example.com"})
    merged = inherit(request.overrides(), session)
    assert merged["customer"] == {"billingAddress": {"city": "Paris"}, "emailAddress": "a@example.com"}
    assert missing_fields(merged) == []


def test_session_only_payment_method_keys_are_not_inherited():
    session = {
        "paymentMethod": {"vaultOnSuccess": True, "orderedAllowedCardNetworks": ["VISA"], "options": {}}
    }
    assert inherit({}, session)["paymentMethod"] == {"vaultOnSuccess": True}
    assert [e.path for e in missing_fields(inherit({}, session))][-1] == "$.customerId"


# ---------------------------------------------------------------- amounts


def authorized(amount: int = 1000, **fields) -> PaymentRecord:
    return new_payment(
        payment_id="p1", token="t1", session_id="s1",
        fields={"amount": amount, "currencyCode": "GBP", "orderId": "o1", **fields},
        card=public_card("4111111111111111", "12", "2030").payment_method_data(),
        scenario=CardScenario("AUTHORIZED"), analytics_id="a1", now=NOW, three_ds_enabled=False,
        authorize_on_create=True, processor=("P", "M"), transaction_id="tx1", event_id="e1", challenge_token=None,
    )  # fmt: skip


# An amount is a number, or an offset from what is left (to land on the edges).
_amounts = st.one_of(st.integers(0, 1500), st.integers(-2, 2).map(lambda offset: ("left", offset)))


def _amount(choice, left: int) -> int:
    return max(0, left + choice[1]) if isinstance(choice, tuple) else choice


@settings(max_examples=80)
@given(st.lists(st.tuples(_amounts, st.booleans()), max_size=8))
def test_captures_never_exceed_the_authorized_amount(steps):
    record = authorized(1000)
    for choice, final in steps:
        left = record.amount - record.amount_captured
        amount = _amount(choice, left)
        if not record.captures_closed:
            assert isinstance(
                capture(record, CaptureRequest(amount=amount, final=final), NOW, "e", timedelta(0)), Refusal
            ) == (amount == 0 or amount > left)
        result = capture(record, CaptureRequest(amount=amount, final=final), NOW, "e", timedelta(0))
        if isinstance(result, Refusal):
            assert result.status in (400, 422)
            continue
        assert result.amount_captured == record.amount_captured + amount
        record = result
        assert record.amount_captured <= record.amount
    body = payment_body(record)
    assert body["processor"]["amountCaptured"] == record.amount_captured
    assert sum(e["amount"] for e in payment_body(record, expand=True)["transactions"][0]["events"][1:]) == (
        record.amount_captured
    )


@settings(max_examples=80)
@given(st.integers(1, 1000), st.lists(st.one_of(st.none(), _amounts), max_size=8))
def test_refunds_never_exceed_what_was_captured(captured, choices):
    record = capture(authorized(1000), CaptureRequest(amount=captured), NOW, "e", timedelta(0))
    assert isinstance(record, PaymentRecord)
    for choice in choices:
        left = record.amount_captured - record.amount_refunded
        amount = None if choice is None else _amount(choice, left)
        result = refund(record, RefundRequest(amount=amount), NOW, "r")
        if isinstance(result, Refusal):
            assert (result.status, result.error_id) in {
                (409, "PaymentAlreadyRefunded"), (422, "UnprocessableRefundAmount"), (422, "RequestValidationError")
            }  # fmt: skip
            assert left == 0 or amount == 0 or (amount or left) > left
            continue
        record = result
        assert record.amount_refunded <= record.amount_captured
    refunds = [t for t in payment_body(record)["transactions"] if t["transactionType"] == "REFUND"]
    assert sum(t["amount"] for t in refunds) == record.amount_refunded


def test_settlement_waits_for_the_clock():
    record = capture(authorized(1000), CaptureRequest(), NOW, "e", timedelta(minutes=5))
    assert isinstance(record, PaymentRecord) and record.status == "SETTLING"
    assert settle(record, NOW + timedelta(minutes=4)) is None
    done = settle(record, NOW + timedelta(hours=1))
    assert done is not None and done.status == "SETTLED" and done.updated_at == NOW + timedelta(minutes=5)


def test_every_status_has_a_row_and_a_checkout_status():
    from primer_nb.api.payment import PAYMENT_STATUSES

    assert set(ALLOWED) == set(PAYMENT_STATUSES) == set(CHECKOUT_STATUS)
    assert {status for status, actions in ALLOWED.items() if "refund" in actions} == {
        "SETTLED",
        "PARTIALLY_SETTLED",
    }
    assert {status for status, actions in ALLOWED.items() if "cancel" in actions} == {"PENDING", "AUTHORIZED"}


def test_the_checkout_body_has_what_both_sdks_require():
    body = checkout_body(authorized())
    assert {"id", "date", "status", "orderId", "currencyCode", "amount"} <= set(body)
    assert body["status"] == "SUCCESS"
