"""Webhooks on the wire: the HTTP sender, the delivery worker, and the ``/_sandbox/webhooks`` admin routes.

The worker runs beside the server, never on a request: it asks the
:class:`~primer_nb.sandbox.core.webhooks.WebhookDispatcher` for what is due,
posts each attempt from a small thread pool (one attempt at a time per
endpoint), and reports the result back. It wakes when an event is recorded,
when the sandbox clock moves and when an attempt ends, and otherwise sleeps
until the next retry falls due.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from primer_nb.api.webhooks import DELIVERY_TIMEOUT, EventType
from primer_nb.sandbox.core.replies import Reply, error_reply
from primer_nb.sandbox.core.service import SandboxService
from primer_nb.sandbox.core.webhooks import Claim, Sender, SendResult, WebhookDispatcher
from primer_nb.sandbox.serving.admin import admin_body

__all__ = ["DeliveryWorker", "HttpSender", "add_webhook_routes"]

logger = logging.getLogger("primer_nb.sandbox")


class HttpSender:
    """Posts one attempt with httpx: no redirects followed, no proxies from the environment, 10 s timeout.

    A redirect is an answer outside 2xx, so it fails the attempt (as Primer
    documents) and never takes a delivery to another address.
    """

    def __init__(self) -> None:
        self._client = httpx.Client(
            follow_redirects=False, trust_env=False, timeout=DELIVERY_TIMEOUT,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
        )  # fmt: skip

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> SendResult:
        """POST ``body`` to ``url``; the status, the latency in ms, and what went wrong if no answer came."""
        start = time.perf_counter()
        try:
            response = self._client.post(url, content=body, headers=dict(headers), timeout=timeout)
        except httpx.TimeoutException:
            return SendResult(None, _ms(start), f"no answer within {timeout:g} s")
        except httpx.HTTPError as exc:
            return SendResult(
                None, _ms(start), f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            )
        return SendResult(response.status_code, _ms(start))

    def close(self) -> None:
        """Close the connections."""
        self._client.close()


def _ms(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


class DeliveryWorker:
    """Delivers what falls due, off the request path, until stopped: each attempt in a thread of its own.

    Parameters
    ----------
    dispatcher:
        The sandbox's webhooks.
    send:
        Performs one attempt (default: an :class:`HttpSender`).
    concurrency:
        Attempts in flight at once (each to a different endpoint).
    poll:
        Longest sleep between looks, in seconds, whatever the clock says.
    """

    def __init__(
        self,
        dispatcher: WebhookDispatcher,
        send: Sender | None = None,
        *,
        concurrency: int = 4,
        poll: float = 1.0,
    ) -> None:
        self.dispatcher = dispatcher
        self._own_sender = send is None
        self._send: Sender = send if send is not None else HttpSender()
        self._concurrency = concurrency
        self._poll = poll
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._in_flight = 0
        self._count_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> DeliveryWorker:
        """Start the worker thread; return ``self``."""
        self.dispatcher.add_waker(self._wake.set)
        self._thread = threading.Thread(target=self._run, name="primer-nb-webhooks", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop looking, abandon attempts still out (they are made again at the next start), return."""
        self._stopping.set()
        self._wake.set()
        self.dispatcher.remove_waker(self._wake.set)
        self.dispatcher.close()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._own_sender and isinstance(self._send, HttpSender):
            self._send.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                with self._count_lock:
                    free = self._concurrency - self._in_flight
                for claim in self.dispatcher.claim_due(limit=free) if free > 0 else []:
                    with self._count_lock:
                        self._in_flight += 1
                    # Daemon threads: an attempt still waiting on a silent endpoint never holds up an exit.
                    threading.Thread(
                        target=self._attempt, args=(claim,), name="primer-nb-webhook-attempt", daemon=True
                    ).start()
                wait = self._sleep()
            except Exception:
                if self._stopping.is_set():
                    return
                logger.exception("the webhook worker failed to look for due deliveries")
                wait = self._poll
            self._wake.wait(wait)

    def _sleep(self) -> float:
        """Seconds until the next delivery is due, at most ``poll`` (a frozen clock moves only on a wake)."""
        due = self.dispatcher.next_due()
        clock = self.dispatcher.clock
        if due is None or clock.frozen:
            return self._poll
        wait = (due - clock.now()).total_seconds()
        # Due already, yet not taken: its endpoint has an attempt out, whose end wakes the worker.
        return self._poll if wait <= 0 else min(self._poll, wait)

    def _attempt(self, claim: Claim) -> None:
        try:
            try:
                result = self._send(claim.url, claim.body, claim.headers, self.dispatcher.timeout)
            except Exception as exc:  # a sender must not raise; if it does, the attempt failed
                result = SendResult(None, 0, f"{type(exc).__name__}: {exc}")
            if not self._stopping.is_set():
                self.dispatcher.complete(claim, result)
        finally:
            with self._count_lock:
                self._in_flight -= 1
            self._wake.set()


# ----------------------------------------------------------------------------- admin routes


class _Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, extra="forbid")


class EndpointBody(_Body):
    """``POST /_sandbox/webhooks/endpoints``."""

    url: str = Field(min_length=1, max_length=2048)
    description: str | None = Field(None, max_length=255)
    events: list[EventType] | None = None


class TriggerBody(_Body):
    """``POST /_sandbox/webhooks/trigger``: the event, the payment (by id or whole), overrides."""

    event_type: EventType = EventType.PAYMENT_STATUS
    payment_id: str | None = None
    payment: dict[str, Any] | None = None
    overrides: dict[str, Any] | None = None


class ResendBody(_Body):
    """``POST /_sandbox/webhooks/{eventId}/resend``: optionally one endpoint (id or URL)."""

    endpoint: str | None = None


class RotateBody(_Body):
    """``POST /_sandbox/webhooks/secret/rotate``: optionally the new secret."""

    secret: str | None = Field(None, min_length=8, max_length=255)


class WebhookFaultBody(_Body):
    """``POST /_sandbox/webhooks/faults``: rates from 0 to 1, delays in seconds, a seed."""

    drop: float = Field(0.0, ge=0, le=1)
    duplicate: float = Field(0.0, ge=0, le=1)
    delay: float = Field(0.0, ge=0, le=1)
    out_of_order: float = Field(0.0, ge=0, le=1)
    stale_signature: float = Field(0.0, ge=0, le=1)
    delay_seconds: float = Field(120.0, ge=0, le=86_400)
    hold_seconds: float = Field(60.0, ge=0, le=86_400)
    seed: int | None = None


def _respond(reply: Reply) -> Response:
    return Response(orjson.dumps(reply.body), status_code=reply.status, media_type="application/json")


def add_webhook_routes(app: FastAPI, service: SandboxService) -> None:
    """Add the ``/_sandbox/webhooks`` admin routes for ``service``'s webhooks to ``app``."""
    webhooks = service.webhooks
    ids = service.ids

    def not_found(what: str, value: str) -> Reply:
        return error_reply(
            ids, 404, "NotFound", f"No webhook {what} {value!r} in this sandbox.",
            "List them with GET /_sandbox/webhooks (events) or GET /_sandbox/webhooks/endpoints.",
        )  # fmt: skip

    def invalid(problem: str, fix: str) -> Reply:
        return error_reply(ids, 422, "RequestValidationError", problem, fix)

    def route(handler: Callable[..., Any], model: type[BaseModel] | None, fix: str) -> Any:
        """An admin route: auth, body, then ``handler``; its errors become Primer-style envelopes."""

        async def endpoint(request: Request) -> Response:
            if model is None:
                refused = service.check_auth(request.headers)
                if refused:
                    return _respond(refused)
                body: Any = None
            else:
                body = await admin_body(service, request, model)
                if isinstance(body, Reply):
                    return _respond(body)
            try:
                result = handler(request, body)
            except ValueError as exc:
                return _respond(invalid(str(exc), fix))
            except KeyError as exc:
                name = request.path_params.get("event_id") or request.query_params.get("url") or exc.args[0]
                return _respond(not_found("event, endpoint or payment", str(name)))
            except LookupError as exc:
                return _respond(invalid(str(exc), 'Send the payment object in the body: {"payment": {...}}.'))
            return _respond(result if isinstance(result, Reply) else Reply(200, result))

        return endpoint

    def add(
        path: str,
        method: str,
        handler: Callable[..., Any],
        model: type[BaseModel] | None = None,
        fix: str = "See the routes and their bodies at GET /_sandbox/docs.",
    ) -> None:
        app.add_api_route(path, route(handler, model, fix), methods=[method])

    def log(request: Request, _: None) -> Any:
        query = request.query_params
        return webhooks.log(query.get("eventId"), query.get("paymentId"))

    def add_endpoint(_: Request, body: EndpointBody) -> Any:
        events = [e.value for e in body.events] if body.events is not None else None
        return webhooks.add_endpoint(body.url, body.description, events)

    def remove_endpoint(request: Request, _: None) -> Any:
        target = request.path_params.get("endpoint_id") or request.query_params.get("url")
        if not target:
            return invalid(
                "name the endpoint: /endpoints/{id}, or ?url=…", "GET /_sandbox/webhooks/endpoints"
            )
        return webhooks.remove_endpoint(target)

    def trigger(_: Request, body: TriggerBody) -> Any:
        return webhooks.trigger(
            body.event_type, payment_id=body.payment_id, payment=body.payment, overrides=body.overrides
        )

    def resend(request: Request, body: ResendBody) -> Any:
        return webhooks.resend(request.path_params["event_id"], body.endpoint)

    def event(request: Request, _: None) -> Any:
        return webhooks.event(request.path_params["event_id"])

    base = "/_sandbox/webhooks"
    add(base, "GET", log)
    add(f"{base}/endpoints", "GET", lambda *_: webhooks.endpoints())
    add(
        f"{base}/endpoints", "POST", add_endpoint, EndpointBody,
        "Use a URL on this machine (http://127.0.0.1:PORT/path), or start the sandbox with "
        "--allow-remote-webhooks (allow_remote_webhooks=True).",
    )  # fmt: skip
    add(f"{base}/endpoints", "DELETE", remove_endpoint)
    add(f"{base}/endpoints/{{endpoint_id}}", "DELETE", remove_endpoint)
    add(f"{base}/secret", "GET", lambda *_: webhooks.secret_state())
    add(f"{base}/secret/rotate", "POST", lambda _, body: webhooks.rotate_secret(body.secret), RotateBody)
    add(f"{base}/faults", "GET", lambda *_: webhooks.faults.as_json())
    add(f"{base}/faults", "POST", lambda _, body: webhooks.set_faults(**body.model_dump()), WebhookFaultBody)
    add(f"{base}/faults", "DELETE", lambda *_: webhooks.clear_faults())
    add(f"{base}/idle", "GET", lambda *_: {"idle": webhooks.idle()})
    add(f"{base}/trigger", "POST", trigger, TriggerBody)
    add(f"{base}/events/{{event_id}}", "GET", event)
    add(f"{base}/{{event_id}}/resend", "POST", resend, ResendBody)
