"""primer-nb: a Jupyter notebook kit for Primer's Client Session API v2.4.

Importing the package is cheap: pandas, ipywidgets, FastAPI and uvicorn are
imported only by the parts that use them.
"""

from primer_nb.__about__ import __version__
from primer_nb.errors import (
    AuthenticationError,
    FieldError,
    ForbiddenError,
    InvalidRequestError,
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
from primer_nb.models import (
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
from primer_nb.money import derived_amount, format_minor, from_minor, line_total, to_minor
from primer_nb.validation import parse_request, parse_update

_LAZY = {
    "AsyncPrimerClient": "primer_nb.client",
    "BatchResult": "primer_nb.client",
    "Ledger": "primer_nb.ledger",
    "LocalSandbox": "primer_nb.sandbox.server",
    "PrimerClient": "primer_nb.client",
    "PrimerPreflightWarning": "primer_nb.preflight",
    "RetryPolicy": "primer_nb.client",
    "connect": "primer_nb.connection",
}


def __getattr__(name: str) -> object:
    """Import the heavier parts on first use, so ``import primer_nb`` stays cheap."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'primer_nb' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


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
    "InvalidRequestError",
    "Ledger",
    "LineItem",
    "LocalSandbox",
    "Order",
    "PaymentMethodOptions",
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
