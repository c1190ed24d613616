"""Instants as Primer writes and reads them: aware UTC inside, naive UTC on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

__all__ = ["as_utc", "expiration_text", "parse_expiration"]


def as_utc(when: datetime) -> datetime:
    """The same instant as an aware UTC datetime (a naive one is taken to be UTC already)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def expiration_text(expires_at: datetime) -> str:
    """Write an expiry as the API does: UTC without an offset, with microseconds."""
    return as_utc(expires_at).replace(tzinfo=None).isoformat(timespec="microseconds")


def parse_expiration(value: Any) -> datetime | None:
    """Read an expiry as Primer writes it (naive UTC, or with ``Z``) into an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise ValueError(f"not a date-time: {value!r}")
    return as_utc(value)
