"""POST /payments throughput of the local sandbox against the bare FastAPI + SQLite baseline, in one run.

The baseline is the one of ``sandbox_throughput.py`` (a bare FastAPI route that
validates a create body and inserts it into SQLite). The sandbox serves
``POST /payments`` with a fresh single-use card token per request: each
payment reads its token and its session, applies the inheritance rules,
authorizes the card, and commits payment, spent token and nothing else in one
transaction. Tokens are made beforehand through the checkout's own call
(``POST {pciUrl}/payment-instruments``), sized from a warm-up so the measured
run never runs out. Same wrk load on both: one thread, concurrency 32.

Targets: sandbox/baseline >= 0.5, sandbox p99 < 80 ms, zero errors.

    python benchmarks/payments.py [--duration 10] [--connections 32] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
import jwt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sandbox_throughput import BODY, HERE, KEY, run_wrk, serve, stop, wait_ready, wrk

HEADERS = {"X-Api-Key": KEY, "X-Api-Version": "2.4"}
CARD = {"number": "4111111111111111", "cvv": "123", "expirationMonth": "12", "expirationYear": "2030"}


def session_access(base_url: str) -> tuple[str, str]:
    """Create a client session (the throughput benchmark's basket); return its pciUrl and accessToken."""
    session = httpx.post(f"{base_url}/client-session", json=BODY, headers=HEADERS).json()
    claims = jwt.decode(session["clientToken"], options={"verify_signature": False})
    return claims["pciUrl"], claims["accessToken"]


def make_tokens(base_url: str, count: int, path: Path, workdir: Path) -> int:
    """Tokenize at least ``count`` cards under one session, as a checkout would; append tokens to ``path``.

    wrk drives ``POST {pciUrl}/payment-instruments`` and its Lua ``response``
    hook writes each token to the file; bursts repeat until there are enough.
    """
    pci_url, access_token = session_access(base_url)
    card = json.dumps({"paymentInstrument": CARD})
    script = workdir / "tokenize.lua"
    script.write_text(
        f'local out = io.open("{path}", "a")\nout:setvbuf("line")\n'
        "wrk.method = 'POST'\n"
        f"wrk.body = '{card}'\n"
        "wrk.headers['Content-Type'] = 'application/json'\n"
        f"wrk.headers['primer-client-token'] = '{access_token}'\n"
        "response = function(status, headers, body)\n"
        '  local token = body:match(\'"token":"([^"]+)"\')\n'
        "  if token then out:write(token, '\\n') end\n"
        "end\n"
    )
    made = 0
    while made < count:
        wrk(f"{pci_url}/payment-instruments", script, 3, 32)
        made = len(path.read_text().split())
    return made


def payment_script(tokens: Path, workdir: Path, name: str) -> Path:
    """A wrk script that POSTs /payments with the next unused token of ``tokens`` each time.

    The requests are built when the script loads, so wrk spends no time on them
    under load (it shares the machine with the server).
    """
    script = workdir / f"{name}.lua"
    script.write_text(
        "wrk.method = 'POST'\n"
        "wrk.headers['Content-Type'] = 'application/json'\n"
        f"wrk.headers['X-Api-Key'] = '{KEY}'\n"
        "wrk.headers['X-Api-Version'] = '2.4'\n"
        "local requests = {}\n"
        f'for token in io.lines("{tokens}") do\n'
        "  local body = '{\"paymentMethodToken\":\"' .. token .. '\"}'\n"
        "  requests[#requests + 1] = wrk.format(nil, nil, nil, body)\n"
        "end\n"
        "local next = 0\n"
        "request = function()\n"
        "  next = next + 1\n"
        "  return requests[((next - 1) % #requests) + 1]\n"
        "end\n"
    )
    return script


def measure_baseline(args: argparse.Namespace, workdir: Path, run: int) -> dict[str, float]:
    process, port = serve(
        [sys.executable, "-m", "uvicorn", "_baseline_app:app", "--port", "{port}", "--log-level", "warning",
         "--no-access-log", "--app-dir", str(HERE)],
        {"BASELINE_DB": str(workdir / f"baseline-{run}.sqlite3")},
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/client-session"
        wait_ready(url)
        run_wrk(url, 2, args.connections, workdir)  # warm-up
        return run_wrk(url, args.duration, args.connections, workdir)
    finally:
        stop(process)


def sandbox_command(db: Path) -> list[str]:
    return [sys.executable, "-m", "primer_nb.cli", "sandbox", "--port", "{port}", "--quiet",
            "--db", str(db), "--api-key", KEY]  # fmt: skip


def measure_sandbox(args: argparse.Namespace, workdir: Path, run: int) -> dict[str, float]:
    """Make tokens with one sandbox process, then measure a fresh one on the same database."""
    db = workdir / f"sandbox-{run}.sqlite3"
    warm_tokens, tokens = workdir / f"warm-{run}.txt", workdir / f"tokens-{run}.txt"
    process, port = serve(sandbox_command(db), {})
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/client-session")
        make_tokens(base, 3000, warm_tokens, workdir)
        warm = wrk(f"{base}/payments", payment_script(warm_tokens, workdir, "warm"), 2, args.connections)
        needed = int(warm["rps"] * args.duration * 1.5) + 3000
        started = time.monotonic()
        made = make_tokens(base, needed, tokens, workdir)
        print(f"  {made} tokens made in {time.monotonic() - started:.1f} s", file=sys.stderr)
    finally:
        stop(process)
    process, port = serve(sandbox_command(db), {})
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(f"{base}/client-session")
        lines = tokens.read_text().split()
        warm_up, measured = workdir / f"warm2-{run}.txt", workdir / f"measured-{run}.txt"
        warm_up.write_text("\n".join(lines[:2000]) + "\n")
        measured.write_text("\n".join(lines[2000:]) + "\n")
        wrk(f"{base}/payments", payment_script(warm_up, workdir, "warm2"), 1, args.connections)
        return wrk(
            f"{base}/payments", payment_script(measured, workdir, "pay"), args.duration, args.connections
        )
    finally:
        stop(process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per server")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--runs", type=int, default=1, help="baseline/sandbox pairs, interleaved")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    rows: list[tuple[dict[str, float], dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for run in range(args.runs):
            baseline = measure_baseline(args, workdir, run)
            sandbox = measure_sandbox(args, workdir, run)
            rows.append((baseline, sandbox))
            print(f"  run {run + 1}: measured", file=sys.stderr)
    print(f"POST /payments (sandbox) vs POST /client-session (bare baseline), wrk -c{args.connections}, "
          f"{args.duration}s each, one uvicorn process")  # fmt: skip
    print(f"{'run':>4} {'baseline req/s':>15} {'p99 ms':>7} {'sandbox req/s':>14} {'p50 ms':>7} "
          f"{'p99 ms':>7} {'ratio':>6} {'errors':>7}")  # fmt: skip
    ok = True
    for run, (baseline, sandbox) in enumerate(rows, 1):
        errors = int(
            sandbox["errors"] + sandbox["socket_errors"] + baseline["errors"] + baseline["socket_errors"]
        )
        ratio = sandbox["rps"] / baseline["rps"]
        print(f"{run:>4} {baseline['rps']:15.0f} {baseline['p99_ms']:7.2f} {sandbox['rps']:14.0f} "
              f"{sandbox['p50_ms']:7.2f} {sandbox['p99_ms']:7.2f} {ratio:6.2f} {errors:7d}")  # fmt: skip
        ok = ok and ratio >= 0.5 and sandbox["p99_ms"] < 80 and errors == 0
    print(f"targets: ratio >= 0.50, sandbox p99 < 80 ms, zero errors: {'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
