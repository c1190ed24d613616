"""The FastAPI application that serves a :class:`SandboxService` over HTTP.

Routes only adapt HTTP to the service: read headers and body, await any
injected latency, turn a :class:`Reply` into a response. Every error, even a
404 for an unknown path or a bug of ours, leaves in Primer's envelope.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel
from starlette.exceptions import HTTPException as StarletteHTTPException

from primer_nb.__about__ import __version__
from primer_nb.sandbox.core.replies import Reply, error_reply
from primer_nb.sandbox.core.service import MAX_BODY_BYTES, SandboxService
from primer_nb.sandbox.serving.admin import admin_body
from primer_nb.sandbox.serving.payment_routes import add_payment_routes
from primer_nb.sandbox.serving.webhooks import add_webhook_routes

__all__ = ["create_app"]

logger = logging.getLogger("primer_nb.sandbox")


class _AdminBody(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, extra="forbid")


class ClockChange(_AdminBody):
    """``POST /_sandbox/clock``: either ``advanceSeconds`` or ``now``."""

    advance_seconds: float | None = None
    now: datetime | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ClockChange:
        if (self.advance_seconds is None) == (self.now is None):
            raise ValueError("send exactly one of advanceSeconds (a number) or now (ISO-8601)")
        return self


class FaultChange(_AdminBody):
    """``POST /_sandbox/faults``."""

    rate: float = Field(ge=0, le=1)
    statuses: list[int] = Field(default_factory=lambda: [503], min_length=1)
    latency_ms: int = Field(0, ge=0, le=60_000)
    seed: int | None = None
    retry_after: int = Field(1, ge=0, le=3600)


def _respond(reply: Reply) -> Response:
    return Response(
        orjson.dumps(reply.body),
        status_code=reply.status,
        headers=reply.headers,
        media_type="application/json",
    )


def create_app(service: SandboxService) -> FastAPI:
    """Build the sandbox's FastAPI app around ``service``."""
    app = FastAPI(
        title="primer-nb local sandbox",
        version=__version__,
        description="A stateful emulator of Primer's Client Session API v2.4.",
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        redoc_url=None,
        # FastAPI's native OpenTelemetry checks its providers on every request; a local emulator
        # emits no telemetry, so it is switched off (older FastAPI keeps the key as an extra).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.service = service
    ids = service.ids

    async def read_body(request: Request) -> bytes | Reply:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return service.too_large()
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return service.too_large()
        return body

    async def gate(request: Request) -> Reply | None:
        """Auth, version and injected faults: what every API call goes through."""
        admission = service.admit(request.headers)
        if admission.latency_ms:
            await asyncio.sleep(admission.latency_ms / 1000)
        return admission.refusal

    async def with_body(request: Request, handle: Callable[[bytes], Reply]) -> Response:
        """Gate the request, read its body within the size limit, hand it to ``handle``."""
        refused = await gate(request)
        if refused:
            return _respond(refused)
        body = await read_body(request)
        return _respond(body if isinstance(body, Reply) else handle(body))

    async def create_client_session(request: Request) -> Response:
        return await with_body(
            request, lambda body: service.create(request.headers, body, str(request.base_url))
        )

    async def retrieve_client_session(request: Request) -> Response:
        refused = await gate(request)
        return _respond(refused or service.retrieve(request.query_params.get("clientToken")))

    async def update_client_session(request: Request) -> Response:
        return await with_body(request, lambda body: service.update(request.headers, body))

    # Plain Starlette routes: they take the raw request, so FastAPI's dependency
    # resolution would only add work to every call on the hot path.
    app.add_route("/client-session", create_client_session, methods=["POST"], include_in_schema=False)
    app.add_route("/client-session", retrieve_client_session, methods=["GET"], include_in_schema=False)
    app.add_route("/client-session", update_client_session, methods=["PATCH"], include_in_schema=False)
    add_payment_routes(app, service, gate=gate, read_body=read_body, with_body=with_body, respond=_respond)

    # ------------------------------------------------------------------ admin routes

    def admin(handler: Any) -> Any:
        async def route(request: Request) -> Response:
            refused = service.check_auth(request.headers)
            if refused:
                return _respond(refused)
            return _respond(Reply(200, handler()))

        return route

    app.add_api_route("/_sandbox/health", admin(service.health), methods=["GET"])
    app.add_api_route("/_sandbox/clock", admin(service.clock_state), methods=["GET"])
    app.add_api_route("/_sandbox/sessions", admin(service.sessions), methods=["GET"])

    @app.post("/_sandbox/clock")
    async def change_clock(request: Request) -> Response:
        change = await admin_body(service, request, ClockChange)
        if isinstance(change, Reply):
            return _respond(change)
        if change.now is not None:
            service.clock.set(change.now)
        else:  # ClockChange holds exactly one of the two
            service.clock.advance(change.advance_seconds or 0)
        return _respond(Reply(200, service.clock_state()))

    @app.post("/_sandbox/faults")
    async def set_faults(request: Request) -> Response:
        change = await admin_body(service, request, FaultChange)
        if isinstance(change, Reply):
            return _respond(change)
        try:
            settings = service.faults.set(
                change.rate, change.statuses, change.latency_ms, change.seed, change.retry_after
            )
        except ValueError as exc:
            return _respond(
                error_reply(
                    ids, 422, "RequestValidationError", str(exc), "Choose statuses among 429, 500-504."
                )
            )
        return _respond(Reply(200, settings.as_json()))

    @app.delete("/_sandbox/faults")
    async def clear_faults(request: Request) -> Response:
        refused = service.check_auth(request.headers)
        if refused:
            return _respond(refused)
        service.faults.clear()
        return _respond(Reply(200, service.faults.settings.as_json()))

    add_webhook_routes(app, service)

    # ------------------------------------------------------------------ errors

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            reply = error_reply(
                ids, 405, "MethodNotAllowed", f"{request.method} is not allowed on {request.url.path}.",
                "The Client Session API has POST, GET and PATCH /client-session.",
            )  # fmt: skip
        else:
            reply = error_reply(
                ids, exc.status_code, "NotFound" if exc.status_code == 404 else "HTTPError",
                f"No route {request.method} {request.url.path}.",
                "The Client Session API lives at /client-session; admin routes under /_sandbox/.",
            )  # fmt: skip
        return _respond(reply)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("sandbox bug on %s %s", request.method, request.url.path)
        return _respond(
            error_reply(
                ids,
                500,
                "InternalServerError",
                "The local sandbox failed unexpectedly (a primer-nb bug).",
                "Please report it with the diagnosticsId; no session was changed.",
            )
        )

    return app
