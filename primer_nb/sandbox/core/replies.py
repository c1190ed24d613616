"""Replies before any web framework sees them, and the ids that go in them."""

from __future__ import annotations

import random
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from primer_nb.api.envelope import error_envelope

__all__ = ["IdSource", "Reply", "error_reply"]

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class Reply:
    """An HTTP reply: status, JSON body, extra headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class IdSource:
    """Session ids and diagnostics ids: random, or reproducible from a seed."""

    def __init__(self, seed: int | None = None) -> None:
        self._random: random.Random = random.Random(seed) if seed is not None else secrets.SystemRandom()
        self._lock = threading.Lock()

    def session_id(self) -> str:
        """A UUID4 for a new session (the token's ``accessToken``)."""
        with self._lock:
            return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def uuid(self) -> str:
        """A UUID4 (transaction event ids, resume tokens)."""
        return self.session_id()

    def code(self, length: int = 8) -> str:
        """A random string of letters and digits (payment ids, payment method tokens)."""
        with self._lock:
            value = self._random.getrandbits(6 * length)
        chars = []
        for _ in range(length):
            value, digit = divmod(value, len(_ALPHABET))
            chars.append(_ALPHABET[digit])
        return "".join(chars)

    def diagnostics_id(self) -> str:
        """A ten-digit diagnostics id, like those in Primer's examples."""
        with self._lock:
            return str(self._random.randrange(10**9, 10**10))


def error_reply(
    ids: IdSource,
    status: int,
    error_id: str,
    description: str,
    recovery: str | None,
    *,
    validation_errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """An error reply in Primer's envelope with a fresh ``diagnosticsId``."""
    body = error_envelope(error_id, description, ids.diagnostics_id(), recovery, validation_errors)
    return Reply(status, body, headers or {})
