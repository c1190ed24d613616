"""The asynchronous client: :class:`AsyncPrimerClient`, with batch creates."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from primer_nb.api.errors import PrimerError
from primer_nb.api.protocol import CLIENT_SESSION_PATH
from primer_nb.api.session import ClientSession
from primer_nb.client.base import BaseClient, BatchResult, Body, Changes
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

    async def _request(self, method: str, *, json_body: Any = None, params: Any = None) -> httpx.Response:
        attempt = 0
        while True:
            try:
                with self._pools.lease() as http:
                    response = await http.request(method, CLIENT_SESSION_PATH, json=json_body, params=params)
            except httpx.TransportError as exc:
                wait = self._wait_or_raise(method, attempt, failure=exc)
            else:
                if response.status_code < 400:
                    return response
                wait = self._wait_or_raise(method, attempt, response=response)
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

    async def __aenter__(self) -> AsyncPrimerClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
