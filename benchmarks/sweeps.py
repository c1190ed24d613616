"""A grid of notebook 04 three ways: one run at a time, a process pool, and Dask distributed.

In one run of this script, the same 16-point grid (4 currencies x 4 orders) goes
through ``run_grid`` sequentially (a pool of one process), with a local process
pool of 2, and on a Dask ``LocalCluster`` of 2 worker processes (its start and
shutdown counted; every executed notebook travels back to this process, as from a
remote cluster). Prints wall time and runs per second for each, and the Dask
path's time against the pool's (target <= 1.15x). Pool and Dask rounds alternate
and each figure is its best round, so a slow spell on a shared machine hits both.
For information it also prints the CPU time each way used (this process and all
the processes it started and waited for: pool or cluster processes, kernels,
sandboxes), which other work on a shared machine disturbs much less than wall time.

    python benchmarks/sweeps.py [--repeats 3] [--workers 2] [--points 16]
"""

from __future__ import annotations

import argparse
import compileall
import itertools
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import primer_nb
from primer_nb.dask_sweep import DaskExecutor
from primer_nb.notebooks import run_grid

CURRENCIES = ["GBP", "EUR", "JPY", "KWD"]
SETTLE = 1.0
TARGET = 1.15


def grid(points: int = 16) -> list[dict[str, str]]:
    orders = range(1, max(1, points // len(CURRENCIES)) + 1)
    return [
        {"currency": currency, "order_id": f"sweep-{currency}-{n}"}
        for currency, n in itertools.product(CURRENCIES, orders)
    ]


def cpu_seconds() -> float:
    """CPU time of this process and of every finished process it waited for (and theirs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, sets: list[dict[str, str]], out: Path, cpu: list[float], **options: object) -> float:
    cpu_start, start = cpu_seconds(), time.perf_counter()
    env = {"PRIMER_ENVIRONMENT": "local"}
    results = run_grid("04", sets, out_dir=out, progress=False, env=env, **options)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    failed = [r.error for r in results if r.status != "ok"]
    if failed:
        raise SystemExit(f"{label}: {len(failed)} run(s) failed, first: {failed[0]}")
    # The runner does not wait for its sandboxes to exit; let them, so the next
    # measurement does not pay for this one's shutdown.
    time.sleep(SETTLE)
    cpu.append(cpu_seconds() - cpu_start)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="pool and Dask rounds; figures are the best")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--points", type=int, default=16, help="grid size (a multiple of 4)")
    args = parser.parse_args()
    # Kernels import the kit from bytecode, as from an installed wheel.
    compileall.compile_dir(Path(primer_nb.__file__).parent, quiet=1)
    os.environ.pop("PRIMER_API_KEY", None)
    os.environ["PRIMER_ENVIRONMENT"] = "local"
    sets = grid(args.points)
    points = len(sets)
    times: dict[str, list[float]] = {"sequential": [], "pool": [], "dask": []}
    cpu: dict[str, list[float]] = {name: [] for name in times}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        one_by_one = timed("sequential", sets, folder / "sequential", cpu["sequential"], workers=1)
        times["sequential"].append(one_by_one)
        for round_ in range(args.repeats):
            pool_out, dask_out = folder / f"pool-{round_}", folder / f"dask-{round_}"
            times["pool"].append(timed("pool", sets, pool_out, cpu["pool"], workers=args.workers))
            executor = DaskExecutor(workers=args.workers)
            times["dask"].append(timed("dask", sets, dask_out, cpu["dask"], executor=executor))
    best = {name: min(values) for name, values in times.items()}
    least_cpu = {name: min(values) for name, values in cpu.items()}
    labels = {
        "sequential": "sequential (one process)",
        "pool": f"process pool of {args.workers}",
        "dask": f"Dask LocalCluster of {args.workers}",
    }
    print(f"{points} runs of 04-parameterized-run, best of {args.repeats} round(s) (sequential: 1)")
    for name, seconds in best.items():
        rounds = ", ".join(f"{s:.1f}" for s in times[name])
        print(
            f"{labels[name]:28} {seconds:6.1f} s  {points / seconds:5.2f} runs/s  "
            f"CPU {least_cpu[name]:5.1f} s   (rounds: {rounds} s)"
        )
    ratio = best["dask"] / best["pool"]
    ok = ratio <= TARGET
    print(f"Dask / process pool: {ratio:.2f}x (target <= {TARGET}x): {'OK' if ok else 'MISSED'}")
    print(f"CPU time, Dask / process pool: {least_cpu['dask'] / least_cpu['pool']:.2f}x")
    print(f"process pool / sequential: {best['pool'] / best['sequential']:.2f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
