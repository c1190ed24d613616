"""HTTP routes of the Payments API and of the checkout's own calls, added to the sandbox's app.

Like the Client Session routes, these are plain Starlette routes that only
adapt HTTP to the framework-free services
(:class:`~primer_nb.sandbox.core.payments.PaymentService`,
:class:`~primer_nb.sandbox.core.checkout.CheckoutService`):

- ``/payments…`` take the API key and version like every server-side call;
- ``/_checkout/…`` (the client token's ``pciUrl``) take ``primer-client-token``;
- ``/_sandbox/payments/settings`` (admin) shows and changes the payment workflow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from primer_nb.api.payment import ACTIONS
from primer_nb.sandbox.core.replies import Reply
from primer_nb.sandbox.core.service import SandboxService
from primer_nb.sandbox.core.tokens import CHECKOUT_PREFIX
from primer_nb.sandbox.serving.admin import admin_body

__all__ = ["PaymentSettingsChange", "add_payment_routes"]

Gate = Callable[[Request], Awaitable[Reply | None]]
ReadBody = Callable[[Request], Awaitable[bytes | Reply]]
WithBody = Callable[[Request, Callable[[bytes], Reply]], Awaitable[Response]]
Respond = Callable[[Reply], Response]


class PaymentSettingsChange(BaseModel):
    """``POST /_sandbox/payments/settings``: any of the workflow settings."""

    model_config = ConfigDict(alias_generator=to_camel, validate_by_name=True, extra="forbid")

    settlement_delay_seconds: float | None = Field(None, ge=0, le=30 * 24 * 3600)
    authorize_on_create: bool | None = None


def add_payment_routes(
    app: FastAPI,
    service: SandboxService,
    *,
    gate: Gate,
    read_body: ReadBody,
    with_body: WithBody,
    respond: Respond,
) -> None:
    """Add the Payments API, the checkout's calls and the payments admin routes to ``app``."""
    payments, checkout = service.payments, service.checkout

    # ------------------------------------------------------------------ server side (X-Api-Key)

    async def create_payment(request: Request) -> Response:
        base_url = str(request.base_url)
        return await with_body(request, lambda body: payments.create(request.headers, body, base_url))

    async def search_payments(request: Request) -> Response:
        refused = await gate(request)
        return respond(refused or payments.search(request.query_params.multi_items()))

    async def get_payment(request: Request) -> Response:
        refused = await gate(request)
        payment_id = request.path_params["payment_id"]
        return respond(refused or payments.retrieve(payment_id, request.query_params.getlist("expand")))

    def action_route(action: str) -> Callable[[Request], Awaitable[Response]]:
        async def route(request: Request) -> Response:
            payment_id = request.path_params["payment_id"]
            return await with_body(
                request, lambda body: payments.act(action, payment_id, request.headers, body)
            )

        return route

    app.add_route("/payments", create_payment, methods=["POST"], include_in_schema=False)
    app.add_route("/payments", search_payments, methods=["GET"], include_in_schema=False)
    app.add_route("/payments/{payment_id}", get_payment, methods=["GET"], include_in_schema=False)
    for action in ACTIONS:
        app.add_route(
            f"/payments/{{payment_id}}/{action}",
            action_route(action),
            methods=["POST"],
            include_in_schema=False,
        )

    # ------------------------------------------------------------------ checkout side (client token)

    async def ungated_body(request: Request, handle: Callable[[bytes], Reply]) -> Response:
        body = await read_body(request)
        return respond(body if isinstance(body, Reply) else handle(body))

    async def configuration(request: Request) -> Response:
        return respond(checkout.configuration(request.headers, str(request.base_url)))

    async def tokenize(request: Request) -> Response:
        return await ungated_body(request, lambda body: checkout.tokenize(request.headers, body))

    async def checkout_payment(request: Request) -> Response:
        base_url = str(request.base_url)
        return await ungated_body(
            request, lambda body: checkout.create_payment(request.headers, body, base_url)
        )

    async def checkout_resume(request: Request) -> Response:
        payment_id = request.path_params["payment_id"]
        return await ungated_body(request, lambda body: checkout.resume(request.headers, payment_id, body))

    async def three_ds_auth(request: Request) -> Response:
        token = request.path_params["token"]
        return await ungated_body(request, lambda body: checkout.three_ds_auth(request.headers, token, body))

    async def validate_token(request: Request) -> Response:
        return await ungated_body(request, lambda _: checkout.validate_token(request.headers))

    async def analytics(request: Request) -> Response:
        # The SDKs' analytics: read (within the size limit) and dropped.
        body = await read_body(request)
        return respond(body if isinstance(body, Reply) else Reply(200, {}))

    prefix = CHECKOUT_PREFIX
    for path in (f"{prefix}/configuration", f"{prefix}/configuration/"):
        app.add_route(path, configuration, methods=["GET"], include_in_schema=False)
    checkout_routes = (
        ("/payment-instruments", tokenize),
        ("/payments", checkout_payment),
        ("/payments/{payment_id}/resume", checkout_resume),
        ("/3ds/{token}/auth", three_ds_auth),
        ("/client-token/validate", validate_token),
        ("/analytics", analytics),
    )
    for path, handler in checkout_routes:
        app.add_route(f"{prefix}{path}", handler, methods=["POST"], include_in_schema=False)

    # ------------------------------------------------------------------ admin

    async def payment_settings(request: Request) -> Response:
        if request.method == "GET":
            refused = service.check_auth(request.headers)
            if refused:
                return respond(refused)
        else:
            change = await admin_body(service, request, PaymentSettingsChange)
            if isinstance(change, Reply):
                return respond(change)
            if change.settlement_delay_seconds is not None:
                payments.settings.settlement_delay = timedelta(seconds=change.settlement_delay_seconds)
            if change.authorize_on_create is not None:
                payments.settings.authorize_on_create = change.authorize_on_create
        return respond(Reply(200, payments.settings.as_json()))

    app.add_route("/_sandbox/payments/settings", payment_settings, methods=["GET", "POST"])
