"""``PaymentPanel``: pay for a created session with a test card, then capture, refund or cancel."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets
import traitlets

from primer_nb.api import money
from primer_nb.api.cards import TEST_CARD_NAMES, TEST_CARDS, network_display_name
from primer_nb.api.display import format_amount, payment_html
from primer_nb.api.errors import PrimerAPIError, PrimerError, PrimerValidationError
from primer_nb.api.payment import Payment
from primer_nb.api.session import ClientSession
from primer_nb.widgets._common import ErrorText, Looks, QuietValue, api_failure, labelled, safe_callback

__all__ = ["CARD_CHOICES", "PaymentPanel"]


def _card_label(name: str) -> str:
    card = TEST_CARDS[TEST_CARD_NAMES[name]]
    network = network_display_name(card.networks[0])
    return f"{name}: {network} •••• {card.number[-4:]} ({card.scenario})"


CARD_CHOICES: tuple[tuple[str, str], ...] = tuple((_card_label(name), name) for name in TEST_CARD_NAMES)
"""The panel's test cards: (label, name) for each of :data:`~primer_nb.api.cards.TEST_CARD_NAMES`."""


def _report(panel: PaymentPanel, exc: BaseException) -> None:
    panel.message.show(f"{type(exc).__name__}: {exc}")


class PaymentPanel(QuietValue, widgets.VBox):
    """Pay for a created session with one of Primer's test cards, then capture, refund or cancel.

    Parameters
    ----------
    client:
        The client to call (default: :func:`primer_nb.connect` on first use).
    session:
        The :class:`~primer_nb.api.session.ClientSession` to pay for, or a
        :class:`~primer_nb.widgets.SessionBuilder`: the panel follows the
        session the builder creates (``builder.payment_panel()`` does this).
    card:
        The test card picked at first (a name of :data:`CARD_CHOICES`).

    ``pay()`` tokenizes the picked card under the session's client token, as a
    checkout would, and creates the payment with the token alone, so the session
    supplies the rest. ``capture()``, ``refund()`` and ``cancel()`` act on that
    payment; amounts are typed in major units of its currency (``12.50``,
    ``1250`` for JPY, ``1.250`` for KWD; empty means everything), and a 3DS
    challenge is completed with ``complete_challenge()`` (the local sandbox only).
    ``value`` is the payment after the last action. Errors appear inline and
    what was typed is kept.
    """

    value = traitlets.Any(None, allow_none=True, help="The payment after the last action (a Payment).")
    session = traitlets.Any(None, allow_none=True, help="The ClientSession being paid for.")

    def __init__(self, client: Any = None, session: Any = None, card: str = "success", **kwargs: Any) -> None:
        self._client = client
        self._builder: Any = None
        looks = Looks()
        self.card = looks.make(
            widgets.Dropdown, options=list(CARD_CHOICES), value=card, layout={"width": "420px"}
        )
        self.card.add_class("primer-nb-card")
        self.pay_button = looks.make(
            widgets.Button, description="Pay", button_style="primary", icon="credit-card", disabled=True
        )
        self.pay_button.add_class("primer-nb-pay")
        self.amount = looks.make(widgets.Text, placeholder="everything", layout={"width": "130px"})
        self.amount.add_class("primer-nb-payment-amount")
        self.amount_error = looks.make(ErrorText)
        self.capture_button = looks.make(widgets.Button, description="Capture", icon="check", disabled=True)
        self.capture_button.add_class("primer-nb-capture")
        self.refund_button = looks.make(widgets.Button, description="Refund", icon="undo", disabled=True)
        self.refund_button.add_class("primer-nb-refund")
        self.cancel_button = looks.make(widgets.Button, description="Cancel", icon="ban", disabled=True)
        self.cancel_button.add_class("primer-nb-cancel")
        self.challenge_button = looks.make(
            widgets.Button, description="Complete 3DS challenge", icon="shield", disabled=True
        )
        self.challenge_button.add_class("primer-nb-challenge")
        self.message = looks.make(ErrorText)
        self.message.add_class("primer-nb-message")
        self.session_view = looks.make(widgets.HTML)
        self.session_view.add_class("primer-nb-payment-session")
        self.result = looks.make(widgets.HTML)
        self.result.add_class("primer-nb-payment-result")
        actions = looks.make(
            widgets.HBox,
            children=[
                looks.make(
                    widgets.VBox,
                    children=[
                        labelled(self.amount, "Amount", "amount (major units)", looks),
                        self.amount_error,
                    ],
                ),
                self.capture_button,
                self.refund_button,
                self.cancel_button,
                self.challenge_button,
            ],
        )
        super().__init__(
            [
                self.session_view,
                looks.make(
                    widgets.HBox,
                    children=[
                        labelled(self.card, "Test card", "paymentInstrument.number", looks),
                        self.pay_button,
                    ],
                ),
                actions,
                self.message,
                self.result,
            ],
            **kwargs,
        )
        self.add_class("primer-nb-payment-panel")
        self.observe(self._on_session_change, names="session")
        self.observe(self._on_value_change, names="value")
        self.pay_button.on_click(self._on_pay_click)
        self.capture_button.on_click(self._on_capture_click)
        self.refund_button.on_click(self._on_refund_click)
        self.cancel_button.on_click(self._on_cancel_click)
        self.challenge_button.on_click(self._on_challenge_click)
        if session is not None and hasattr(session, "observe") and not isinstance(session, ClientSession):
            self.follow(session)
        else:
            self.session = session
        self._render_session()

    # ------------------------------------------------------------------ wiring

    def follow(self, builder: Any) -> None:
        """Pay for the session ``builder`` (a :class:`SessionBuilder`) holds, now and after each create."""
        if self._builder is not None:
            self._builder.unobserve(self._on_builder_session, names="session")
        self._builder = builder
        if self._client is None:
            self._client = getattr(builder, "_client", None)
        builder.observe(self._on_builder_session, names="session")
        self.session = builder.session

    @property
    def payment(self) -> Payment | None:
        """The payment after the last action (the same as ``value``)."""
        return self.value

    @property
    def currency(self) -> str | None:
        """The currency amounts are typed in: the payment's, else the session's."""
        payment = self.value
        if payment is not None and payment.currency_code:
            return str(payment.currency_code)
        session = self.session
        return session.currency_code if session is not None else None

    def _client_or_connect(self) -> Any:
        if self._client is None:
            from primer_nb.connection import connect

            self._client = connect()
        return self._client

    # ------------------------------------------------------------------ actions

    def pay(self, card: str | None = None) -> Payment | None:
        """Tokenize the test card (``card``, else the picked one) under the session and pay with the token."""
        self._clear_errors()
        session = self.session
        if session is None or not session.client_token:
            self.message.show(
                "Create a session first: the payment takes its amount, currency and order from it."
            )
            return None
        if card is not None:
            self.card.value = card
        client = self._client_or_connect()
        try:
            instrument = client.tokenize_card(session, self.card.value)
            payment = client.create_payment({"paymentMethodToken": instrument.token}, session=session)
        except PrimerError as exc:
            self._show_failure(exc)
            return None
        self._publish(payment)
        self._render_payment()
        return payment

    def capture(self, amount: Any = None) -> Payment | None:
        """Capture ``amount`` in major units (default: what is typed; nothing typed captures everything)."""
        return self._act("capture", amount)

    def refund(self, amount: Any = None) -> Payment | None:
        """Refund ``amount`` in major units (default: what is typed; nothing typed refunds what is left)."""
        return self._act("refund", amount)

    def cancel(self) -> Payment | None:
        """Cancel (void) the payment."""
        return self._act("cancel", None)

    def complete_challenge(self, passed: bool = True) -> Payment | None:
        """Answer the payment's 3DS challenge in the local sandbox, then resume the payment."""
        self._clear_errors()
        payment = self._current()
        if payment is None:
            return None
        client = self._client_or_connect()
        try:
            result = client.complete_3ds_challenge(payment, passed=passed)
            resumed = client.resume_payment(payment, result.resume_token)
        except PrimerError as exc:
            self._show_failure(exc)
            return None
        self._publish(resumed)
        self._render_payment()
        return resumed

    def _current(self) -> Payment | None:
        if self.value is None:
            self.message.show("Pay first: there is no payment yet.")
        return self.value

    def _minor(self, amount: Any) -> int | None:
        """The amount in minor units, from the argument or the field; ``None`` for everything."""
        typed = self.amount.value if amount is None else amount
        if typed is None or (isinstance(typed, str) and not typed.strip()):
            return None
        if isinstance(typed, int) and not isinstance(typed, bool):
            typed = str(typed)
        currency = self.currency
        if not currency:
            raise money.MoneyError("the payment has no currency to read the amount in")
        return money.to_minor(typed, currency)

    def _act(self, action: str, amount: Any) -> Payment | None:
        self._clear_errors()
        payment = self._current()
        if payment is None:
            return None
        try:
            minor = self._minor(amount)
        except money.MoneyError as exc:
            self.amount_error.show(str(exc))
            return None
        client = self._client_or_connect()
        try:
            if action == "capture":
                done = client.capture_payment(payment, minor)
            elif action == "refund":
                done = client.refund_payment(payment, minor)
            else:
                done = client.cancel_payment(payment)
        except PrimerError as exc:
            self._show_failure(exc)
            return None
        self.amount.value = ""
        self._publish(done)
        self._render_payment()
        return done

    # ------------------------------------------------------------------ callbacks

    @safe_callback(_report)
    def _on_pay_click(self, _: widgets.Button) -> None:
        self.pay()

    @safe_callback(_report)
    def _on_capture_click(self, _: widgets.Button) -> None:
        self.capture()

    @safe_callback(_report)
    def _on_refund_click(self, _: widgets.Button) -> None:
        self.refund()

    @safe_callback(_report)
    def _on_cancel_click(self, _: widgets.Button) -> None:
        self.cancel()

    @safe_callback(_report)
    def _on_challenge_click(self, _: widgets.Button) -> None:
        self.complete_challenge()

    @safe_callback(_report)
    def _on_builder_session(self, change: dict[str, Any]) -> None:
        self.session = change["new"]

    @safe_callback(_report)
    def _on_session_change(self, change: dict[str, Any]) -> None:
        if change["new"] is not change["old"]:
            self._publish(None)  # a new session: its payment is yet to be made
        self._render_session()
        self._render_payment()

    @safe_callback(_report)
    def _on_value_change(self, change: dict[str, Any]) -> None:
        if not self._updating:
            self._render_payment()

    # ------------------------------------------------------------------ display

    def _render_session(self) -> None:
        session = self.session
        self.pay_button.disabled = session is None
        if session is None:
            self.session_view.value = (
                '<span style="color:#6c757d">No session yet: create one to pay for.</span>'
            )
            return
        amount = format_amount(session.amount, session.currency_code)
        token = html.escape(session.masked_token or "—")
        self.session_view.value = (
            f'Paying for session <code class="primer-nb-token">{token}</code>'
            f" · order <code>{html.escape(session.order_id or '—')}</code>"
            f' · <span class="primer-nb-amount-result">{html.escape(amount)}</span>'
        )

    def _render_payment(self) -> None:
        payment = self.value
        exists = payment is not None
        for button in (self.capture_button, self.refund_button, self.cancel_button):
            button.disabled = not exists
        action = payment.required_action if exists else None
        self.challenge_button.disabled = action is None or action.name != "3DS_AUTHENTICATION"
        self.result.value = payment_html(payment) if exists else ""

    def _clear_errors(self) -> None:
        self.message.clear()
        self.amount_error.clear()

    def _show_failure(self, exc: PrimerError) -> None:
        if isinstance(exc, PrimerAPIError):
            self.message.show(api_failure(exc))
            amount_errors = [e.description for e in exc.field_errors if e.path == "$.amount"]
            if amount_errors:
                self.amount_error.show(amount_errors)
        elif isinstance(exc, PrimerValidationError):
            self.message.show(
                [f"The request is not valid ({len(exc.errors)} problem(s)):", *map(str, exc.errors)]
            )
        else:
            self.message.show(str(exc))
