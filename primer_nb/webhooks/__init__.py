"""Receiving webhooks: verify a delivery, read it as a typed event, run a receiver in a notebook.

=====================  ==========================================================
``verify``             check a delivery's signature and age; return its event
``parse_event``        a webhook body as a typed event (no verification)
``WebhookReceiver``    a small local HTTP server that verifies and collects
``start_receiver``     start one and register it with a local sandbox, in one line
``listen``             what ``primer-nb listen`` runs: one printed line per delivery
=====================  ==========================================================

Verification and the event models live in the domain core
(:mod:`primer_nb.api.webhooks`) and are re-exported here; the receiver loads
on first use.
"""

from typing import TYPE_CHECKING

from primer_nb._lazy import lazy_getattr
from primer_nb.api.errors import WebhookSignatureError
from primer_nb.api.webhooks import (
    DisputeOpenedEvent,
    DisputeStatusEvent,
    EventType,
    PaymentEvent,
    PaymentOperationFailedEvent,
    PaymentRefundEvent,
    PaymentStatusEvent,
    ReceivedDelivery,
    WebhookEvent,
    WorkflowRunFailedEvent,
    parse_event,
    sign,
    verify,
)

_LAZY = {
    "WebhookReceiver": "primer_nb.webhooks.receiver",
    "listen": "primer_nb.webhooks.listen",
    "start_receiver": "primer_nb.webhooks.receiver",
}

if TYPE_CHECKING:
    from primer_nb.webhooks.listen import listen
    from primer_nb.webhooks.receiver import WebhookReceiver, start_receiver

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = [
    "DisputeOpenedEvent",
    "DisputeStatusEvent",
    "EventType",
    "PaymentEvent",
    "PaymentOperationFailedEvent",
    "PaymentRefundEvent",
    "PaymentStatusEvent",
    "ReceivedDelivery",
    "WebhookEvent",
    "WebhookReceiver",
    "WebhookSignatureError",
    "WorkflowRunFailedEvent",
    "listen",
    "parse_event",
    "sign",
    "start_receiver",
    "verify",
]
