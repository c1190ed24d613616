"""Client tokens: three-segment HS256 JWTs shaped like Primer's.

Primer's SDKs decode the token's middle segment and read ``accessToken``,
``exp`` and a few URLs from it (behaviour reference §6), so the sandbox issues
real JWTs with those claims, signed with a per-sandbox secret. ``exp`` is the
whole second of the expiry (as in Primer's guide: ``exp`` 1628784848 for
``2021-08-12T16:14:08.578695``); the sandbox judges expiry against the stored
instant on its own clock, not with the JWT library, so time travel works.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
import orjson
from jwt.algorithms import HMACAlgorithm
from jwt.utils import base64url_encode

__all__ = ["CHECKOUT_PREFIX", "TOKEN_LIFETIME", "InvalidToken", "TokenClaims", "TokenIssuer"]

TOKEN_LIFETIME = timedelta(hours=24)
CHECKOUT_PREFIX = "/_checkout"
"""Where the sandbox serves the checkout's own API (the token's ``pciUrl``); Primer's is a separate host."""


class InvalidToken(Exception):  # noqa: N818 - mirrors the API's wording
    """The token is malformed, forged, unknown or expired (``reason`` says which)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenClaims:
    """What the sandbox needs back from a token: the session id and its ``exp`` (whole seconds)."""

    access_token: str
    expires_at: int


_HEADER = base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())


class TokenIssuer:
    """Signs and verifies client tokens with one secret.

    Signing uses PyJWT's HS256 algorithm with the key prepared once, because
    ``jwt.encode`` re-checks the key on every call. The tokens are byte-for-byte
    what ``jwt.encode`` gives; verifying goes through ``jwt.decode``.
    """

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._hs256 = HMACAlgorithm(HMACAlgorithm.SHA256)
        self._key = self._hs256.prepare_key(secret)

    def issue(
        self,
        access_token: str,
        issued_at: datetime,
        base_url: str,
        *,
        intent: str = "CHECKOUT",
        expires_at: datetime | None = None,
    ) -> tuple[str, datetime]:
        """Return a signed token for session ``access_token`` and its expiry.

        The expiry keeps the microseconds of ``issued_at``; ``exp`` and ``iat``
        are their whole seconds (floored), so ``exp`` never lies after the expiry.
        ``intent`` is ``CHECKOUT`` for a session's token, ``3DS_AUTHENTICATION``
        for the token a payment hands back to run a 3DS challenge (which keeps
        the session's ``expires_at``).
        """
        expires = expires_at if expires_at is not None else issued_at + TOKEN_LIFETIME
        base = base_url.rstrip("/")
        checkout = f"{base}{CHECKOUT_PREFIX}"
        claims: dict[str, object] = {
            "accessToken": access_token,
            "exp": math.floor(expires.timestamp()),
            "iat": math.floor(issued_at.timestamp()),
            "intent": intent,
            "env": "SANDBOX",
            "configurationUrl": f"{checkout}/configuration",
            "coreUrl": base,
            "pciUrl": checkout,
            "analyticsUrlV2": f"{checkout}/analytics",
        }
        if intent == "3DS_AUTHENTICATION":
            claims["supportedThreeDsProtocolVersions"] = ["2.1.0", "2.2.0"]
        signing_input = _HEADER + b"." + base64url_encode(orjson.dumps(claims))
        signature = base64url_encode(self._hs256.sign(signing_input, self._key))
        return (signing_input + b"." + signature).decode(), expires

    def verify(self, token: str) -> TokenClaims:
        """Check the signature and the claims the sandbox needs; raise :class:`InvalidToken`.

        Expiry is not judged here: the sandbox compares its clock with the
        session's stored expiry, which is finer than ``exp``.
        """
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                options={"verify_exp": False, "verify_iat": False, "require": ["exp", "accessToken"]},
            )
        except jwt.PyJWTError:
            raise InvalidToken("malformed") from None
        if not isinstance(claims.get("accessToken"), str) or not isinstance(claims.get("exp"), int):
            raise InvalidToken("malformed")
        return TokenClaims(claims["accessToken"], claims["exp"])
