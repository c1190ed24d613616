"""The one exception tree of primer-nb.

::

    PrimerError                      anything primer-nb raises on purpose
    ├── PrimerValidationError        a request failed local validation (no HTTP sent)
    ├── PrimerConfigError            missing or contradictory configuration
    ├── PrimerConnectionError        the request never got an HTTP answer
    │   └── PrimerTimeoutError       ... because it ran out of time
    ├── SandboxStartError            a local sandbox could not be started
    ├── WebhookSignatureError        a webhook delivery failed verification (signature, age, shape)
    └── PrimerAPIError               Primer (or the local sandbox) answered with an error
        ├── AuthenticationError      401: missing or wrong API key
        ├── ForbiddenError           403: the key lacks a scope
        ├── NotFoundError            404: no such resource (or route)
        ├── SessionError             400 ClientSessionValidationError: unknown/expired token
        ├── InvalidRequestError      400/413/415/422: the request broke a rule
        │   └── PaymentStateError    400 InvalidPaymentStatus…, 409 PaymentAlreadyRefunded: not in this state
        ├── IdempotencyError         409 (or 400 ...IdempotencyKeyAlreadyExists): key already used
        ├── VersionGoneError         410: the API version is past its end of life
        ├── RateLimitError           429: slow down (see ``retry_after``)
        └── ServerError              5xx: Primer's side failed or timed out

:data:`STATUS_ERRORS` maps each status Primer documents to its class;
:func:`error_from_response` applies it, refined by ``errorId`` (:data:`PAYMENT_STATE_ERRORS`
are the Payments API's answers to an action the payment's status does not allow).

No message, ``repr`` or attribute of these errors ever holds the API key.
"""

from __future__ import annotations

import html
from typing import Any

from primer_nb.api.envelope import FieldError, field_errors_of, parse_envelope

__all__ = [
    "PAYMENT_STATE_ERRORS",
    "STATUS_ERRORS",
    "AuthenticationError",
    "FieldError",
    "ForbiddenError",
    "IdempotencyError",
    "InvalidRequestError",
    "NotFoundError",
    "PaymentStateError",
    "PrimerAPIError",
    "PrimerConfigError",
    "PrimerConnectionError",
    "PrimerError",
    "PrimerTimeoutError",
    "PrimerValidationError",
    "RateLimitError",
    "SandboxStartError",
    "ServerError",
    "SessionError",
    "VersionGoneError",
    "WebhookSignatureError",
    "error_class",
    "error_from_response",
]


class PrimerError(Exception):
    """Base class of every error primer-nb raises."""


class PrimerValidationError(PrimerError, ValueError):
    """A request body failed local validation; nothing was sent."""

    def __init__(self, errors: list[FieldError], *, model: str = "ClientSessionAPIRequest") -> None:
        self.errors = list(errors)
        self.model = model
        lines = "\n".join(f"  {error}" for error in self.errors)
        count = len(self.errors)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the {model} body:\n{lines}")

    @property
    def paths(self) -> list[str]:
        """The JSON paths of the fields at fault, in order."""
        return [error.path for error in self.errors]


class PrimerConfigError(PrimerError):
    """Configuration is missing or contradicts itself (for example production without opt-in)."""


class PrimerConnectionError(PrimerError):
    """The request got no HTTP response (refused connection, DNS failure, reset)."""


class PrimerTimeoutError(PrimerConnectionError):
    """The request timed out before an HTTP response arrived."""


class SandboxStartError(PrimerError, RuntimeError):
    """A local sandbox (thread or child process) could not be started."""


class WebhookSignatureError(PrimerError, ValueError):
    """A webhook delivery failed verification: refuse it (answer non-2xx) and do not act on it.

    ``reason`` is ``"missing"`` (no signature header), ``"mismatch"`` (no
    header matches the body and secret), ``"stale"`` (``signedAt`` outside the
    replay window), ``"malformed"`` (not a webhook event) or ``"no-secret"``.
    The message never holds the secret or the signatures.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(f"webhook rejected ({reason}): {message}")
        self.reason = reason


class PrimerAPIError(PrimerError):
    """Primer (or the local sandbox) answered with an HTTP error in its error envelope."""

    def __init__(
        self,
        status_code: int,
        *,
        error_id: str | None = None,
        description: str | None = None,
        recovery_suggestion: str | None = None,
        diagnostics_id: str | None = None,
        validation_errors: list[Any] | None = None,
        method: str | None = None,
        url: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
        payment_id: str | None = None,
        payment_status: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.error_id = error_id
        self.description = description
        self.recovery_suggestion = recovery_suggestion
        self.diagnostics_id = diagnostics_id
        self.validation_errors = validation_errors or []
        self.method = method
        self.url = url
        self.body = body
        self.retry_after = retry_after
        self.payment_id = payment_id
        """The payment the error is about (Payments API 400 and 409 answers name it)."""
        self.payment_status = payment_status
        """That payment's status when the request was refused."""
        super().__init__(self._message())

    @property
    def field_errors(self) -> list[FieldError]:
        """Every ``validationErrors[].errors[]`` entry as a :class:`FieldError`."""
        return field_errors_of(self.validation_errors)

    def _message(self) -> str:
        head = f"{self.status_code} {self.error_id or 'HTTP error'}"
        if self.method and self.url:
            head += f" on {self.method} {self.url}"
        parts = [head]
        if self.description:
            parts.append(self.description)
        if self.payment_id:
            parts.append(
                f"payment {self.payment_id}" + (f" is {self.payment_status}" if self.payment_status else "")
            )
        parts.extend(f"  {error}" for error in self.field_errors)
        if self.recovery_suggestion:
            parts.append(f"Fix: {self.recovery_suggestion}")
        if self.diagnostics_id:
            parts.append(f"(diagnosticsId {self.diagnostics_id})")
        return "\n".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, error_id={self.error_id!r}, "
            f"diagnostics_id={self.diagnostics_id!r})"
        )

    def _repr_html_(self) -> str:
        """Render the error as a compact card in a notebook."""
        esc = html.escape
        rows = "".join(
            f"<tr><td><code>{esc(e.path)}</code></td><td>{esc(e.description)}</td></tr>"
            for e in self.field_errors
        )
        table = f"<table>{rows}</table>" if rows else ""
        fix = f"<p><b>How to fix:</b> {esc(self.recovery_suggestion)}</p>" if self.recovery_suggestion else ""
        payment = (
            f"<p>payment <code>{esc(self.payment_id)}</code>"
            + (f" is <b>{esc(self.payment_status)}</b>" if self.payment_status else "")
            + "</p>"
            if self.payment_id
            else ""
        )
        return (
            '<div class="primer-nb-error" style="border-left:4px solid #c0392b;padding:4px 10px">'
            f"<p><b>{self.status_code} {esc(self.error_id or 'HTTP error')}</b>"
            f" {esc(self.description or '')}</p>{payment}{table}{fix}"
            f"<p style='color:#777'>diagnosticsId: {esc(self.diagnostics_id or '-')}</p></div>"
        )


class AuthenticationError(PrimerAPIError):
    """401: the API key is missing or not accepted."""


class ForbiddenError(PrimerAPIError):
    """403: the API key is valid but lacks the scope for this call."""


class SessionError(PrimerAPIError):
    """400 ClientSessionValidationError: the client token is unknown, malformed or expired."""


class InvalidRequestError(PrimerAPIError):
    """400/413/415/422: the request broke a rule of the API (see ``field_errors``)."""


class PaymentStateError(InvalidRequestError):
    """400 ``InvalidPaymentStatus`` and kin, 409 ``PaymentAlreadyRefunded``: the payment's state forbids it.

    ``payment_id`` and ``payment_status`` say which payment and where it stands;
    GET it to see what it allows next.
    """


class NotFoundError(PrimerAPIError):
    """404: the resource (a payment, a route) does not exist."""


class IdempotencyError(PrimerAPIError):
    """409, or 400 ``...IdempotencyKeyAlreadyExists``: the idempotency key was already used."""


class VersionGoneError(PrimerAPIError):
    """410: the ``X-Api-Version`` sent is past its end of life; send a supported version."""


class RateLimitError(PrimerAPIError):
    """429: too many requests; wait ``retry_after`` seconds."""


class ServerError(PrimerAPIError):
    """5xx (500, 502, 503, 504): the server failed or timed out; retrying may help."""


STATUS_ERRORS: dict[int, type[PrimerAPIError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: IdempotencyError,
    410: VersionGoneError,
    413: InvalidRequestError,
    415: InvalidRequestError,
    422: InvalidRequestError,
    429: RateLimitError,
    500: ServerError,
    502: ServerError,
    503: ServerError,
    504: ServerError,
}
"""The class for each HTTP status Primer documents (other 5xx are :class:`ServerError` too)."""


PAYMENT_STATE_ERRORS = frozenset({
    "InvalidPaymentStatus", "PaymentAlreadyAuthorized", "PaymentIsNotAuthorizedYet",
    "IncorrectPaymentAuthorizationType", "PaymentAlreadyRefunded",
})  # fmt: skip
"""The Payments API's ``errorId`` values for an action the payment's status (or type) does not allow."""


def error_class(status_code: int, error_id: str | None) -> type[PrimerAPIError]:
    """The exception class for an error answer: by ``errorId`` where it says more, else by status."""
    if error_id == "ClientSessionValidationError":
        return SessionError
    if error_id in PAYMENT_STATE_ERRORS and status_code in (400, 409):
        return PaymentStateError
    if error_id and error_id.endswith("IdempotencyKeyAlreadyExists"):
        return IdempotencyError
    if status_code >= 500:
        return ServerError
    return STATUS_ERRORS.get(status_code, PrimerAPIError)


def error_from_response(
    status_code: int,
    payload: Any,
    *,
    method: str | None = None,
    url: str | None = None,
    retry_after: float | None = None,
) -> PrimerAPIError:
    """Map an HTTP error status and its decoded body to the matching :class:`PrimerAPIError`.

    ``payload`` is Primer's envelope ``{"error": {...}}`` when the server sent
    one; anything else (a proxy's HTML page, an empty body) still gives a
    readable error that shows the start of what came back.
    """
    envelope = parse_envelope(payload)
    if envelope is not None:
        fields: dict[str, Any] = {
            "error_id": envelope.error_id,
            "description": envelope.description,
            "recovery_suggestion": envelope.recovery_suggestion,
            "diagnostics_id": envelope.diagnostics_id,
            "validation_errors": envelope.validation_errors,
            "payment_id": envelope.payment_id,
            "payment_status": envelope.payment_status,
        }
    else:
        snippet = str(payload or "").strip().replace("\n", " ")[:200]
        fields = {
            "error_id": None,
            "description": f"The server answered {status_code} without Primer's error envelope"
            + (f": {snippet!r}" if snippet else "."),
            "recovery_suggestion": "Check the base URL and any proxy between you and the API.",
        }
    cls = error_class(status_code, fields["error_id"])
    return cls(status_code, method=method, url=url, body=payload, retry_after=retry_after, **fields)
