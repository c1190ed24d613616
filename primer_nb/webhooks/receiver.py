"""A webhook receiver a notebook starts in one line: a small HTTP server that verifies and collects.

>>> receiver = start_receiver(client)            # doctest: +SKIP
>>> receiver.wait_for(1)                          # doctest: +SKIP
[PaymentStatusEvent(event_type='PAYMENT.STATUS', ...)]

:class:`WebhookReceiver` serves on a free loopback port from a daemon thread
of the kernel (the standard library's ``ThreadingHTTPServer``: nothing to
install, nothing that outlives the kernel). Every delivery is verified with
the signing secret and kept, with what was answered; switches make it fail
on purpose so the sandbox's retries can be watched. :func:`start_receiver`
also registers it with a sandbox, with the sandbox's secret, and unregisters
it when stopped.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Protocol, Self

from primer_nb.api.errors import PrimerError, PrimerTimeoutError, WebhookSignatureError
from primer_nb.api.webhooks import DEFAULT_TOLERANCE, ReceivedDelivery, WebhookEvent, parse_event, verify

if TYPE_CHECKING:
    from primer_nb.sandbox.core.webhooks import WebhookControls

__all__ = ["MAX_BODY", "WebhookReceiver", "start_receiver"]

LOOPBACK = "127.0.0.1"
MAX_BODY = 5 * 1024 * 1024
"""Largest body accepted; anything larger is answered 413."""

_FORWARDED = ("content-type", "user-agent", "x-signature-primary", "x-signature-secondary")
_POLL = 0.02
"""Seconds the server thread waits between looks for a stop request (how long ``stop()`` may take)."""


class _Clock(Protocol):
    def now(self) -> datetime:
        """The current instant."""
        ...


class _SandboxWithWebhooks(Protocol):
    @property
    def webhooks(self) -> WebhookControls:
        """The sandbox's webhook controls."""
        ...

    @property
    def clock(self) -> _Clock:
        """The sandbox's clock."""
        ...


class WebhookReceiver:
    """Receives webhooks on ``url``: verifies each delivery, collects events, answers as told.

    Parameters
    ----------
    secret:
        The signing secret (or several, e.g. during a rotation); ``None``
        accepts deliveries unverified and marks them so.
    port, path:
        Where to listen on 127.0.0.1 (port 0: a free one).
    tolerance:
        The replay window for ``signedAt``, in seconds (``None``: no check).
    forward_to:
        A URL to pass each verified delivery on to (body and signature headers
        unchanged); its status becomes the answer, so its failures are retried.
    on_delivery:
        Called with each :class:`~primer_nb.api.webhooks.ReceivedDelivery` once answered.
    clock:
        What ``received_at`` is read from (default: this machine's clock).
    """

    def __init__(
        self,
        secret: str | Sequence[str] | None,
        *,
        port: int = 0,
        path: str = "/webhooks",
        tolerance: float | None = DEFAULT_TOLERANCE,
        forward_to: str | None = None,
        on_delivery: Callable[[ReceivedDelivery], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.secrets: list[str] = (
            [] if secret is None else [secret] if isinstance(secret, str) else list(secret)
        )
        self.path = path if path.startswith("/") else f"/{path}"
        self.tolerance = tolerance
        self.forward_to = forward_to
        self.on_delivery = on_delivery
        self._clock = clock
        self._port = port
        self._deliveries: list[ReceivedDelivery] = []
        self._changed = threading.Condition()
        self._fail_next: list[int] = []
        self._respond_with: int | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._forwarder: Any = None
        self._registration: tuple[WebhookControls, str] | None = None
        self.endpoint: dict[str, Any] | None = None
        """The sandbox's record of this receiver, once :func:`start_receiver` registered it."""

    # ------------------------------------------------------------------ life

    @property
    def url(self) -> str:
        """Where the sandbox should post: ``http://127.0.0.1:PORT/webhooks``."""
        if self._server is None:
            raise PrimerError("the receiver is not started: call start() first")
        return f"http://{LOOPBACK}:{self._server.server_address[1]}{self.path}"

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> Self:
        """Start serving (no-op if running); return ``self``."""
        if self.running:
            return self
        self._server = ThreadingHTTPServer((LOOPBACK, self._port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": _POLL},
            name="primer-nb-webhook-receiver", daemon=True,
        )  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        """Unregister from the sandbox (if :func:`start_receiver` registered it) and stop serving."""
        registration, self._registration = self._registration, None
        if registration is not None:
            webhooks, endpoint_id = registration
            # The sandbox may be gone already (stopped, its database closed): nothing left to undo.
            with contextlib.suppress(Exception):
                webhooks.remove_endpoint(endpoint_id)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._forwarder is not None:
            self._forwarder.close()
            self._forwarder = None
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ switches

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """Answer the next ``count`` deliveries with ``status`` (verified or not), to see them retried."""
        with self._changed:
            self._fail_next.extend([status] * count)

    def respond_with(self, status: int | None) -> None:
        """Answer every delivery with ``status`` from now on (``None``: back to verifying normally)."""
        with self._changed:
            self._respond_with = status

    def refresh_secret(self) -> None:
        """Verify with the sandbox's current secret from now on (after it was rotated)."""
        if self._registration is None:
            raise PrimerError(
                "this receiver was not registered by start_receiver: set receiver.secrets instead"
            )
        self.secrets = [self._registration[0].secret]

    def clear(self) -> None:
        """Forget the deliveries received so far."""
        with self._changed:
            self._deliveries.clear()

    # ------------------------------------------------------------------ what came

    @property
    def deliveries(self) -> list[ReceivedDelivery]:
        """Every delivery received, in arrival order, whatever was answered."""
        with self._changed:
            return list(self._deliveries)

    @property
    def events(self) -> list[WebhookEvent]:
        """The events accepted (verified, unless there is no secret, and answered 2xx), each once."""
        return [
            d.event for d in _accepted(self.deliveries, verified=bool(self.secrets)) if d.event is not None
        ]

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[WebhookEvent]:
        """Block until at least ``count`` events were accepted; return them all.

        Raises :class:`~primer_nb.api.errors.PrimerTimeoutError` after
        ``timeout`` seconds, saying how many came (and how many were refused).
        """
        self._wait(lambda: len(self.events) >= count, timeout, f"{count} event(s)")
        return self.events

    def wait_for_deliveries(self, count: int = 1, timeout: float = 10.0) -> list[ReceivedDelivery]:
        """Block until at least ``count`` deliveries arrived (accepted or not); return them all."""
        self._wait(lambda: len(self._deliveries) >= count, timeout, f"{count} deliveries")
        return self.deliveries

    def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        with self._changed:
            if not self._changed.wait_for(done, timeout):
                refused = sum(not d.acknowledged for d in self._deliveries)
                raise PrimerTimeoutError(
                    f"waited {timeout:g} s for {what}: {len(self._deliveries)} deliveries came, "
                    f"{refused} answered with a failure; is the receiver registered with the sandbox "
                    "(start_receiver), and is the sandbox's clock frozen with retries pending?"
                )

    # ------------------------------------------------------------------ handling

    def _now(self) -> datetime:
        if self._clock is not None:
            try:
                return self._clock()
            except (PrimerError, OSError):
                pass  # the sandbox went away: the machine's clock still says when it came
        return datetime.now(UTC)

    def _receive(self, body: bytes, headers: dict[str, str]) -> ReceivedDelivery:
        """Verify one delivery, decide the answer, forward it if asked; record it."""
        received_at = self._now()
        event: WebhookEvent | None = None
        error: str | None = None
        verified = False
        if self.secrets:
            try:
                event = verify(body, headers, self.secrets, tolerance=self.tolerance)
                verified = True
            except WebhookSignatureError as exc:
                error = str(exc)
        else:
            with contextlib.suppress(WebhookSignatureError):
                event = parse_event(body)
            error = "not verified: the receiver has no secret"
        forced = self._forced_status()
        forwarded: int | None = None
        if forced is not None:
            status = forced
        elif self.secrets and not verified:
            status = 400
        elif self.forward_to:
            forwarded = self._forward(body, headers)
            status = forwarded if forwarded is not None else 502
        else:
            status = 200
        return ReceivedDelivery(received_at, body, headers, verified, status, event, error, forwarded)

    def _forced_status(self) -> int | None:
        with self._changed:
            if self._fail_next:
                return self._fail_next.pop(0)
            return self._respond_with

    def _forward(self, body: bytes, headers: Mapping[str, str]) -> int | None:
        import httpx

        if self._forwarder is None:
            self._forwarder = httpx.Client(timeout=10, follow_redirects=False, trust_env=False)
        sent = {
            k: v
            for k, v in headers.items()
            if k.lower() in _FORWARDED or k.lower().startswith("x-primer-nb-")
        }
        try:
            return int(self._forwarder.post(self.forward_to, content=body, headers=sent).status_code)
        except httpx.HTTPError:
            return None

    def _record(self, delivery: ReceivedDelivery) -> None:
        with self._changed:
            self._deliveries.append(delivery)
            self._changed.notify_all()

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"WebhookReceiver({where}, {len(self._deliveries)} deliveries, {len(self.events)} events)"


def _accepted(deliveries: list[ReceivedDelivery], *, verified: bool = True) -> list[ReceivedDelivery]:
    """Acknowledged (and, if ``verified``, verified) deliveries, the first of each event only."""
    seen: set[str] = set()
    kept = []
    for delivery in deliveries:
        if not delivery.acknowledged or (verified and not delivery.verified):
            continue
        key = delivery.dedup_key()
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        kept.append(delivery)
    return kept


def _handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "primer-nb-receiver"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms wait between them
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            if self.path.split("?")[0] != receiver.path:
                self._answer(404, b'{"error":"no such path"}')
                return
            length = self.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > MAX_BODY:
                self._answer(413 if length.isdigit() else 411, b"{}")
                return
            body = self.rfile.read(int(length))
            delivery = receiver._receive(body, dict(self.headers.items()))
            receiver._record(delivery)  # before answering: whoever got the answer finds it recorded
            self._answer(delivery.status, b'{"received":true}' if delivery.acknowledged else b"{}")
            if receiver.on_delivery is not None:
                receiver.on_delivery(delivery)

        def do_GET(self) -> None:
            text = f'{{"deliveries":{len(receiver.deliveries)},"events":{len(receiver.events)}}}'
            self._answer(200, text.encode())

        def _answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep the kernel's output clean: deliveries are recorded, not logged."""

    return Handler


def _sandbox_of(target: Any) -> _SandboxWithWebhooks:
    """The sandbox behind ``target``: a client given a sandbox, or a sandbox (thread, process, handle)."""
    sandbox = getattr(target, "sandbox", None) if not hasattr(target, "webhooks") else target
    if sandbox is None or not hasattr(sandbox, "webhooks"):
        raise PrimerError(
            "start_receiver needs a local sandbox: a client from primer_nb.connect() with no PRIMER_API_KEY, "
            "or a LocalSandbox, SandboxProcess or SandboxHandle; Primer's own sandbox sends webhooks only "
            "to the public URL set in its dashboard"
        )
    return sandbox


def start_receiver(
    target: Any,
    *,
    port: int = 0,
    path: str = "/webhooks",
    events: Sequence[str] | None = None,
    description: str | None = "primer-nb receiver",
    tolerance: float | None = DEFAULT_TOLERANCE,
    forward_to: str | None = None,
    on_delivery: Callable[[ReceivedDelivery], None] | None = None,
) -> WebhookReceiver:
    """Start a :class:`WebhookReceiver` and register it with the sandbox behind ``target``.

    ``target`` is a client connected to a local sandbox, or the sandbox itself.
    The receiver verifies with the sandbox's current signing secret, reads
    times from the sandbox's clock, and unregisters itself on ``stop()``.
    ``events`` limits which event types it is sent (default: all).
    """
    sandbox = _sandbox_of(target)
    webhooks = sandbox.webhooks
    secret = webhooks.secret
    receiver = WebhookReceiver(
        secret, port=port, path=path, tolerance=tolerance, forward_to=forward_to, on_delivery=on_delivery,
        clock=sandbox.clock.now,
    ).start()  # fmt: skip
    try:
        endpoint = webhooks.add_endpoint(receiver.url, description, events)
    except BaseException:
        receiver.stop()
        raise
    receiver._registration = (webhooks, str(endpoint["id"]))
    receiver.endpoint = endpoint
    return receiver
