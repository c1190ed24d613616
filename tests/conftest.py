"""Shared fixtures: where the reference spec lives, and how to load it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
REFERENCE = Path(os.environ.get("PRIMER_NB_REFERENCE", ROOT.parent / "shared" / "reference"))
SPEC_FILE = REFERENCE / "primer-openapi" / "primer-client-session-api-api-openapi.yml"


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    """Primer's published OpenAPI file of the Client Session API v2.4."""
    if not SPEC_FILE.exists():
        pytest.skip(f"Primer's spec is not beside the project (set PRIMER_NB_REFERENCE): {SPEC_FILE}")
    return yaml.safe_load(SPEC_FILE.read_text())


@pytest.fixture(scope="session")
def seed_example() -> dict[str, Any]:
    """The request/response pair of the 'Manage client sessions' guide."""
    return json.loads((DATA / "seed_guide_example.json").read_text())


@pytest.fixture(autouse=True)
def kit_home(tmp_path, monkeypatch):
    """Keep every test's ledger and files in its own folder, with no Primer config leaking in."""
    home = tmp_path / "primer-nb-home"
    monkeypatch.setenv("PRIMER_NB_HOME", str(home))
    for name in (
        "PRIMER_API_KEY", "PRIMER_ENVIRONMENT", "PRIMER_BASE_URL", "PRIMER_ALLOW_PRODUCTION",
        "PRIMER_NB_SANDBOX_URL", "PRIMER_NB_SANDBOX_KEY", "PRIMER_NB_DETERMINISTIC",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    return home


@pytest.fixture
def sandbox():
    """A fresh local sandbox on a free loopback port, stopped after the test."""
    from primer_nb.sandbox import LocalSandbox

    with LocalSandbox() as running:
        yield running


@pytest.fixture
def api(sandbox):
    """An httpx client for ``sandbox`` with the key and version headers set."""
    import httpx

    headers = {"X-Api-Key": sandbox.api_key, "X-Api-Version": "2.4"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=10) as client:
        yield client


# Shared machines are noisy: judge properties, not per-example speed.
settings.register_profile("primer-nb", deadline=None)
settings.load_profile("primer-nb")
