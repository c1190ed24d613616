"""Run the sandbox: in a background thread (:class:`LocalSandbox`) or in the foreground (CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from primer_nb.api.checkout_warnings import DashboardProfile
from primer_nb.api.errors import SandboxStartError
from primer_nb.api.masking import mask_key, mask_tokens_in_url
from primer_nb.config.settings import home
from primer_nb.sandbox.core.build import build_service
from primer_nb.sandbox.core.clock import SandboxClock
from primer_nb.sandbox.core.faults import FaultInjector
from primer_nb.sandbox.core.service import SandboxService
from primer_nb.sandbox.core.webhooks import WebhookDispatcher
from primer_nb.sandbox.serving.accept import BurstAcceptor, accepts_one_per_iteration
from primer_nb.sandbox.serving.endpoint import LOOPBACK, Served, bind, new_api_key, url_of

__all__ = [
    "DEFAULT_PORT",
    "LocalSandbox",
    "default_db_path",
    "run_sandbox",
    "serve",
]

DEFAULT_PORT = 8787


def default_db_path() -> Path:
    """Where ``primer-nb sandbox`` keeps sessions: ``$PRIMER_NB_HOME/sandbox.sqlite3``."""
    return home() / "sandbox.sqlite3"


class _MaskTokensInAccessLog(logging.Filter):
    """Mask client tokens in access-log lines (GET passes them in the query string)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            path = mask_tokens_in_url(record.args[2])
            record.args = (*record.args[:2], path, *record.args[3:])
        return True


def _server(service: SandboxService, *, quiet: bool) -> Any:
    import uvicorn

    from primer_nb.sandbox.serving.app import create_app
    from primer_nb.sandbox.serving.webhooks import DeliveryWorker

    class ForegroundServer(uvicorn.Server):
        """Stops gracefully on SIGINT/SIGTERM and then exits 0 instead of re-raising the signal."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await self._listen(sockets)
            # Webhooks go out from their own threads, never from a request.
            self.webhook_worker = DeliveryWorker(service.webhooks).start()

        async def _listen(self, sockets: list[socket.socket] | None) -> None:
            loop = asyncio.get_running_loop()
            if not sockets or not accepts_one_per_iteration(loop):
                await super().startup(sockets)
                return
            await super().startup(sockets=[])  # no servers of uvicorn's own: ours accept in bursts
            config = self.config

            def protocol() -> asyncio.Protocol:
                return config.http_protocol_class(  # type: ignore[call-arg]
                    config=config, server_state=self.server_state, app_state=self.lifespan.state
                )

            self.acceptors = [BurstAcceptor(loop, sock, protocol) for sock in sockets]
            for acceptor in self.acceptors:
                acceptor.start()

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            worker = getattr(self, "webhook_worker", None)
            if worker is not None:
                worker.stop()
            for acceptor in getattr(self, "acceptors", ()):
                acceptor.close()
            await super().shutdown(sockets)

    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _MaskTokensInAccessLog) for f in access.filters):
        access.addFilter(_MaskTokensInAccessLog())
    config = uvicorn.Config(
        create_app(service),
        log_level="warning" if quiet else "info",
        access_log=not quiet,
        lifespan="off",
        server_header=False,
        date_header=False,
    )
    return ForegroundServer(config)


class LocalSandbox(Served):
    """A local sandbox on a free loopback port, served from a background thread.

    >>> with LocalSandbox() as sandbox:                # doctest: +SKIP
    ...     client = PrimerClient(sandbox.api_key, base_url=sandbox.base_url)

    Parameters
    ----------
    api_key:
        The only key the sandbox accepts; one is generated when not given.
    db:
        SQLite file to keep sessions in; ``None`` keeps them in memory.
    profile:
        Dashboard profile (a TOML/JSON path or a ``DashboardProfile``) that
        decides which warnings a create returns; the kit's default when ``None``.
    deterministic:
        Frozen clock from a fixed start and seeded ids and secret, so two runs
        give the same tokens and timestamps (for committed notebook outputs).
    strict_version:
        Refuse any ``X-Api-Version`` but 2.4, a missing header included (by
        default every version Primer supports is served, and a missing header too).
    webhooks:
        Endpoint URLs that receive webhooks (loopback only unless
        ``allow_remote_webhooks``); more can be added with ``sandbox.webhooks.add_endpoint``.
    webhook_secret:
        The secret webhooks are signed with; generated when not given
        (``sandbox.webhook_secret`` reads it).
    """

    def __init__(
        self,
        api_key: str | None = None,
        db: str | Path | None = None,
        profile: str | Path | DashboardProfile | None = None,
        deterministic: bool = False,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        strict_version: bool = False,
        webhooks: Sequence[str] = (),
        webhook_secret: str | None = None,
        allow_remote_webhooks: bool = False,
    ) -> None:
        self.api_key = api_key or new_api_key(deterministic)
        self.db = db
        self.deterministic = deterministic
        self.service = build_service(
            api_key=self.api_key, db=db, profile=profile, deterministic=deterministic,
            strict_version=strict_version, webhooks=webhooks, webhook_secret=webhook_secret,
            allow_remote_webhooks=allow_remote_webhooks,
        )  # fmt: skip
        self._host, self._port = host, port
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    @property
    def clock(self) -> SandboxClock:
        """The sandbox's clock: ``now()``, ``set(dt)``, ``advance(seconds_or_timedelta)``."""
        return self.service.clock

    @property
    def faults(self) -> FaultInjector:
        """Fault injection: ``set(rate=, statuses=, latency_ms=, seed=)`` and ``clear()``."""
        return self.service.faults

    @property
    def webhooks(self) -> WebhookDispatcher:
        """Webhooks: ``add_endpoint``, ``log``, ``resend``, ``trigger``, ``rotate_secret``, ``set_faults``."""
        return self.service.webhooks

    @property
    def webhook_secret(self) -> str:
        """The secret this sandbox signs webhooks with (a local test secret)."""
        return self.service.webhooks.secret

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> LocalSandbox:
        """Start serving (no-op if already running); return ``self``."""
        if self.running:
            return self
        sock = bind(self._host, self._port)
        self.base_url = url_of(sock)
        self._server = _server(self.service, quiet=True)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="primer-nb-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise SandboxStartError("the local sandbox did not start; see the log above")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving and close the database. Safe to call twice."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        self.service.store.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return (
            f"LocalSandbox({self.base_url or 'not started'}, api_key={mask_key(self.api_key)}, "
            f"db={str(self.db) if self.db else ':memory:'}, {state})"
        )


def run_sandbox(
    *,
    host: str = LOOPBACK,
    port: int = DEFAULT_PORT,
    db: str | Path | None = None,
    api_key: str | None = None,
    profile: str | Path | DashboardProfile | None = None,
    deterministic: bool = False,
    strict_version: bool = False,
    quiet: bool = False,
    sock: socket.socket | None = None,
    webhooks: Sequence[str] = (),
    webhook_secret: str | None = None,
    allow_remote_webhooks: bool = False,
) -> int:
    """Serve a sandbox in the foreground until Ctrl-C or SIGTERM (the ``primer-nb sandbox`` command).

    ``sock``: an already listening socket to serve on instead of binding ``host:port``.
    """
    db_path = Path(db) if db is not None else default_db_path()
    service = build_service(
        api_key=api_key, db=db_path, profile=profile, deterministic=deterministic,
        strict_version=strict_version, webhooks=webhooks, webhook_secret=webhook_secret,
        allow_remote_webhooks=allow_remote_webhooks,
    )  # fmt: skip
    sock = sock if sock is not None else bind(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    keys = f"only the key {mask_key(api_key)}" if api_key else "any non-empty X-Api-Key"
    print(f"primer-nb local sandbox on http://{bound_host}:{bound_port}", flush=True)
    print(f"  sessions in {db_path}; accepts {keys}; Ctrl-C stops it", flush=True)
    endpoints = [endpoint["url"] for endpoint in service.webhooks.endpoints()]
    if endpoints:
        print(f"  webhooks to {', '.join(endpoints)}", flush=True)
    serve(service, sock, quiet=quiet)
    print("primer-nb local sandbox stopped", file=sys.stderr, flush=True)
    return 0


def serve(service: SandboxService, sock: socket.socket, *, quiet: bool) -> None:
    """Serve ``service`` on a listening socket from the main thread until SIGINT or SIGTERM."""
    server = _server(service, quiet=quiet)
    # Everything built so far (app, routes, pydantic schemas) lives as long as the
    # process; freezing it keeps full GC passes under load short (p99 latency).
    gc.collect()
    gc.freeze()
    try:
        server.run(sockets=[sock])
    finally:
        service.store.close()
