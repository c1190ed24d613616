"""POST /client-session throughput of the local sandbox against a bare FastAPI baseline.

Both servers run the same way (one uvicorn process on loopback, SQLite in WAL
mode on a temporary file), and the same wrk load (concurrency 32, a realistic
basket body) hits each in turn. Prints requests/s, p50/p99 latency, errors,
and the sandbox/baseline ratio. Targets: ratio >= 0.6, sandbox p99 < 50 ms,
zero errors.

    python benchmarks/sandbox_throughput.py [--duration 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
KEY = "benchmark-key"
BODY = {
    "orderId": "bench-order",
    "currencyCode": "GBP",
    "customerId": "cust-1",
    "order": {
        "countryCode": "GB",
        "lineItems": [
            {"itemId": "shirt", "description": "Shirt", "amount": 2500, "quantity": 2, "discountAmount": 500},
            {"itemId": "socks", "description": "Socks", "amount": 800, "taxAmount": 160},
        ],
        "shipping": {"amount": 399},
    },
    "customer": {"emailAddress": "ann@example.com", "billingAddress": {"countryCode": "GB", "city": "Leeds"}},
    "metadata": {"channel": "web", "attempt": 1},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.post(url, json=BODY, headers={"X-Api-Key": KEY, "X-Api-Version": "2.4"})
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def run_wrk(url: str, duration: int, connections: int, workdir: Path) -> dict[str, float]:
    script = workdir / "post.lua"
    body = json.dumps(BODY).replace("\\", "\\\\").replace("'", "\\'")
    script.write_text(
        "wrk.method = 'POST'\n"
        f"wrk.body = '{body}'\n"
        "wrk.headers['Content-Type'] = 'application/json'\n"
        f"wrk.headers['X-Api-Key'] = '{KEY}'\n"
        "wrk.headers['X-Api-Version'] = '2.4'\n"
    )
    return wrk(url, script, duration, connections)


def wrk(url: str, script: Path, duration: int, connections: int) -> dict[str, float]:
    """Run wrk (one thread) with a Lua ``script``; return req/s, p50/p99 in ms, and error counts."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            raise SystemExit(f"no {label}% latency in wrk output:\n{out}")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


def serve(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``command`` (``{port}`` replaced by a free port) with ``env`` added; return it and the port."""
    port = free_port()
    process = subprocess.Popen(
        [part.replace("{port}", str(port)) for part in command],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, port


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server started by :func:`serve` and wait for it."""
    process.terminate()
    process.wait(timeout=10)


def measure(name: str, command: list[str], env: dict[str, str], args: argparse.Namespace, workdir: Path):
    process, port = serve(command, env)
    try:
        url = f"http://127.0.0.1:{port}/client-session"
        wait_ready(url)
        run_wrk(url, 2, args.connections, workdir)  # warm-up
        return run_wrk(url, args.duration, args.connections, workdir)
    finally:
        stop(process)
        print(f"  measured {name}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per server")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        baseline = measure(
            "baseline",
            [sys.executable, "-m", "uvicorn", "_baseline_app:app", "--port", "{port}",
             "--log-level", "warning", "--no-access-log", "--app-dir", str(HERE)],
            {"BASELINE_DB": str(workdir / "baseline.sqlite3")},
            args, workdir,
        )  # fmt: skip
        sandbox = measure(
            "sandbox",
            [sys.executable, "-m", "primer_nb.cli", "sandbox", "--port", "{port}", "--quiet",
             "--db", str(workdir / "sandbox.sqlite3"), "--api-key", KEY],
            {},
            args, workdir,
        )  # fmt: skip
    print(f"POST /client-session, wrk -c{args.connections} for {args.duration}s each, one uvicorn process")
    print(f"{'':10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, row in (("baseline", baseline), ("sandbox", sandbox)):
        errors = int(row["errors"] + row["socket_errors"])
        print(f"{name:10} {row['rps']:9.0f} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} {errors:7d}")
    ratio = sandbox["rps"] / baseline["rps"]
    ok = ratio >= 0.6 and sandbox["p99_ms"] < 50 and sandbox["errors"] + sandbox["socket_errors"] == 0
    print(f"ratio sandbox/baseline: {ratio:.2f} (target >= 0.60); sandbox p99 {sandbox['p99_ms']:.1f} ms "
          f"(target < 50): {'OK' if ok else 'MISSED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
