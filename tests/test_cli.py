"""The ``primer-nb`` command's failures: one message that names the fix, the right exit status, no traceback.

Each bad invocation runs as a real process with stdin closed, the way a user
meets it in a terminal; the in-process tests cover ``--debug``, genuine bugs
and interrupts through :func:`primer_nb.cli.main`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from primer_nb.api.errors import InvalidRequestError
from primer_nb.cli import commands as cli

pytestmark = pytest.mark.slow

GRID_FILES = {
    "bad.yaml": "currency: [GBP, JPY\norder_id: x\n",  # unclosed [
    "bad.json": '{"currency": ["GBP",\n  "JPY"\n',
    "scalars.yaml": "- GBP\n- JPY\n",
    "secret.yaml": "currency: [GBP]\nsecret_key: [abc]\n",
    "bad.toml": "[methods]\nPAYPAL = tru\n",
    "unknown.toml": "[methods]\nVENMO = true\n",
    "notadb.sqlite": "plain text, not a SQLite database " * 10,
    "afile": "",
}


@pytest.fixture
def files(tmp_path):
    for name, text in GRID_FILES.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.fixture
def taken_port():
    """A loopback port this process listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "primer_nb.cli", *args],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=cwd, timeout=60,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


# (arguments, exit status, words the message must hold); {port}, {pid}, {tmp} are filled in.
CASES = [
    (["run", "nosuch"], 2, ["no notebook 'nosuch'", "04-parameterized-run"]),
    (["run", "04", "--grid", "missing.yaml"], 2, ["grid file missing.yaml does not exist"]),
    (["run", "04", "--grid", "bad.yaml"], 1, ["grid file bad.yaml, line 2, column 9", "flow sequence", "line 1"]),
    (["run", "04", "--grid", "bad.json"], 1, ["grid file bad.json, line 3", "a grid is a mapping"]),
    (["run", "04", "--grid", "scalars.yaml"], 1, ["grid file scalars.yaml", "must hold mappings"]),
    (["run", "04", "--grid", "secret.yaml"], 1, ["grid file secret.yaml", "'secret_key' looks like a secret"]),
    (["run", "04", "--grid", "."], 2, ["grid file . is a folder"]),
    (["run", "04", "-p", "api_key", "abc"], 2, ["'api_key' looks like a secret", "PRIMER_API_KEY"]),
    (["run", "04", "-p", "items", "[1"], 2, ["-p items '[1'", "not valid", "quote it"]),
    (["run", "04", "--workers", "0"], 2, ["--workers", "1 or more"]),
    (["run", "04", "--out", "afile/sub"], 1, ["output folder afile/sub", "afile is a file", "--out"]),
    (["sandbox", "--port", "99999"], 2, ["port 99999 is out of range", "0 for any free port"]),
    (["sandbox", "--port", "http"], 2, ["'http' is not a port number"]),
    (["sandbox", "--port", "{port}"], 1, ["port {port} on 127.0.0.1 is already in use", "process {pid}", "--port 0"]),
    (["sandbox", "--host", "192.0.2.1", "--port", "0"], 2, ["cannot listen on 192.0.2.1", "127.0.0.1"]),
    (["sandbox", "--profile", "missing.toml"], 2, ["profile missing.toml does not exist"]),
    (["sandbox", "--profile", "bad.toml"], 1, ["profile bad.toml is not valid TOML", "line 2"]),
    (["sandbox", "--profile", "unknown.toml"], 1, ["profile unknown.toml", "unknown method 'VENMO'"]),
    (["sandbox", "--db", "{tmp}/absent/dir/x.sqlite"], 1, ["absent/dir (the folder for --db", "does not exist", "mkdir -p"]),
    (["sandbox", "--db", "afile/x.sqlite", "--port", "0"], 1, ["is a file", "--db"]),
    (["sandbox", "--db", ".", "--port", "0"], 2, ["--db . is a folder"]),
    (["sandbox", "--db", "notadb.sqlite", "--port", "0"], 1, ["notadb.sqlite", "not a database", "--db"]),
    (["walkthrough", "--out", "/proc/nope"], 1, ["output folder /proc/nope", "--out"]),
    (["walkthrough", "--out", "afile/sub"], 1, ["afile is a file, not a folder", "--out DIR"]),
    (["lab", "--dir", "afile/sub", "--no-browser"], 1, ["afile is a file", "--dir"]),
    (["lab", "--port", "-1"], 2, ["port -1 is out of range"]),
    (["nosuch"], 2, ["invalid choice"]),
]  # fmt: skip


@pytest.mark.parametrize(("args", "status", "words"), CASES, ids=[" ".join(case[0]) for case in CASES])
def test_a_mistyped_command_gets_one_message_and_a_status(args, status, words, files, taken_port):
    if "/proc/nope" in args and not Path("/proc").is_dir():
        pytest.skip("no /proc on this system")
    fill = {"port": str(taken_port), "pid": str(os.getpid()), "tmp": str(files)}
    args = [a.format(**fill) for a in args]
    result = run_cli(*args, cwd=files)
    output = result.stdout + result.stderr
    assert result.returncode == status, output
    assert "Traceback" not in output
    for word in words:
        assert word.format(**fill) in result.stderr, result.stderr
    assert f"primer-nb {args[0]}: error: " in result.stderr or "primer-nb: error: " in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 6  # a message, not a wall


def test_db_never_creates_the_folder_it_names(files):
    target = files / "absent" / "dir" / "x.sqlite"
    result = run_cli("sandbox", "--db", str(target), cwd=files)
    assert result.returncode == 1
    assert not (files / "absent").exists()
    assert "never creates folders" in run_cli("sandbox", "--help", cwd=files).stdout.replace(
        "\n", " "
    ).replace("  ", " ")


def test_a_taken_port_does_not_create_the_database(files, taken_port):
    result = run_cli("sandbox", "--port", str(taken_port), "--db", "fresh.sqlite", cwd=files)
    assert result.returncode == 1
    assert not (files / "fresh.sqlite").exists()


def test_debug_adds_the_traceback(capsys, monkeypatch):
    assert cli.main(["--debug", "run", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "PrimerConfigError" in err
    assert err.rstrip().splitlines()[-1].startswith("primer-nb run: error: no notebook 'nosuch'")

    assert cli.main(["run", "nosuch", "--debug"]) == 2  # after the subcommand too
    assert "Traceback" in capsys.readouterr().err

    monkeypatch.setenv("PRIMER_NB_DEBUG", "1")
    assert cli.main(["run", "nosuch"]) == 2
    assert "Traceback" in capsys.readouterr().err

    monkeypatch.setenv("PRIMER_NB_DEBUG", "0")
    assert cli.main(["run", "nosuch"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_a_genuine_bug_shows_its_traceback_and_asks_for_a_report(capsys, monkeypatch):
    def broken(args):
        return {}["missing"]

    monkeypatch.setattr(cli, "_list", broken)
    assert cli.main(["list"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "KeyError" in err
    assert "internal error" in err and "bug in primer-nb" in err and "report it" in err


def test_the_kits_errors_print_their_message(capsys, monkeypatch):
    def failing(args):
        raise InvalidRequestError(422, error_id="RequestValidationError", description="amount is wrong")

    monkeypatch.setattr(cli, "_list", failing)
    assert cli.main(["list"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "primer-nb list: error: 422 RequestValidationError" in err and "amount is wrong" in err


def test_an_interrupt_exits_130_quietly(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_list", interrupted)
    assert cli.main(["list"]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and "interrupted" in err


def test_warnings_read_as_one_line(capsys, monkeypatch):
    import warnings

    def warns(args):
        warnings.warn("something to know", stacklevel=1)
        return 0

    monkeypatch.setattr(cli, "_list", warns)
    assert cli.main(["list"]) == 0
    assert capsys.readouterr().err == "primer-nb list: warning: something to know\n"
