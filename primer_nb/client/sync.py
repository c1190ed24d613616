"""The synchronous client: :class:`PrimerClient`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx

from primer_nb.api.payment import (
    Payment,
    PaymentInstrument,
    PaymentList,
    PaymentSummary,
    ThreeDSAuthResult,
)
from primer_nb.api.protocol import CLIENT_SESSION_PATH, PAYMENTS_PATH, payment_path
from primer_nb.api.session import ClientSession
from primer_nb.client.base import (
    BaseClient,
    Body,
    CardLike,
    Changes,
    CheckoutCall,
    PaymentBody,
    PaymentCall,
    PaymentRef,
    SessionRef,
)
from primer_nb.config.tls import tls_context_for

__all__ = ["PrimerClient"]


class PrimerClient(BaseClient):
    """A synchronous client for the Client Session and Payments APIs (parameters: :class:`BaseClient`).

    >>> client = PrimerClient(sandbox=sandbox)          # doctest: +SKIP
    >>> session = client.create_client_session({"orderId": "o-1", "currencyCode": "GBP"})  # doctest: +SKIP
    >>> card = client.tokenize_card(session, "success")  # doctest: +SKIP
    >>> payment = client.create_payment({"paymentMethodToken": card.token})  # doctest: +SKIP
    """

    def __init__(self, api_key: str | None = None, **options: Any) -> None:
        super().__init__(api_key, **options)
        self._http = httpx.Client(
            base_url=self.base_url, headers=self._headers(), timeout=self.timeout,
            transport=self._transport, verify=tls_context_for(self.base_url),  # type: ignore[arg-type]
        )  # fmt: skip
        self._checkout_http: httpx.Client | None = None

    def _checkout_client(self, url: str) -> httpx.Client:
        if self._checkout_http is None:
            self._checkout_http = httpx.Client(
                headers=self._checkout_headers(), timeout=self.timeout,
                transport=self._transport, verify=tls_context_for(url),  # type: ignore[arg-type]
            )  # fmt: skip
        return self._checkout_http

    def _request(
        self, method: str, path: str = CLIENT_SESSION_PATH, *, json_body: Any = None, params: Any = None,
        headers: dict[str, str] | None = None, idempotent: bool = False, keyed: bool = False,
        checkout: bool = False,
    ) -> httpx.Response:  # fmt: skip
        http = self._checkout_client(path) if checkout else self._http
        attempt = 0
        while True:
            try:
                response = http.request(method, path, json=json_body, params=params, headers=headers)
            except httpx.TransportError as exc:
                wait = self._wait_or_raise(
                    method, attempt, failure=exc, idempotent=idempotent or keyed, url=path
                )
            else:
                if self._answered(response, attempt, keyed):
                    return response
                wait = self._wait_or_raise(method, attempt, response=response, idempotent=idempotent or keyed)
            attempt += 1
            time.sleep(wait)

    # ------------------------------------------------------------------ client sessions

    def create_client_session(self, body: Body) -> ClientSession:
        """``POST /client-session``: create a session; return it with its token and warnings."""
        return self._session(self._request("POST", json_body=self._create_body(body)))

    def get_client_session(self, client_token: str) -> ClientSession:
        """``GET /client-session``: the session behind ``client_token``."""
        response = self._request("GET", params={"clientToken": client_token})
        return self._session(response, client_token)

    def update_client_session(self, client_token: str, changes: Changes) -> ClientSession:
        """``PATCH /client-session``: send only what changes (``None`` clears); return the whole session."""
        body = self._update_body(client_token, changes)
        return self._session(self._request("PATCH", json_body=body), client_token)

    # ------------------------------------------------------------------ payments

    def _post_payment(self, call: PaymentCall) -> Payment:
        response = self._request("POST", call.path, json_body=call.body, headers=call.headers, keyed=True)
        replayed = self._replayed_payment(response)
        if replayed is not None:  # a retry met the first attempt's result: read it
            response = self._request("GET", payment_path(replayed))
        return self._payment(response, call)

    def create_payment(
        self, body: PaymentBody, *, idempotency_key: str | None = None, session: SessionRef | None = None
    ) -> Payment:
        """``POST /payments``: pay with a payment method token; the rest comes from its session.

        Parameters
        ----------
        body:
            ``{"paymentMethodToken": …}`` and any field to override the
            session's (``orderId``, ``amount``, ``customer``, ``metadata``…),
            camelCase, or a :class:`~primer_nb.api.payment.PaymentCreateRequest`.
        idempotency_key:
            Sent as ``X-Idempotency-Key``; a new UUID4 when left out. The same
            key goes with every retry (see :class:`~primer_nb.client.RetryPolicy`).
        session:
            The session (or client token) the token was made under, when it was
            not tokenized by this client: it tells inherited fields from
            overridden ones in :attr:`Payment.provenance`.

        Returns the payment, declined and failed ones included (their
        ``decline_reason`` says why); a 3DS challenge leaves it ``PENDING``
        with a ``required_action``.
        """
        return self._post_payment(self._create_payment_call(body, idempotency_key, session))

    def get_payment(self, payment: PaymentRef, *, expand: bool = False) -> Payment:
        """``GET /payments/{id}``; ``expand=True`` adds each transaction's events (captures, their ids)."""
        params = {"expand": "transactions.events"} if expand else None
        return self._payment(self._request("GET", payment_path(self._id(payment)), params=params))

    def search_payments(self, **filters: Any) -> PaymentList:
        """``GET /payments``: one page of summaries, newest first, filtered by the spec's query names.

        ``order_id="o-1"``, ``status=["SETTLED", "AUTHORIZED"]``, ``currency_code``,
        ``from_date``/``to_date`` (datetimes), ``min_amount``/``max_amount``,
        ``customer_id``, ``last_4_digits``, … ``limit`` (1–100) and ``cursor``
        (a page's ``next_cursor``) page through. Filters are checked before sending.
        """
        params = self._search_params(filters)
        return PaymentList.model_validate(self._json(self._request("GET", PAYMENTS_PATH, params=params)))

    def iter_payments(self, **filters: Any) -> Iterator[PaymentSummary]:
        """Every summary ``GET /payments`` finds, newest first, following ``next_cursor`` page by page.

        Takes :meth:`search_payments`' filters (``limit`` sets the page size; a
        ``cursor`` starts the walk at that page). The filters are checked now;
        each page is fetched when the iteration reaches it, so stopping early
        fetches no more, and an error answering a later page is raised there,
        after the summaries before it. A payment is yielded once, even if a page
        shifts under the walk.

        >>> paid = [p.id for p in client.iter_payments(status="SETTLED", limit=100)]  # doctest: +SKIP
        """
        self._search_params(filters)
        return self._walk_pages(dict(filters))

    def _walk_pages(self, first: dict[str, Any]) -> Iterator[PaymentSummary]:
        followed = {first["cursor"]} if first.get("cursor") else set()
        ids: set[str] = set()
        query: dict[str, Any] | None = first
        while query is not None:
            page = self.search_payments(**query)
            yield from self._unseen(page, ids)
            query = self._next_query(page, query, followed)

    def capture_payment(
        self, payment: PaymentRef, amount: int | None = None, *, final: bool | None = None,
        metadata: dict[str, Any] | None = None, order: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Payment:  # fmt: skip
        """``POST /payments/{id}/capture``: capture ``amount`` (minor units), or everything left.

        ``final=False`` keeps the payment open for more captures.
        """
        body = {"amount": amount, "final": final, "metadata": metadata, "order": order}
        return self._post_payment(self._action_call(payment, "capture", body, idempotency_key))

    def cancel_payment(
        self, payment: PaymentRef, *, reason: str | None = None, idempotency_key: str | None = None
    ) -> Payment:
        """``POST /payments/{id}/cancel``: void an authorized (or pending) payment."""
        return self._post_payment(self._action_call(payment, "cancel", {"reason": reason}, idempotency_key))

    def refund_payment(
        self, payment: PaymentRef, amount: int | None = None, *, reason: str | None = None,
        order_id: str | None = None, transaction_event_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Payment:  # fmt: skip
        """``POST /payments/{id}/refund``: refund ``amount`` (minor units), or everything not yet refunded.

        ``transaction_event_id`` refunds from one capture (an event id of ``get_payment(…, expand=True)``).
        """
        body = {"amount": amount, "reason": reason, "orderId": order_id}
        body["transactionEventId"] = transaction_event_id
        return self._post_payment(self._action_call(payment, "refund", body, idempotency_key))

    def resume_payment(
        self, payment: PaymentRef, resume_token: str, *, idempotency_key: str | None = None
    ) -> Payment:
        """``POST /payments/{id}/resume``: go on after a required action (3DS) with its resume token."""
        body = {"resumeToken": resume_token}
        return self._post_payment(self._action_call(payment, "resume", body, idempotency_key))

    def adjust_authorization(
        self, payment: PaymentRef, amount: int, *, idempotency_key: str | None = None
    ) -> Payment:
        """``POST /payments/{id}/adjust-authorization``: a new authorized amount (``ESTIMATED`` only)."""
        body = {"amount": amount}
        return self._post_payment(self._action_call(payment, "adjust-authorization", body, idempotency_key))

    def authorize_payment(
        self, payment: PaymentRef, processor_merchant_id: str, *, processor_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> Payment:  # fmt: skip
        """``POST /payments/{id}/authorize``: authorize a ``PENDING`` payment with a processor account."""
        processor = {"processorMerchantId": processor_merchant_id}
        if processor_name is not None:
            processor["name"] = processor_name
        body = {"processor": processor}
        return self._post_payment(self._action_call(payment, "authorize", body, idempotency_key))

    # ------------------------------------------------------------------ the checkout's calls

    def _checkout_post(self, call: CheckoutCall) -> httpx.Response:
        return self._request(
            "POST", call.url, json_body=call.body, headers=call.headers, idempotent=True, checkout=True
        )

    def tokenize_card(
        self, client_token: SessionRef, card: CardLike = "success", *, cardholder_name: str | None = None
    ) -> PaymentInstrument:
        """Tokenize a card as Primer's checkout does: ``POST {pciUrl}/payment-instruments``.

        Parameters
        ----------
        client_token:
            The session's client token (or the session). The checkout's URL
            and access token are read from its claims; the API key is not sent.
        card:
            A test-card name (``"success"``, ``"decline"``, ``"failure"``,
            ``"3ds-challenge"``, ``"3ds-frictionless"``, ``"3ds-failure"``;
            :data:`~primer_nb.api.cards.TEST_CARD_NAMES`) or number, which gets
            CVV 123 and an expiry three years ahead on the client's clock; or a
            ``paymentInstrument`` dict (``number``, ``cvv``, ``expirationMonth``,
            ``expirationYear``…) or :class:`~primer_nb.api.payment.CardInstrument`.

        Returns the single-use token with the card's public data. The number
        and CVV are sent once and kept nowhere (not on the result, not in the
        ledger, not in logs).
        """
        call = self._tokenize_call(client_token, card, cardholder_name)
        return self._instrument(self._checkout_post(call), call)

    def complete_3ds_challenge(self, payment: PaymentRef, *, passed: bool = True) -> ThreeDSAuthResult:
        """The checkout's 3DS call for a challenged payment: ``POST {pciUrl}/3ds/{token}/auth``.

        For the local sandbox only: a real challenge happens in the shopper's
        browser with the card scheme's ACS; the sandbox answers as if the
        shopper passed (``passed=False``: as if they failed). Then call
        :meth:`resume_payment` with the result's ``resume_token``.
        """
        found = payment if isinstance(payment, Payment) else self.get_payment(payment)
        call = self._challenge_call(found, passed)
        return ThreeDSAuthResult.model_validate(self._json(self._checkout_post(call)))

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the HTTP connection pools."""
        self._http.close()
        if self._checkout_http is not None:
            self._checkout_http.close()

    def __enter__(self) -> PrimerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
