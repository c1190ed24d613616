"""The API's wire protocol: versions, paths and header names.

Every part of the kit that speaks to Primer (the client, the local sandbox,
its admin handle, the curl exports) takes these from here.
"""

from __future__ import annotations

__all__ = [
    "API_KEY_HEADER",
    "API_VERSION",
    "API_VERSION_HEADER",
    "CLIENT_SESSION_PATH",
    "IDEMPOTENCY_KEY_HEADER",
    "SANDBOX_ADMIN_PREFIX",
]

API_VERSION = "2.4"
"""The version this kit implements and sends."""

API_KEY_HEADER = "X-Api-Key"
API_VERSION_HEADER = "X-Api-Version"
IDEMPOTENCY_KEY_HEADER = "X-Idempotency-Key"

CLIENT_SESSION_PATH = "/client-session"
SANDBOX_ADMIN_PREFIX = "/_sandbox"
"""Where the local sandbox's own routes (clock, faults, health) live; not part of Primer's API."""
