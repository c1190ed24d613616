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
    """

    max_retries: int = 3
    base: float = 0.25
    cap: float = 8.0
    max_retry_after: float = 60.0

    RETRY_STATUSES = frozenset({429, 502, 503, 504})
    CREATE_RETRY_STATUSES = frozenset({429, 503})

    def delay(
        self, method: str, attempt: int, *, status: int | None = None, retry_after: float | None = None,
        sent: bool = True, rng: Callable[[], float] = random.random,
    ) -> float | None:  # fmt: skip
        """Seconds to wait before attempt ``attempt + 1``, or ``None`` to give up."""
        if attempt >= self.max_retries:
            return None
        create = method.upper() == "POST"
        if status is not None:
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
