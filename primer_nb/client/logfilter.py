"""Keep client tokens out of httpx's log lines (GET puts the token in the URL)."""

from __future__ import annotations

import logging
import threading

import httpx

from primer_nb.api.masking import mask_tokens_in_url

__all__ = ["install_log_filter"]


class _MaskTokensInHttpxLog(logging.Filter):
    """httpx logs each request URL at INFO; GET URLs carry the client token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                mask_tokens_in_url(str(a)) if isinstance(a, str | httpx.URL) else a for a in record.args
            )
        return True


_installing = threading.Lock()


def install_log_filter() -> None:
    """Add the masking filter to httpx's logger once per process."""
    with _installing:
        logger = logging.getLogger("httpx")
        if not any(isinstance(f, _MaskTokensInHttpxLog) for f in logger.filters):
            logger.addFilter(_MaskTokensInHttpxLog())
