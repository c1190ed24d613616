"""The asynchronous client: :class:`AsyncPrimerClient`, with batch creates."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterable, Iterator
from typing import Any

import httpx

from primer_nb.api.errors import PrimerError
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
    BatchResult,
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

__all__ = ["AsyncPrimerClient"]


# httpcore's connection pool does work per request that grows with its number of
# connections (it checks every idle one), so concurrent requests are spread over
# several small pools instead of one large one.
_POOLS = 8
_MAX_CONNECTIONS = 96


class _PoolSet:
    """Several httpx clients sharing one client's requests: each request takes the least busy.

    Ties go to the first, so requests made one after another reuse one
    connection, and only concurrent ones spread out.
    """

    def __init__(self, clients: list[httpx.AsyncClient]) -> None:
        self.clients = clients
        self.busy = [0] * len(clients)

    @contextlib.contextmanager
    def lease(self) -> Iterator[httpx.AsyncClient]:
        """The least busy client, counted as busy until the block ends."""
        index = min(range(len(self.busy)), key=self.busy.__getitem__)
        self.busy[index] += 1
        try:
            yield self.clients[index]
        finally:
            self.busy[index] -= 1

    async def aclose(self) -> None:
        """Close every client's connections."""
        for client in self.clients:
            await client.aclose()


class AsyncPrimerClient(BaseClient):
    """The asynchronous twin of :class:`PrimerClient` (same parameters, awaitable methods)."""

    def __init__(self, api_key: str | None = None, **options: Any) -> None:
        super().__init__(api_key, **options)
        pools = 1 if self._transport is not None else _POOLS
        per_pool = _MAX_CONNECTIONS // pools
        self._pools = _PoolSet([
            httpx.AsyncClient(
                base_url=self.base_url, headers=self._headers(), timeout=self.timeout,
                transport=self._transport, verify=tls_context_for(self.base_url),  # type: ignore[arg-type]
                limits=httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool),
            )
            for _ in range(pools)
        ])  # fmt: skip
        self._checkout_http: httpx.AsyncClient | None = None

    def _checkout_client(self, url: str) -> httpx.AsyncClient:
        if self._checkout_http is None:
            self._checkout_http = httpx.AsyncClient(
                headers=self._checkout_headers(), timeout=self.timeout,
                transport=self._transport, verify=tls_context_for(url),  # type: ignore[arg-type]
            )  # fmt: skip
        return self._checkout_http

    async def _request(
        self, method: str, path: str = CLIENT_SESSION_PATH, *, json_body: Any = None, params: Any = None,
        headers: dict[str, str] | None = None, idempotent: bool = False, keyed: bool = False,
        checkout: bool = False,
    ) -> httpx.Response:  # fmt: skip
        attempt = 0
        while True:
            try:
                if checkout:
                    response = await self._checkout_client(path).request(
                        method, path, json=json_body, params=params, headers=headers
                    )
                else:
                    with self._pools.lease() as http:
                        response = await http.request(
                            method, path, json=json_body, params=params, headers=headers
                        )
            except httpx.TransportError as exc:
                wait = self._wait_or_raise(
                    method, attempt, failure=exc, idempotent=idempotent or keyed, url=path
                )
            else:
                if self._answered(response, attempt, keyed):
                    return response
                wait = self._wait_or_raise(method, attempt, response=response, idempotent=idempotent or keyed)
            attempt += 1
            await asyncio.sleep(wait)

    async def create_client_session(self, body: Body) -> ClientSession:
        """``POST /client-session``: create a session; return it with its token and warnings."""
        return self._session(await self._request("POST", json_body=self._create_body(body)))

    async def get_client_session(self, client_token: str) -> ClientSession:
        """``GET /client-session``: the session behind ``client_token``."""
        response = await self._request("GET", params={"clientToken": client_token})
        return self._session(response, client_token)

    async def update_client_session(self, client_token: str, changes: Changes) -> ClientSession:
        """``PATCH /client-session``: send only what changes (``None`` clears); return the whole session."""
        body = self._update_body(client_token, changes)
        return self._session(await self._request("PATCH", json_body=body), client_token)

    # ------------------------------------------------------------------ payments (see PrimerClient)

    async def _post_payment(self, call: PaymentCall) -> Payment:
        response = await self._request(
            "POST", call.path, json_body=call.body, headers=call.headers, keyed=True
        )
        replayed = self._replayed_payment(response)
        if replayed is not None:  # a retry met the first attempt's result: read it
            response = await self._request("GET", payment_path(replayed))
        return self._payment(response, call)

    async def create_payment(
        self, body: PaymentBody, *, idempotency_key: str | None = None, session: SessionRef | None = None
    ) -> Payment:
        """``POST /payments``: pay with a payment method token (see :meth:`PrimerClient.create_payment`)."""
        return await self._post_payment(self._create_payment_call(body, idempotency_key, session))

    async def get_payment(self, payment: PaymentRef, *, expand: bool = False) -> Payment:
        """``GET /payments/{id}``; ``expand=True`` adds each transaction's events."""
        params = {"expand": "transactions.events"} if expand else None
        return self._payment(await self._request("GET", payment_path(self._id(payment)), params=params))

    async def search_payments(self, **filters: Any) -> PaymentList:
        """``GET /payments``: one page of summaries (see :meth:`PrimerClient.search_payments`)."""
        params = self._search_params(filters)
        response = await self._request("GET", PAYMENTS_PATH, params=params)
        return PaymentList.model_validate(self._json(response))

    def iter_payments(self, **filters: Any) -> AsyncGenerator[PaymentSummary, None]:
        """Every summary ``GET /payments`` finds, page by page (see :meth:`PrimerClient.iter_payments`).

        A walk left before its end is finalized only when collected; wrap it in
        ``contextlib.aclosing`` to close it at once.

        >>> async for summary in client.iter_payments(order_id="o-1"):  # doctest: +SKIP
        ...     print(summary.id)
        """
        self._search_params(filters)
        return self._walk_pages(dict(filters))

    async def _walk_pages(self, first: dict[str, Any]) -> AsyncGenerator[PaymentSummary, None]:
        followed = {first["cursor"]} if first.get("cursor") else set()
        ids: set[str] = set()
        query: dict[str, Any] | None = first
        while query is not None:
            page = await self.search_payments(**query)
            for summary in self._unseen(page, ids):
                yield summary
            query = self._next_query(page, query, followed)

    async def capture_payment(
        self, payment: PaymentRef, amount: int | None = None, *, final: bool | None = None,
        metadata: dict[str, Any] | None = None, order: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Payment:  # fmt: skip
        """``POST /payments/{id}/capture``: capture ``amount`` (minor units), or everything left."""
        body = {"amount": amount, "final": final, "metadata": metadata, "order": order}
        return await self._post_payment(self._action_call(payment, "capture", body, idempotency_key))

    async def cancel_payment(
        self, payment: PaymentRef, *, reason: str | None = None, idempotency_key: str | None = None
    ) -> Payment:
        """``POST /payments/{id}/cancel``: void an authorized (or pending) payment."""
        return await self._post_payment(
            self._action_call(payment, "cancel", {"reason": reason}, idempotency_key)
        )

    async def refund_payment(
        self, payment: PaymentRef, amount: int | None = None, *, reason: str | None = None,
        order_id: str | None = None, transaction_event_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Payment:  # fmt: skip
        """``POST /payments/{id}/refund``: refund ``amount`` (minor units), or everything not yet refunded."""
        body = {"amount": amount, "reason": reason, "orderId": order_id}
        body["transactionEventId"] = transaction_event_id
        return await self._post_payment(self._action_call(payment, "refund", body, idempotency_key))

    async def resume_payment(
        self, payment: PaymentRef, resume_token: str, *, idempotency_key: str | None = None
    ) -> Payment:
        """``POST /payments/{id}/resume``: go on after a required action (3DS) with its resume token."""
        body = {"resumeToken": resume_token}
        return await self._post_payment(self._action_call(payment, "resume", body, idempotency_key))

    async def adjust_authorization(
        self, payment: PaymentRef, amount: int, *, idempotency_key: str | None = None
    ) -> Payment:
        """``POST /payments/{id}/adjust-authorization``: a new authorized amount (``ESTIMATED`` only)."""
        body = {"amount": amount}
        return await self._post_payment(
            self._action_call(payment, "adjust-authorization", body, idempotency_key)
        )

    async def authorize_payment(
        self, payment: PaymentRef, processor_merchant_id: str, *, processor_name: str | None = None,
        idempotency_key: str | None = None,
    ) -> Payment:  # fmt: skip
        """``POST /payments/{id}/authorize``: authorize a ``PENDING`` payment with a processor account."""
        processor = {"processorMerchantId": processor_merchant_id}
        if processor_name is not None:
            processor["name"] = processor_name
        body = {"processor": processor}
        return await self._post_payment(self._action_call(payment, "authorize", body, idempotency_key))

    async def _checkout_post(self, call: CheckoutCall) -> httpx.Response:
        return await self._request(
            "POST", call.url, json_body=call.body, headers=call.headers, idempotent=True, checkout=True
        )

    async def tokenize_card(
        self, client_token: SessionRef, card: CardLike = "success", *, cardholder_name: str | None = None
    ) -> PaymentInstrument:
        """Tokenize a card as the checkout does (see :meth:`PrimerClient.tokenize_card`)."""
        call = self._tokenize_call(client_token, card, cardholder_name)
        return self._instrument(await self._checkout_post(call), call)

    async def complete_3ds_challenge(self, payment: PaymentRef, *, passed: bool = True) -> ThreeDSAuthResult:
        """The sandbox's 3DS challenge, answered (see :meth:`PrimerClient.complete_3ds_challenge`)."""
        found = payment if isinstance(payment, Payment) else await self.get_payment(payment)
        call = self._challenge_call(found, passed)
        return ThreeDSAuthResult.model_validate(self._json(await self._checkout_post(call)))

    async def create_many(
        self, bodies: Iterable[Body], concurrency: int = 32, progress: bool = True
    ) -> list[BatchResult]:
        """Create many sessions with at most ``concurrency`` requests in flight.

        Returns one :class:`BatchResult` per body, in input order; a failure
        (local validation, API error, network) is recorded in its result and
        never stops the others. ``progress`` shows a ``tqdm`` bar.
        """
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        items = list(bodies)
        gate = asyncio.Semaphore(concurrency)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(items), desc="creating sessions", unit="session")

        async def one(index: int, body: Body) -> BatchResult:
            async with gate:
                try:
                    session = await self.create_client_session(body)
                    result = BatchResult(index, session=session)
                except PrimerError as exc:
                    result = BatchResult(index, error=exc)
            if bar is not None:
                bar.update(1)
            return result

        try:
            return list(await asyncio.gather(*(one(i, body) for i, body in enumerate(items))))
        finally:
            if bar is not None:
                bar.close()

    async def aclose(self) -> None:
        """Close the HTTP connection pools."""
        await self._pools.aclose()
        if self._checkout_http is not None:
            await self._checkout_http.aclose()

    async def __aenter__(self) -> AsyncPrimerClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
