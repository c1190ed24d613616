"""What the sync and async clients share: :class:`BaseClient`, which does no I/O.

It holds the resolved configuration (base URL, key, environment), builds and
validates request bodies (sessions, payments, the checkout's card
tokenization), decides on retries, parses answers into models, maps errors
and records sessions and payments in the ledger.
:class:`~primer_nb.client.PrimerClient` and :class:`~primer_nb.client.AsyncPrimerClient`
differ only in ``def``/``async def`` and in how they sleep.

Bodies may be camelCase dicts (as in Primer's docs) or the kit's models; they
are validated locally before anything is sent, so a mistake is reported with
its JSON path without a round trip.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from primer_nb.__about__ import __version__
from primer_nb.api.cards import card_instrument
from primer_nb.api.client_token import read_claims, token_expiry
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
from primer_nb.api.payment import (
    PAYMENT_BODIES,
    CardInstrument,
    Payment,
    PaymentCreateRequest,
    PaymentInstrument,
    PaymentList,
    PaymentSearch,
    PaymentSummary,
    TokenizeRequest,
)
from primer_nb.api.payment_rules import provenance
from primer_nb.api.protocol import (
    API_KEY_HEADER,
    API_VERSION,
    API_VERSION_HEADER,
    CHECKOUT_TOKEN_HEADER,
    CLIENT_SESSION_PATH,
    IDEMPOTENCY_KEY_HEADER,
    PAYMENT_INSTRUMENTS_PATH,
    PAYMENTS_PATH,
    payment_path,
    three_ds_auth_path,
)
from primer_nb.api.session import ClientSession, ClientSessionRequest, ClientSessionUpdate
from primer_nb.api.validation import parse_model, parse_request, parse_update
from primer_nb.client.ledger import Ledger
from primer_nb.client.logfilter import install_log_filter
from primer_nb.client.preflight import warn_preflight
from primer_nb.client.retry import RetryPolicy, retry_after
from primer_nb.config.settings import DEFAULT_TIMEOUT, ENVIRONMENTS, LOCAL_SANDBOX_KEY, environment_for_url

__all__ = [
    "BaseClient",
    "BatchResult",
    "Body",
    "CardLike",
    "Changes",
    "CheckoutCall",
    "PaymentBody",
    "PaymentCall",
    "PaymentRef",
    "SandboxLike",
    "SessionRef",
]

Body = Mapping[str, Any] | ClientSessionRequest
Changes = Mapping[str, Any] | ClientSessionUpdate
PaymentBody = Mapping[str, Any] | PaymentCreateRequest
PaymentRef = str | Payment
"""A payment id, or a payment (its ``id`` is used)."""
SessionRef = str | ClientSession
"""A client token, or a session that carries one."""
CardLike = str | Mapping[str, Any] | CardInstrument
"""A card: a test-card name (``"success"``) or number, a ``paymentInstrument`` dict, or a model."""

_RECENT_SESSIONS = 256
"""Session bodies kept in memory to tell inherited payment fields from overridden ones without a ledger."""


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


@dataclass(frozen=True)
class PaymentCall:
    """A Payments API ``POST``, validated and ready to send, with its idempotency key.

    The key is fixed when the call is built and sent unchanged on every
    retry. A create also carries what provenance needs: the request's
    overrides and the session's data at payment time, when known.
    """

    path: str
    body: dict[str, Any]
    idempotency_key: str
    overrides: dict[str, Any] | None = None
    client_token: str | None = field(default=None, repr=False)
    session: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def headers(self) -> dict[str, str]:
        """The headers this call adds to the client's."""
        return {IDEMPOTENCY_KEY_HEADER: self.idempotency_key}


@dataclass(frozen=True)
class CheckoutCall:
    """A call of the checkout's own API: a full URL under ``pciUrl``, the client token's header, a body."""

    url: str
    body: dict[str, Any]
    headers: dict[str, str] = field(repr=False)
    client_token: str | None = field(default=None, repr=False)


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
        self._recent_sessions: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._instrument_sessions: dict[str, str] = {}
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
        return {API_KEY_HEADER: self._api_key, **self._checkout_headers()}

    @staticmethod
    def _checkout_headers() -> dict[str, str]:
        """Headers of the checkout's calls: never the API key (a checkout does not have it)."""
        return {
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
        self, body: Body | Changes | None = None, *, method: str = "POST", client_token: str | None = None
    ) -> str:
        """A runnable curl command for a call; the key is read from ``$PRIMER_API_KEY``.

        ``method="POST"`` with ``body`` for a create, ``"GET"`` with
        ``client_token`` for a retrieve, ``"PATCH"`` with ``client_token`` and
        ``body`` (the changes) for an update. ``body`` is a camelCase dict or
        either request model.
        """
        method = method.upper()
        url = f"{self.base_url.rstrip('/')}{CLIENT_SESSION_PATH}"
        wire = body.to_wire() if isinstance(body, ClientSessionRequest | ClientSessionUpdate) else body
        if method == "POST":
            return curl_command(method, url, body=parse_request(wire or {}).to_wire())
        if method not in ("PATCH", "GET"):
            raise ValueError(f"method must be POST, GET or PATCH, not {method!r}")
        if not client_token:
            raise ValueError(f"a {method} needs client_token")
        if method == "PATCH":
            return curl_command(method, url, body=self._update_body(client_token, wire or {}))
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
        if session.client_token:
            self._remember_session(session.client_token, session.raw)
        ledger = self.ledger
        if ledger is not None:
            ledger.record(session, environment=self.environment, base_url=self.base_url)
        return session

    def _remember_session(self, client_token: str, body: dict[str, Any]) -> None:
        recent = self._recent_sessions
        recent[client_token] = body
        recent.move_to_end(client_token)
        while len(recent) > _RECENT_SESSIONS:
            recent.popitem(last=False)

    def _session_data(self, session: SessionRef | None, client_token: str | None) -> Mapping[str, Any] | None:
        """The session's data as last seen: the given session, else this client's memory, else the ledger."""
        if isinstance(session, ClientSession):
            return session.raw or session.model_dump(mode="json", by_alias=True, exclude_none=True)
        if not client_token:
            return None
        if client_token in self._recent_sessions:
            return self._recent_sessions[client_token]
        ledger = self.ledger
        return ledger.session_body(client_token) if ledger is not None else None

    def sessions(self, environment: str | None = None, *, everywhere: bool = False) -> list[ClientSession]:
        """Sessions this kit created or updated, from the ledger (oldest first).

        By default those of this client's environment (and, for the local
        sandbox, of this very server); ``everywhere=True`` lists them all.
        """
        ledger = self.ledger
        if ledger is None:
            return []
        found = ledger.sessions(**self._ledger_scope(environment, everywhere))
        for session in found:
            session.attach(base_url=self.base_url, clock=self.clock)
        return found

    # ------------------------------------------------------------------ payments

    def _create_payment_call(
        self, body: PaymentBody, idempotency_key: str | None, session: SessionRef | None
    ) -> PaymentCall:
        request = parse_model(PaymentCreateRequest, body, "PaymentCreationAPIRequest")
        client_token = _client_token_of(session) or self._instrument_sessions.get(
            request.payment_method_token
        )
        return PaymentCall(
            PAYMENTS_PATH, request.to_wire(), _idempotency_key(idempotency_key),
            overrides=request.overrides(), client_token=client_token,
            session=self._session_data(session, client_token),
        )  # fmt: skip

    @staticmethod
    def _action_call(
        payment: PaymentRef, action: str, body: Mapping[str, Any], idempotency_key: str | None
    ) -> PaymentCall:
        model, name = PAYMENT_BODIES[action]
        request = parse_model(model, {k: v for k, v in body.items() if v is not None}, name)
        return PaymentCall(
            payment_path(_payment_id(payment), action), request.to_wire(), _idempotency_key(idempotency_key)
        )

    @staticmethod
    def _id(payment: PaymentRef) -> str:
        return _payment_id(payment)

    @staticmethod
    def _search_params(filters: Mapping[str, Any]) -> list[tuple[str, str]]:
        """The query of ``GET /payments`` from filters named as the spec names them (``order_id=…``)."""
        search = parse_model(
            PaymentSearch, {k: v for k, v in filters.items() if v is not None}, "PaymentSearchQuery"
        )
        params: list[tuple[str, str]] = []
        for name in PaymentSearch.model_fields:
            if name not in search.model_fields_set:
                continue
            value = getattr(search, name)
            if isinstance(value, list):
                params.append((name, ",".join(str(item) for item in value)))
            elif isinstance(value, datetime):
                params.append((name, value.isoformat()))
            else:
                params.append((name, str(value)))
        return params

    @staticmethod
    def _next_query(page: PaymentList, query: Mapping[str, Any], followed: set[str]) -> dict[str, Any] | None:
        """The filters of the page after ``page``, or ``None`` when ``page`` was the last.

        ``followed`` holds the cursors already asked for (the caller's own first
        one included). A page without data, or a cursor already followed, also
        ends the walk, so a server that answers the same cursor again cannot
        loop it forever.
        """
        cursor = page.next_cursor
        if not cursor or not page.data or cursor in followed:
            return None
        followed.add(cursor)
        return {**query, "cursor": cursor}

    @staticmethod
    def _unseen(page: PaymentList, ids: set[str]) -> list[PaymentSummary]:
        """The summaries of ``page`` not yielded before (pages can shift while new payments arrive)."""
        fresh = [summary for summary in page.data if summary.id not in ids]
        ids.update(summary.id for summary in fresh)
        return fresh

    def _replayed_payment(self, response: httpx.Response) -> str | None:
        """For an answer a keyed request's retry accepted: ``None`` if it succeeded, else the payment id
        the replay refusal names (raise that refusal when it names none)."""
        if response.status_code < 400:
            return None
        try:
            payment_id = response.json()["error"]["paymentId"]
        except (ValueError, KeyError, TypeError):
            payment_id = None
        if not payment_id:
            raise self._error(response)
        return str(payment_id)

    @staticmethod
    def _is_replay(response: httpx.Response) -> bool:
        """Whether an error answer refuses an idempotency key as already processed."""
        if response.status_code not in (400, 409):
            return False
        try:
            error_id = response.json()["error"]["errorId"]
        except (ValueError, KeyError, TypeError):
            return False
        return isinstance(error_id, str) and error_id.endswith("IdempotencyKeyAlreadyExists")

    def _payment(self, response: httpx.Response, call: PaymentCall | None = None) -> Payment:
        """Parse a payment answer; work out provenance for a create; record it in the ledger."""
        data = self._json(response)
        payment = Payment.model_validate(data)
        created = call is not None and call.overrides is not None
        found = provenance(call.overrides or {}, call.session, data) if created and call else None
        client_token = call.client_token if call is not None else None
        if created and call is not None and call.client_token:
            self._instrument_sessions.pop(str(call.body.get("paymentMethodToken")), None)
        ledger = self.ledger
        if ledger is None:
            return payment.attach(provenance=found, client_token=client_token)
        kept = ledger.record_payment(
            data, environment=self.environment, base_url=self.base_url, client_token=client_token,
            provenance=found, created=created,
        )  # fmt: skip
        return payment.attach(
            provenance=kept.provenance, history=kept.history, client_token=kept.client_token
        )

    def payments(self, environment: str | None = None, *, everywhere: bool = False) -> list[Payment]:
        """Payments this kit created or saw, from the ledger (oldest first), with provenance and history.

        By default those of this client's environment (and, for the local
        sandbox, of this very server); ``everywhere=True`` lists them all.
        """
        ledger = self.ledger
        if ledger is None:
            return []
        return ledger.payments(**self._ledger_scope(environment, everywhere))

    def _ledger_scope(self, environment: str | None, everywhere: bool) -> dict[str, str | None]:
        """Which ledger rows a listing means: all, one environment's, or this server's."""
        if everywhere:
            return {}
        if environment is not None:
            return {"environment": environment}
        return {
            "environment": self.environment,
            "base_url": self.base_url if self.environment == "local" else None,
        }

    # ------------------------------------------------------------------ the checkout's calls

    def _tokenize_call(
        self, client_token: SessionRef, card: CardLike, cardholder_name: str | None
    ) -> CheckoutCall:
        token = _client_token_of(client_token)
        pci_url, access_token = _checkout_claims(token, "tokenize a card")
        if isinstance(card, str):
            instrument: Any = card_instrument(card, self.clock().date(), cardholder_name)
        elif isinstance(card, CardInstrument):
            instrument = card.model_dump(by_alias=True, exclude_unset=True)
        elif isinstance(card, Mapping):
            instrument = dict(card)
            if cardholder_name:
                instrument["cardholderName"] = cardholder_name
        else:
            raise TypeError(
                "card must be a test-card name or number, a dict or a CardInstrument, "
                f"not {type(card).__name__}"
            )
        request = parse_model(TokenizeRequest, {"paymentInstrument": instrument}, "TokenizeRequest")
        return CheckoutCall(
            f"{pci_url.rstrip('/')}{PAYMENT_INSTRUMENTS_PATH}", request.to_wire(),
            {CHECKOUT_TOKEN_HEADER: access_token}, client_token=token,
        )  # fmt: skip

    def _instrument(self, response: httpx.Response, call: CheckoutCall) -> PaymentInstrument:
        instrument = PaymentInstrument.model_validate(self._json(response))
        if call.client_token:
            self._instrument_sessions[instrument.token] = call.client_token
        return instrument

    def _challenge_call(self, payment: Payment, passed: bool) -> CheckoutCall:
        if self.environment != "local":
            raise PrimerConfigError(
                "complete_3ds_challenge() answers the local sandbox's emulated challenge; on Primer's API "
                "the shopper completes 3DS in the checkout (the card scheme's ACS), then resume_payment() "
                "goes on"
            )
        action = payment.required_action
        method = payment.payment_method
        token = method.payment_method_token if method is not None else None
        if action is None or action.name != "3DS_AUTHENTICATION" or not action.client_token or not token:
            raise PrimerValidationError(
                [FieldError("$.requiredAction", f"payment {payment.id} ({payment.status}) waits for no 3DS "
                            "challenge; only a PENDING payment with requiredAction 3DS_AUTHENTICATION does")],
                model="Payment",
            )  # fmt: skip
        pci_url, access_token = _checkout_claims(action.client_token, "complete a 3DS challenge")
        body = {} if passed else {"challengeResult": "AUTH_FAILED"}
        return CheckoutCall(
            f"{pci_url.rstrip('/')}{three_ds_auth_path(token)}", body, {CHECKOUT_TOKEN_HEADER: access_token}
        )

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
        failure: httpx.TransportError | None = None, idempotent: bool = False, url: str | None = None,
    ) -> float:  # fmt: skip
        """Seconds to wait before the next attempt, or raise the error this attempt ends with."""
        if failure is not None:
            sent = not isinstance(failure, httpx.ConnectError | httpx.ConnectTimeout)
            wait = self.retry.delay(method, attempt, sent=sent, idempotent=idempotent)
            if wait is None:
                where = url or CLIENT_SESSION_PATH
                if where.startswith("/"):
                    where = f"{self.base_url}{where}"
                raise self._transport_error(failure, where) from failure
            return wait
        if response is None:
            raise TypeError("_wait_or_raise needs a response or a failure")
        wait = self.retry.delay(
            method, attempt, status=response.status_code, retry_after=retry_after(response),
            idempotent=idempotent,
        )  # fmt: skip
        if wait is None:
            raise self._error(response)
        return wait

    def _answered(self, response: httpx.Response, attempt: int, keyed: bool) -> bool:
        """Whether an attempt's answer ends the request: a success, or (after a retry of a keyed
        POST) the refusal of the key as already used, which means an earlier attempt got through."""
        return response.status_code < 400 or (keyed and attempt > 0 and self._is_replay(response))


def _idempotency_key(key: str | None) -> str:
    if key is None:
        return str(uuid.uuid4())
    if not isinstance(key, str) or not key.strip():
        raise PrimerValidationError(
            [
                FieldError(
                    "X-Idempotency-Key", "an idempotency key is a non-empty string, unique per logical call"
                )
            ],
            model="Headers",
        )
    return key


def _payment_id(payment: PaymentRef) -> str:
    payment_id = payment.id if isinstance(payment, Payment) else payment
    if not isinstance(payment_id, str) or not payment_id:
        raise PrimerValidationError(
            [FieldError("$.id", "a payment is named by its id (a non-empty string) or given as a Payment")],
            model="Payment",
        )
    return payment_id


def _client_token_of(session: SessionRef | None) -> str | None:
    if isinstance(session, ClientSession):
        return session.client_token
    return session


def _checkout_claims(client_token: str | None, purpose: str) -> tuple[str, str]:
    """``(pciUrl, accessToken)`` of a client token, read as the checkout reads them."""
    claims = read_claims(client_token) if client_token else None
    pci_url = claims.get("pciUrl") if claims else None
    access_token = claims.get("accessToken") if claims else None
    if not isinstance(pci_url, str) or not isinstance(access_token, str) or not pci_url or not access_token:
        raise PrimerConfigError(
            f"to {purpose}, pass a client token from create_client_session() (or its session): a JWT whose "
            "claims name pciUrl and accessToken, as Primer's checkout reads them"
        )
    return pci_url, access_token


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
        return chosen, url.rstrip("/"), api_key or LOCAL_SANDBOX_KEY
    if not api_key:
        raise PrimerConfigError(
            f"environment {chosen!r} needs an API key. Put PRIMER_API_KEY in the environment or a .env file "
            "(never in a notebook cell) and use primer_nb.connect(), or pass api_key=."
        )
    return chosen, url.rstrip("/"), api_key
