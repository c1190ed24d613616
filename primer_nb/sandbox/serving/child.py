"""The child side of :class:`~primer_nb.sandbox.serving.process.SandboxProcess` (not a user command).

Reads one JSON line of options from stdin (the listening socket's descriptor,
the key, the database, the profile, deterministic mode, webhook endpoints and
secret), serves on that socket,
and shuts down cleanly when stdin reaches end of file: its parent closed it,
or exited, or was killed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading

from primer_nb.sandbox.core.build import build_service
from primer_nb.sandbox.serving.server import serve


def _stop_when_parent_goes() -> None:
    sys.stdin.buffer.read()  # returns at end of file only
    os.kill(os.getpid(), signal.SIGTERM)  # the server's own handler then stops it gracefully


def main() -> int:
    """Serve the sandbox described on stdin until stdin closes or a signal arrives."""
    options = json.loads(sys.stdin.buffer.readline())
    sock = socket.socket(fileno=options["fd"])
    service = build_service(
        api_key=options["apiKey"], db=options.get("db"), profile=options.get("profile"),
        deterministic=bool(options.get("deterministic")), strict_version=bool(options.get("strictVersion")),
        webhooks=options.get("webhooks") or (), webhook_secret=options.get("webhookSecret"),
        allow_remote_webhooks=bool(options.get("allowRemoteWebhooks")),
    )  # fmt: skip
    threading.Thread(target=_stop_when_parent_goes, name="primer-nb-parent-watch", daemon=True).start()
    serve(service, sock, quiet=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
