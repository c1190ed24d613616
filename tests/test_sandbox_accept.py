"""Connections opened together are all accepted before any request is run."""

from __future__ import annotations

import asyncio
import errno
import socket

import pytest
import uvloop

from primer_nb.sandbox.serving import accept
from primer_nb.sandbox.serving.accept import BurstAcceptor, accepts_one_per_iteration

CLIENTS = 16


class Recorder(asyncio.Protocol):
    """Logs connection and data events; each request keeps the loop busy, as a real one does."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.events.append("made")

    def data_received(self, data: bytes) -> None:
        self.events.append("data")
        self.transport.write(b"ok")  # type: ignore[attr-defined]


def listening_socket(cls: type[socket.socket] = socket.socket) -> socket.socket:
    sock = cls(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


async def serve_waiting_clients(sock: socket.socket, events: list[str]) -> list[socket.socket]:
    """Queue ``CLIENTS`` connections, each with a request, then let an acceptor serve them."""
    clients = []
    for _ in range(CLIENTS):
        client = socket.create_connection(sock.getsockname())
        client.sendall(b"ping")
        clients.append(client)
    acceptor = BurstAcceptor(asyncio.get_running_loop(), sock, lambda: Recorder(events))
    acceptor.start()
    try:
        for _ in range(200):
            if events.count("data") == CLIENTS:
                break
            await asyncio.sleep(0.01)
    finally:
        acceptor.close()
    return clients


@pytest.mark.parametrize("runner", [uvloop.run, asyncio.run], ids=["uvloop", "asyncio"])
def test_every_waiting_connection_is_accepted_before_requests_run(runner):
    events: list[str] = []
    with listening_socket() as sock:
        clients = runner(serve_waiting_clients(sock, events))
    try:
        assert events.count("made") == CLIENTS and events.count("data") == CLIENTS
        # All connections were made in one go, not one per loop turn between requests.
        assert events[:CLIENTS] == ["made"] * CLIENTS
        for client in clients:
            assert client.recv(2) == b"ok"
    finally:
        for client in clients:
            client.close()


def test_only_uvloop_needs_the_burst_acceptor():
    assert accepts_one_per_iteration(uvloop.new_event_loop())
    loop = asyncio.new_event_loop()
    try:
        assert not accepts_one_per_iteration(loop)
    finally:
        loop.close()


class OutOfDescriptors(socket.socket):
    """A listening socket whose first accept fails as if the process had no file descriptors left."""

    failures = 1

    def accept(self):  # type: ignore[override]
        if self.failures:
            self.failures -= 1
            raise OSError(errno.EMFILE, "Too many open files")
        return super().accept()


def test_running_out_of_descriptors_pauses_accepting_then_resumes(monkeypatch, caplog):
    monkeypatch.setattr(accept, "RETRY_DELAY", 0.05)
    events: list[str] = []
    with listening_socket(OutOfDescriptors) as sock:
        clients = uvloop.run(serve_waiting_clients(sock, events))
    for client in clients:
        client.close()
    assert events.count("made") == CLIENTS
    assert "cannot accept connections" in caplog.text and "retrying" in caplog.text


def test_closing_stops_accepting():
    async def scenario() -> list[str]:
        events: list[str] = []
        with listening_socket() as sock:
            acceptor = BurstAcceptor(asyncio.get_running_loop(), sock, lambda: Recorder(events))
            acceptor.start()
            acceptor.close()
            acceptor.close()
            with socket.create_connection(sock.getsockname()) as client:
                client.sendall(b"ping")
                await asyncio.sleep(0.1)
        return events

    assert uvloop.run(scenario()) == []
