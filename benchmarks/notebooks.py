"""Each walkthrough notebook's papermill wall time against two floors measured in the same run.

- The empty floor: an empty one-cell notebook, run without the local sandbox the
  runner otherwise starts beside each kernel: what every execution pays
  (starting a kernel, connecting, shutting down).
- The same-imports floor, one per walkthrough notebook: a one-cell notebook that
  imports the third-party libraries that notebook ends up with in its kernel
  (pandas; matplotlib.pyplot where it plots; ipywidgets where it shows forms)
  and does nothing else, also without a sandbox. A notebook that must show plots
  is not charged for importing matplotlib.

Which libraries each notebook loads is read from its own kernel in a first,
unmeasured run. Target: every notebook at most 1.5x its same-imports floor. Both
ratios are printed, and for information the empty notebook's time with the
runner's sandbox (what the kit itself adds to every execution).

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
TARGET = 1.5
# The third-party libraries a walkthrough notebook may load, as its floor imports them.
LIBRARIES = ("pandas", "matplotlib.pyplot", "ipywidgets")
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def run_once(notebook: Path, out: Path, sandbox: bool | None = None) -> float:
    start = time.perf_counter()
    env = {"PRIMER_ENVIRONMENT": "local", "PRIMER_NB_DETERMINISTIC": "1"}
    execute(notebook, out, env=env, sandbox=sandbox)
    seconds = time.perf_counter() - start
    # The runner does not wait for its sandbox process to exit; let it, so that
    # its shutdown does not slow the next measurement down.
    time.sleep(SETTLE)
    return seconds


def one_cell(path: Path, source: str) -> Path:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    notebook.metadata["kernelspec"] = KERNELSPEC
    nbformat.write(notebook, path)
    return path


def libraries_loaded(notebook: Path, folder: Path) -> list[str]:
    """Run a copy of ``notebook`` with one more cell that reports which of LIBRARIES its kernel imported."""
    copy = nbformat.read(notebook, as_version=4)
    report = f"import sys\nprint(' '.join(m for m in {LIBRARIES!r} if m in sys.modules))"
    copy.cells.append(nbformat.v4.new_code_cell(report))
    probe, out = folder / f"probe-{notebook.name}", folder / f"probe-out-{notebook.name}"
    nbformat.write(copy, probe)
    run_once(probe, out)
    outputs = nbformat.read(out, as_version=4).cells[-1].outputs
    return "".join(o.get("text", "") for o in outputs).split()


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
        blank = one_cell(folder / "empty.ipynb", "pass")
        imports = {notebook.name: libraries_loaded(notebook, folder) for notebook in notebooks()}
        floors = {
            name: one_cell(folder / f"floor-{name}", "\n".join(f"import {m}" for m in libraries) or "pass")
            for name, libraries in imports.items()
        }
        # Rounds interleave every notebook with the floors, so a slow spell on a
        # shared machine hits them alike instead of one figure alone.
        for _ in range(args.repeats):
            times["floor"].append(run_once(blank, folder / "empty-out.ipynb", sandbox=False))
            times["sandbox"].append(run_once(blank, folder / "empty-out.ipynb", sandbox=True))
            for notebook in notebooks():
                times[notebook.name].append(run_once(notebook, folder / notebook.name))
                floor_out = folder / f"floor-out-{notebook.name}"
                floor_time = run_once(floors[notebook.name], floor_out, sandbox=False)
                times[f"floor-{notebook.name}"].append(floor_time)
    best = {name: min(values) for name, values in times.items()}
    floor = best["floor"]
    print(f"empty floor (one-cell notebook): {floor:6.2f} s   (best of {args.repeats} rounds)")
    with_sandbox = best["sandbox"]
    print(f"  with the runner's sandbox:     {with_sandbox:6.2f} s  {with_sandbox / floor:4.2f}x empty floor")
    print(f"{'notebook':34} {'time':>7}  {'x empty':>7}  {'same-imports floor':>18}  {'x floor':>7}  imports")
    worst = 0.0
    for notebook in notebooks():
        seconds, own_floor = best[notebook.name], best[f"floor-{notebook.name}"]
        worst = max(worst, seconds / own_floor)
        print(
            f"{notebook.name:34} {seconds:5.2f} s  {seconds / floor:6.2f}x  {own_floor:16.2f} s  "
            f"{seconds / own_floor:6.2f}x  {', '.join(imports[notebook.name]) or '-'}"
        )
    ok = worst <= TARGET
    verdict = "OK" if ok else "MISSED"
    print(f"worst ratio to its same-imports floor {worst:.2f}x (target <= {TARGET}x): {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
