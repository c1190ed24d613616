"""warnings_frame and expirations_frame over 10,000 sessions, against a bare DataFrame build.

The baseline builds a DataFrame from the same number of plain dicts (what any
table of sessions must at least do), measured in the same run. Target: each
frame under 1 s for 10,000 sessions.

    python benchmarks/tables.py [--sessions 10000]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta

import pandas as pd

from primer_nb import tables
from primer_nb.api.session import ClientSession

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def make_sessions(count: int) -> list[ClientSession]:
    warnings = [
        "Apple Pay is missing 'customerDetails.countryCode'",
        {"type": "THREE_DS", "code": "MISSING_DATA", "message": "3DS is missing 'customer.emailAddress'"},
    ]
    return [
        ClientSession.model_validate(
            {
                "clientToken": f"eyJhbGciOiJIUzI1NiJ9.payload{i:06d}.signature",
                "clientTokenExpirationDate": (NOW + timedelta(minutes=i % 2000 - 300))
                .replace(tzinfo=None)
                .isoformat(),
                "orderId": f"order-{i}",
                "warnings": warnings[: i % 3],
            }
        )
        for i in range(count)
    ]


def best_of(repeats: int, work) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sessions = make_sessions(args.sessions)
    records = [{"order_id": s.order_id, "token": s.client_token, "expires": s.expires_at} for s in sessions]
    baseline = best_of(args.repeats, lambda: pd.DataFrame(records))
    warnings = best_of(args.repeats, lambda: tables.warnings_frame(sessions))
    expirations = best_of(args.repeats, lambda: tables.expirations_frame(sessions, now=NOW))
    print(f"{args.sessions} sessions, best of {args.repeats}")
    print(f"baseline pd.DataFrame(records): {baseline * 1000:8.1f} ms")
    ok = True
    for name, seconds in (("warnings_frame", warnings), ("expirations_frame", expirations)):
        ok &= seconds < 1.0
        print(f"{name:30}: {seconds * 1000:8.1f} ms  ({seconds / baseline:5.1f}x baseline; target < 1000 ms)")
    print("OK" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
