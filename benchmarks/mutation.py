"""Mutation score of the rules: mutmut 3 over the modules listed in pyproject.toml.

Which modules are mutated and which tests run against the mutants live in
``[tool.mutmut]`` of pyproject.toml (``only_mutate``, one line per rule module);
this script runs ``mutmut run`` from scratch, then prints killed, survived and
the score per module and overall, and the names of the surviving mutants
(``mutmut show NAME`` prints one's diff). It exits 1 below the threshold.

    pip install -e ".[test,mutation]"
    python benchmarks/mutation.py [--threshold 90] [--keep] [--max-children N]

A timeout counts as killed (the mutant was noticed); a mutant no test reaches
counts as survived.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
LOG = MUTANTS / "mutmut-run.log"

DETECTED = {"killed", "timeout", "caught by type check"}
UNDETECTED = {"survived", "no tests"}
RESULT_LINE = re.compile(r"^\s*(?P<name>[\w.]+): (?P<status>.+?)\s*$")


def mutated_modules() -> list[str]:
    """The dotted names of the modules ``[tool.mutmut] only_mutate`` lists."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return [path.removesuffix(".py").replace("/", ".") for path in config["only_mutate"]]


def mutmut(*args: str) -> subprocess.CompletedProcess[str]:
    """Run mutmut's command line in the project root."""
    return subprocess.run(
        [sys.executable, "-m", "mutmut", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


def statuses() -> dict[str, str]:
    """Every mutant's name and status, as ``mutmut results --all true`` prints them."""
    listing = mutmut("results", "--all", "true")
    if listing.returncode != 0:
        sys.exit(f"mutmut results failed:\n{listing.stderr}")
    found = {}
    for line in listing.stdout.splitlines():
        match = RESULT_LINE.match(line)
        if match:
            found[match["name"]] = match["status"]
    return found


def module_of(mutant: str, modules: list[str]) -> str:
    """The module a mutant name (``pkg.mod.x_func__mutmut_3``) belongs to."""
    return max((m for m in modules if mutant.startswith(m + ".")), key=len, default="(other)")


def score(counts: Counter[str]) -> float:
    """Detected mutants as a percentage of those that were judged."""
    detected = sum(counts[s] for s in DETECTED)
    judged = detected + sum(counts[s] for s in UNDETECTED)
    return 100.0 * detected / judged if judged else 100.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=90.0, help="lowest passing score, in percent")
    parser.add_argument("--keep", action="store_true", help="reuse mutants/ and the results cached there")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    if importlib.util.find_spec("mutmut") is None:
        sys.exit('mutmut is not installed: pip install -e ".[mutation]"')
    if not args.keep:
        shutil.rmtree(MUTANTS, ignore_errors=True)
    modules = mutated_modules()
    print(f"mutating {', '.join(modules)} ({args.max_children} workers)")
    start = time.perf_counter()
    run = mutmut("run", "--max-children", str(args.max_children))
    LOG.parent.mkdir(exist_ok=True)
    LOG.write_text(run.stdout + run.stderr)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        print(run.stdout[-3000:], run.stderr[-3000:], sep="\n", file=sys.stderr)
        sys.exit(f"mutmut run failed (exit {run.returncode}); full output in {LOG.relative_to(ROOT)}")

    results = statuses()
    by_module: dict[str, Counter[str]] = {m: Counter() for m in modules}
    for name, status in results.items():
        by_module.setdefault(module_of(name, modules), Counter())[status] += 1
    unfinished = {name: s for name, s in results.items() if s not in DETECTED | UNDETECTED}

    print(f"\n{'module':<28} {'killed':>7} {'survived':>9} {'total':>6} {'score':>7}")
    overall: Counter[str] = Counter()
    for module, counts in by_module.items():
        overall.update(counts)
        killed = sum(counts[s] for s in DETECTED)
        survived = sum(counts[s] for s in UNDETECTED)
        print(f"{module:<28} {killed:>7} {survived:>9} {counts.total():>6} {score(counts):>6.1f}%")
    killed, survived = sum(overall[s] for s in DETECTED), sum(overall[s] for s in UNDETECTED)
    print(f"{'overall':<28} {killed:>7} {survived:>9} {overall.total():>6} {score(overall):>6.1f}%")
    print(f"({len(results)} mutants in {elapsed:.0f} s; statuses: {dict(sorted(overall.items()))})")

    survivors = sorted(name for name, status in results.items() if status in UNDETECTED)
    if survivors:
        print("\nsurvivors (mutmut show NAME for the diff; equivalent ones are explained next to the code):")
        for name in survivors:
            print(f"  {name}: {results[name]}")
    if unfinished:
        print(f"\n{len(unfinished)} mutants were not judged: {unfinished}", file=sys.stderr)
        return 1
    if score(overall) < args.threshold:
        print(f"\nscore {score(overall):.1f}% is below {args.threshold:g}%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
