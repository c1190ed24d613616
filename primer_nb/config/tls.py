"""TLS contexts for the kit's HTTP clients.

httpx builds a fresh SSL context for every client that is not handed one,
reading the whole CA bundle each time (tens of milliseconds). The kit's clients
share one instead, built on first use with httpx's own defaults: certifi's
bundle, or the files named by ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set.

A client of a plain-HTTP server (the local sandbox on 127.0.0.1) never speaks
TLS, so it does not load the bundle at all: it gets a context that verifies
like any other but trusts no certificate, so a TLS connection it should never
make would fail rather than go unchecked.
"""

from __future__ import annotations

import functools
import ssl

__all__ = ["shared_tls_context", "tls_context_for"]


@functools.cache
def shared_tls_context() -> ssl.SSLContext:
    """The verifying TLS context every primer-nb HTTPS client uses (created once per process)."""
    import httpx

    return httpx.create_ssl_context()


@functools.cache
def _trusting_nothing() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies hostnames and certificates; no CAs


def tls_context_for(base_url: str) -> ssl.SSLContext:
    """The context for a client of ``base_url``: the shared one, or one trusting nothing for ``http://``."""
    if base_url.lower().startswith("http://"):
        return _trusting_nothing()
    return shared_tls_context()
