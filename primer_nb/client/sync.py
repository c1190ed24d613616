"""The synchronous client: :class:`PrimerClient`."""

from __future__ import annotations

import time
from typing import Any

import httpx

from primer_nb.api.protocol import CLIENT_SESSION_PATH
from primer_nb.api.session import ClientSession
from primer_nb.client.base import BaseClient, Body, Changes
from primer_nb.config.tls import tls_context_for

__all__ = ["PrimerClient"]


class PrimerClient(BaseClient):
    """A synchronous client for the Client Session API (parameters: :class:`BaseClient`).

    >>> client = PrimerClient(sandbox=sandbox)          # doctest: +SKIP
    >>> session = client.create_client_session({"orderId": "o-1", "currencyCode": "GBP"})  # doctest: +SKIP
    """

    def __init__(self, api_key: str | None = None, **options: Any) -> None:
        super().__init__(api_key, **options)
        self._http = httpx.Client(
            base_url=self.base_url, headers=self._headers(), timeout=self.timeout,
            transport=self._transport, verify=tls_context_for(self.base_url),  # type: ignore[arg-type]
        )  # fmt: skip

    def _request(self, method: str, *, json_body: Any = None, params: Any = None) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._http.request(method, CLIENT_SESSION_PATH, json=json_body, params=params)
            except httpx.TransportError as exc:
                wait = self._wait_or_raise(method, attempt, failure=exc)
            else:
                if response.status_code < 400:
                    return response
                wait = self._wait_or_raise(method, attempt, response=response)
            attempt += 1
            time.sleep(wait)

    def create_client_session(self, body: Body) -> ClientSession:
        """``POST /client-session``: create a session; return it with its token and warnings."""
        return self._session(self._request("POST", json_body=self._create_body(body)))

    def get_client_session(self, client_token: str) -> ClientSession:
        """``GET /client-session``: the session behind ``client_token``."""
        response = self._request("GET", params={"clientToken": client_token})
        return self._session(response, client_token)

    def update_client_session(self, client_token: str, changes: Changes) -> ClientSession:
        """``PATCH /client-session``: send only what changes (``None`` clears); return the whole session."""
        body = self._update_body(client_token, changes)
        return self._session(self._request("PATCH", json_body=body), client_token)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> PrimerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
