"""The payment state machine of the sandbox against a small reference model (hypothesis, stateful).

Hypothesis drives the sandbox's PaymentService (in process, on a frozen clock)
through random sequences of creates, captures, refunds, cancels, idempotent
replays and clock moves, and checks every answer (status code, errorId) and
every payment (status, amounts, transactions) against a model of the rules
written out plainly below.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from primer_nb.api.client_token import read_claims
from primer_nb.sandbox.core.build import build_service

DELAY = timedelta(minutes=5)
JSON = {"content-type": "application/json", "x-api-key": "k", "x-api-version": "2.4"}
CARDS = {"4111111111111111": "AUTHORIZED", "4000000000000002": "DECLINED", "5100000000000016": "FAILED"}


@dataclass
class Model:
    """What a payment should be, by the documented rules."""

    status: str
    amount: int
    captured: int = 0
    refunded: int = 0
    closed: bool = False
    settle_at: datetime | None = None

    def tick(self, now: datetime) -> None:
        if self.status == "SETTLING" and self.settle_at is not None and self.settle_at <= now:
            self.status = "SETTLED" if self.captured == self.amount else "PARTIALLY_SETTLED"

    def capture(self, amount: int | None, final: bool, now: datetime) -> tuple[int, str | None]:
        if self.status not in ("AUTHORIZED", "PARTIALLY_SETTLED") or self.closed:
            return 400, "InvalidPaymentStatus"
        left = self.amount - self.captured
        amount = left if amount is None else amount
        if amount <= 0 or amount > left:
            return 422, "RequestValidationError"
        self.captured += amount
        if final or self.captured == self.amount:
            self.closed, self.status, self.settle_at = True, "SETTLING", now + DELAY
        else:
            self.status = "PARTIALLY_SETTLED"
        return 200, None

    def refund(self, amount: int | None) -> tuple[int, str | None]:
        if self.status not in ("SETTLED", "PARTIALLY_SETTLED"):
            return 400, "InvalidPaymentStatus"
        left = self.captured - self.refunded
        if left == 0:
            return 409, "PaymentAlreadyRefunded"
        amount = left if amount is None else amount
        if amount == 0:
            return 422, "RequestValidationError"
        if amount > left:
            return 422, "UnprocessableRefundAmount"
        self.refunded += amount
        return 200, None

    def cancel(self) -> tuple[int, str | None]:
        if self.status not in ("PENDING", "AUTHORIZED"):
            return 400, "InvalidPaymentStatus"
        self.status = "CANCELLED"
        return 200, None


# An amount: absent (the default), a number, or an offset from what is left.
amounts = st.one_of(st.none(), st.integers(0, 3000), st.integers(-2, 2).map(lambda offset: ("left", offset)))


class PaymentMachine(RuleBasedStateMachine):
    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.service = build_service(deterministic=True)
        self.service.payments.settings.settlement_delay = DELAY
        self.models: dict[str, Model] = {}
        self.keys = itertools.count()
        self.processed: list[tuple[str, str, bytes]] = []  # (key, path action, body) answered 200
        self.access_token = ""

    @initialize(target=payments)
    def open_session(self) -> str:
        body = orjson.dumps({"orderId": "o-1", "currencyCode": "GBP", "amount": 1000})
        reply = self.service.create(JSON, body, "http://sandbox.test")
        claims = read_claims(reply.body["clientToken"])
        assert claims is not None
        self.access_token = claims["accessToken"]
        return self.create("4111111111111111", 1000, keyed=False)

    def now(self) -> datetime:
        return self.service.clock.now()

    def resolve(self, pid: str, choice: object, *, refund: bool = False) -> int | None:
        model = self.models[pid]
        if not isinstance(choice, tuple):
            return choice  # type: ignore[return-value]
        left = model.captured - model.refunded if refund else model.amount - model.captured
        return max(0, left + choice[1])

    def check(self, reply, expected: tuple[int, str | None]) -> None:
        status, error_id = expected
        assert reply.status == status, (reply.status, reply.body, expected)
        if error_id:
            assert reply.body["error"]["errorId"] == error_id

    def key(self, use: bool) -> dict[str, str]:
        return {**JSON, "x-idempotency-key": f"key-{next(self.keys)}"} if use else JSON

    # ------------------------------------------------------------------ rules

    @rule(
        target=payments,
        number=st.sampled_from(sorted(CARDS)),
        amount=st.integers(1, 2000),
        keyed=st.booleans(),
    )
    def create(self, number: str, amount: int, keyed: bool) -> str:
        instrument = {"number": number, "cvv": "123", "expirationMonth": "12", "expirationYear": "2030"}
        tokenized = self.service.checkout.tokenize(
            {**JSON, "primer-client-token": self.access_token},
            orjson.dumps({"paymentInstrument": instrument}),
        )
        headers = self.key(keyed)
        body = orjson.dumps({"paymentMethodToken": tokenized.body["token"], "amount": amount})
        reply = self.service.payments.create(headers, body, "http://sandbox.test")
        assert reply.status == 200, reply.body
        assert reply.body["status"] == CARDS[number]
        self.models[reply.body["id"]] = Model(CARDS[number], amount)
        if keyed:
            self.processed.append((headers["x-idempotency-key"], "create", body))
        return str(reply.body["id"])

    @rule(pid=payments, choice=amounts, final=st.booleans(), keyed=st.booleans())
    def capture(self, pid: str, choice: object, final: bool, keyed: bool) -> None:
        amount = self.resolve(pid, choice)
        self.models[pid].tick(self.now())
        expected = self.models[pid].capture(amount, final, self.now())
        body = {"final": final} | ({} if amount is None else {"amount": amount})
        self.act("capture", pid, body, expected, keyed)

    @rule(pid=payments, choice=amounts, keyed=st.booleans())
    def refund(self, pid: str, choice: object, keyed: bool) -> None:
        amount = self.resolve(pid, choice, refund=True)
        self.models[pid].tick(self.now())
        expected = self.models[pid].refund(amount)
        self.act("refund", pid, {} if amount is None else {"amount": amount}, expected, keyed)

    @rule(pid=payments, keyed=st.booleans())
    def cancel(self, pid: str, keyed: bool) -> None:
        self.models[pid].tick(self.now())
        self.act("cancel", pid, {"reason": "changed my mind"}, self.models[pid].cancel(), keyed)

    def act(self, action: str, pid: str, body: dict, expected: tuple[int, str | None], keyed: bool) -> None:
        headers = self.key(keyed)
        raw = orjson.dumps(body)
        reply = self.service.payments.act(action, pid, headers, raw)
        self.check(reply, expected)
        if reply.status == 200:
            self.compare(pid, reply.body)
            if keyed:
                self.processed.append((headers["x-idempotency-key"], action, raw))

    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        if not self.processed:
            return
        key, action, body = data.draw(st.sampled_from(self.processed))
        headers = {**JSON, "x-idempotency-key": key}
        before = {pid: (m.status, m.captured, m.refunded) for pid, m in self.models.items()}
        if action == "create":
            reply = self.service.payments.create(headers, body, "http://sandbox.test")
            self.check(reply, (400, "TransactionRequestIdempotencyKeyAlreadyExists"))
        else:
            pid = data.draw(st.sampled_from(sorted(self.models)))
            reply = self.service.payments.act(action, pid, headers, body)
            self.check(reply, (409, "IdempotencyKeyAlreadyExists"))
        assert before == {pid: (m.status, m.captured, m.refunded) for pid, m in self.models.items()}

    @rule(seconds=st.sampled_from([0, 60, 299, 301, 3600]))
    def advance(self, seconds: int) -> None:
        self.service.clock.advance(seconds)

    @rule(pid=payments)
    def get(self, pid: str) -> None:
        self.models[pid].tick(self.now())
        reply = self.service.payments.retrieve(pid)
        assert reply.status == 200
        self.compare(pid, reply.body)

    # ------------------------------------------------------------------ checks

    def compare(self, pid: str, body: dict) -> None:
        model = self.models[pid]
        assert body["status"] == model.status
        assert body["processor"]["amountCaptured"] == model.captured
        assert body["processor"]["amountRefunded"] == model.refunded
        refunds = [t for t in body["transactions"] if t["transactionType"] == "REFUND"]
        assert sum(t["amount"] for t in refunds) == model.refunded
        sales = [t for t in body["transactions"] if t["transactionType"] == "SALE"]
        assert len(sales) == 1 and sales[0]["processorStatus"] == model.status

    @invariant()
    def amounts_hold(self) -> None:
        for model in self.models.values():
            assert 0 <= model.refunded <= model.captured <= model.amount

    def teardown(self) -> None:
        self.service.store.close()


PaymentMachine.TestCase.settings = settings(
    max_examples=120, stateful_step_count=40, deadline=None, suppress_health_check=list(HealthCheck)
)
test_payment_state_machine = PaymentMachine.TestCase
