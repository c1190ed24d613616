"""Client overhead: 1,000 creates at concurrency 32 with create_many versus raw httpx.

Both runs post the same bodies to the same local sandbox (a separate
``primer-nb sandbox`` process, so client and server do not share a GIL). The
raw run is a bare ``httpx.AsyncClient`` with a semaphore; ``create_many`` adds
local validation, pre-flight checks, response parsing, retries and the ledger.
Prints both rates and the overhead ratio (target <= 1.15).

    python benchmarks/client_batch.py [--count 1000] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import httpx

from primer_nb import AsyncPrimerClient, PrimerPreflightWarning

KEY = "benchmark-key"


def bodies(count: int) -> list[dict]:
    return [
        {
            "orderId": f"bench-{i}",
            "currencyCode": "GBP",
            "order": {"countryCode": "GB", "lineItems": [{"itemId": "a", "amount": 1000 + i, "quantity": 2}]},
            "customer": {"emailAddress": f"buyer{i}@example.com", "billingAddress": {"countryCode": "GB"}},
            "metadata": {"run": "bench", "n": i},
        }
        for i in range(count)
    ]


async def raw(url: str, items: list[dict], concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    headers = {"X-Api-Key": KEY, "X-Api-Version": "2.4"}
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as client:

        async def one(body: dict) -> None:
            async with gate:
                response = await client.post("/client-session", json=body)
                response.raise_for_status()
                response.json()

        start = time.perf_counter()
        await asyncio.gather(*(one(b) for b in items))
        return time.perf_counter() - start


async def kit(url: str, items: list[dict], concurrency: int, home: Path) -> float:
    os.environ["PRIMER_NB_HOME"] = str(home)
    async with AsyncPrimerClient(KEY, base_url=url) as client:
        start = time.perf_counter()
        results = await client.create_many(items, concurrency=concurrency, progress=False)
        elapsed = time.perf_counter() - start
    failed = [r for r in results if not r.ok]
    if failed:
        raise SystemExit(f"{len(failed)} creates failed, e.g. {failed[0].error}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternate raw/kit this many times; best of each"
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore", PrimerPreflightWarning)
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen(
            [sys.executable, "-m", "primer_nb.cli", "sandbox", "--port", "0", "--quiet", "--api-key", KEY,
             "--db", str(Path(tmp) / "bench.sqlite3")],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            url = re.search(r"http://\S+", server.stdout.readline()).group(0)  # type: ignore[union-attr]
            items = bodies(args.count)
            asyncio.run(raw(url, items[:100], args.concurrency))  # warm-up
            raw_times, kit_times = [], []
            for _ in range(args.rounds):  # interleaved, so drift on a shared machine hits both
                raw_times.append(asyncio.run(raw(url, items, args.concurrency)))
                kit_times.append(asyncio.run(kit(url, items, args.concurrency, Path(tmp))))
        finally:
            server.terminate()
            server.wait(timeout=10)
    best_raw, best_kit = min(raw_times), min(kit_times)
    ratio = best_kit / best_raw
    print(f"{args.count} creates at concurrency {args.concurrency} against a local sandbox process")
    print(f"raw httpx.AsyncClient: {args.count / best_raw:8.0f} creates/s ({best_raw:.2f} s)")
    print(f"create_many:           {args.count / best_kit:8.0f} creates/s ({best_kit:.2f} s)")
    print(f"overhead ratio: {ratio:.2f}x (target <= 1.15): {'OK' if ratio <= 1.15 else 'MISSED'}")
    return 0 if ratio <= 1.15 else 1


if __name__ == "__main__":
    sys.exit(main())
