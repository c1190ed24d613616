"""What the sync and async clients share: :class:`BaseClient`, which does no I/O.

It holds the resolved configuration (base URL, key, environment), builds and
validates request bodies, decides on retries, parses answers into models,
maps errors and records sessions in the ledger. :class:`~primer_nb.client.PrimerClient`
and :class:`~primer_nb.client.AsyncPrimerClient` differ only in ``def``/``async def``
and in how they sleep.

Bodies may be camelCase dicts (as in Primer's docs) or the kit's models; they
are validated locally before anything is sent, so a mistake is reported with
its JSON path without a round trip.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from primer_nb.__about__ import __version__
from primer_nb.api.client_token import token_expiry
from primer_nb.api.curl import curl_command
from primer_nb.api.errors import (
    FieldError,
    PrimerAPIError,
    PrimerConfigError,
    PrimerConnectionError,
    PrimerError,
    PrimerTimeoutError,
    PrimerValidationError,
    error_from_response,
)
from primer_nb.api.masking import mask_key, mask_tokens_in_url
from primer_nb.api.protocol import API_KEY_HEADER, API_VERSION, API_VERSION_HEADER, CLIENT_SESSION_PATH
from primer_nb.api.session import ClientSession, ClientSessionRequest, ClientSessionUpdate
from primer_nb.api.validation import parse_request, parse_update
from primer_nb.client.ledger import Ledger
from primer_nb.client.logfilter import install_log_filter
from primer_nb.client.preflight import warn_preflight
from primer_nb.client.retry import RetryPolicy, retry_after
from primer_nb.config.settings import DEFAULT_TIMEOUT, ENVIRONMENTS, environment_for_url

__all__ = ["BaseClient", "BatchResult", "Body", "Changes", "SandboxLike"]

Body = Mapping[str, Any] | ClientSessionRequest
Changes = Mapping[str, Any] | ClientSessionUpdate

# A `primer-nb sandbox` started without --api-key takes any key.
_ANY_LOCAL_KEY = "local-sandbox"


class _Clock(Protocol):
    def now(self) -> datetime:
        """The current instant."""
        ...


class SandboxLike(Protocol):
    """What a client needs of a local sandbox it is given: where it is, its key, its clock."""

    base_url: str
    api_key: str

    @property
    def clock(self) -> _Clock:
        """The sandbox's clock."""
        ...


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


class BaseClient:
    """Everything the sync and async clients share; constructing one does no I/O.

    Parameters
    ----------
    api_key:
        Primer's secret key (or a local sandbox's key).
    base_url:
        The server; defaults to Primer's URL for ``environment``.
    environment:
        ``"local"``, ``"sandbox"`` or ``"production"``; by default worked out
        from ``base_url`` (loopback is local, Primer's hosts are theirs).
        ``"production"`` needs ``allow_production=True``.
    sandbox:
        A local sandbox (``LocalSandbox``, ``SandboxProcess``, ``SandboxHandle``)
        to talk to: its URL, key and clock are used, and ``client.sandbox`` returns it.
    timeout:
        Seconds per request (default 30, below Primer's 90 s limit).
    max_retries, retry:
        Retries after the first attempt; see :class:`~primer_nb.client.RetryPolicy`.
    transport:
        An httpx transport, e.g. ``httpx.MockTransport(handler)`` in tests.
    ledger:
        ``True`` (the default ledger, opened on first use), a :class:`Ledger`, or ``False``.
    preflight:
        Warn about create bodies Primer accepts but people regret.
    clock:
        What "now" is for expiries (default: the sandbox's clock, else this machine's).

    To build a client from ``PRIMER_API_KEY`` and friends, and start the local
    sandbox when there is no key, use :func:`primer_nb.connect`.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        environment: str | None = None,
        sandbox: SandboxLike | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        allow_production: bool = False,
        ledger: Ledger | bool = True,
        preflight: bool = True,
        clock: Callable[[], datetime] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if sandbox is not None:
            base_url = base_url or sandbox.base_url
            api_key = api_key or sandbox.api_key
            clock = clock or sandbox.clock.now
            environment = environment or "local"
        self._environment, self._base_url, self._api_key = _resolve(
            api_key, base_url, environment, allow_production
        )
        self._sandbox = sandbox
        self.timeout = timeout
        self.retry = retry or RetryPolicy(max_retries=max_retries)
        self.preflight = preflight
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._transport = transport
        self._ledger_option = ledger
        self._ledger: Ledger | None = ledger if isinstance(ledger, Ledger) else None
        self._expiries: dict[str, datetime] = {}
        install_log_filter()

    # ------------------------------------------------------------------ configuration

    @property
    def environment(self) -> str:
        """``local``, ``sandbox`` or ``production``."""
        return self._environment

    @property
    def base_url(self) -> str:
        """The API's base URL."""
        return self._base_url

    @property
    def sandbox(self) -> SandboxLike | None:
        """The local sandbox this client was given (its ``clock`` and ``faults``); ``None`` otherwise."""
        return self._sandbox

    @property
    def ledger(self) -> Ledger | None:
        """The session ledger this client records into (``None`` if disabled); opened on first use."""
        if self._ledger is None and self._ledger_option is True:
            self._ledger = Ledger()
        return self._ledger

    def _headers(self) -> dict[str, str]:
        return {
            API_KEY_HEADER: self._api_key,
            API_VERSION_HEADER: API_VERSION,
            "Accept": "application/json",
            "User-Agent": f"primer-nb/{__version__}",
        }

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(environment={self.environment!r}, base_url={self.base_url!r}, "
            f"api_key={mask_key(self._api_key)})"
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
        url = f"{self.base_url.rstrip('/')}{CLIENT_SESSION_PATH}"
        if method == "POST":
            return curl_command(method, url, body=parse_request(body or {}).to_wire())
        if method not in ("PATCH", "GET"):
            raise ValueError(f"method must be POST, GET or PATCH, not {method!r}")
        if not client_token:
            raise ValueError(f"a {method} needs client_token")
        if method == "PATCH":
            return curl_command(method, url, body=self._update_body(client_token, body or {}))
        return curl_command(method, url, query={"clientToken": client_token})

    # ------------------------------------------------------------------ responses

    def _error(self, response: httpx.Response) -> PrimerAPIError:
        try:
            payload: Any = response.json()
        except ValueError:
            payload = response.text
        return error_from_response(
            response.status_code, payload, method=response.request.method,
            url=mask_tokens_in_url(str(response.request.url)), retry_after=retry_after(response),
        )  # fmt: skip

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise PrimerAPIError(
                response.status_code,
                description=f"The server answered {response.status_code} with a body that is not JSON.",
                recovery_suggestion="Check that the base URL points at Primer's API.",
                method=response.request.method, url=mask_tokens_in_url(str(response.request.url)),
            ) from None  # fmt: skip

    def _session(self, response: httpx.Response, client_token: str | None = None) -> ClientSession:
        session = ClientSession.model_validate(self._json(response))
        token = session.client_token or client_token
        if token:
            session.client_token = token
            if session.expires_at is None:
                # GET and PATCH answers carry no expiry: use what we already know.
                session.client_token_expiration_date = self._expiries.get(token) or token_expiry(token)
            if session.expires_at is not None:
                self._expiries[token] = session.expires_at
        session.attach(base_url=self.base_url, clock=self.clock)
        ledger = self.ledger
        if ledger is not None:
            ledger.record(session, environment=self.environment, base_url=self.base_url)
        return session

    def sessions(self, environment: str | None = None, *, everywhere: bool = False) -> list[ClientSession]:
        """Sessions this kit created or updated, from the ledger (oldest first).

        By default those of this client's environment (and, for the local
        sandbox, of this very server); ``everywhere=True`` lists them all.
        """
        ledger = self.ledger
        if ledger is None:
            return []
        if everywhere:
            found = ledger.sessions()
        elif environment is not None:
            found = ledger.sessions(environment=environment)
        else:
            base = self.base_url if self.environment == "local" else None
            found = ledger.sessions(environment=self.environment, base_url=base)
        for session in found:
            session.attach(base_url=self.base_url, clock=self.clock)
        return found

    # ------------------------------------------------------------------ retries

    def _transport_error(self, exc: httpx.TransportError, request_url: str) -> PrimerConnectionError:
        where = mask_tokens_in_url(request_url)
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
                raise self._transport_error(failure, f"{self.base_url}{CLIENT_SESSION_PATH}") from failure
            return wait
        if response is None:
            raise TypeError("_wait_or_raise needs a response or a failure")
        wait = self.retry.delay(
            method, attempt, status=response.status_code, retry_after=retry_after(response)
        )
        if wait is None:
            raise self._error(response)
        return wait


def _resolve(
    api_key: str | None, base_url: str | None, environment: str | None, allow_production: bool
) -> tuple[str, str, str]:
    """(environment, base URL, key) from what the caller gave; raise :class:`PrimerConfigError`."""
    chosen = (environment or (environment_for_url(base_url) if base_url else None) or "").lower()
    if not chosen:
        if base_url is None:
            raise PrimerConfigError(
                "a client needs base_url= or environment= ('sandbox' or 'production'); "
                "primer_nb.connect() works both out from PRIMER_API_KEY, starting the local sandbox when "
                "there is no key"
            )
        chosen = "sandbox"  # another server in front of Primer's sandbox (a proxy)
    if chosen not in ENVIRONMENTS:
        raise PrimerConfigError(f"environment is {chosen!r}; use one of: {', '.join(ENVIRONMENTS)}.")
    if chosen == "production" and not allow_production:
        raise PrimerConfigError(
            "Refusing to use Primer's production API (https://api.primer.io): it moves real money. "
            "Pass allow_production=True (or set PRIMER_ALLOW_PRODUCTION=1 for connect()) if you mean it."
        )
    url = base_url or ENVIRONMENTS[chosen]
    if url is None:
        raise PrimerConfigError(
            "a local client needs the sandbox's base_url (or sandbox=); primer_nb.connect() starts one, "
            "as do LocalSandbox() and SandboxProcess()"
        )
    if chosen == "local":
        return chosen, url.rstrip("/"), api_key or _ANY_LOCAL_KEY
    if not api_key:
        raise PrimerConfigError(
            f"environment {chosen!r} needs an API key. Put PRIMER_API_KEY in the environment or a .env file "
            "(never in a notebook cell) and use primer_nb.connect(), or pass api_key=."
        )
    return chosen, url.rstrip("/"), api_key
