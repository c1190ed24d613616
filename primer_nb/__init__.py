"""primer-nb: a Jupyter notebook kit for Primer's Client Session and Payments APIs v2.4.

The layers, from the bottom: :mod:`primer_nb.api` (what Primer's API is),
:mod:`primer_nb.config`, then :mod:`primer_nb.client` and :mod:`primer_nb.sandbox`
beside each other, :mod:`primer_nb.tables` and :mod:`primer_nb.widgets`, and
on top :func:`connect`, the notebook runner and the CLI. Importing the package is
cheap: pandas, ipywidgets, FastAPI and uvicorn load only with the parts that use them.
"""

from primer_nb.__about__ import __version__
from primer_nb._lazy import lazy_getattr
from primer_nb.api.errors import (
    AuthenticationError,
    FieldError,
    ForbiddenError,
    IdempotencyError,
    InvalidRequestError,
    NotFoundError,
    PaymentStateError,
    PrimerAPIError,
    PrimerConfigError,
    PrimerConnectionError,
    PrimerError,
    PrimerTimeoutError,
    PrimerValidationError,
    RateLimitError,
    ServerError,
    SessionError,
)
from primer_nb.api.money import derived_amount, format_minor, from_minor, line_total, to_minor
from primer_nb.api.payment import Payment, PaymentInstrument, PaymentList, PaymentSummary
from primer_nb.api.session import (
    Address,
    ClientSession,
    ClientSessionRequest,
    ClientSessionUpdate,
    Customer,
    Fee,
    LineItem,
    Order,
    PaymentMethodOptions,
    SessionWarning,
    Shipping,
)
from primer_nb.api.validation import parse_request, parse_update

_LAZY = {
    "AsyncPrimerClient": "primer_nb.client",
    "BatchResult": "primer_nb.client",
    "Ledger": "primer_nb.client.ledger",
    "LocalSandbox": "primer_nb.sandbox.serving.server",
    "PrimerClient": "primer_nb.client",
    "PrimerPreflightWarning": "primer_nb.client.preflight",
    "RetryPolicy": "primer_nb.client",
    "connect": "primer_nb.connection",
}


# The heavier parts load on first use, so ``import primer_nb`` stays cheap.
__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "Address",
    "AsyncPrimerClient",
    "AuthenticationError",
    "BatchResult",
    "ClientSession",
    "ClientSessionRequest",
    "ClientSessionUpdate",
    "Customer",
    "Fee",
    "FieldError",
    "ForbiddenError",
    "IdempotencyError",
    "InvalidRequestError",
    "Ledger",
    "LineItem",
    "LocalSandbox",
    "NotFoundError",
    "Order",
    "Payment",
    "PaymentInstrument",
    "PaymentList",
    "PaymentMethodOptions",
    "PaymentStateError",
    "PaymentSummary",
    "PrimerAPIError",
    "PrimerClient",
    "PrimerConfigError",
    "PrimerConnectionError",
    "PrimerError",
    "PrimerPreflightWarning",
    "PrimerTimeoutError",
    "PrimerValidationError",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "SessionError",
    "SessionWarning",
    "Shipping",
    "__version__",
    "connect",
    "derived_amount",
    "format_minor",
    "from_minor",
    "line_total",
    "parse_request",
    "parse_update",
    "to_minor",
]
