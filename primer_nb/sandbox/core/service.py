"""The Client Session API as the sandbox serves it, free of any web framework.

:class:`SandboxService` takes raw request parts (headers, body bytes) and
returns a :class:`~primer_nb.sandbox.core.replies.Reply`. The serving layer only adapts
it to FastAPI, so every rule here is testable without HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from primer_nb.api.checkout_warnings import DEFAULT_PROFILE, DashboardProfile
from primer_nb.api.envelope import FieldError, validation_group
from primer_nb.api.errors import PrimerValidationError
from primer_nb.api.masking import mask_token
from primer_nb.api.money import session_amount
from primer_nb.api.patching import apply_patch, refused_changes, strip_session
from primer_nb.api.protocol import (
    API_KEY_HEADER,
    API_VERSION,
    API_VERSION_HEADER,
    SUPPORTED_VERSIONS,
    judge_version,
)
from primer_nb.api.responses import create_body, session_body
from primer_nb.api.session import ClientSessionRequest, ClientSessionUpdate
from primer_nb.api.timestamps import expiration_text
from primer_nb.api.validation import parse_request_json, parse_session_state, parse_update_json
from primer_nb.sandbox.core.checkout import CheckoutService
from primer_nb.sandbox.core.clock import SandboxClock
from primer_nb.sandbox.core.faults import Fault, FaultInjector
from primer_nb.sandbox.core.payments import PaymentService
from primer_nb.sandbox.core.replies import IdSource, Reply, error_reply
from primer_nb.sandbox.core.store import SessionStore, StoredSession
from primer_nb.sandbox.core.tokens import InvalidToken, TokenIssuer
from primer_nb.sandbox.core.webhooks import WebhookDispatcher

__all__ = ["MAX_BODY_BYTES", "Admission", "SandboxService"]

_Body = TypeVar("_Body", ClientSessionRequest, ClientSessionUpdate)

MAX_BODY_BYTES = 1024 * 1024

# Primer's words, from its spec's error examples (see the README's "where sources disagree").
_INVALID_TOKEN = ("The client token is invalid.", "Please provide a valid client token.")
_METADATA_EMPTY_KEY = (
    "Metadata field contains empty string key.",
    "Either remove empty string keys or provide non-empty string instead.",
)
_VALIDATION_FAILED = "We were unable to validate your request, please check your payload against /docs/api"

# The kit's own reasons, given in validationErrors beside Primer's generic token message.
_TOKEN_PROBLEMS = {
    "malformed": "not a client token this sandbox issued (malformed, forged or from another sandbox); "
    "create a session with POST /client-session and use its clientToken",
    "unknown": "no session exists for this client token; create one with POST /client-session",
    "expired": "this client token has expired (tokens live 24 hours from creation); "
    "create a new session with POST /client-session",
}
_VERSIONS = ", ".join(v.number for v in SUPPORTED_VERSIONS)


@dataclass(frozen=True)
class Admission:
    """The outcome of :meth:`SandboxService.admit`: a refusal (or ``None``), and a delay."""

    refusal: Reply | None
    latency_ms: int


@dataclass
class SandboxService:
    """Everything one sandbox knows: its sessions, clock, faults, profile and key."""

    store: SessionStore = field(default_factory=SessionStore)
    clock: SandboxClock = field(default_factory=SandboxClock)
    faults: FaultInjector = field(default_factory=FaultInjector)
    profile: DashboardProfile = DEFAULT_PROFILE
    api_key: str | None = None
    ids: IdSource = field(default_factory=IdSource)
    strict_version: bool = False
    secret: str | None = None
    webhooks: WebhookDispatcher = None  # type: ignore[assignment]  # None: one is made for store and clock
    tokens: TokenIssuer = field(init=False)
    payments: PaymentService = field(init=False)
    checkout: CheckoutService = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = TokenIssuer(self.store.secret(self.secret))
        if self.webhooks is None:
            self.webhooks = WebhookDispatcher(self.store, self.clock)
        self.payments = PaymentService(self.store, self.clock, self.ids, self.tokens, self.profile)
        self.checkout = CheckoutService(self.store, self.payments, self.clock, self.ids, self.profile)
        self.payments.listeners.append(self.webhooks.listener)
        self.webhooks.payment_lookup = self.payments.body_of
        # Time travel settles payments at once, wherever the clock is moved from.
        self.clock.on_change(self.payments.settle_due)

    # ------------------------------------------------------------------ checks

    def check_auth(self, headers: Mapping[str, str]) -> Reply | None:
        """401 unless ``X-Api-Key`` is present (and, if the sandbox has a key, equal to it)."""
        key = headers.get("x-api-key", "")
        if not key:
            return error_reply(
                self.ids, 401, "Unauthorized", "No API key was sent with the request.",
                f"Send your API key in the {API_KEY_HEADER} header.",
            )  # fmt: skip
        if self.api_key is not None and key != self.api_key:
            return error_reply(
                self.ids, 401, "Unauthorized", "The API key is not valid for this sandbox.",
                "Use the key the sandbox was started with (LocalSandbox.api_key, or --api-key).",
            )  # fmt: skip
        return None

    def check_version(self, headers: Mapping[str, str]) -> Reply | None:
        """Judge ``X-Api-Version`` on the sandbox clock: 410 past end of life, 422 unknown or missing.

        By default every version Primer supports is served (with v2.4's rules)
        and a missing header is accepted, as Primer's getting-started page says;
        ``strict_version`` refuses anything but 2.4, a missing header included.
        """
        sent = headers.get("x-api-version")
        if sent == API_VERSION:  # the version every client of this kit sends, and never past its end
            return None
        verdict = judge_version(sent, self.clock.now(), strict=self.strict_version)
        if verdict.accepted:
            return None
        if verdict.problem == "gone" and verdict.version is not None:
            return error_reply(
                self.ids, 410, "Gone",
                f"API version {verdict.version.number} reached its end of life on "
                f"{verdict.version.end_of_life_on}; calls with it are refused.",
                f"Send {API_VERSION_HEADER}: {API_VERSION} (the kit's version).",
            )  # fmt: skip
        wanted = f"'{API_VERSION}'" if self.strict_version else f"one of {_VERSIONS}"
        if verdict.problem == "missing":
            reason = f"the header is missing; this sandbox runs in strict mode and needs {wanted}"
        elif verdict.problem == "strict":
            reason = f"is {verdict.sent!r}; this sandbox runs in strict mode and accepts only {wanted}"
        else:
            reason = f"is {verdict.sent!r}, not a version Primer supports; send {wanted}"
        return self._validation_reply(
            "Headers", [FieldError(f"$.headers['{API_VERSION_HEADER}']", reason, "api_version")]
        )

    def admit(self, headers: Mapping[str, str]) -> Admission:
        """What every API call goes through first: auth, version, then an injected fault's draw.

        The caller waits ``latency_ms`` (an injected delay) before sending
        ``refusal``, or before handling the call when there is none.
        """
        refused = self.check_auth(headers) or self.check_version(headers)
        if refused:
            return Admission(refused, 0)
        fault = self.faults.draw()
        return Admission(self.fault_reply(fault) if fault.status else None, fault.latency_ms)

    def fault_reply(self, fault: Fault) -> Reply:
        """The reply for an injected failure, in Primer's envelope."""
        status = fault.status or 500
        if status == 429:
            return error_reply(
                self.ids, 429, "TooManyRequests", "Too many requests (injected by the sandbox's faults).",
                f"Wait {fault.retry_after} s (see Retry-After) and try again.",
                headers={"Retry-After": str(fault.retry_after)},
            )  # fmt: skip
        names = {
            500: "InternalServerError",
            502: "BadGateway",
            503: "ServiceUnavailable",
            504: "RequestTimeout",
        }
        return error_reply(
            self.ids, status, names[status], f"Injected {status} from the sandbox's fault settings.",
            "Retry with backoff; clear faults with DELETE /_sandbox/faults.",
        )  # fmt: skip

    def _parsed(
        self, headers: Mapping[str, str], body: bytes, parse: Callable[[bytes], _Body]
    ) -> _Body | Reply:
        """The validated body, or the reply that refuses it (413, 415, 400 or 422).

        A body that parses as JSON is judged whatever ``Content-Type`` it
        declares (curl sends form encoding unless told otherwise, and Primer's
        guides show such calls working); one that does not parse is 415 when
        it was not declared JSON, else 422.
        """
        if len(body) > MAX_BODY_BYTES:
            return self.too_large()
        try:
            return parse(body)
        except PrimerValidationError as exc:
            content_type = headers.get("content-type", "")
            declared_json = content_type.split(";")[0].strip().lower() == "application/json"
            if not declared_json and any(error.code == "json_invalid" for error in exc.errors):
                return error_reply(
                    self.ids, 415, "UnsupportedMediaType",
                    f"The body is not JSON, and Content-Type is {content_type or 'missing'!r}.",
                    "Send a JSON object as the body (Content-Type: application/json).",
                )  # fmt: skip
            return self.invalid(exc.errors, exc.model)

    def too_large(self) -> Reply:
        """413 for a body over the size limit."""
        return error_reply(
            self.ids, 413, "RequestEntityTooLarge",
            f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB.",
            "Send less data: large catalogues belong in your own systems, not the session.",
        )  # fmt: skip

    def invalid(self, errors: list[FieldError], model: str) -> Reply:
        """400 ``MetadataContainsEmptyKey`` or 422 ``RequestValidationError`` listing ``errors``."""
        if any(error.code == "metadata_empty_key" for error in errors):
            return error_reply(self.ids, 400, "MetadataContainsEmptyKey", *_METADATA_EMPTY_KEY)
        return self._validation_reply(model, errors)

    def _validation_reply(self, model: str, errors: list[FieldError]) -> Reply:
        # Primer's 422 example has its generic description and no recoverySuggestion;
        # what to fix goes in each validationErrors item.
        return error_reply(
            self.ids, 422, "RequestValidationError", _VALIDATION_FAILED, None,
            validation_errors=[validation_group(model, errors)],
        )  # fmt: skip

    def _token_error(self, reason: str, model: str) -> Reply:
        problem = FieldError("$.clientToken", _TOKEN_PROBLEMS[reason], reason)
        return error_reply(
            self.ids, 400, "ClientSessionValidationError", *_INVALID_TOKEN,
            validation_errors=[validation_group(model, [problem])],
        )  # fmt: skip

    def _session_for(self, token: str, model: str) -> StoredSession | Reply:
        try:
            claims = self.tokens.verify(token)
        except InvalidToken as exc:
            return self._token_error(exc.reason, model)
        stored = self.store.get(claims.access_token)
        if stored is None or stored.token != token:
            return self._token_error("unknown", model)
        # The written expiry (with microseconds) decides; the token's exp is its whole second.
        if self.clock.now() >= stored.expires_at:
            return self._token_error("expired", model)
        return stored

    # ------------------------------------------------------------------ operations

    def create(self, headers: Mapping[str, str], body: bytes, base_url: str) -> Reply:
        """``POST /client-session``."""
        request = self._parsed(headers, body, parse_request_json)
        if isinstance(request, Reply):
            return request
        state = strip_session(request.to_wire(known_only=True))
        now = self.clock.now()
        session_id = self.ids.session_id()
        token, expires_at = self.tokens.issue(session_id, now, base_url)
        self.store.insert(StoredSession(session_id, token, state, now, now, expires_at))
        return Reply(200, create_body(state, token, expires_at, self.profile.warnings(state)))

    def retrieve(self, token: str | None) -> Reply:
        """``GET /client-session?clientToken=…``."""
        if not token:
            return self.invalid(
                [FieldError("$.query.clientToken", "the clientToken query parameter is required", "missing")],
                "Query",
            )
        stored = self._session_for(token, "Query")
        if isinstance(stored, Reply):
            return stored
        return Reply(200, session_body(stored.state))

    def update(self, headers: Mapping[str, str], body: bytes) -> Reply:
        """``PATCH /client-session``."""
        update = self._parsed(headers, body, parse_update_json)
        if isinstance(update, Reply):
            return update
        model = "ClientSessionUpdateAPIRequest"
        stored = self._session_for(update.client_token, model)
        if isinstance(stored, Reply):
            return stored
        changes = update.changes(known_only=True)
        refused = refused_changes(stored.state, changes)
        if refused:
            return self._validation_reply(model, refused)
        state = apply_patch(stored.state, changes)
        try:
            parse_session_state(state)  # the merged whole must still be a session Primer can return
        except PrimerValidationError as exc:
            return self.invalid(exc.errors, model)
        self.store.update(stored.id, state, self.clock.now())
        return Reply(200, session_body(state))

    # ------------------------------------------------------------------ admin

    def health(self) -> dict[str, Any]:
        """``GET /_sandbox/health``."""
        return {"status": "ok", "apiVersion": API_VERSION, "sessions": self.store.count(),
                "now": self.clock.now().isoformat()}  # fmt: skip

    def clock_state(self) -> dict[str, Any]:
        """``GET /_sandbox/clock``."""
        return {"now": self.clock.now().isoformat(), "frozen": self.clock.frozen}

    def sessions(self) -> list[dict[str, Any]]:
        """``GET /_sandbox/sessions``: what is stored, tokens masked."""
        now = self.clock.now()
        return [
            {
                "clientToken": mask_token(s.token),
                "orderId": s.state.get("orderId"),
                "currencyCode": s.state.get("currencyCode"),
                "amount": session_amount(s.state.get("amount"), s.state.get("order")),
                "createdAt": s.created_at.isoformat(),
                "updatedAt": s.updated_at.isoformat(),
                "clientTokenExpirationDate": expiration_text(s.expires_at),
                "expired": now >= s.expires_at,
            }
            for s in self.store.all()
        ]
