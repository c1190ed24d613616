"""Assemble a :class:`SandboxService` from the options users give (key, database, profile, mode)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from primer_nb.api.checkout_warnings import DashboardProfile
from primer_nb.sandbox.core.clock import DETERMINISTIC_START, SandboxClock
from primer_nb.sandbox.core.faults import FaultInjector
from primer_nb.sandbox.core.profile import load_profile
from primer_nb.sandbox.core.replies import IdSource
from primer_nb.sandbox.core.service import SandboxService
from primer_nb.sandbox.core.store import SessionStore
from primer_nb.sandbox.core.webhooks import WebhookDispatcher

__all__ = ["DETERMINISTIC_SECRET", "DETERMINISTIC_SEED", "build_service"]

DETERMINISTIC_SEED = 20250106
# A fixed secret makes a deterministic sandbox's tokens identical run after run.
DETERMINISTIC_SECRET = "primer-nb-deterministic-sandbox-signing-secret"  # noqa: S105 - not a credential


def build_service(
    *,
    api_key: str | None = None,
    db: str | Path | None = None,
    profile: str | Path | DashboardProfile | None = None,
    deterministic: bool = False,
    strict_version: bool = False,
    webhooks: Sequence[str] = (),
    webhook_secret: str | None = None,
    allow_remote_webhooks: bool = False,
) -> SandboxService:
    """Assemble a :class:`SandboxService` from the user-facing options.

    ``db`` is a SQLite file (``None`` keeps everything in memory); ``profile``
    a profile or the path of one (the kit's default when ``None``);
    ``deterministic`` freezes the clock at a fixed start and seeds ids and the
    signing secret, so two runs answer alike; ``strict_version`` refuses any
    ``X-Api-Version`` but 2.4, a missing header included. ``webhooks`` are endpoint
    URLs to register (loopback only unless ``allow_remote_webhooks``);
    ``webhook_secret`` the secret deliveries are signed with (else the stored or a
    new one). Raises ``ValueError`` for an endpoint URL the sandbox may not post to.
    """
    if not isinstance(profile, DashboardProfile):
        profile = load_profile(profile)
    seed = DETERMINISTIC_SEED if deterministic else None
    store = SessionStore(db if db is not None else ":memory:")
    clock = SandboxClock(DETERMINISTIC_START, frozen=True) if deterministic else SandboxClock()
    try:
        dispatcher = WebhookDispatcher(
            store, clock, secret=webhook_secret, seed=seed, allow_remote=allow_remote_webhooks,
            endpoints=webhooks,
        )  # fmt: skip
    except BaseException:
        store.close()
        raise
    return SandboxService(
        store=store,
        clock=clock,
        webhooks=dispatcher,
        faults=FaultInjector(),
        profile=profile,
        api_key=api_key,
        ids=IdSource(seed),
        strict_version=strict_version,
        secret=DETERMINISTIC_SECRET if deterministic else None,
    )
