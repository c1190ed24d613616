"""Masking of secrets and client tokens for anything people or logs can see."""

from __future__ import annotations

__all__ = ["mask_key", "mask_token"]


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
