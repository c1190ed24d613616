"""Reading a client token the way Primer's checkout SDKs do: its claims, without its key.

Primer's client tokens are JWTs. No SDK checks the signature (it cannot: the
key is Primer's); they decode the payload and read ``accessToken``, ``exp``
and the URLs of the checkout's own API (behaviour reference §6). The local
sandbox issues tokens with the same claims (:data:`CLAIM_NAMES`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt

__all__ = ["CLAIM_NAMES", "read_claims", "token_expiry"]

CLAIM_NAMES = (
    "accessToken", "exp", "iat", "intent", "env", "configurationUrl", "coreUrl", "pciUrl", "analyticsUrlV2",
)  # fmt: skip
"""The claims a checkout SDK reads from a client token."""


def read_claims(token: str) -> dict[str, Any] | None:
    """The token's payload as a dict, unverified; ``None`` when it is not a JWT."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims, dict) else None


def token_expiry(token: str) -> datetime | None:
    """When a client token expires (its ``exp`` claim) as aware UTC, or ``None`` if it has none."""
    claims = read_claims(token)
    exp = claims.get("exp") if claims else None
    if isinstance(exp, bool) or not isinstance(exp, int | float):
        return None
    return datetime.fromtimestamp(exp, UTC)
