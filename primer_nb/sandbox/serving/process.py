"""The local sandbox in a child process: :class:`SandboxProcess`.

It is what ``primer_nb.connect()`` starts in a notebook: the server runs
outside the kernel, so FastAPI and uvicorn are never imported there and the
server never competes with notebook code for the kernel's GIL. The parent
binds the loopback socket and hands it to the child, so the URL is known at
once and a request made while the child is still starting waits in the
socket's backlog instead of failing. The child runs in its own session (a
notebook's interrupt does not reach it) and exits when its stdin closes, so it
cannot outlive its parent, even one killed with SIGKILL. This module imports
neither FastAPI nor the service.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from primer_nb.api.errors import PrimerError, SandboxStartError
from primer_nb.api.masking import mask_key
from primer_nb.config.settings import ENV_SANDBOX_KEY, ENV_SANDBOX_URL
from primer_nb.sandbox.core.webhooks import check_endpoint_url
from primer_nb.sandbox.serving.endpoint import LOOPBACK, Served, bind, new_api_key, url_of
from primer_nb.sandbox.serving.handle import SandboxHandle

__all__ = ["SandboxProcess"]


class SandboxProcess(SandboxHandle, Served):
    """A local sandbox served by a child process on a free loopback port.

    Same options as :class:`~primer_nb.sandbox.serving.server.LocalSandbox`; the clock
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
        strict_version: bool = False,
        webhooks: Sequence[str] = (),
        webhook_secret: str | None = None,
        allow_remote_webhooks: bool = False,
    ) -> None:
        super().__init__("", api_key or new_api_key(deterministic))
        self.db = db
        self.deterministic = deterministic
        for url in webhooks:  # refused here, not by a child that then fails to start
            check_endpoint_url(url, allow_remote=allow_remote_webhooks)
        self._options = {
            "db": str(db) if db is not None else None,
            "profile": str(profile) if profile is not None else None,
            "deterministic": deterministic,
            "strictVersion": strict_version,
            "webhooks": list(webhooks),
            "allowRemoteWebhooks": allow_remote_webhooks,
        }
        self._webhook_secret = webhook_secret
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
                [sys.executable, "-m", "primer_nb.sandbox.serving.child"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, pass_fds=[sock.fileno()],
                start_new_session=True,
            )  # fmt: skip
            stdin = self._process.stdin
            if stdin is None:  # pragma: no cover - stdin=PIPE always gives one
                raise SandboxStartError("no pipe to the sandbox process")
            # Secrets travel over the pipe, never on the command line where `ps` shows them.
            config = {
                **self._options, "fd": sock.fileno(), "apiKey": self.api_key,
                "webhookSecret": self._webhook_secret,
            }  # fmt: skip
            stdin.write(json.dumps(config).encode() + b"\n")
            stdin.flush()
        finally:
            sock.close()  # the child holds it now; if the child dies, connections are refused
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Block until the child answers its health check; raise :class:`SandboxStartError` if it cannot."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running:
                status = self._process.returncode if self._process is not None else None
                raise SandboxStartError(
                    f"the local sandbox process exited with status {status}; see its stderr"
                )
            try:
                self._admin.call("GET", "/_sandbox/health")
                return
            except PrimerError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise SandboxStartError(
                        f"the local sandbox did not answer within {timeout:g} s"
                    ) from None
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
        return {ENV_SANDBOX_URL: self.base_url, ENV_SANDBOX_KEY: self.api_key}

    def __repr__(self) -> str:
        state = f"running, pid {self.pid}" if self.running else "stopped"
        return (
            f"SandboxProcess({self.base_url or 'not started'}, api_key={mask_key(self.api_key)}, "
            f"db={self._options['db'] or ':memory:'}, {state})"
        )
