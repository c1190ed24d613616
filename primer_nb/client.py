"""Typed clients for the Client Session API: :class:`PrimerClient` and :class:`AsyncPrimerClient`.

Both are thin twins over :class:`_BaseClient`, which holds everything that
does no I/O: configuration, request bodies and their validation, the retry
policy, response parsing, error mapping and the ledger. The twins differ only
in ``def``/``async def`` and in how they sleep.

Bodies may be camelCase dicts (as in Primer's docs) or the kit's models; they
are validated locally before anything is sent, so a mistake is reported with
its JSON path without a round trip.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
import re
import shlex
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx

from primer_nb.__about__ import __version__
from primer_nb.config import DEFAULT_TIMEOUT, Settings, resolve_settings
from primer_nb.errors import (
    FieldError,
    PrimerAPIError,
    PrimerConnectionError,
    PrimerError,
    PrimerTimeoutError,
    PrimerValidationError,
    error_from_response,
)
from primer_nb.ledger import Ledger
from primer_nb.masking import mask_key, mask_token
from primer_nb.models import ClientSession, ClientSessionRequest, ClientSessionUpdate
from primer_nb.preflight import warn_preflight
from primer_nb.tls import tls_context_for
from primer_nb.validation import parse_request, parse_update

if TYPE_CHECKING:
    from primer_nb.connection import Sandbox
    from primer_nb.sandbox.process import SandboxHandle

__all__ = ["API_VERSION", "AsyncPrimerClient", "BatchResult", "PrimerClient", "RetryPolicy"]

API_VERSION = "2.4"
_PATH = "/client-session"
_TOKEN_IN_URL = re.compile(r"(clientToken=)([^&\s\"']+)")

Body = Mapping[str, Any] | ClientSessionRequest
Changes = Mapping[str, Any] | ClientSessionUpdate


def _mask_url(url: str) -> str:
    return _TOKEN_IN_URL.sub(lambda m: m.group(1) + str(mask_token(m.group(2))), url)


class _MaskTokensInHttpxLog(logging.Filter):
    """httpx logs each request URL at INFO; GET URLs carry the client token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                _mask_url(str(a)) if isinstance(a, str | httpx.URL) else a for a in record.args
            )
        return True


_log_filter_installed = threading.Lock()


def _install_log_filter() -> None:
    with _log_filter_installed:
        logger = logging.getLogger("httpx")
        if not any(isinstance(f, _MaskTokensInHttpxLog) for f in logger.filters):
            logger.addFilter(_MaskTokensInHttpxLog())


def _token_expiry(token: str) -> datetime | None:
    # Primer's tokens are JWTs whose payload carries `exp`; reading it needs no key.
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a request again.

    Retries follow exponential backoff with full jitter (``base × 2^attempt``,
    at most ``cap`` seconds), or the server's ``Retry-After`` when it sends one.

    What is retried, and why creates are treated differently:

    - ``GET`` and ``PATCH`` are safe to repeat (a PATCH sets fields to values;
      sending it twice gives the same session), so they are retried on 429,
      502, 503, 504 and on any connection failure or timeout.
    - ``POST /client-session`` is not idempotent and Primer offers no
      idempotency key for it: a retry after the request reached Primer would
      create a second session with a second token. It is retried only when the
      server said it did not process it (429, 503) or the connection failed
      before the request was sent (connect errors and connect timeouts). A 502,
      a 504 or a read timeout after sending raises instead: the caller decides,
      knowing a session may exist.
    """

    max_retries: int = 3
    base: float = 0.25
    cap: float = 8.0
    max_retry_after: float = 60.0

    RETRY_STATUSES = frozenset({429, 502, 503, 504})
    CREATE_RETRY_STATUSES = frozenset({429, 503})

    def delay(
        self, method: str, attempt: int, *, status: int | None = None, retry_after: float | None = None,
        sent: bool = True, rng: Callable[[], float] = random.random,
    ) -> float | None:  # fmt: skip
        """Seconds to wait before attempt ``attempt + 1``, or ``None`` to give up."""
        if attempt >= self.max_retries:
            return None
        create = method.upper() == "POST"
        if status is not None:
            allowed = self.CREATE_RETRY_STATUSES if create else self.RETRY_STATUSES
            if status not in allowed:
                return None
        elif create and sent:
            return None
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return rng() * min(self.cap, self.base * 2**attempt)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            return (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class BatchResult:
    """One item of :meth:`AsyncPrimerClient.create_many`: the session, or the error."""

    index: int
    session: ClientSession | None = None
    error: PrimerError | None = None

    @property
    def ok(self) -> bool:
        """Whether this item's create succeeded."""
        return self.session is not None


class _BaseClient:
    """Everything the sync and async clients share; no I/O happens here."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        environment: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        allow_production: bool | None = None,
        ledger: Ledger | bool = True,
        preflight: bool = True,
        clock: Callable[[], datetime] | None = None,
        use_dotenv: bool = True,
        retry: RetryPolicy | None = None,
    ) -> None:
        settings = resolve_settings(
            api_key, environment=environment, base_url=base_url, allow_production=allow_production,
            use_dotenv=use_dotenv,
        )  # fmt: skip
        self._sandbox: Sandbox | None = None
        self._own_handle: SandboxHandle | None = None  # a handle this client made, and closes
        if settings.environment == "local" and settings.base_url is None:
            from primer_nb.connection import shared_sandbox

            sandbox = self._sandbox = shared_sandbox()
            settings = Settings("local", sandbox.base_url, sandbox.api_key, settings.allow_production)
            clock = clock or sandbox.clock.now
        if settings.environment == "local" and not settings.api_key:
            # A `primer-nb sandbox` server started without --api-key takes any key.
            settings = Settings("local", settings.base_url, "local-sandbox", settings.allow_production)
        self._settings = settings
        self.timeout = timeout
        self.retry = retry or RetryPolicy(max_retries=max_retries)
        self.preflight = preflight
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._transport = transport
        self._ledger = Ledger() if ledger is True else (ledger or None)
        self._expiries: dict[str, datetime] = {}
        _install_log_filter()

    # ------------------------------------------------------------------ configuration

    @property
    def environment(self) -> str:
        """``local``, ``sandbox`` or ``production``."""
        return self._settings.environment

    @property
    def base_url(self) -> str:
        """The API's base URL."""
        return str(self._settings.base_url)

    @property
    def sandbox(self) -> Sandbox | None:
        """The local sandbox this client talks to (its ``clock`` and ``faults``); ``None`` for Primer."""
        if self._sandbox is None and self.environment == "local":
            from primer_nb.sandbox.process import SandboxHandle

            self._sandbox = self._own_handle = SandboxHandle(self.base_url, str(self._settings.api_key))
        return self._sandbox

    def _close_own_handle(self) -> None:
        if self._own_handle is not None:
            self._own_handle.close()

    @property
    def ledger(self) -> Ledger | None:
        """The session ledger this client records into (``None`` if disabled)."""
        return self._ledger

    def _headers(self) -> dict[str, str]:
        return {
            "X-Api-Key": str(self._settings.api_key),
            "X-Api-Version": API_VERSION,
            "Accept": "application/json",
            "User-Agent": f"primer-nb/{__version__}",
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(environment={self.environment!r}, base_url={self.base_url!r}, "
            f"api_key={mask_key(self._settings.api_key)})"
        )

    # ------------------------------------------------------------------ bodies

    def _create_body(self, body: Body) -> dict[str, Any]:
        request = parse_request(body)
        if self.preflight:
            warn_preflight(request, stacklevel=4)
        return request.to_wire()

    @staticmethod
    def _update_body(client_token: str, changes: Changes) -> dict[str, Any]:
        data = changes.to_wire() if isinstance(changes, ClientSessionUpdate) else dict(changes)
        if data.get("clientToken", client_token) != client_token:
            raise PrimerValidationError(
                [FieldError("$.clientToken", "differs from the client_token argument; pass one token")],
                model="ClientSessionUpdateAPIRequest",
            )
        data["clientToken"] = client_token
        return parse_update(data).to_wire()

    def to_curl(
        self, body: Body | None = None, *, method: str = "POST", client_token: str | None = None
    ) -> str:
        """A runnable curl command for a call; the key is read from ``$PRIMER_API_KEY``.

        ``method="POST"`` with ``body`` for a create, ``"GET"`` with
        ``client_token`` for a retrieve, ``"PATCH"`` with ``client_token`` and
        ``body`` (the changes) for an update.
        """
        method = method.upper()
        url = f"{self.base_url.rstrip('/')}{_PATH}"
        payload: dict[str, Any] | None = None
        if method == "POST":
            payload = parse_request(body or {}).to_wire()
        elif method == "PATCH":
            if not client_token:
                raise ValueError("a PATCH needs client_token")
            payload = self._update_body(client_token, body or {})
        elif method == "GET":
            if not client_token:
                raise ValueError("a GET needs client_token")
            url += "?" + str(httpx.QueryParams({"clientToken": client_token}))
        else:
            raise ValueError(f"method must be POST, GET or PATCH, not {method!r}")
        parts = [
            f"curl -X {method} {shlex.quote(url)}",
            '-H "X-Api-Key: $PRIMER_API_KEY"',
            f"-H 'X-Api-Version: {API_VERSION}'",
        ]
        if payload is not None:
            parts.append("-H 'Content-Type: application/json'")
            parts.append(f"-d {shlex.quote(json.dumps(payload, ensure_ascii=False))}")
        return " \\\n  ".join(parts)

    # ------------------------------------------------------------------ responses

    def _error(self, response: httpx.Response) -> PrimerAPIError:
        try:
            payload: Any = response.json()
        except ValueError:
            payload = response.text
        return error_from_response(
            response.status_code, payload, method=response.request.method,
            url=_mask_url(str(response.request.url)), retry_after=_retry_after(response),
        )  # fmt: skip

    def _session(self, response: httpx.Response, client_token: str | None = None) -> ClientSession:
        try:
            data = response.json()
        except ValueError:
            raise PrimerAPIError(
                response.status_code,
                description=f"The server answered {response.status_code} with a body that is not JSON.",
                recovery_suggestion="Check that the base URL points at the Client Session API.",
                method=response.request.method, url=_mask_url(str(response.request.url)),
            ) from None  # fmt: skip
        session = ClientSession.model_validate(data)
        token = session.client_token or client_token
        if token:
            session.client_token = token
            if session.expires_at is None:
                # GET and PATCH answers carry no expiry: use what we already know.
                session.client_token_expiration_date = self._expiries.get(token) or _token_expiry(token)
            if session.expires_at is not None:
                self._expiries[token] = session.expires_at
        session.attach(base_url=self.base_url, clock=self.clock)
        if self._ledger is not None:
            self._ledger.record(session, environment=self.environment, base_url=self.base_url)
        return session

    def sessions(self, environment: str | None = None, *, everywhere: bool = False) -> list[ClientSession]:
        """Sessions this kit created or updated, from the ledger (oldest first).

        By default those of this client's environment (and, for the local
        sandbox, of this very server); ``everywhere=True`` lists them all.
        """
        if self._ledger is None:
            return []
        if everywhere:
            found = self._ledger.sessions()
        elif environment is not None:
            found = self._ledger.sessions(environment=environment)
        else:
            base = self.base_url if self.environment == "local" else None
            found = self._ledger.sessions(environment=self.environment, base_url=base)
        for session in found:
            session.attach(base_url=self.base_url, clock=self.clock)
        return found

    def _transport_error(self, exc: httpx.TransportError, request_url: str) -> PrimerConnectionError:
        where = _mask_url(request_url)
        if isinstance(exc, httpx.TimeoutException):
            return PrimerTimeoutError(
                f"{type(exc).__name__} after {self.timeout:g} s calling {where}; "
                "raise timeout= or check the network"
            )
        return PrimerConnectionError(f"could not reach {where}: {type(exc).__name__}: {exc}")

    def _wait_or_raise(
        self, method: str, attempt: int, *, response: httpx.Response | None = None,
        failure: httpx.TransportError | None = None,
    ) -> float:  # fmt: skip
        """Seconds to wait before the next attempt, or raise the error this attempt ends with."""
        if failure is not None:
            sent = not isinstance(failure, httpx.ConnectError | httpx.ConnectTimeout)
            wait = self.retry.delay(method, attempt, sent=sent)
            if wait is None:
                raise self._transport_error(failure, f"{self.base_url}{_PATH}") from failure
            return wait
        if response is None:
            raise TypeError("_wait_or_raise needs a response or a failure")
        wait = self.retry.delay(
            method, attempt, status=response.status_code, retry_after=_retry_after(response)
        )
        if wait is None:
            raise self._error(response)
        return wait


class PrimerClient(_BaseClient):
    """A synchronous client for the Client Session API.

    >>> client = PrimerClient()          # doctest: +SKIP
    >>> session = client.create_client_session({"orderId": "o-1", "currencyCode": "GBP"})  # doctest: +SKIP

    Parameters
    ----------
    api_key:
        Primer's secret key; by default ``PRIMER_API_KEY`` from the environment
        or ``.env``. Without one the client talks to the embedded local sandbox.
    environment:
        ``"local"``, ``"sandbox"`` or ``"production"`` (the last needs
        ``allow_production=True`` or ``PRIMER_ALLOW_PRODUCTION=1``).
    base_url:
        Another server, e.g. a ``primer-nb sandbox`` on this machine.
    timeout:
        Seconds per request (default 30, below Primer's 90 s limit).
    max_retries:
        Retries after the first attempt; see :class:`RetryPolicy` for which calls retry.
    transport:
        An httpx transport, e.g. ``httpx.MockTransport(handler)`` in tests.
    """

    def __init__(self, api_key: str | None = None, **options: Any) -> None:
        super().__init__(api_key, **options)
        self._http = httpx.Client(
            base_url=self.base_url, headers=self._headers(), timeout=self.timeout,
            transport=self._transport, verify=tls_context_for(self.base_url),  # type: ignore[arg-type]
        )  # fmt: skip

    def _request(self, method: str, *, json_body: Any = None, params: Any = None) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._http.request(method, _PATH, json=json_body, params=params)
            except httpx.TransportError as exc:
                wait = self._wait_or_raise(method, attempt, failure=exc)
            else:
                if response.status_code < 400:
                    return response
                wait = self._wait_or_raise(method, attempt, response=response)
            attempt += 1
            time.sleep(wait)

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

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()
        self._close_own_handle()

    def __enter__(self) -> PrimerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# httpcore's connection pool does work per request that grows with its number of
# connections (it checks every idle one), so 32 requests in flight over one pool
# ran at 245/s against a local sandbox, and over eight pools of four at 616/s.
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


class AsyncPrimerClient(_BaseClient):
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
                    response = await http.request(method, _PATH, json=json_body, params=params)
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
        self._close_own_handle()

    async def __aenter__(self) -> AsyncPrimerClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
