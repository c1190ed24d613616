"""The notebooks as tests: committed outputs, papermill runs, sweeps, walkthrough, secrets."""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import subprocess
import sys
import time
import uuid

import httpx
import nbformat
import pytest

from primer_nb import notebooks as nbrun
from primer_nb.api import money
from primer_nb.api.errors import PrimerConfigError
from primer_nb.api.webhooks import JITTER, MAX_ATTEMPTS, RETRY_DELAYS
from primer_nb.sandbox import LocalSandbox
from primer_nb.sandbox.core.webhooks import DETERMINISTIC_WEBHOOK_SECRET

from .conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
FULL_JWT = re.compile(r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}")
pytestmark = pytest.mark.slow


def test_there_are_six_walkthrough_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]
    assert nbrun.notebooks() == NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_are_executed_cleanly_and_hold_no_secrets(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert all(c.execution_count for c in code), (
        "every cell has run: refresh with `primer-nb refresh-notebooks`"
    )
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = json.dumps(nbformat.writes(nb))
    assert not FULL_JWT.search(text), "a full client token is in the committed notebook"
    assert "PRIMER_API_KEY=" not in text and "sk_" not in text
    assert "papermill" not in nb.metadata


def test_committed_outputs_match_a_fresh_run_nbval():
    env = {**os.environ, "PRIMER_ENVIRONMENT": "local", "PRIMER_NB_DETERMINISTIC": "1"}
    env.pop("PRIMER_API_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", *map(str, NOTEBOOKS),
         "--nbval-sanitize-with", str(ROOT / "notebooks" / "sanitize.cfg"), "--rootdir", str(ROOT / "notebooks"),
         "-o", "addopts=", "-o", "testpaths="],
        capture_output=True, text=True, env=env, cwd=ROOT / "notebooks", timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"\d+ passed", result.stdout)


BASKETS = [
    ({"currency": "GBP", "order_id": "gbp-basket", "country_code": "GB"}, 4398, "£43.98"),
    ({"currency": "JPY", "order_id": "jpy-basket", "country_code": "JP"}, 4398, "¥4,398"),
    ({"currency": "KWD", "order_id": "kwd-basket", "country_code": "KW",
      "line_items": [{"itemId": "dates", "amount": 1250, "quantity": 2}, {"itemId": "tea", "amount": 375}]}, 2875, "KWD 2.875"),
]  # fmt: skip


def test_papermill_sweep_over_gbp_jpy_kwd_baskets(tmp_path):
    results = nbrun.run_grid("04", [b[0] for b in BASKETS], out_dir=tmp_path, workers=2, progress=False)
    assert [r.status for r in results] == ["ok"] * 3, [r.error for r in results]
    for result, (params, amount, shown) in zip(results, BASKETS, strict=True):
        assert result.summary["order_id"] == params["order_id"]
        assert result.summary["amount"] == amount and result.summary["amount_display"] == shown
        executed = nbformat.read(result.output, as_version=4)
        assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    with (tmp_path / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["status"] for r in rows] == ["ok"] * 3 and "summary.amount" in rows[0]


@pytest.mark.parametrize(
    ("currency", "unit", "total"), [("JPY", "¥1,234", "¥3,702"), ("KWD", "KWD 1.234", "KWD 3.702")]
)
def test_create_notebook_formats_money_in_the_currency_it_is_given(tmp_path, currency, unit, total):
    lines = [{"itemId": "mug", "description": "Mug", "amount": 1234, "quantity": 3}]
    parameters = {"currency": currency, "order_id": f"o-{currency}", "line_items": lines}
    out = nbrun.execute(
        nbrun.find_notebook("01"), tmp_path / "out.ipynb", parameters, env={"PRIMER_ENVIRONMENT": "local"}
    )
    texts = []
    for cell in nbformat.read(out, as_version=4).cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error"
            texts.append(output.get("text", "") + json.dumps(output.get("data", {}), ensure_ascii=False))
    printed = "\n".join(texts)
    # 3 × 1234 minor units: the same integer reads differently in yen (no decimals) and dinars (three).
    assert f"derived amount: {total}" in printed
    assert re.search(rf"amount\s+: {re.escape(total)}", printed)
    assert unit in printed and total in printed  # the line-items table, formatted per currency
    assert "£" not in printed.split("derived amount", 1)[1].split("\n", 1)[0]


PAYMENT_RUNS = [
    ({"currency": "GBP", "order_id": "gbp-0501", "country_code": "GB"}, ("£59.00", "£25.00", "£12.50")),
    ({"currency": "JPY", "order_id": "jpy-0501", "country_code": "JP"}, ("¥5,900", "¥2,500", "¥1,250")),
    (
        {"currency": "KWD", "order_id": "kwd-0501", "country_code": "KW"},
        ("KWD 5.900", "KWD 2.500", "KWD 1.250"),
    ),
]


def _cells(html: str) -> list[list[str]]:
    """The body rows of a styled table, as the text of each cell."""
    body = html.split("<tbody>", 1)[1]
    return [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in body.split("</tr>") if "<td" in row]


def test_the_payment_notebook_formats_money_in_each_currency(tmp_path):
    results = nbrun.run_grid("05", [r[0] for r in PAYMENT_RUNS], out_dir=tmp_path, workers=2, progress=False)
    assert [r.status for r in results] == ["ok"] * 3, [r.error for r in results]
    for result, (params, (amount, captured, refunded)) in zip(results, PAYMENT_RUNS, strict=True):
        currency = params["currency"]
        assert result.summary == {
            "order_id": params["order_id"], "currency": currency, "status": "PARTIALLY_SETTLED",
            "amount": amount, "captured": captured, "refunded": refunded, "declined": "DECLINED",
            "three_ds": "AUTHORIZED", "payments": 4,
        }  # fmt: skip
        cells = nbformat.read(result.output, as_version=4).cells
        printed = "".join(o.get("text", "") for c in cells for o in c.get("outputs", []))
        assert f"SETTLING - captured {captured} of {amount}\n" in printed
        ledger = next(c for c in cells if c.source.startswith("everything = tables.payments_frame(client)"))
        rows = _cells(ledger.outputs[0]["data"]["text/html"])
        zero = money.format_minor(0, currency)
        order_id = params["order_id"]
        assert [row[1:8] for row in rows[:2]] == [
            [order_id, "PARTIALLY_SETTLED", currency, amount, amount, captured, refunded],
            [f"{order_id}-gift", "CANCELLED", currency, amount, zero, zero, zero],
        ]
        assert [row[2] for row in rows] == ["PARTIALLY_SETTLED", "CANCELLED", "DECLINED", "AUTHORIZED"]


def _printed(cells, marker: str) -> str:
    """What the first code cell whose source contains ``marker`` printed."""
    cell = next(c for c in cells if c.cell_type == "code" and marker in c.source)
    assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
    return "".join(o.get("text", "") for o in cell.outputs)


def _table(text: str, fixed: int) -> list[list[str]]:
    """The rows of a ``DataFrame.to_string(index=False)``: ``fixed`` columns, then the rest as one."""
    return [line.split(None, fixed) for line in text.strip().splitlines()[1:]]


WEBHOOK_RUNS = [
    {"order_id": "wh-a", "fail_first": 0, "fault_seed": 10},
    {"order_id": "wh-b", "fail_first": 6, "fault_seed": 7, "currency": "JPY", "amount": 3000},
]


def test_the_webhooks_notebook_retries_deduplicates_and_survives_a_rotation(tmp_path):
    # No PRIMER_NB_DETERMINISTIC: the sandbox clock runs, and the notebook must not depend on it standing still.
    results = nbrun.run_grid("06", WEBHOOK_RUNS, out_dir=tmp_path, workers=2, progress=False)
    assert [r.status for r in results] == ["ok"] * 2, [r.error for r in results]
    for result, params in zip(results, WEBHOOK_RUNS, strict=True):
        summary, fail_first = result.summary, params["fail_first"]
        cells = nbformat.read(result.output, as_version=4).cells
        paid = _printed(cells, "payment = client.create_payment(").split()
        assert paid[1:] == ["AUTHORIZED", "¥3,000" if params.get("currency") == "JPY" else "£45.00"]
        assert summary["order_id"] == params["order_id"] and summary["status"] == "SETTLED"

        # A bad day: the refund's webhook refused fail_first times, retried on Primer's schedule, then
        # accepted; or, refused six times, dropped.
        accepted = fail_first < MAX_ATTEMPTS
        attempts = [500] * fail_first + [200] if accepted else [500] * MAX_ATTEMPTS
        assert summary["refund_attempts"] == attempts
        printed = _printed(cells, "fail_next")
        retries = re.findall(r"attempt (\d) answered 500: next attempt ([\d.]+) s after it", printed)
        assert [int(n) for n, _ in retries] == list(range(1, len(attempts)))
        for (_, delay), base in zip(retries, RETRY_DELAYS, strict=False):
            assert base * (1 - JITTER) <= float(delay) <= base * (1 + JITTER)
        outcome = "200: delivered" if accepted else "500: dropped"
        assert f"attempt {len(attempts)} answered {outcome}\n" in printed
        assert ("PAYMENT.REFUND: payment SETTLED" in printed) is accepted

        # Faults: every delivery is accounted for by the handler, and dateUpdated gives the true final status.
        arrivals = _table(_printed(cells, "def handle("), 6)
        handled = summary["handled"]
        assert len(arrivals) == summary["fault_deliveries"] == sum(handled.values())
        assert len({row[0] for row in arrivals}) == summary["fault_events"] == 9  # 3 payments x 3 statuses
        assert handled["now"] + handled.get("older", 0) == 9
        assert handled.get("refused", 0) == sum(row[5] == "400" for row in arrivals)
        verdict = _table(_printed(cells, "last_arrived ="), 5)
        assert [row[3:] for row in verdict] == [["SETTLED", "SETTLED"]] * 3  # newest dateUpdated, actual
        assert summary["final_by_date_updated"] == ["SETTLED"] * 3

        # Rotation: both signatures for 24 h, the old secret matching the Secondary; then refused, resent, kept once.
        assert summary["rotated_signatures"] == ["X-Signature-Primary", "X-Signature-Secondary"]
        assert summary["old_secret_matched"] == "X-Signature-Secondary"
        assert summary["after_a_day"] == [400, 200, 200]
        kept = re.findall(r"receiver.events: (\d+) PAYMENT.REFUND of", _printed(cells, "refresh_secret()"))
        assert kept == ["1"]
        # Every delivery: the first payment's 3 statuses, the refund's attempts, the faults, 1 + 3 after rotating.
        assert summary["deliveries"] == 3 + len(attempts) + summary["fault_deliveries"] + 1 + 3
        assert summary["events"] == 3 + accepted + 9 + 2


def test_the_webhooks_notebook_skips_the_sandbox_parts_on_primer_and_says_why(tmp_path):
    # A local sandbox reached as Primer would be (a key and a URL, no sandbox controls) stands in for Primer.
    with LocalSandbox() as sandbox:
        env = {"PRIMER_API_KEY": sandbox.api_key, "PRIMER_BASE_URL": sandbox.base_url}
        out = nbrun.execute(
            nbrun.find_notebook("06"), tmp_path / "06.ipynb", {"environment": "sandbox"}, env=env
        )
        assert sandbox.webhooks.endpoints() == [] and sandbox.webhooks.log()["deliveries"] == []
    cells = nbformat.read(out, as_version=4).cells
    assert "Primer posts webhooks to the public URL set in your dashboard" in _printed(
        cells, "primer_nb.connect("
    )
    assert _printed(cells, "payment = client.create_payment(").split()[1] == "AUTHORIZED"
    assert nbrun.summary_of(out) == {
        "environment": "sandbox",
        "order_id": "order-0601",
        "status": "AUTHORIZED",
    }
    skipped = [c for c in cells if c.cell_type == "code" and c.source.startswith("if local:")]
    assert len(skipped) >= 8 and all(c.outputs == [] for c in skipped)


def test_the_committed_webhooks_notebook_shows_no_secret():
    text = (ROOT / "notebooks" / "06-webhooks.ipynb").read_text(encoding="utf-8")
    assert DETERMINISTIC_WEBHOOK_SECRET not in text
    assert "X-Signature-Secondary" in text  # the rotation ran


def test_walkthrough_with_a_canary_key_never_shows_it(tmp_path, monkeypatch):
    canary = f"sk_canary_{uuid.uuid4().hex}"
    monkeypatch.setenv("PRIMER_API_KEY", canary)
    results = nbrun.walkthrough(tmp_path)
    assert [r.status for r in results] == ["ok"] * 6, [r.error for r in results]
    assert results[-1].notebook == "06-webhooks.ipynb"
    produced = [*tmp_path.glob("*.ipynb"), *tmp_path.glob("*.html")]
    assert len(produced) == 12
    for path in produced:
        text = path.read_text(encoding="utf-8")
        assert canary not in text, path.name
        assert not FULL_JWT.search(text), path.name
    assert "local sandbox" in (tmp_path / "01-create-a-session.ipynb").read_text()


def test_secret_parameters_are_refused(tmp_path):
    with pytest.raises(PrimerConfigError, match="PRIMER_API_KEY"):
        nbrun.run_grid("04", [{"api_key": "x"}], out_dir=tmp_path, progress=False)


def test_grids_cartesian_and_explicit(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("currency: [GBP, JPY]\nquantity: [1, 2]\nfixed: yes\n")
    assert nbrun.load_grid(grid) == [
        {"currency": "GBP", "quantity": 1, "fixed": True}, {"currency": "GBP", "quantity": 2, "fixed": True},
        {"currency": "JPY", "quantity": 1, "fixed": True}, {"currency": "JPY", "quantity": 2, "fixed": True},
    ]  # fmt: skip
    explicit = tmp_path / "grid.json"
    explicit.write_text(json.dumps([{"currency": "EUR"}, {"currency": "USD", "order_id": "u"}]))
    assert nbrun.load_grid(explicit) == [{"currency": "EUR"}, {"currency": "USD", "order_id": "u"}]
    bad = tmp_path / "bad.yaml"
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(PrimerConfigError):
        nbrun.load_grid(bad)


def test_cli_run_records_failures_and_exits_non_zero(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("- {currency: EUR, order_id: fine}\n- {currency: XXX, order_id: broken}\n")
    result = subprocess.run(
        [sys.executable, "-m", "primer_nb.cli", "run", "04", "--grid", str(grid), "--workers", "2",
         "--out", str(tmp_path / "runs"), "-p", "country_code", "FR"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 of 2 ran cleanly" in result.stdout
    rows = list(csv.DictReader((tmp_path / "runs" / "summary.csv").open()))
    assert [(r["status"], json.loads(r["parameters"])["order_id"]) for r in rows] == [
        ("ok", "fine"),
        ("failed", "broken"),
    ]
    assert "PrimerValidationError" in rows[1]["error"] or "currency" in rows[1]["error"].lower()


def test_cli_list_shows_parameters():
    result = subprocess.run(
        [sys.executable, "-m", "primer_nb.cli", "list"], capture_output=True, text=True, check=True
    )
    assert "04-parameterized-run.ipynb" in result.stdout
    assert 'currency = "GBP"' in result.stdout or "currency = 'GBP'" in result.stdout


def test_lab_working_copy_never_overwrites(tmp_path):
    copied, kept = nbrun.working_copy(tmp_path)
    assert len(copied) == 6 and kept == []
    edited = tmp_path / "01-create-a-session.ipynb"
    edited.write_text("my edits")
    copied, kept = nbrun.working_copy(tmp_path)
    assert copied == [] and len(kept) == 6
    assert edited.read_text() == "my edits"


def test_kernel_is_the_environments_python():
    for path in NOTEBOOKS:
        assert nbformat.read(path, as_version=4).metadata["kernelspec"]["name"] == "python3"


def run_probe(folder, source: str, **options):
    """Execute a one-cell notebook with the runner; return the executed cell."""
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    probe.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(probe, folder / "probe.ipynb")
    out = nbrun.execute(folder / "probe.ipynb", folder / "out.ipynb", **options)
    return nbformat.read(out, as_version=4).cells[0]


def test_runner_kernels_skip_the_final_collection_without_touching_the_namespace(tmp_path):
    cell = run_probe(
        tmp_path,
        "from ipykernel.kernelapp import IPKernelApp\n"
        "print(list(IPKernelApp.instance().exec_lines))\n"
        "print(sorted(name for name in globals() if not name.startswith('_')))",
    )
    lines = cell.outputs[0]["text"].splitlines()
    assert "register(__import__('gc').freeze)" in lines[0]
    # The exec line leaves no names behind and takes no execution count.
    assert {"atexit", "gc"}.isdisjoint(ast.literal_eval(lines[1]))
    assert cell.execution_count == 1


def test_runner_starts_a_sandbox_beside_the_kernel_and_stops_it_after(tmp_path):
    cell = run_probe(
        tmp_path,
        "import os, primer_nb\n"
        "client = primer_nb.connect(quiet=True)\n"
        "print(type(client.sandbox).__name__, client.base_url == os.environ['PRIMER_NB_SANDBOX_URL'])\n"
        "print(client.base_url)\n"
        "print(client.create_client_session({'orderId': 'x', 'currencyCode': 'GBP'}).order_id)",
        env={"PRIMER_ENVIRONMENT": "local"},
    )
    text = "".join(o.get("text", "") for o in cell.outputs)
    kind, url, order_id = text.split("\n")[:3]
    assert kind == "SandboxHandle True" and order_id == "x"
    # The runner closed the sandbox's stdin without waiting; it goes away on its own.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_sandbox/health", timeout=2)
        except httpx.TransportError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the runner's sandbox was still answering 10 s after the notebook finished")
    assert "PRIMER_NB_SANDBOX_URL" not in os.environ


def test_runner_kernels_use_unix_sockets_and_a_short_exit_grace(tmp_path):
    options = nbrun._kernel_transport(str(tmp_path))
    manager = options["kernel_manager_class"](kernel_name="python3")
    assert manager.transport == "ipc" and manager.ip.startswith(str(tmp_path))
    assert manager.shutdown_wait_time == nbrun.KERNEL_EXIT_GRACE < 5
