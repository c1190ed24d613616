"""Masking of secrets and client tokens for anything people or logs can see."""

from __future__ import annotations

import re

__all__ = ["mask_key", "mask_token", "mask_tokens_in_url"]

_TOKEN_IN_URL = re.compile(r"(clientToken=)([^&\s\"'#]+)")
_TOKEN_IN_PATH = re.compile(r"(/3ds/)([^/?#\s\"']+)")


def mask_token(token: str | None, *, keep: int = 6) -> str | None:
    """Return a client token with its middle hidden: ``eyJhbG…x9Zk``.

    Enough of both ends stays visible to tell tokens apart in a table, too
    little to use one. Short strings are hidden whole.
    """
    if token is None:
        return None
    if len(token) <= keep * 3:
        return "…" * 3
    return f"{token[:keep]}…{token[-4:]}"


def mask_key(key: str | None) -> str:
    """Return an API key as ``****`` plus at most its last four characters."""
    if not key:
        return "<none>"
    return "****" + (key[-4:] if len(key) >= 16 else "")


def mask_tokens_in_url(url: str) -> str:
    """Mask the tokens a URL or request line can carry.

    ``clientToken=…`` (a session GET carries the client token there) and the
    payment method token in the checkout's ``/3ds/{token}/auth``.
    """
    url = _TOKEN_IN_URL.sub(lambda m: m.group(1) + str(mask_token(m.group(2))), url)
    return _TOKEN_IN_PATH.sub(lambda m: m.group(1) + str(mask_token(m.group(2))), url)
