"""The seed guide's curl commands, run as printed against a running ``primer-nb sandbox``.

The guide sends no ``Content-Type`` (so curl declares form encoding) and an
older ``X-Api-Version``; Primer answers both, and so must the sandbox.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import DATA

COMMANDS = DATA / "seed_guide_curl.sh"
GUIDE_URL = "https://api.sandbox.primer.io"

pytestmark = pytest.mark.skipif(
    shutil.which("curl") is None or shutil.which("bash") is None,
    reason="needs curl and bash on PATH (apt-get install curl)",
)


def guide_commands() -> list[str]:
    """The commands in the data file, comments dropped, each as printed (with its line breaks)."""
    text = "\n".join(line for line in COMMANDS.read_text().splitlines() if not line.startswith("#"))
    return [block.strip() for block in re.split(r"\n\s*\n(?=curl )", text) if block.strip()]


def command_line() -> list[str]:
    script = Path(sys.executable).with_name("primer-nb")
    return [str(script)] if script.exists() else [sys.executable, "-m", "primer_nb.cli"]


@pytest.fixture
def running_sandbox(tmp_path) -> Iterator[tuple[str, str]]:
    """``primer-nb sandbox --port 0`` in a child process: its URL (read from its output) and key."""
    key = f"sk_guide_{secrets.token_hex(8)}"
    # --deterministic freezes the clock (in 2025), so version 2.1 is served whatever today's date.
    process = subprocess.Popen(
        [*command_line(), "sandbox", "--port", "0", "--db", str(tmp_path / "guide.sqlite3"),
         "--deterministic", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PRIMER_NB_SANDBOX_KEY": key},
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        first = lines.get(timeout=30)
        match = re.search(r"http://127\.0\.0\.1:\d+", first)
        assert match, first
        yield match.group(0), key
    finally:
        process.terminate()
        process.wait(timeout=15)


def run(command: str) -> dict:
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


def test_the_guide_commands_are_the_guides_example(seed_example):
    create, update = guide_commands()
    assert "Content-Type" not in create and "Content-Type" not in update
    body = json.loads(re.search(r"--data '(.*)'", create, re.DOTALL).group(1))
    assert body == seed_example["request"]
    assert update.startswith("curl --location --request PATCH")


def test_the_guides_curl_commands_work_verbatim(running_sandbox, seed_example):
    url, key = running_sandbox
    create, update = (c.replace(GUIDE_URL, url).replace("<YOUR_API_KEY>", key) for c in guide_commands())
    created = run(create)
    assert "error" not in created, created
    assert created["orderId"] == "order-123" and created["amount"] == 4999
    assert created["customer"] == seed_example["request"]["customer"]
    assert created["clientTokenExpirationDate"]
    updated = run(update.replace("<CLIENT_TOKEN>", created["clientToken"]))
    assert "error" not in updated, updated
    assert updated["customer"] == {"emailAddress": "john.doe@example.com"}
    assert updated["order"] == seed_example["request"]["order"]
