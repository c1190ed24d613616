"""How the kit reaches things: which environment and key, where its files live, which TLS trust.

Reading the environment and ``.env`` happens here and nowhere else; the client
takes what this resolves.
"""

from primer_nb.config.settings import (
    DEFAULT_TIMEOUT,
    ENV_SANDBOX_KEY,
    ENV_SANDBOX_URL,
    ENVIRONMENTS,
    Environment,
    Settings,
    deterministic_requested,
    environment_for_url,
    home,
    is_loopback_url,
    is_truthy,
    resolve_settings,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENVIRONMENTS",
    "ENV_SANDBOX_KEY",
    "ENV_SANDBOX_URL",
    "Environment",
    "Settings",
    "deterministic_requested",
    "environment_for_url",
    "home",
    "is_loopback_url",
    "is_truthy",
    "resolve_settings",
]
