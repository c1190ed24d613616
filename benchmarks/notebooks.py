"""Each walkthrough notebook's papermill wall time against an empty one-cell notebook.

The empty notebook, run without the local sandbox the runner otherwise starts
beside each kernel, measures the floor every execution pays (starting a
kernel, connecting, shutting down), in the same run. Target: every notebook
at most 2.5x that floor. For information it also prints the empty notebook's
time with the runner's sandbox (what the kit itself adds to every execution).

    python benchmarks/notebooks.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from primer_nb.notebooks import execute, notebooks


def timed(notebook: Path, out: Path, repeats: int, sandbox: bool | None = None) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        env = {"PRIMER_ENVIRONMENT": "local", "PRIMER_NB_DETERMINISTIC": "1"}
        execute(notebook, out, env=env, sandbox=sandbox)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        empty = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
        empty.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(empty, folder / "empty.ipynb")
        floor = timed(folder / "empty.ipynb", folder / "empty-out.ipynb", args.repeats, sandbox=False)
        print(f"floor (empty one-cell notebook): {floor:6.2f} s")
        with_sandbox = timed(folder / "empty.ipynb", folder / "empty-out.ipynb", args.repeats, sandbox=True)
        print(f"  with the runner's sandbox:     {with_sandbox:6.2f} s  {with_sandbox / floor:4.2f}x floor")
        worst = 0.0
        for notebook in notebooks():
            seconds = timed(notebook, folder / notebook.name, args.repeats)
            worst = max(worst, seconds / floor)
            print(f"{notebook.name:36} {seconds:6.2f} s  {seconds / floor:4.2f}x floor")
    ok = worst <= 2.5
    print(f"worst ratio {worst:.2f}x (target <= 2.5x): {'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
