"""The local sandbox: a stateful emulator of Primer's Client Session API v2.4.

``LocalSandbox`` serves it on a free loopback port from a background thread;
``primer-nb sandbox`` serves it in the foreground. FastAPI and uvicorn are
imported only when a server starts.
"""

from primer_nb.sandbox.clock import SandboxClock
from primer_nb.sandbox.faults import FaultInjector
from primer_nb.sandbox.profile import DashboardProfile, load_profile
from primer_nb.sandbox.server import LocalSandbox, build_service, run_sandbox
from primer_nb.sandbox.service import SandboxService

__all__ = [
    "DashboardProfile",
    "FaultInjector",
    "LocalSandbox",
    "SandboxClock",
    "SandboxService",
    "build_service",
    "load_profile",
    "run_sandbox",
]
