"""``primer_nb.connect()``: the one line a notebook needs to get a working client.

This is where configuration meets the parts: it reads the settings
(arguments, environment, ``.env``), and with no ``PRIMER_API_KEY`` (or with
``PRIMER_ENVIRONMENT=local``) it finds or starts the local sandbox: the one
named by ``$PRIMER_NB_SANDBOX_URL`` when a runner started it for this kernel,
else one it starts once per process (in a child process where the platform
can hand a socket over, else in a thread), reuses for every client and stops
at exit. Otherwise the client talks to Primer's sandbox (or, with an explicit
opt-in, production). It prints one line saying which.
"""

from __future__ import annotations

import atexit
import os
import threading
from typing import TYPE_CHECKING, Any, TypeAlias

from primer_nb.api.masking import mask_key
from primer_nb.config.settings import LOCAL_SANDBOX_KEY, deterministic_requested, resolve_settings
from primer_nb.sandbox.serving.handle import SandboxHandle, from_environment
from primer_nb.sandbox.serving.process import SandboxProcess

if TYPE_CHECKING:
    from primer_nb.client import AsyncPrimerClient, PrimerClient
    from primer_nb.sandbox.serving.server import LocalSandbox

__all__ = ["Sandbox", "connect", "shared_sandbox", "stop_shared_sandbox"]

Sandbox: TypeAlias = "SandboxHandle | LocalSandbox"
"""What :func:`shared_sandbox` returns: each has ``base_url``, ``api_key``, ``clock`` and ``faults``."""

_lock = threading.Lock()
_started: SandboxProcess | LocalSandbox | None = None  # started by this process, which stops it
_provided: SandboxHandle | None = None  # started for this process by a notebook runner


def shared_sandbox(*, deterministic: bool | None = None) -> Sandbox:
    """The process's local sandbox: the runner's (``$PRIMER_NB_SANDBOX_URL``), or one started on first use.

    A sandbox this process starts is stopped at exit. ``deterministic``
    (default: ``PRIMER_NB_DETERMINISTIC=1``) only matters for the call that
    starts it.
    """
    global _started, _provided
    with _lock:
        if _provided is not None:
            return _provided
        if _started is not None and _started.running:
            return _started
        _provided = from_environment()
        if _provided is not None:
            return _provided
        if deterministic is None:
            deterministic = deterministic_requested()
        if os.name == "posix":
            # Not waiting for it: requests queue on its socket while it starts,
            # so the child's start-up overlaps whatever the notebook does next.
            _started = SandboxProcess(deterministic=deterministic).start(wait=False)
        else:
            from primer_nb.sandbox.serving.server import LocalSandbox

            _started = LocalSandbox(deterministic=deterministic).start()
        atexit.register(_stop_at_exit)
        return _started


def stop_shared_sandbox() -> None:
    """Stop the sandbox this process started, if any; forget the runner's either way."""
    global _started, _provided
    with _lock:
        if _started is not None:
            _started.stop()
        if _provided is not None:
            _provided.close()
        _started = _provided = None


def _stop_at_exit() -> None:
    # A child process stops by itself once our end of its pipe closes: no need
    # to make the exiting kernel wait for it.
    global _started
    with _lock:
        if isinstance(_started, SandboxProcess):
            _started.stop(wait=False)
            _started = None
    stop_shared_sandbox()


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
        By default read from the environment and ``.env`` (``PRIMER_API_KEY``,
        ``PRIMER_ENVIRONMENT``, ``PRIMER_BASE_URL``, ``PRIMER_ALLOW_PRODUCTION``).
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
    sandbox: Sandbox | None = None
    if settings.environment == "local":
        if settings.base_url is None:
            # Started first, in the mode asked for, so its start-up overlaps the client's imports.
            sandbox = shared_sandbox(deterministic=deterministic)
        else:
            sandbox = SandboxHandle(settings.base_url, settings.api_key or LOCAL_SANDBOX_KEY)
    from primer_nb.client import AsyncPrimerClient, PrimerClient

    cls = AsyncPrimerClient if asynchronous else PrimerClient
    if sandbox is not None:
        client = cls(sandbox=sandbox, **options)
    else:
        client = cls(
            settings.api_key, environment=settings.environment, base_url=settings.base_url,
            allow_production=settings.allow_production, **options,
        )  # fmt: skip
    if settings.environment == "local" and settings.base_url is None:
        where = f"the local sandbox at {client.base_url} (offline; set PRIMER_API_KEY for Primer's sandbox)"
    elif settings.environment == "local":
        where = f"a local sandbox at {client.base_url}"
    else:
        where = f"Primer's {settings.environment} API at {client.base_url} (key {mask_key(settings.api_key)})"
    if not quiet:
        print(f"primer-nb: using {where}")
    return client
