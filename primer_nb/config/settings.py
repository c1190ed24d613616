"""Configuration: which Primer environment to talk to, with which key.

Sources, strongest first: arguments, the process environment, a ``.env`` file
(found from the working directory upwards). The key is never printed: every
``repr`` shows it as ``****`` plus its last four characters.

==========================  =========================================
``PRIMER_API_KEY``          the secret API key (Primer's sandbox or production)
``PRIMER_ENVIRONMENT``      ``local`` (default without a key), ``sandbox`` (default with one), ``production``
``PRIMER_BASE_URL``         another base URL (a ``primer-nb sandbox`` server, a proxy)
``PRIMER_ALLOW_PRODUCTION`` ``1`` to allow the production API at all
``PRIMER_NB_HOME``          where the kit keeps its files (default ``~/.primer-nb``)
``PRIMER_NB_DETERMINISTIC`` ``1``: a local sandbox this kit starts is deterministic
``PRIMER_NB_SANDBOX_URL``   a running local sandbox for ``connect()`` to use (and its ``_KEY``)
==========================  =========================================
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from primer_nb.api.errors import PrimerConfigError
from primer_nb.api.masking import mask_key

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENVIRONMENTS",
    "ENV_SANDBOX_KEY",
    "ENV_SANDBOX_URL",
    "LOCAL_SANDBOX_KEY",
    "Environment",
    "Settings",
    "deterministic_requested",
    "dotenv_settings",
    "environment_for_url",
    "home",
    "is_loopback_url",
    "is_truthy",
    "resolve_settings",
]

Environment = Literal["local", "sandbox", "production"]
ENVIRONMENTS: dict[str, str | None] = {
    "local": None,  # the embedded local sandbox picks its own URL
    "sandbox": "https://api.sandbox.primer.io",
    "production": "https://api.primer.io",
}
DEFAULT_TIMEOUT = 30.0
"""Seconds; below Primer's 90 s server-side limit, so a hung call fails on our side first."""

ENV_SANDBOX_URL = "PRIMER_NB_SANDBOX_URL"
"""Names a running local sandbox for ``connect()`` to use (a notebook runner sets it for its kernels)."""
ENV_SANDBOX_KEY = "PRIMER_NB_SANDBOX_KEY"
"""That sandbox's key; also ``primer-nb sandbox``'s default ``--api-key``."""
LOCAL_SANDBOX_KEY = "local-sandbox"
"""The key sent to a local sandbox when none is given (one started without ``--api-key`` takes any key)."""

_TRUE = {"1", "true", "yes", "on"}


def is_truthy(value: str | None) -> bool:
    """Whether an environment value means yes (``1``, ``true``, ``yes``, ``on``; any case)."""
    return (value or "").strip().lower() in _TRUE


def deterministic_requested(env: Mapping[str, str] | None = None) -> bool:
    """Whether ``$PRIMER_NB_DETERMINISTIC`` asks for a deterministic local sandbox."""
    return is_truthy((os.environ if env is None else env).get("PRIMER_NB_DETERMINISTIC"))


def home() -> Path:
    """The kit's folder for its own files: ``$PRIMER_NB_HOME`` or ``~/.primer-nb``."""
    return Path(os.environ.get("PRIMER_NB_HOME") or Path.home() / ".primer-nb")


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. ``api_key`` never shows in ``repr``."""

    environment: Environment
    base_url: str | None
    api_key: str | None = field(default=None, repr=False)
    allow_production: bool = False

    def __repr__(self) -> str:
        return (
            f"Settings(environment={self.environment!r}, base_url={self.base_url!r}, "
            f"api_key={mask_key(self.api_key)}, allow_production={self.allow_production})"
        )


def dotenv_settings() -> dict[str, str]:
    """The kit's ``PRIMER_*`` settings in the ``.env`` file found from the working directory upwards."""
    from dotenv import dotenv_values, find_dotenv

    path = find_dotenv(usecwd=True)
    if not path:
        return {}
    return {k: v for k, v in dotenv_values(path).items() if k.startswith("PRIMER_") and v is not None}


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def environment_for_url(url: str) -> Environment | None:
    """The environment a base URL belongs to: Primer's two hosts, a loopback server, or unknown."""
    stripped = url.rstrip("/")
    for name, known in ENVIRONMENTS.items():
        if known is not None and stripped == known:
            return name  # type: ignore[return-value]
    return "local" if is_loopback_url(url) else None


def resolve_settings(
    api_key: str | None = None,
    *,
    environment: str | None = None,
    base_url: str | None = None,
    allow_production: bool | None = None,
    env: Mapping[str, str] | None = None,
    use_dotenv: bool = True,
) -> Settings:
    """Work out which environment, URL and key to use; raise :class:`PrimerConfigError` if unsafe.

    Without a key (and without an explicit environment) the answer is the
    local sandbox. ``PRIMER_ENVIRONMENT=local`` chooses it even when a key is
    set, and then the key is not used at all. Production needs an explicit
    opt-in: ``allow_production=True`` or ``PRIMER_ALLOW_PRODUCTION=1``.
    """
    sources: dict[str, str] = dotenv_settings() if use_dotenv else {}
    sources.update(os.environ if env is None else env)

    key = api_key or sources.get("PRIMER_API_KEY") or None
    url_given = base_url or sources.get("PRIMER_BASE_URL")
    implied = "local" if not key or (url_given and is_loopback_url(url_given)) else "sandbox"
    chosen = (environment or sources.get("PRIMER_ENVIRONMENT") or implied).lower()
    if chosen not in ENVIRONMENTS:
        raise PrimerConfigError(f"PRIMER_ENVIRONMENT is {chosen!r}; use one of: {', '.join(ENVIRONMENTS)}.")
    url = url_given or ENVIRONMENTS[chosen]
    allowed = (
        allow_production
        if allow_production is not None
        else is_truthy(sources.get("PRIMER_ALLOW_PRODUCTION"))
    )
    if chosen == "local":
        # A configured PRIMER_API_KEY is Primer's, never sent to a local sandbox;
        # only a key passed explicitly (the sandbox's own) is kept.
        return Settings("local", url_given or None, api_key, allowed)
    if chosen == "production" and not allowed:
        raise PrimerConfigError(
            "Refusing to use Primer's production API (https://api.primer.io): it moves real money. "
            "Set PRIMER_ALLOW_PRODUCTION=1 or pass allow_production=True if you mean it."
        )
    if not key:
        raise PrimerConfigError(
            f"PRIMER_ENVIRONMENT is {chosen!r} but no API key is configured. Put PRIMER_API_KEY in the "
            "environment or a .env file (never in a notebook cell), or use PRIMER_ENVIRONMENT=local."
        )
    return Settings(chosen, url, key, allowed)  # type: ignore[arg-type]
