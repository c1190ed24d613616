"""Accept every waiting connection at once, on event loops that would take one per turn.

libuv, under uvloop, accepts one connection per event-loop iteration, and under
load an iteration lasts as long as the requests it runs. So when a client opens
32 connections together (a load test, ``create_many`` at concurrency 32), the
last one waits 32 busy iterations, hundreds of milliseconds, before its first
request is even read. asyncio's own loop accepts up to a backlog's worth per
iteration; :class:`BurstAcceptor` gives uvloop the same behaviour by accepting
from the listening socket itself and handing each connection to the loop.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable

__all__ = ["BurstAcceptor", "accepts_one_per_iteration"]

logger = logging.getLogger("primer_nb.sandbox")

# What asyncio does: one wake-up accepts at most this many, then lets requests run.
MAX_ACCEPTS_PER_WAKEUP = 128
# Out of file descriptors: stop accepting for a moment rather than spin.
RETRY_DELAY = 1.0
_TRANSIENT = {errno.ECONNABORTED, errno.EPROTO, errno.ENOBUFS, errno.ENOMEM}


def accepts_one_per_iteration(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` is one whose servers accept a single connection per iteration (uvloop)."""
    return type(loop).__module__.partition(".")[0] == "uvloop"


class BurstAcceptor:
    """Accept connections on a listening socket and serve each with ``protocol_factory``.

    Call :meth:`start` on the loop's thread; :meth:`close` stops accepting and
    leaves the socket (and connections already made) to their owner.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
    ) -> None:
        self._loop = loop
        self._sock = sock
        self._factory = protocol_factory
        self._connecting: set[asyncio.Task[object]] = set()
        self._retry: asyncio.TimerHandle | None = None
        self._reading = False

    def start(self) -> None:
        """Begin accepting (the socket is switched to non-blocking)."""
        self._sock.setblocking(False)
        self._loop.add_reader(self._sock.fileno(), self._accept_waiting)
        self._reading = True

    def close(self) -> None:
        """Stop accepting new connections (idempotent)."""
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._reading:
            self._loop.remove_reader(self._sock.fileno())
            self._reading = False

    def _accept_waiting(self) -> None:
        for _ in range(MAX_ACCEPTS_PER_WAKEUP):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _TRANSIENT:
                    continue  # the client gave up while queued; the next one may be fine
                logger.warning("sandbox cannot accept connections (%s); retrying in %.0f s", exc, RETRY_DELAY)
                self.close()
                self._retry = self._loop.call_later(RETRY_DELAY, self.start)
                return
            conn.setblocking(False)
            task = self._loop.create_task(self._connect(conn))
            self._connecting.add(task)
            task.add_done_callback(self._connecting.discard)

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._factory, conn)
        except OSError as exc:  # the peer reset before the transport was made
            logger.debug("dropped a connection while setting it up: %s", exc)
            conn.close()
