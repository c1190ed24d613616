"""The layering, as import-linter contracts in pyproject.toml: kept by the code, and able to bite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        capture_output=True, text=True, cwd=root, env={"PYTHONPATH": str(root), "PATH": ""}, timeout=300,
    )  # fmt: skip


def test_the_package_keeps_every_layer_contract():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "contract"),
    [
        ("client/base.py", "import primer_nb.sandbox.serving.handle", "Layers"),
        ("api/money.py", "import httpx", "domain core"),
        ("sandbox/core/store.py", "import primer_nb.sandbox.serving.endpoint", "emulator is free"),
        ("tables.py", "import primer_nb.widgets", "Layers"),
        ("tables.py", "import primer_nb.webhooks.receiver", "Layers"),
        ("webhooks/receiver.py", "import fastapi", "standard library's server"),
        ("sandbox/core/webhooks.py", "import httpx", "sandbox core needs no web framework"),
    ],
)
def test_a_wrong_import_breaks_a_contract(tmp_path, module, bad_import, contract):
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "primer_nb", copy / "primer_nb", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    target = copy / "primer_nb" / module
    target.write_text(target.read_text() + f"\n{bad_import}  # noqa\n")
    result = _lint(copy)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert any(contract in line for line in broken), result.stdout[-3000:]
