"""Packaging: dependency lists agree, the import is light, the command runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib

import yaml

import primer_nb
from primer_nb.__about__ import __version__

from .conftest import ROOT

# conda-forge spells a few packages differently from PyPI.
CONDA_NAMES = {"uvicorn[standard]": "uvicorn-standard", "dask[distributed]": "distributed"}


def _name(requirement: str) -> str:
    """The distribution name of a requirement, lower-case, extras kept, version dropped."""
    name = re.split(r"[<>=!~;\s]", requirement.strip(), maxsplit=1)[0].lower()
    return CONDA_NAMES.get(name, name).replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra}
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in environment["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert conda == wanted, f"only in environment.yml: {conda - wanted}; only in pyproject: {wanted - conda}"


def test_the_test_extra_brings_the_dask_extra():
    # CI installs `.[test]` and runs the Dask tests.
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(extras["dask"]) <= set(extras["test"])


def test_environment_yml_pins_a_supported_python():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "python>=3.11" in environment["dependencies"]


def test_import_is_light():
    code = (
        "import json, sys, primer_nb; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'pandas', 'ipywidgets', 'fastapi', 'uvicorn', 'matplotlib', 'papermill', 'starlette'})))"
    )
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", code], text=True))
    assert loaded == []


def test_all_is_sorted_and_complete():
    assert primer_nb.__all__ == sorted(primer_nb.__all__)
    for name in primer_nb.__all__:
        assert hasattr(primer_nb, name), name


def test_cli_version_and_help():
    version = subprocess.run(
        [sys.executable, "-m", "primer_nb.cli", "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == f"primer-nb {__version__}"
    helptext = subprocess.run(
        [sys.executable, "-m", "primer_nb.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "Client Session API" in helptext.stdout


def test_console_script_is_declared():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["primer-nb"] == "primer_nb.cli:main"
