"""The local sandbox: a stateful emulator of Primer's Client Session API v2.4.

Two layers:

- :mod:`primer_nb.sandbox.core`, the emulator itself, free of any web framework:
  the service (every rule, driven with headers and body bytes), its SQLite
  store, tokens, clock, faults and dashboard profile;
- :mod:`primer_nb.sandbox.serving`, which puts it on HTTP: the FastAPI app, the
  uvicorn runner (:class:`LocalSandbox` in a thread, ``primer-nb sandbox`` in the
  foreground), the child process (:class:`SandboxProcess`) and
  :class:`SandboxHandle` for a sandbox running elsewhere.

Importing this package is cheap: the names below load their modules on first use.
"""

from typing import TYPE_CHECKING

from primer_nb._lazy import lazy_getattr

_LAZY = {
    "DashboardProfile": "primer_nb.api.checkout_warnings",
    "FaultInjector": "primer_nb.sandbox.core.faults",
    "LocalSandbox": "primer_nb.sandbox.serving.server",
    "SandboxClock": "primer_nb.sandbox.core.clock",
    "SandboxHandle": "primer_nb.sandbox.serving.handle",
    "SandboxProcess": "primer_nb.sandbox.serving.process",
    "SandboxService": "primer_nb.sandbox.core.service",
    "build_service": "primer_nb.sandbox.core.build",
    "load_profile": "primer_nb.sandbox.core.profile",
    "run_sandbox": "primer_nb.sandbox.serving.server",
}

if TYPE_CHECKING:
    from primer_nb.api.checkout_warnings import DashboardProfile
    from primer_nb.sandbox.core.build import build_service
    from primer_nb.sandbox.core.clock import SandboxClock
    from primer_nb.sandbox.core.faults import FaultInjector
    from primer_nb.sandbox.core.profile import load_profile
    from primer_nb.sandbox.core.service import SandboxService
    from primer_nb.sandbox.serving.handle import SandboxHandle
    from primer_nb.sandbox.serving.process import SandboxProcess
    from primer_nb.sandbox.serving.server import LocalSandbox, run_sandbox


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "DashboardProfile",
    "FaultInjector",
    "LocalSandbox",
    "SandboxClock",
    "SandboxHandle",
    "SandboxProcess",
    "SandboxService",
    "build_service",
    "load_profile",
    "run_sandbox",
]
