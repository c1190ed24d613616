"""The one TLS context the kit's HTTP clients share.

httpx builds a fresh SSL context for every client that is not handed one,
reading the whole CA bundle each time (tens of milliseconds). A notebook makes
several clients (the API client, the sandbox handle), so they share this one,
built on first use with httpx's own defaults: certifi's bundle, or the files
named by ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when those are set.
"""

from __future__ import annotations

import functools
import ssl

__all__ = ["shared_tls_context"]


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """The verifying TLS context every primer-nb HTTP client uses (created once per process)."""
    import httpx

    return httpx.create_ssl_context()
