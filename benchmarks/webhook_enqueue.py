"""What a webhook costs the payment request that raises it: the listener call, against a session write.

The payments service calls ``WebhookDispatcher.listener`` after each committed
change, on the request path; sending happens later, off it. This times that
call (recording the event and a delivery per endpoint in SQLite) against the
write every PATCH /client-session makes (``SessionStore.update``), both on the
same WAL file in the same run, and prints the ratio.

    python benchmarks/webhook_enqueue.py [--calls 2000] [--endpoints 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from primer_nb.sandbox.core.clock import SandboxClock
from primer_nb.sandbox.core.store import SessionStore, StoredSession
from primer_nb.sandbox.core.webhooks import WebhookDispatcher
from tests.webhook_support import payment_body


def timings(call, count: int) -> list[float]:
    """Milliseconds per call, ``count`` calls after a short warm-up."""
    for _ in range(50):
        call()
    spent = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        spent.append((time.perf_counter() - start) * 1000)
    return spent


def summary(spent: list[float]) -> str:
    """p50 and p99 of a list of milliseconds."""
    ordered = sorted(spent)
    return f"p50 {statistics.median(ordered):.3f} ms  p99 {ordered[int(len(ordered) * 0.99)]:.3f} ms"


def main() -> int:
    """Time both, print them and the ratio of medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--endpoints", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = SessionStore(Path(folder) / "bench.sqlite3")
        clock = SandboxClock()
        hooks = WebhookDispatcher(store, clock)
        for n in range(args.endpoints):
            hooks.add_endpoint(f"http://127.0.0.1:{9000 + n}/hook")
        now = datetime.now(UTC)
        store.insert(StoredSession("s1", "token", {"orderId": "o"}, now, now, now))
        state = {"orderId": "o", "amount": 1000, "metadata": {"n": 1}}
        payment = payment_body("AUTHORIZED")
        baseline = timings(lambda: store.update("s1", state, clock.now()), args.calls)
        listener = timings(lambda: hooks.listener("PAYMENT.STATUS", payment, clock.now()), args.calls)
        store.close()
    print(f"session write (baseline)       {summary(baseline)}")
    print(f"webhook listener ({args.endpoints} endpoint) {summary(listener)}")
    print(f"ratio listener/baseline (p50): {statistics.median(listener) / statistics.median(baseline):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
