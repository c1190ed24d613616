"""Runnable curl commands for API calls, with the key read from ``$PRIMER_API_KEY`` at run time."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from primer_nb.api.protocol import API_KEY_HEADER, API_VERSION, API_VERSION_HEADER

__all__ = ["curl_command"]


def curl_command(
    method: str,
    url: str,
    *,
    body: Mapping[str, Any] | None = None,
    query: Mapping[str, str] | None = None,
    version: str = API_VERSION,
) -> str:
    """A curl command line (one option per line) for ``method url``.

    The API key is never written out: the command expands ``$PRIMER_API_KEY``
    when it runs.
    """
    if query:
        url = f"{url}?{urlencode(dict(query))}"
    parts = [
        f"curl -X {method.upper()} {shlex.quote(url)}",
        f'-H "{API_KEY_HEADER}: $PRIMER_API_KEY"',
        f"-H '{API_VERSION_HEADER}: {version}'",
    ]
    if body is not None:
        parts.append("-H 'Content-Type: application/json'")
        parts.append(f"-d {shlex.quote(json.dumps(dict(body), ensure_ascii=False))}")
    return " \\\n  ".join(parts)
