"""The checkout's own API: the calls Primer's SDKs make with a client token, not the API key.

A checkout decodes ``accessToken`` and the URLs from the client token, reads
``GET {configurationUrl}``, tokenizes a card with ``POST
{pciUrl}/payment-instruments`` and pays with ``POST {pciUrl}/payments``, each
with the header ``primer-client-token: <accessToken>`` (checkout-sdk-api
notes §2-§6; Primer's example server ``primer-io/checkout-web``). The
sandbox's tokens name these URLs under :data:`CHECKOUT_PREFIX`.

:class:`CheckoutService` answers those calls; payments go through the same
:class:`~primer_nb.sandbox.core.payments.PaymentService` as the server-side
API. A card number and CVV are used to decide the card's public data and its
sandbox scenario, then dropped: nothing stores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from primer_nb.api import money
from primer_nb.api.cards import card_scenario, expiry_problem, public_card
from primer_nb.api.checkout_warnings import DashboardProfile
from primer_nb.api.envelope import FieldError
from primer_nb.api.errors import PrimerValidationError
from primer_nb.api.payment import (
    CheckoutPaymentRequest,
    PaymentCreateRequest,
    ResumeRequest,
    ThreeDSAuthRequest,
    TokenizeRequest,
    parse_body,
)
from primer_nb.api.payment_rules import checkout_body
from primer_nb.api.protocol import CHECKOUT_TOKEN_HEADER
from primer_nb.api.session import DEFAULT_CARD_NETWORKS
from primer_nb.sandbox.core.clock import SandboxClock
from primer_nb.sandbox.core.payment_store import StoredToken
from primer_nb.sandbox.core.payments import PaymentService
from primer_nb.sandbox.core.replies import IdSource, Reply
from primer_nb.sandbox.core.store import SessionStore, StoredSession
from primer_nb.sandbox.core.tokens import CHECKOUT_PREFIX

__all__ = ["CHECKOUT_HEADER", "CHECKOUT_PREFIX", "PAYMENT_METHODS", "CheckoutService"]

CHECKOUT_HEADER = CHECKOUT_TOKEN_HEADER
"""The header every checkout call carries: the client token's ``accessToken``."""

PAYMENT_METHODS = {
    "PAYMENT_CARD": ("Payment card", "NATIVE_SDK"),
    "APPLE_PAY": ("Apple Pay", "NATIVE_SDK"),
    "GOOGLE_PAY": ("Google Pay", "NATIVE_SDK"),
    "PAYPAL": ("PayPal", "NATIVE_SDK"),
    "KLARNA": ("Klarna", "NATIVE_SDK"),
    "ADYEN_IDEAL": ("iDEAL", "WEB_REDIRECT"),
}
"""Payment methods a dashboard profile can enable: display name and the SDK's implementation type."""

CACHE_TTL_SECONDS = 0
"""``x-primer-session-cache-ttl``: the sandbox's configuration changes with the session, so no caching."""


@dataclass
class CheckoutService:
    """Answers the checkout's calls for the sessions and payments of one sandbox."""

    sessions: SessionStore
    payments: PaymentService
    clock: SandboxClock
    ids: IdSource
    profile: DashboardProfile

    # ------------------------------------------------------------------ authentication

    def authenticate(self, headers: Mapping[str, str]) -> StoredSession | Reply:
        """The session whose ``accessToken`` the request carries, or the 401 a checkout would get."""
        access_token = headers.get(CHECKOUT_HEADER, "")
        stored = self.sessions.get(access_token) if access_token else None
        if stored is None:
            problem = "is missing" if not access_token else "is not the accessToken of any client session"
            return self.payments.error(
                401, "InvalidClientToken", f"The {CHECKOUT_HEADER} header {problem}.",
                "Send the accessToken claim of a client token from POST /client-session in the "
                f"{CHECKOUT_HEADER} header.",
            )  # fmt: skip
        if self.clock.now() >= stored.expires_at:
            return self.payments.error(
                401, "ExpiredClientToken", "The client token has expired (tokens live 24 hours).",
                "Create a new client session and start the checkout again with its clientToken; "
                "never cache client tokens.",
            )  # fmt: skip
        return stored

    def _caller_and_body(
        self, model: Any, headers: Mapping[str, str], body: bytes
    ) -> tuple[Any, Any] | Reply:
        """The session behind the access token and the parsed body, or the reply refusing either."""
        stored = self.authenticate(headers)
        if isinstance(stored, Reply):
            return stored
        request = self._body(model, headers, body)
        return request if isinstance(request, Reply) else (stored, request)

    def _body(self, model: Any, headers: Mapping[str, str], body: bytes) -> Any:
        content_type = headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return self.payments.error(
                415, "UnsupportedMediaType",
                f"The body must be JSON, but Content-Type is {content_type or 'missing'!r}.",
                "Send the header Content-Type: application/json.",
            )  # fmt: skip
        try:
            return parse_body(model, body or b"{}")
        except PrimerValidationError as exc:
            return self.payments.invalid(exc.errors, exc.model)

    # ------------------------------------------------------------------ configuration

    def configuration(self, headers: Mapping[str, str], base_url: str) -> Reply:
        """``GET {configurationUrl}``: URLs, enabled payment methods and the client session."""
        stored = self.authenticate(headers)
        if isinstance(stored, Reply):
            return stored
        base = base_url.rstrip("/")
        pci = f"{base}{CHECKOUT_PREFIX}"
        three_ds = "THREE_DS" in self.profile.enabled
        methods = []
        for kind in self.profile.enabled:
            if kind not in PAYMENT_METHODS:
                continue
            name, implementation = PAYMENT_METHODS[kind]
            method: dict[str, Any] = {
                "id": f"sandbox-{kind.lower().replace('_', '-')}",
                "type": kind,
                "name": name,
                "implementationType": implementation,
                "processorConfigId": "sandbox-processor",
            }
            if kind == "PAYMENT_CARD":
                method["options"] = {"threeDSecureEnabled": three_ds, "threeDSecureProvider": "SANDBOX"}
            methods.append(method)
        body = {
            "pciUrl": pci,
            "coreUrl": base,
            "binDataUrl": f"{pci}/bin-data",
            "assetsUrl": f"{pci}/assets",
            "env": "SANDBOX",
            "primerAccountId": "primer-nb-sandbox",
            "paymentMethods": methods,
            "checkoutModules": [],
            "clientSession": client_session(stored),
        }
        return Reply(200, body, {"x-primer-session-cache-ttl": str(CACHE_TTL_SECONDS)})

    # ------------------------------------------------------------------ cards

    def tokenize(self, headers: Mapping[str, str], body: bytes) -> Reply:
        """``POST {pciUrl}/payment-instruments``: a single-use token for a card, and its public data."""
        checked = self._caller_and_body(TokenizeRequest, headers, body)
        if isinstance(checked, Reply):
            return checked
        stored, request = checked
        if request.token_type == "MULTI_USE" or request.payment_flow == "VAULT":  # noqa: S105 - not a secret
            return self.payments.error(
                422, "RequestValidationError", "The sandbox does not emulate vaulting payment methods.",
                "Leave tokenType and paymentFlow out to get a single-use token.",
            )  # fmt: skip
        card = request.payment_instrument
        today = self.clock.now().date()
        problem = expiry_problem(int(card.expiration_month), int(card.expiration_year), today)
        if problem:
            return self._expired(problem, today)
        public = public_card(
            card.number,
            card.expiration_month,
            card.expiration_year,
            card.cardholder_name,
            card.preferred_network,
        )
        scenario = card_scenario(card.number)
        instrument = {
            "tokenType": "SINGLE_USE",
            "analyticsId": self.ids.code(24),
            "paymentInstrumentType": "PAYMENT_CARD",
            "isVaulted": False,
            "paymentInstrumentData": public.payment_method_data(),
            "threeDSecureAuthentication": {"responseCode": "NOT_PERFORMED"},
        }
        token = self.ids.code(32)
        self.payments.add_token(StoredToken(token, stored.id, self.clock.now(), instrument, scenario))
        return Reply(200, {"token": token, **instrument})

    def _expired(self, problem: str, today: date) -> Reply:
        field = "expirationMonth" if "month must" in problem else "expirationYear"
        error = FieldError(f"$.paymentInstrument.{field}", problem, "expired")
        reply = self.payments.invalid([error], "TokenizeRequest")
        reply.body["error"]["description"] = f"The card cannot be used on {today.isoformat()}: {problem}."
        return reply

    # ------------------------------------------------------------------ payments

    def create_payment(self, headers: Mapping[str, str], body: bytes, base_url: str) -> Reply:
        """``POST {pciUrl}/payments``: pay with a token made under this session."""
        checked = self._caller_and_body(CheckoutPaymentRequest, headers, body)
        if isinstance(checked, Reply):
            return checked
        stored, request = checked
        created = self.payments.create_payment(
            PaymentCreateRequest(payment_method_token=request.payment_method_token),
            headers.get("x-idempotency-key"),
            base_url,
            session_id=stored.id,
        )
        return created if isinstance(created, Reply) else Reply(200, checkout_body(created))

    def resume(self, headers: Mapping[str, str], payment_id: str, body: bytes) -> Reply:
        """``POST {pciUrl}/payments/{id}/resume``: go on after 3DS, as the SDK does."""
        checked = self._caller_and_body(ResumeRequest, headers, body)
        if isinstance(checked, Reply):
            return checked
        stored, request = checked
        result = self.payments.apply(
            "resume", payment_id, request, headers.get("x-idempotency-key"), session_id=stored.id
        )
        return result if isinstance(result, Reply) else Reply(200, checkout_body(result))

    def three_ds_auth(self, headers: Mapping[str, str], payment_method_token: str, body: bytes) -> Reply:
        """``POST {pciUrl}/3ds/{token}/auth``: the shopper's challenge, done; answers the resume token."""
        checked = self._caller_and_body(ThreeDSAuthRequest, headers, body)
        if isinstance(checked, Reply):
            return checked
        stored, request = checked
        resume_token = self.payments.challenge(payment_method_token, stored.id, request.challenge_result)
        if isinstance(resume_token, Reply):
            return resume_token
        return Reply(
            200,
            {
                "token": payment_method_token,
                "resumeToken": resume_token,
                "authentication": {
                    "responseCode": request.challenge_result,
                    "protocolVersion": "2.2.0",
                    "challengeIssued": True,
                },
            },
        )

    def validate_token(self, headers: Mapping[str, str]) -> Reply:
        """``POST {pciUrl}/client-token/validate``: Android checks a requiredAction's token with it."""
        stored = self.authenticate(headers)
        return stored if isinstance(stored, Reply) else Reply(200, {"success": True})


def client_session(stored: StoredSession) -> dict[str, Any]:
    """The session as the checkout's configuration carries it (``clientSession``)."""
    state = stored.state
    order = dict(state.get("order") or {})
    amount = money.session_amount(state.get("amount"), state.get("order"))
    order_body: dict[str, Any] = {
        key: value
        for key, value in {
            "orderId": state.get("orderId"),
            "currencyCode": state.get("currencyCode"),
            "merchantAmount": state.get("amount"),
            "totalOrderAmount": amount,
            "countryCode": order.get("countryCode"),
            "lineItems": order.get("lineItems"),
            "fees": order.get("fees"),
            "shipping": order.get("shipping"),
        }.items()
        if value is not None
    }
    method = dict(state.get("paymentMethod") or {})
    body: dict[str, Any] = {
        "clientSessionId": stored.id,
        "orderId": state.get("orderId"),
        "currencyCode": state.get("currencyCode"),
        "amount": amount,
        "customerId": state.get("customerId"),
        "order": order_body,
        "customer": {
            **({"customerId": state["customerId"]} if state.get("customerId") else {}),
            **(state.get("customer") or {}),
        },
        "paymentMethod": {
            "vaultOnSuccess": bool(method.get("vaultOnSuccess", False)),
            "orderedAllowedCardNetworks": method.get("orderedAllowedCardNetworks")
            or list(DEFAULT_CARD_NETWORKS),
            "options": _method_options(method.get("options") or {}),
        },
    }
    return {key: value for key, value in body.items() if value is not None}


def _method_options(options: Mapping[str, Any]) -> list[dict[str, Any]]:
    # The configuration lists options as [{type, surcharge}] and, for cards, per network.
    listed: list[dict[str, Any]] = []
    for kind, option in options.items():
        if kind == "PAYMENT_CARD":
            networks = [
                {"type": network, "surcharge": ((value or {}).get("surcharge") or {}).get("amount", 0)}
                for network, value in ((option or {}).get("networks") or {}).items()
            ]
            listed.append({"type": kind, "networks": networks})
        elif isinstance(option, Mapping) and "surcharge" in option:
            listed.append({"type": kind, "surcharge": (option.get("surcharge") or {}).get("amount", 0)})
    return listed
