"""Dashboard profiles from files: which payment methods and modules a sandbox has enabled.

What each method needs, and the warnings that follow, are the domain core's
(:mod:`primer_nb.api.checkout_warnings`); this module only reads a profile
from a TOML or JSON file. ``default_profile.toml`` beside it is the kit's
default profile written out, to copy and edit.
"""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path

from primer_nb.api.checkout_warnings import DEFAULT_PROFILE, DashboardProfile

__all__ = ["DashboardProfile", "default_profile_text", "load_profile"]


def default_profile_text() -> str:
    """The default profile as the TOML file shipped with the kit (with its comments)."""
    return resources.files("primer_nb.sandbox.core").joinpath("default_profile.toml").read_text()


def load_profile(path: str | Path | None = None) -> DashboardProfile:
    """Load a profile from a TOML or JSON file, or the kit's default when ``path`` is ``None``.

    Raises ``OSError`` when the file cannot be read, the parser's error
    (``json.JSONDecodeError``, ``tomllib.TOMLDecodeError``) when it is not JSON
    or TOML, and ``ValueError`` naming the file when it is not a valid profile.
    """
    if path is None:
        return DEFAULT_PROFILE
    path = Path(path)
    text = path.read_text()
    data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    return DashboardProfile.from_mapping(data, source=str(path))
