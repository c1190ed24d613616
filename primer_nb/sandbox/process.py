"""The local sandbox in a child process, and handles on a sandbox served elsewhere.

:class:`SandboxProcess` is what ``primer_nb.connect()`` starts in a notebook:
the server runs outside the kernel, so FastAPI and uvicorn are never imported
there and the server never competes with notebook code for the kernel's GIL.
The parent binds the loopback socket and hands it to the child, so the URL is
known at once and a request made while the child is still starting waits in
the socket's backlog instead of failing. The child runs in its own session
(a notebook's interrupt does not reach it) and exits when its stdin closes,
so it cannot outlive its parent, even one killed with SIGKILL.

:class:`SandboxHandle` drives any running sandbox (a ``primer-nb sandbox``
server, or one a notebook runner started for its kernel) through the admin
API: ``clock.now()``, ``clock.set()``, ``clock.advance()``, ``faults.set()``,
``faults.clear()``. This module imports neither FastAPI nor the service.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from primer_nb.masking import mask_key
from primer_nb.sandbox.endpoint import LOOPBACK, bind, new_api_key, url_of
from primer_nb.sandbox.faults import FaultSettings

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ENV_KEY",
    "ENV_URL",
    "RemoteClock",
    "RemoteFaults",
    "SandboxAdminError",
    "SandboxHandle",
    "SandboxProcess",
    "from_environment",
]

ENV_URL = "PRIMER_NB_SANDBOX_URL"
"""Environment variable naming a running local sandbox for ``connect()`` to use."""
ENV_KEY = "PRIMER_NB_SANDBOX_KEY"
"""Environment variable holding that sandbox's key (also ``primer-nb sandbox``'s key)."""


class SandboxAdminError(RuntimeError):
    """A sandbox refused an admin request, or could not be reached."""


class _Admin:
    """Calls to a sandbox's ``/_sandbox/`` routes."""

    def __init__(self, base_url: str, api_key: str) -> None:
        import httpx  # imported here so that starting a sandbox does not wait for it

        from primer_nb.tls import tls_context_for

        self._client: httpx.Client = httpx.Client(
            base_url=base_url, headers={"X-Api-Key": api_key, "X-Api-Version": "2.4"}, timeout=30,
            verify=tls_context_for(base_url),
        )  # fmt: skip

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import httpx

        try:
            response = self._client.request(method, path, json=body)
        except httpx.TransportError as exc:
            raise SandboxAdminError(
                f"could not reach the sandbox at {self._client.base_url}: {type(exc).__name__}"
            ) from None
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                detail = f"{error['description']} {error.get('recoverySuggestion') or ''}".strip()
            except (ValueError, KeyError, TypeError):
                detail = response.text[:200]
            raise SandboxAdminError(f"{method} {path} answered {response.status_code}: {detail}")
        return response.json()

    def close(self) -> None:
        self._client.close()


class RemoteClock:
    """A sandbox's clock, read and moved through ``/_sandbox/clock``; same methods as ``SandboxClock``."""

    def __init__(self, admin: _Admin) -> None:
        self._admin = admin

    def now(self) -> datetime:
        """The sandbox's current time, aware UTC."""
        return _instant(self._admin.call("GET", "/_sandbox/clock")["now"])

    @property
    def frozen(self) -> bool:
        """Whether the clock only moves when told to (a deterministic sandbox)."""
        return bool(self._admin.call("GET", "/_sandbox/clock")["frozen"])

    def set(self, when: datetime) -> datetime:
        """Make the clock read ``when`` (naive datetimes are taken as UTC); return it."""
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        return _instant(self._admin.call("POST", "/_sandbox/clock", {"now": when.isoformat()})["now"])

    def advance(self, delta: timedelta | float | int) -> datetime:
        """Move the clock forward (or back, if negative) by seconds or a timedelta; return now."""
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        return _instant(self._admin.call("POST", "/_sandbox/clock", {"advanceSeconds": seconds})["now"])

    def __repr__(self) -> str:
        return "RemoteClock(/_sandbox/clock)"


class RemoteFaults:
    """A sandbox's fault injection, through ``/_sandbox/faults``; same methods as ``FaultInjector``."""

    def __init__(self, admin: _Admin) -> None:
        self._admin = admin

    def set(
        self,
        rate: float = 0.0,
        statuses: list[int] | tuple[int, ...] = (503,),
        latency_ms: int = 0,
        seed: int | None = None,
        retry_after: int = 1,
    ) -> FaultSettings:
        """Replace the fault settings; raise ``ValueError`` for impossible ones."""
        settings = FaultSettings(rate, tuple(statuses), latency_ms, seed, retry_after)
        self._admin.call("POST", "/_sandbox/faults", settings.as_json())
        return settings

    def clear(self) -> None:
        """Stop injecting faults."""
        self._admin.call("DELETE", "/_sandbox/faults")

    def __repr__(self) -> str:
        return "RemoteFaults(/_sandbox/faults)"


class SandboxHandle:
    """A running sandbox served elsewhere, driven through its admin API.

    >>> sandbox = SandboxHandle("http://127.0.0.1:8787", "my-key")   # doctest: +SKIP
    >>> sandbox.clock.advance(timedelta(hours=25))                    # doctest: +SKIP
    """

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self._admin_client: _Admin | None = None

    @property
    def _admin(self) -> _Admin:
        if self._admin_client is None:
            self._admin_client = _Admin(self.base_url, self.api_key)
        return self._admin_client

    @property
    def clock(self) -> RemoteClock:
        """The sandbox's clock: ``now()``, ``set(dt)``, ``advance(seconds_or_timedelta)``."""
        return RemoteClock(self._admin)

    @property
    def faults(self) -> RemoteFaults:
        """Fault injection: ``set(rate=, statuses=, latency_ms=, seed=)`` and ``clear()``."""
        return RemoteFaults(self._admin)

    @property
    def running(self) -> bool:
        """Whether the sandbox answers its health check."""
        try:
            self._admin.call("GET", "/_sandbox/health")
        except SandboxAdminError:
            return False
        return True

    def health(self) -> dict[str, Any]:
        """``GET /_sandbox/health``: status, API version, session count, the sandbox's time."""
        return dict(self._admin.call("GET", "/_sandbox/health"))

    def sessions(self) -> list[dict[str, Any]]:
        """``GET /_sandbox/sessions``: the stored sessions, tokens masked."""
        return list(self._admin.call("GET", "/_sandbox/sessions"))

    def close(self) -> None:
        """Close the admin connection (the sandbox keeps running)."""
        if self._admin_client is not None:
            self._admin_client.close()
            self._admin_client = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url}, api_key={mask_key(self.api_key)})"


class SandboxProcess(SandboxHandle):
    """A local sandbox served by a child process on a free loopback port.

    Same options as :class:`~primer_nb.sandbox.server.LocalSandbox`; the clock
    and faults are driven over HTTP, so only the child imports the server.

    >>> with SandboxProcess(deterministic=True) as sandbox:          # doctest: +SKIP
    ...     client = PrimerClient(sandbox.api_key, base_url=sandbox.base_url)
    """

    def __init__(
        self,
        api_key: str | None = None,
        db: str | Path | None = None,
        profile: str | Path | None = None,
        deterministic: bool = False,
        *,
        lenient_version: bool = False,
    ) -> None:
        super().__init__("", api_key or new_api_key(deterministic))
        self.db = db
        self.deterministic = deterministic
        self._options = {
            "db": str(db) if db is not None else None,
            "profile": str(profile) if profile is not None else None,
            "deterministic": deterministic,
            "lenientVersion": lenient_version,
        }
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the child process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The child's process id, while it runs."""
        return self._process.pid if self.running and self._process is not None else None

    def start(self, *, wait: bool = True, timeout: float = 15.0) -> SandboxProcess:
        """Start the child (no-op if running); with ``wait``, return once it answers."""
        if self.running:
            return self
        sock = bind(LOOPBACK, 0)
        try:
            self.base_url = url_of(sock)
            self._process = subprocess.Popen(
                [sys.executable, "-m", "primer_nb.sandbox.child"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, pass_fds=[sock.fileno()],
                start_new_session=True,
            )  # fmt: skip
            stdin = self._process.stdin
            if stdin is None:  # pragma: no cover - stdin=PIPE always gives one
                raise RuntimeError("no pipe to the sandbox process")
            # The key travels over the pipe, never on the command line where `ps` shows it.
            config = {**self._options, "fd": sock.fileno(), "apiKey": self.api_key}
            stdin.write(json.dumps(config).encode() + b"\n")
            stdin.flush()
        finally:
            sock.close()  # the child holds it now; if the child dies, connections are refused
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Block until the child answers its health check; raise ``RuntimeError`` if it cannot."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running:
                status = self._process.returncode if self._process is not None else None
                raise RuntimeError(f"the local sandbox process exited with status {status}; see its stderr")
            try:
                self._admin.call("GET", "/_sandbox/health")
                return
            except SandboxAdminError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the local sandbox did not answer within {timeout:g} s") from None
                time.sleep(0.02)

    def stop(self, *, wait: bool = True, timeout: float = 10.0) -> None:
        """Stop the child: close its stdin (it then shuts down cleanly).

        With ``wait``, block until it has exited; without, a daemon thread reaps
        it, so it leaves no zombie and the caller does not wait for its shutdown.
        """
        self.close()
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None and not process.stdin.closed:
            with contextlib.suppress(OSError):  # the child already went away
                process.stdin.close()
        if not wait:
            threading.Thread(target=process.wait, name="primer-nb-sandbox-reaper", daemon=True).start()
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def environment(self) -> dict[str, str]:
        """Environment variables that make ``connect()`` in another process use this sandbox."""
        return {ENV_URL: self.base_url, ENV_KEY: self.api_key}

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"running, pid {self.pid}" if self.running else "stopped"
        return (
            f"SandboxProcess({self.base_url or 'not started'}, api_key={mask_key(self.api_key)}, "
            f"db={self._options['db'] or ':memory:'}, {state})"
        )


def from_environment() -> SandboxHandle | None:
    """A handle on the sandbox named by ``$PRIMER_NB_SANDBOX_URL``, if set."""
    url = os.environ.get(ENV_URL)
    if not url:
        return None
    return SandboxHandle(url, os.environ.get(ENV_KEY) or "local-sandbox")


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
