"""Where a sandbox listens and which key it takes: shared by the thread and process servers.

Kept free of FastAPI, uvicorn and the service, so a notebook kernel can start a
sandbox process without importing them.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import warnings
from types import TracebackType
from typing import Any, Self

__all__ = ["DETERMINISTIC_KEY", "LOOPBACK", "Served", "bind", "new_api_key", "url_of", "warn_if_exposed"]

LOOPBACK = "127.0.0.1"
# A deterministic sandbox gets a fixed key too, so even its masked form never varies.
DETERMINISTIC_KEY = "local_deterministic_sandbox_key"


def new_api_key(deterministic: bool = False) -> str:
    """A key for a local sandbox: random, or fixed for a deterministic one."""
    return DETERMINISTIC_KEY if deterministic else f"local_{secrets.token_urlsafe(18)}"


def warn_if_exposed(host: str) -> bool:
    """Warn (and return ``True``) when ``host`` is not a loopback address."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        warnings.warn(
            f"the sandbox is listening on {host}, reachable from other machines; "
            "it has no real security, keep it on 127.0.0.1 unless you mean it",
            stacklevel=3,
        )
    return not loopback


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0 picks a free one)."""
    warn_if_exposed(host)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://host:port`` of a bound socket."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


class Served:
    """A sandbox that is started and stopped: ``with`` starts it and stops it afterwards."""

    def start(self) -> Any:
        """Start serving; return ``self``."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop serving."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
