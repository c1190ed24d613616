"""``primer_nb.connect()``: the one line a notebook needs to get a working client.

With no ``PRIMER_API_KEY`` (or with ``PRIMER_ENVIRONMENT=local``) it starts
the embedded local sandbox once per process, reuses it for every client and
stops it at exit; otherwise it talks to Primer's sandbox (or, with an
explicit opt-in, production). It prints one line saying which.
"""

from __future__ import annotations

import atexit
import os
import threading
from typing import Any

from primer_nb.client import AsyncPrimerClient, PrimerClient
from primer_nb.config import resolve_settings
from primer_nb.masking import mask_key
from primer_nb.sandbox.server import LocalSandbox

__all__ = ["connect", "shared_sandbox", "stop_shared_sandbox"]

_lock = threading.Lock()
_sandbox: LocalSandbox | None = None


def shared_sandbox(*, deterministic: bool | None = None) -> LocalSandbox:
    """The process's local sandbox, started on first use and stopped at exit.

    ``deterministic`` (default: ``PRIMER_NB_DETERMINISTIC=1``) only matters
    for the first call, which starts it.
    """
    global _sandbox
    with _lock:
        if _sandbox is None or not _sandbox.running:
            if deterministic is None:
                deterministic = os.environ.get("PRIMER_NB_DETERMINISTIC", "").lower() in {"1", "true", "yes"}
            _sandbox = LocalSandbox(deterministic=deterministic).start()
            atexit.register(stop_shared_sandbox)
        return _sandbox


def stop_shared_sandbox() -> None:
    """Stop the process's local sandbox, if one is running."""
    global _sandbox
    with _lock:
        if _sandbox is not None:
            _sandbox.stop()
            _sandbox = None


def connect(
    api_key: str | None = None,
    *,
    environment: str | None = None,
    base_url: str | None = None,
    allow_production: bool | None = None,
    asynchronous: bool = False,
    deterministic: bool | None = None,
    quiet: bool = False,
    **options: Any,
) -> PrimerClient | AsyncPrimerClient:
    """Return a client for the configured environment, starting the local sandbox if needed.

    Parameters
    ----------
    api_key, environment, base_url, allow_production:
        As for :class:`~primer_nb.client.PrimerClient`; by default read from
        the environment and ``.env`` (``PRIMER_API_KEY``, ``PRIMER_ENVIRONMENT``,
        ``PRIMER_BASE_URL``, ``PRIMER_ALLOW_PRODUCTION``).
    asynchronous:
        Return an :class:`~primer_nb.client.AsyncPrimerClient` instead.
    deterministic:
        Start the local sandbox with a frozen clock and seeded ids (for
        reproducible notebook outputs); default ``PRIMER_NB_DETERMINISTIC``.
    quiet:
        Do not print the line that says which environment is used.
    options:
        Passed on to the client (``timeout``, ``max_retries``, ``ledger``...).
    """
    settings = resolve_settings(
        api_key, environment=environment, base_url=base_url, allow_production=allow_production
    )
    cls = AsyncPrimerClient if asynchronous else PrimerClient
    embedded = settings.environment == "local" and settings.base_url is None
    if embedded:
        shared_sandbox(deterministic=deterministic)  # started in the mode asked for; the client reuses it
    client = cls(
        settings.api_key, environment=settings.environment, base_url=settings.base_url,
        allow_production=settings.allow_production, **options,
    )  # fmt: skip
    if embedded:
        where = f"the local sandbox at {client.base_url} (offline; set PRIMER_API_KEY for Primer's sandbox)"
    elif settings.environment == "local":
        where = f"a local sandbox at {client.base_url}"
    else:
        where = f"Primer's {settings.environment} API at {client.base_url} (key {mask_key(settings.api_key)})"
    if not quiet:
        print(f"primer-nb: using {where}")
    return client
