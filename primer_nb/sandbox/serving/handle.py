"""Handles on a running sandbox: its clock, faults and state through the admin API.

:class:`SandboxHandle` drives any running sandbox (a ``primer-nb sandbox``
server, or one a notebook runner started for its kernel) through its
``/_sandbox/`` routes: ``clock.now()``, ``clock.set()``, ``clock.advance()``,
``faults.set()``, ``faults.clear()``, ``webhooks.add_endpoint()`` and the rest
of the webhook controls, ``webhook_secret``. Failures raise the kit's own errors:
:class:`~primer_nb.api.errors.PrimerConnectionError` when it cannot be
reached, a :class:`~primer_nb.api.errors.PrimerAPIError` when it refuses.
This module imports neither FastAPI nor the sandbox's service.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from primer_nb.api.errors import PrimerConnectionError, PrimerError, error_from_response
from primer_nb.api.masking import mask_key
from primer_nb.api.protocol import API_KEY_HEADER, API_VERSION, API_VERSION_HEADER
from primer_nb.api.timestamps import as_utc
from primer_nb.api.webhooks import EventType
from primer_nb.config.settings import ENV_SANDBOX_KEY, ENV_SANDBOX_URL, LOCAL_SANDBOX_KEY
from primer_nb.sandbox.core.faults import FaultControls, FaultSettings
from primer_nb.sandbox.core.webhooks import WebhookControls, WebhookFaultSettings

if TYPE_CHECKING:
    import httpx

__all__ = ["RemoteClock", "RemoteFaults", "RemoteWebhooks", "SandboxHandle", "from_environment"]


class _Admin:
    """Calls to a sandbox's ``/_sandbox/`` routes; errors are the kit's own (:class:`PrimerError`)."""

    def __init__(self, base_url: str, api_key: str) -> None:
        import httpx  # imported here so that starting a sandbox does not wait for it

        from primer_nb.config.tls import tls_context_for

        self._client: httpx.Client = httpx.Client(
            base_url=base_url, headers={API_KEY_HEADER: api_key, API_VERSION_HEADER: API_VERSION},
            timeout=30, verify=tls_context_for(base_url),
        )  # fmt: skip

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Send one admin request; return its JSON or raise the matching :class:`PrimerError`."""
        import httpx

        try:
            response = self._client.request(method, path, json=body)
        except httpx.TransportError as exc:
            raise PrimerConnectionError(
                f"could not reach the sandbox at {self._client.base_url}: {type(exc).__name__}"
            ) from None
        try:
            payload: Any = response.json()
        except ValueError:
            payload = response.text
        if response.status_code >= 400:
            raise error_from_response(response.status_code, payload, method=method, url=path)
        return payload

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
        when = as_utc(when)
        return _instant(self._admin.call("POST", "/_sandbox/clock", {"now": when.isoformat()})["now"])

    def advance(self, delta: timedelta | float | int) -> datetime:
        """Move the clock forward (or back, if negative) by seconds or a timedelta; return now."""
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        return _instant(self._admin.call("POST", "/_sandbox/clock", {"advanceSeconds": seconds})["now"])

    def __repr__(self) -> str:
        return "RemoteClock(/_sandbox/clock)"


class RemoteFaults(FaultControls):
    """A sandbox's fault injection, through ``/_sandbox/faults``; same methods as ``FaultInjector``."""

    def __init__(self, admin: _Admin) -> None:
        self._admin = admin

    def _apply(self, settings: FaultSettings) -> None:
        if settings == FaultSettings():
            self._admin.call("DELETE", "/_sandbox/faults")
        else:
            self._admin.call("POST", "/_sandbox/faults", settings.as_json())

    def __repr__(self) -> str:
        return "RemoteFaults(/_sandbox/faults)"


class RemoteWebhooks(WebhookControls):
    """A sandbox's webhooks, through ``/_sandbox/webhooks``; same methods as ``WebhookDispatcher``."""

    _BASE = "/_sandbox/webhooks"

    def __init__(self, admin: _Admin) -> None:
        self._admin = admin

    def endpoints(self) -> list[dict[str, Any]]:
        """The registered endpoints."""
        return list(self._admin.call("GET", f"{self._BASE}/endpoints"))

    def add_endpoint(
        self, url: str, description: str | None = None, events: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """Register ``url`` (for ``events``, default all); registering a URL again returns it unchanged."""
        body: dict[str, Any] = {"url": url, "description": description}
        if events is not None:
            body["events"] = [EventType(e).value for e in events]
        return dict(self._admin.call("POST", f"{self._BASE}/endpoints", body))

    def remove_endpoint(self, endpoint: str) -> dict[str, Any]:
        """Unregister an endpoint (its id or URL) and cancel its pending deliveries."""
        if "/" in endpoint:
            return dict(self._admin.call("DELETE", f"{self._BASE}/endpoints?url={quote(endpoint, safe='')}"))
        return dict(self._admin.call("DELETE", f"{self._BASE}/endpoints/{quote(endpoint, safe='')}"))

    def log(self, event_id: str | None = None, payment_id: str | None = None) -> dict[str, Any]:
        """``{"deliveries": [...], "attempts": [...]}``, optionally for one event or payment."""
        query = {k: v for k, v in (("eventId", event_id), ("paymentId", payment_id)) if v is not None}
        suffix = "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items()) if query else ""
        return dict(self._admin.call("GET", f"{self._BASE}{suffix}"))

    def resend(self, event_id: str, endpoint: str | None = None) -> dict[str, Any]:
        """Deliver an event again (same event id), to every endpoint or one."""
        path = f"{self._BASE}/{quote(event_id, safe='')}/resend"
        return dict(self._admin.call("POST", path, {"endpoint": endpoint}))

    def trigger(
        self,
        event_type: str = EventType.PAYMENT_STATUS,
        *,
        payment_id: str | None = None,
        payment: Mapping[str, Any] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Raise a new event for a payment (by id, or given whole), with fields overridden."""
        body = {
            "eventType": EventType(event_type).value, "paymentId": payment_id,
            "payment": dict(payment) if payment is not None else None,
            "overrides": dict(overrides) if overrides is not None else None,
        }  # fmt: skip
        return dict(self._admin.call("POST", f"{self._BASE}/trigger", body))

    def secret_state(self) -> dict[str, Any]:
        """The signing secret, and the previous one while it still signs ``X-Signature-Secondary``."""
        return dict(self._admin.call("GET", f"{self._BASE}/secret"))

    def rotate_secret(self, secret: str | None = None) -> dict[str, Any]:
        """Replace the signing secret (random unless given); the old one signs Secondary for 24 h."""
        return dict(self._admin.call("POST", f"{self._BASE}/secret/rotate", {"secret": secret}))

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Replace the delivery fault settings (see :class:`WebhookFaultSettings`)."""
        return dict(
            self._admin.call("POST", f"{self._BASE}/faults", WebhookFaultSettings(**settings).as_json())
        )

    def clear_faults(self) -> dict[str, Any]:
        """Stop injecting delivery faults."""
        return dict(self._admin.call("DELETE", f"{self._BASE}/faults"))

    def idle(self) -> bool:
        """Whether every delivery due on the sandbox clock has been attempted and its result recorded."""
        return bool(self._admin.call("GET", f"{self._BASE}/idle")["idle"])

    def __repr__(self) -> str:
        return "RemoteWebhooks(/_sandbox/webhooks)"


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
    def webhooks(self) -> RemoteWebhooks:
        """Webhooks: ``add_endpoint``, ``log``, ``resend``, ``trigger``, ``rotate_secret``, ``set_faults``."""
        return RemoteWebhooks(self._admin)

    @property
    def webhook_secret(self) -> str:
        """The secret the sandbox signs webhooks with (a local test secret)."""
        return self.webhooks.secret

    @property
    def running(self) -> bool:
        """Whether the sandbox answers its health check."""
        try:
            self._admin.call("GET", "/_sandbox/health")
        except PrimerError:
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


def from_environment() -> SandboxHandle | None:
    """A handle on the sandbox named by ``$PRIMER_NB_SANDBOX_URL``, if set."""
    url = os.environ.get(ENV_SANDBOX_URL)
    if not url:
        return None
    return SandboxHandle(url, os.environ.get(ENV_SANDBOX_KEY) or LOCAL_SANDBOX_KEY)


def _instant(text: str) -> datetime:
    return as_utc(datetime.fromisoformat(text))
