"""When the client tries a request again, and how long it waits first."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

__all__ = ["RetryPolicy", "retry_after"]


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a request again.

    Retries follow exponential backoff with full jitter (``base × 2^attempt``,
    at most ``cap`` seconds), or the server's ``Retry-After`` when it sends one.

    What is retried, and why creates are treated differently:

    - ``GET`` and ``PATCH`` are safe to repeat (a PATCH sets fields to values;
      sending it twice gives the same session), so they are retried on 429,
      502, 503, 504 and on any connection failure or timeout.
    - ``POST /client-session`` is not idempotent and Primer offers no
      idempotency key for it: a retry after the request reached Primer would
      create a second session with a second token. It is retried only when the
      server said it did not process it (429, 503) or the connection failed
      before the request was sent (connect errors and connect timeouts). A 502,
      a 504 or a read timeout after sending raises instead: the caller decides,
      knowing a session may exist.
    - Every Payments API ``POST`` (create, capture, refund, cancel, authorize,
      adjust-authorization, resume) carries an ``X-Idempotency-Key``: the
      caller's ``idempotency_key=``, else a new UUID4 for that call, sent
      unchanged on each of its retries. Because Primer processes a key once,
      these are retried like a GET (``idempotent=True``) and on 500 too: on
      429, 500, 502, 503, 504, connection failures and timeouts. If the first
      attempt did get through (its answer was lost to a 5xx or a timeout), the
      retry is refused as a replay: 400
      ``TransactionRequestIdempotencyKeyAlreadyExists`` on create, 409
      ``IdempotencyKeyAlreadyExists`` on the actions. After a retry, the
      client reads that refusal as "the first attempt was processed": it GETs
      the payment the refusal names (``paymentId``) and returns it instead of
      raising. On a first attempt the same refusal raises
      :class:`~primer_nb.api.errors.IdempotencyError`: the key was used by an
      earlier call.
    - The checkout's own POSTs (tokenizing a card, the sandbox's 3DS
      authentication) have no key but are harmless to repeat (an unused
      single-use token, a new resume token), so they are retried like a GET.
    """

    max_retries: int = 3
    base: float = 0.25
    cap: float = 8.0
    max_retry_after: float = 60.0

    RETRY_STATUSES = frozenset({429, 502, 503, 504})
    CREATE_RETRY_STATUSES = frozenset({429, 503})
    KEYED_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

    def delay(
        self, method: str, attempt: int, *, status: int | None = None, retry_after: float | None = None,
        sent: bool = True, rng: Callable[[], float] = random.random, idempotent: bool = False,
    ) -> float | None:  # fmt: skip
        """Seconds to wait before attempt ``attempt + 1``, or ``None`` to give up.

        ``idempotent`` marks a POST that is safe to repeat (it carries an
        idempotency key, or repeating it is harmless).
        """
        if attempt >= self.max_retries:
            return None
        post = method.upper() == "POST"
        create = post and not idempotent
        if status is not None:
            if post and idempotent:
                allowed = self.KEYED_RETRY_STATUSES
            else:
                allowed = self.CREATE_RETRY_STATUSES if create else self.RETRY_STATUSES
            if status not in allowed:
                return None
        elif create and sent:
            return None
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return rng() * min(self.cap, self.base * 2**attempt)


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (``Retry-After`` in seconds or as a date), if it did."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            return (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
