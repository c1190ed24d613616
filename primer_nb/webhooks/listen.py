"""``primer-nb listen``: receive a sandbox's webhooks in a terminal, one line per delivery.

Like Stripe's ``stripe listen``: start it beside a running ``primer-nb sandbox``
and every delivery prints as it arrives (verified or not, and what was
answered); with ``--forward-to`` each verified delivery is passed on, unchanged,
to your own endpoint and its answer goes back to the sandbox.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from primer_nb.api.errors import WebhookSignatureError
from primer_nb.api.webhooks import ReceivedDelivery, WebhookEvent, parse_event
from primer_nb.webhooks.receiver import start_receiver

__all__ = ["delivery_line", "listen"]


def delivery_line(delivery: ReceivedDelivery) -> str:
    """One line for a delivery: time, event, payment and status, attempt, verification, answer, event id.

    A refused delivery still shows what its body claims, marked ``REJECTED``.
    """
    event: WebhookEvent | None = delivery.event
    if event is None:
        try:
            event = parse_event(delivery.body)
        except WebhookSignatureError:
            event = None
    when = delivery.received_at.strftime("%Y-%m-%d %H:%M:%S")
    kind = delivery.event_type or "?"
    payment = (event.payment_id if event is not None else None) or "-"
    status = (event.payment_status if event is not None else None) or "-"
    attempt = f"attempt {delivery.attempt}" if delivery.attempt else "attempt ?"
    if delivery.verified:
        check = "verified"
    else:
        reason = (delivery.error or "not verified").removeprefix("webhook rejected ")
        check = f"REJECTED {reason.split(':')[0]}"
    answer = f"-> {delivery.status}"
    if delivery.forwarded_status is not None or (delivery.verified and delivery.status == 502):
        answer += f" (forwarded: {delivery.forwarded_status or 'no answer'})"
    event_id = f"[{delivery.event_id}]" if delivery.event_id else ""
    return f"{when}  {kind:<16} {payment}  {status:<10} {attempt}  {check}  {answer}  {event_id}".rstrip()


def listen(
    sandbox: Any,
    *,
    port: int = 0,
    forward_to: str | None = None,
    events: Sequence[str] | None = None,
    out: TextIO | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Receive ``sandbox``'s webhooks and print one line each until Ctrl-C, SIGTERM or ``stop``; return 0.

    The receiver registers itself with the sandbox on start and unregisters
    on the way out.
    """
    stream = out if out is not None else sys.stdout
    done = stop if stop is not None else threading.Event()

    def show(delivery: ReceivedDelivery) -> None:
        print(delivery_line(delivery), file=stream, flush=True)

    receiver = start_receiver(
        sandbox,
        port=port,
        events=events,
        forward_to=forward_to,
        on_delivery=show,
        description="primer-nb listen",
    )
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        target = f"; forwarding to {forward_to}" if forward_to else ""
        print(
            f"Ready: webhooks from {sandbox.base_url} arrive at {receiver.url}{target} (Ctrl-C stops)",
            file=stream, flush=True,
        )  # fmt: skip
        while not done.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    print("stopped listening; the receiver is unregistered", file=stream, flush=True)
    return 0
