"""Client overhead: 1,000 creates at concurrency 32 with create_many versus raw httpx.

All runs post the same bodies to the same local sandbox (a separate
``primer-nb sandbox`` process, so client and server do not share a GIL). The
raw run is a bare ``httpx.AsyncClient`` with a semaphore; ``create_many`` adds
local validation, pre-flight checks, response parsing, retries and the ledger.
Prints the rates and the ratio (target <= 1.15).

``AsyncPrimerClient`` spreads concurrent requests over several httpx clients,
because the work httpcore's pool does per request grows with its connections;
so it outruns one bare client. To show the kit's own cost per request, the
script also times raw httpx spread over as many clients the same way.

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
from primer_nb.client.aio import _POOLS

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


async def raw(url: str, items: list[dict], concurrency: int, clients: int = 1) -> float:
    gate = asyncio.Semaphore(concurrency)
    headers = {"X-Api-Key": KEY, "X-Api-Version": "2.4"}
    per_client = 100 // clients
    limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
    pool = [
        httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) for _ in range(clients)
    ]

    async def one(index: int, body: dict) -> None:
        async with gate:
            response = await pool[index % clients].post("/client-session", json=body)
            response.raise_for_status()
            response.json()

    try:
        start = time.perf_counter()
        await asyncio.gather(*(one(i, b) for i, b in enumerate(items)))
        return time.perf_counter() - start
    finally:
        for client in pool:
            await client.aclose()


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
            raw_times, spread_times, kit_times = [], [], []
            for _ in range(args.rounds):  # interleaved, so drift on a shared machine hits all alike
                raw_times.append(asyncio.run(raw(url, items, args.concurrency)))
                spread_times.append(asyncio.run(raw(url, items, args.concurrency, clients=_POOLS)))
                kit_times.append(asyncio.run(kit(url, items, args.concurrency, Path(tmp))))
        finally:
            server.terminate()
            server.wait(timeout=10)
    best_raw, best_spread, best_kit = min(raw_times), min(spread_times), min(kit_times)
    ratio = best_kit / best_raw
    print(f"{args.count} creates at concurrency {args.concurrency} against a local sandbox process")
    print(f"raw httpx.AsyncClient:       {args.count / best_raw:6.0f} creates/s ({best_raw:.2f} s)")
    spread = f"raw httpx over {_POOLS} clients:"
    print(f"{spread:28} {args.count / best_spread:6.0f} creates/s ({best_spread:.2f} s)")
    print(f"create_many:                 {args.count / best_kit:6.0f} creates/s ({best_kit:.2f} s)")
    print(f"the kit's own cost: {best_kit / best_spread:.2f}x raw httpx over {_POOLS} clients")
    print(f"ratio to one bare client: {ratio:.2f}x (target <= 1.15): {'OK' if ratio <= 1.15 else 'MISSED'}")
    return 0 if ratio <= 1.15 else 1


if __name__ == "__main__":
    sys.exit(main())
