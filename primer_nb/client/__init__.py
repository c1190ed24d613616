"""The HTTP client layer: :class:`PrimerClient`, :class:`AsyncPrimerClient`, retries and the ledger.

Clients take a resolved base URL and key (or a sandbox handle, or an httpx
transport) and start nothing: finding Primer's settings and starting the
local sandbox is :func:`primer_nb.connect`'s job.
"""

from primer_nb.client.aio import AsyncPrimerClient
from primer_nb.client.base import BaseClient, BatchResult
from primer_nb.client.ledger import Ledger
from primer_nb.client.preflight import PrimerPreflightWarning
from primer_nb.client.retry import RetryPolicy
from primer_nb.client.sync import PrimerClient

__all__ = [
    "AsyncPrimerClient",
    "BaseClient",
    "BatchResult",
    "Ledger",
    "PrimerClient",
    "PrimerPreflightWarning",
    "RetryPolicy",
]
