"""LineItemsForm speed: build a 200-row form, and update the total after one edit.

Baseline in the same run: building the same number of bare ``ipywidgets.Text``
widgets as the form has inputs (the floor any form of this size pays).
Targets: build well under 1 s, one edit under 50 ms.

    python benchmarks/widgets.py [--rows 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import ipywidgets as widgets

from primer_nb.widgets import LineItemsForm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--edits", type=int, default=50)
    args = parser.parse_args()
    items = [{"itemId": f"sku-{i}", "amount": 1000 + i, "quantity": 1 + i % 3} for i in range(args.rows)]
    LineItemsForm("GBP", items[:5])  # warm imports

    start = time.perf_counter()
    [widgets.Text() for _ in range(args.rows * 7)]
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    form = LineItemsForm("GBP", items)
    build = time.perf_counter() - start

    edits = []
    for n in range(args.edits):
        row = form.rows[n % args.rows]
        start = time.perf_counter()
        row.amount.value = f"{20 + n}.{n % 100:02d}"
        edits.append(time.perf_counter() - start)
    edit = statistics.median(edits)
    print(f"{args.rows}-row LineItemsForm")
    print(f"baseline: {args.rows * 7} bare Text widgets  {baseline * 1000:7.0f} ms")
    ratio = build / baseline
    print(
        f"build form                         {build * 1000:7.0f} ms ({ratio:.2f}x baseline; target < 1000 ms)"
    )
    print(f"one edit -> new total (median)      {edit * 1000:7.2f} ms (target < 50 ms)")
    ok = build < 1.0 and edit < 0.05
    print("OK" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
