"""The walkthrough's forms in a real JupyterLab, driven by headless Chromium through Playwright.

Headless widget tests prove the Python side; this one proves what a user meets:
the widget frontend loads, the forms render (no "Error displaying widget"),
typing updates the total, the Create button works, errors show inline, and
the browser console stays free of widget-manager errors.

Screenshots of each step go to ``artifacts/browser/`` (ignored by git). To
refresh the one shown in the README::

    PRIMER_NB_UPDATE_SCREENSHOT=1 python -m pytest tests/test_browser.py
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts" / "browser"
# Flags for a root user in a closed network: no sandbox, no background traffic.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def jupyter_lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 with a copy of the create-session notebook; always stopped."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy2(ROOT / "notebooks" / "01-create-a-session.ipynb", root)
    settings = tmp_path / "settings"
    # Render every cell (no virtual scrolling), and no news pop-up over the page.
    for plugin, values in (("notebook-extension/tracker", '{"windowingMode": "none"}'),
                           ("apputils-extension/notification", '{"fetchNews": "false", "checkForUpdates": false}')):  # fmt: skip
        target = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(values)
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "PRIMER_ENVIRONMENT": "local",
    }
    log = (tmp_path / "jupyter.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", f"--LabApp.user_settings_dir={settings}",
         *(["--allow-root"] if os.geteuid() == 0 else [])],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/api/status", params={"token": token}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("JupyterLab did not start:\n" + (tmp_path / "jupyter.log").read_text()[-3000:])
            time.sleep(0.25)
        yield url, token
    finally:
        # The whole process group: the server and the kernels it started.
        for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            try:
                os.killpg(process.pid, sig)
                process.wait(timeout=wait)
                break
            except ProcessLookupError:
                break
            except subprocess.TimeoutExpired:
                continue
        log.close()


def _intersecting(boxes: list[dict[str, float]]) -> list[tuple[int, int]]:
    """Index pairs of boxes (Playwright's x, y, width, height) whose areas intersect."""
    return [
        (i, j)
        for i, a in enumerate(boxes)
        for j, b in enumerate(boxes[i + 1 :], start=i + 1)
        if a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]
    ]  # fmt: skip


def _check_hints_apart(hints, names: list[str] | None = None) -> list[dict[str, float]]:
    """The grey wire-name hints (locators) show ``names`` and none of their boxes intersect another."""
    hints = hints if isinstance(hints, list) else [hints.nth(i) for i in range(hints.count())]
    names = names or [hint.text_content() for hint in hints]
    assert [hint.text_content() for hint in hints] == names
    boxes = [hint.bounding_box() for hint in hints]
    assert all(box and box["width"] > 0 for box in boxes), boxes
    overlapping = [(names[i], names[j]) for i, j in _intersecting(boxes)]
    assert overlapping == [], f"hints overlap: {overlapping}"
    return boxes


def test_box_intersection_helper():
    box = {"x": 0, "y": 0, "width": 10, "height": 10}
    assert _intersecting([box, {**box, "x": 9}]) == [(0, 1)]
    assert _intersecting([box, {**box, "x": 10}, {**box, "y": 10}]) == []  # touching is fine


def test_forms_work_in_jupyterlab(jupyter_lab):
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium; .ci/run does it)"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is part of the test extra")
    url, token = jupyter_lab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    console_errors: list[str] = []

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.set_default_timeout(60_000)
            expect = sync_api.expect

            page.goto(f"{url}/lab/tree/01-create-a-session.ipynb?token={token}")
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=120_000)
            with contextlib.suppress(sync_api.TimeoutError):  # a fresh profile may ask for a kernel
                page.locator(".jp-Dialog .jp-mod-accept").click(timeout=15_000)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

            builders = page.locator(".primer-nb-session-builder")
            expect(builders).to_have_count(1, timeout=120_000)

            # The session the code created, as the cell's result: a compact card, token masked.
            card = page.locator(".jp-OutputArea-output .primer-nb-session").first
            expect(card).to_contain_text("£54.60 GBP")
            expect(card).to_contain_text("expires")
            expect(card.locator(".primer-nb-session-warnings li")).to_have_count(2)
            assert "eyJhbG…" in card.inner_text() and "." not in card.locator("code").nth(1).inner_text()
            card.screenshot(path=str(ARTIFACTS / "0-session-card.png"))
            builder = builders.last
            builder.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "1-notebook-ran.png"))

            # The line items' column headings: each grey wire name stays in its own column.
            header = builder.locator(".primer-nb-line-items-header")
            header.screenshot(path=str(ARTIFACTS / "1-line-items-header.png"))
            hints = header.locator(".primer-nb-hint")
            boxes = _check_hints_apart(hints, ["itemId", "description", "amount", "quantity",
                                               "discountAmount", "taxAmount", "productType"])  # fmt: skip
            headings = header.locator(".primer-nb-heading")
            for i, box in enumerate(boxes):
                column = headings.nth(i).bounding_box()
                assert (
                    column["x"] <= box["x"] and box["x"] + box["width"] <= column["x"] + column["width"] + 0.5
                )
            inputs = builder.locator(".primer-nb-line-item").first.locator("input, select")
            for i in range(len(boxes)):  # each heading sits over its input
                column, below = headings.nth(i).bounding_box(), inputs.nth(i).bounding_box()
                assert abs(column["x"] - below["x"]) <= 3 and abs(column["width"] - below["width"]) <= 6
            top_hints = builder.locator(".primer-nb-field .primer-nb-hint")  # the top row comes first
            _check_hints_apart(
                [top_hints.nth(i) for i in range(3)], ["currencyCode", "orderId", "order.countryCode"]
            )

            # A line item: add a row, type an amount, watch the total follow (the notebook's
            # two prefilled lines come to £54.60).
            expect(builder.locator(".primer-nb-total")).to_contain_text("£54.60")
            rows = builder.locator(".primer-nb-line-item")
            before = rows.count()
            builder.locator(".primer-nb-add-line-item").click()
            expect(rows).to_have_count(before + 1)  # type into the new row, not the last old one
            amount = rows.last.locator(".primer-nb-amount input")
            amount.fill("19.99")
            expect(builder.locator(".primer-nb-total")).to_contain_text("£74.59")
            quantity = rows.last.locator(".primer-nb-quantity input")
            quantity.fill("3")
            quantity.press("Tab")  # number inputs send their value on change, not on each keystroke
            expect(builder.locator(".primer-nb-total")).to_contain_text("£114.57")
            page.screenshot(path=str(ARTIFACTS / "2-line-item.png"))

            # Create the session: masked token, expiry, warnings table.
            builder.locator(".primer-nb-create").click()
            token_cell = builder.locator(".primer-nb-token")
            expect(token_cell).to_contain_text("…", timeout=60_000)
            expect(builder.locator(".primer-nb-result")).to_contain_text("Session created")
            assert len(token_cell.inner_text()) < 20  # masked, never the whole JWT
            expect(builder.locator(".primer-nb-expiry")).to_contain_text("UTC")
            expect(builder.locator(".primer-nb-amount-result")).to_contain_text("£114.57")
            expect(builder.locator(".primer-nb-warnings table")).to_be_visible()
            expect(builder.locator(".primer-nb-warnings")).to_contain_text("customer.emailAddress")
            builder.locator(".primer-nb-result").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "3-created.png"))

            # The customer's fields: titled once, wire names apart.
            title = builder.locator(
                ".lm-AccordionPanel-title, .jupyter-widget-Collapse-header", has_text="Customer"
            )
            assert title.first.inner_text().strip() == "Customer"
            title.first.click()
            customer = builder.locator(".primer-nb-customer")
            expect(customer).to_be_visible()
            customer.screenshot(path=str(ARTIFACTS / "3-customer.png"))
            fields = customer.locator(".primer-nb-hint")
            assert fields.count() == 16
            _check_hints_apart(fields)

            # Metadata with an empty key: an inline error, the value kept.
            builder.locator(
                ".lm-AccordionPanel-title, .jupyter-widget-Collapse-header", has_text="Metadata"
            ).first.click()
            entries = builder.locator(".primer-nb-metadata-row")
            builder.locator(".primer-nb-add-metadata").click()
            expect(entries).to_have_count(1)
            value = entries.last.locator(".primer-nb-metadata-value input")
            value.fill("orphan value")
            expect(builder.locator(".primer-nb-metadata .primer-nb-error").first).to_contain_text(
                "key is empty"
            )
            expect(value).to_have_value("orphan value")
            builder.locator(".primer-nb-metadata").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "4-metadata-error.png"))
            builder.scroll_into_view_if_needed()
            builder.screenshot(path=str(ARTIFACTS / "session-builder.png"))

            assert page.get_by_text("Error displaying widget").count() == 0
            assert (
                page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
                == 0
            )
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure.png"), full_page=True)
            raise
        finally:
            browser.close()

    widget_errors = [e for e in console_errors if "widget" in e.lower() or "manager" in e.lower()]
    assert widget_errors == [], widget_errors
    if os.environ.get("PRIMER_NB_UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy2(ARTIFACTS / "session-builder.png", ROOT / "docs" / "session-builder.png")
