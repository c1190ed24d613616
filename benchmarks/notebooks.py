"""Each walkthrough notebook's papermill wall time against an empty one-cell notebook.

The empty notebook, run without the local sandbox the runner otherwise starts
beside each kernel, measures the floor every execution pays (starting a
kernel, connecting, shutting down), in the same run. Target: every notebook
at most 2.5x that floor. For information it also prints the empty notebook's
time with the runner's sandbox (what the kit itself adds to every execution).

    python benchmarks/notebooks.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import compileall
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import nbformat

import primer_nb
from primer_nb.notebooks import execute, notebooks

SETTLE = 0.5


def run_once(notebook: Path, out: Path, sandbox: bool | None = None) -> float:
    start = time.perf_counter()
    env = {"PRIMER_ENVIRONMENT": "local", "PRIMER_NB_DETERMINISTIC": "1"}
    execute(notebook, out, env=env, sandbox=sandbox)
    seconds = time.perf_counter() - start
    # The runner does not wait for its sandbox process to exit; let it, so that
    # its shutdown does not slow the next measurement down.
    time.sleep(SETTLE)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="rounds; each figure is its best round")
    args = parser.parse_args()
    # Kernels should import the kit from bytecode, as from an installed wheel; in an
    # editable checkout with PYTHONDONTWRITEBYTECODE set, each one would recompile it.
    compileall.compile_dir(Path(primer_nb.__file__).parent, quiet=1)
    times: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        empty = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
        empty.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(empty, folder / "empty.ipynb")
        # Rounds interleave every notebook with the floor, so a slow spell on a
        # shared machine hits them alike instead of one figure alone.
        for _ in range(args.repeats):
            blank, blank_out = folder / "empty.ipynb", folder / "empty-out.ipynb"
            times["floor"].append(run_once(blank, blank_out, sandbox=False))
            times["sandbox"].append(run_once(blank, blank_out, sandbox=True))
            for notebook in notebooks():
                times[notebook.name].append(run_once(notebook, folder / notebook.name))
    best = {name: min(values) for name, values in times.items()}
    floor = best.pop("floor")
    print(f"floor (empty one-cell notebook): {floor:6.2f} s   (best of {args.repeats} rounds)")
    with_sandbox = best.pop("sandbox")
    print(f"  with the runner's sandbox:     {with_sandbox:6.2f} s  {with_sandbox / floor:4.2f}x floor")
    for name, seconds in best.items():
        print(f"{name:36} {seconds:6.2f} s  {seconds / floor:4.2f}x floor")
    worst = max(seconds / floor for seconds in best.values())
    ok = worst <= 2.5
    print(f"worst ratio {worst:.2f}x (target <= 2.5x): {'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
