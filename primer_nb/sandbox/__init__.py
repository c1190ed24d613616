"""The local sandbox: a stateful emulator of Primer's Client Session API v2.4.

``LocalSandbox`` serves it on a free loopback port from a background thread,
``SandboxProcess`` from a child process (what ``connect()`` uses), and
``primer-nb sandbox`` in the foreground; ``SandboxHandle`` drives one that runs
elsewhere. Importing this package is cheap: the service, FastAPI and uvicorn
are imported only by the parts that serve.
"""

from typing import TYPE_CHECKING

_LAZY = {
    "DashboardProfile": "primer_nb.sandbox.profile",
    "FaultInjector": "primer_nb.sandbox.faults",
    "LocalSandbox": "primer_nb.sandbox.server",
    "SandboxClock": "primer_nb.sandbox.clock",
    "SandboxHandle": "primer_nb.sandbox.process",
    "SandboxProcess": "primer_nb.sandbox.process",
    "SandboxService": "primer_nb.sandbox.service",
    "build_service": "primer_nb.sandbox.server",
    "load_profile": "primer_nb.sandbox.profile",
    "run_sandbox": "primer_nb.sandbox.server",
}

if TYPE_CHECKING:
    from primer_nb.sandbox.clock import SandboxClock
    from primer_nb.sandbox.faults import FaultInjector
    from primer_nb.sandbox.process import SandboxHandle, SandboxProcess
    from primer_nb.sandbox.profile import DashboardProfile, load_profile
    from primer_nb.sandbox.server import LocalSandbox, build_service, run_sandbox
    from primer_nb.sandbox.service import SandboxService


def __getattr__(name: str) -> object:
    """Import the serving parts on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'primer_nb.sandbox' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


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
