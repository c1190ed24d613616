"""Grids on Dask distributed: a LocalCluster, a real scheduler with two workers, and the API key."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from primer_nb import notebooks as nbrun
from primer_nb.api.errors import PrimerConfigError

distributed = pytest.importorskip("distributed")

from primer_nb.dask_sweep import DaskExecutor, run_on_dask, scheduler_address  # noqa: E402

PROBE_MARKER = "probe-notebook-7f3c"
PROBE_CELLS = [
    ("n = 0\norder_prefix = 'probe'", ["parameters"]),
    (
        f"# {PROBE_MARKER}\n"
        "import primer_nb\n"
        "client = primer_nb.connect(quiet=True)\n"
        "session = client.create_client_session({'orderId': f'{order_prefix}-{n}', 'currencyCode': 'GBP'})\n"
        "if n == 3:\n"
        "    raise ValueError('point 3 fails on purpose')",
        [],
    ),
    (
        "from IPython.display import JSON, display\n"
        "display(JSON({'order_id': session.order_id, 'environment': client.environment,\n"
        "              'sessions_on_its_sandbox': len(client.sandbox.sessions()) if client.sandbox else None}))",
        ["summary"],
    ),
]


def write_probe(folder: Path) -> Path:
    """A three-cell notebook: parameters, one session created via connect(), a summary; n == 3 fails."""
    cells = [nbformat.v4.new_code_cell(source, metadata={"tags": tags}) for source, tags in PROBE_CELLS]
    probe = nbformat.v4.new_notebook(cells=cells)
    probe.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "probe.ipynb"
    nbformat.write(probe, path)
    return path


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "primer_nb.cli", "run", *args],
        capture_output=True, text=True, timeout=300, env=env, cwd=cwd,
    )  # fmt: skip


def summary_rows(folder: Path) -> list[dict[str, str]]:
    with (folder / "summary.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------------------------------------- quick


def test_without_distributed_dask_says_how_to_install(tmp_path):
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "from primer_nb.cli import main\n"
        f"sys.exit(main(['run', '04', '--dask', '--out', {str(tmp_path / 'runs')!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "pip install 'primer-nb[dask]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_scheduler_address_is_the_argument_else_dasks_own_setting():
    import dask

    assert scheduler_address("tcp://127.0.0.1:1") == "tcp://127.0.0.1:1"
    with dask.config.set({"scheduler-address": None}):
        assert scheduler_address() is None
    with dask.config.set({"scheduler-address": "tcp://127.0.0.1:2"}):
        assert scheduler_address() == "tcp://127.0.0.1:2"
        assert scheduler_address("tcp://127.0.0.1:3") == "tcp://127.0.0.1:3"


def test_secrets_are_refused_before_anything_is_sent(tmp_path, monkeypatch):
    probe = write_probe(tmp_path)
    executor = DaskExecutor("tcp://127.0.0.1:9")  # never contacted: the checks come first
    with pytest.raises(PrimerConfigError, match="looks like a secret"):
        run_on_dask(executor, probe, [{}], [tmp_path / "o.ipynb"], env={"PRIMER_API_KEY": "x"},
                    html=False, timeout=None)  # fmt: skip
    canary = f"sk_canary_{uuid.uuid4().hex}"
    monkeypatch.setenv("PRIMER_API_KEY", canary)
    with pytest.raises(PrimerConfigError, match="holds the configured PRIMER_API_KEY") as caught:
        nbrun.run_grid(probe, [{"note": f"key {canary}"}], out_dir=tmp_path / "runs", progress=False,
                       executor=executor)  # fmt: skip
    assert canary not in str(caught.value)
    with pytest.raises(PrimerConfigError, match="would be sent to the Dask workers") as caught:
        run_on_dask(executor, probe, [{}], [tmp_path / "o.ipynb"], env={"NOTE": f"key={canary}"},
                    html=False, timeout=None)  # fmt: skip
    assert canary not in str(caught.value)
    assert not executor.started


# ----------------------------------------------------------------------------------------------- slow


@pytest.mark.slow
def test_local_cluster_grid_gives_what_the_process_pool_gives(tmp_path):
    probe = write_probe(tmp_path)
    grid = tmp_path / "grid.yaml"
    grid.write_text("n: [1, 2, 3, 4]\n")
    env = {**os.environ, "PRIMER_ENVIRONMENT": "local"}
    on_dask = cli(str(probe), "--grid", str(grid), "--dask", "--workers", "2", "--out", str(tmp_path / "dask"),
                  env=env)  # fmt: skip
    in_pool = cli(str(probe), "--grid", str(grid), "--workers", "2", "--out", str(tmp_path / "pool"), env=env)

    for run in (on_dask, in_pool):
        assert run.returncode == 1, run.stdout + run.stderr
        assert "3 of 4 ran cleanly" in run.stdout
    assert "Dask: a LocalCluster with 2 worker(s), 2 thread(s); dashboard http://127.0.0.1:" in on_dask.stderr

    def comparable(folder: Path) -> list[dict[str, str]]:
        rows = summary_rows(folder)
        for row in rows:
            row.pop("duration_s")
            row["output"] = Path(row["output"]).name
        return rows

    rows = comparable(tmp_path / "dask")
    assert rows == comparable(tmp_path / "pool")
    assert [(r["status"], r["summary.order_id"]) for r in rows] == [
        ("ok", "probe-1"), ("ok", "probe-2"), ("failed", ""), ("ok", "probe-4"),
    ]  # fmt: skip
    assert "point 3 fails on purpose" in rows[2]["error"]
    # Every run had a sandbox of its own: it saw only the session it made.
    assert {r["summary.sessions_on_its_sandbox"] for r in rows if r["status"] == "ok"} == {"1"}
    for i in range(1, 5):
        executed = nbformat.read(tmp_path / "dask" / f"probe-{i:03d}.ipynb", as_version=4)
        assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
        errors = [o for c in executed.cells for o in c.get("outputs", []) if o.output_type == "error"]
        assert bool(errors) == (i == 3)


# ---------------------------------------------------------------------------------- a real deployment


class RecordingProxy:
    """A loopback TCP proxy that keeps every byte it forwards, each way, to search them afterwards."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"tcp://127.0.0.1:{self.listener.getsockname()[1]}"
        self.upstream = bytearray()  # what the caller sent
        self.downstream = bytearray()  # what came back to it
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while True:
            try:
                caller, _ = self.listener.accept()
            except OSError:
                return  # closed
            scheduler = socket.create_connection(self.target, timeout=10)
            scheduler.settimeout(None)
            with self._lock:
                self._sockets += [caller, scheduler]
            for source, sink, record in (
                (caller, scheduler, self.upstream),
                (scheduler, caller, self.downstream),
            ):
                thread = threading.Thread(target=self._pump, args=(source, sink, record), daemon=True)
                self._threads.append(thread)
                thread.start()

    def _pump(self, source: socket.socket, sink: socket.socket, record: bytearray) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(1 << 16):
                with self._lock:
                    record.extend(data)
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
        for thread in self._threads:
            thread.join(timeout=10)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_grid_on_a_scheduler_and_two_workers_with_the_key_staying_home(tmp_path):
    from primer_nb.sandbox import LocalSandbox, SandboxHandle

    canary = f"sk_canary_{uuid.uuid4().hex}"
    worker_key = f"worker-key-{uuid.uuid4().hex}"
    probe = write_probe(tmp_path)
    grid = tmp_path / "grid.yaml"
    grid.write_text("n: [1, 2, 4, 5]\norder_prefix: remote\n")
    # Workers and scheduler get an environment without any of the caller's Primer settings.
    scrubbed = {k: v for k, v in os.environ.items() if not k.startswith(("PRIMER_", "DASK_"))}
    logs = tmp_path / "logs"
    logs.mkdir()
    processes: list[subprocess.Popen] = []
    handles = []

    def start(name: str, args: list[str], cwd: Path, env: dict[str, str] = scrubbed) -> subprocess.Popen:
        out = (logs / f"{name}.log").open("wb")
        handles.append(out)
        cwd.mkdir(exist_ok=True)
        process = subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=cwd, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        processes.append(process)
        return process

    # A stand-in for Primer's sandbox on loopback that accepts only the workers' own key.
    with LocalSandbox(api_key=worker_key) as primer:
        proxy = None
        try:
            scheduler_file = tmp_path / "scheduler.json"
            start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address",
                                "127.0.0.1:0", "--scheduler-file", str(scheduler_file)], tmp_path / "scheduler")  # fmt: skip
            deadline = time.monotonic() + 60
            while not scheduler_file.exists() or not scheduler_file.read_text().strip():
                assert processes[0].poll() is None, (logs / "scheduler.log").read_text()
                assert time.monotonic() < deadline, "the scheduler did not start"
                time.sleep(0.1)
            address = json.loads(scheduler_file.read_text())["address"]
            workdirs = [tmp_path / f"worker-{i}" for i in (1, 2)]
            for i, workdir in enumerate(workdirs, start=1):
                # Each worker's own configuration: its key and where "Primer" is.
                workdir.mkdir()
                (workdir / ".env").write_text(
                    f"PRIMER_API_KEY={worker_key}\nPRIMER_ENVIRONMENT=sandbox\nPRIMER_BASE_URL={primer.base_url}\n"
                )
                (workdir / "tmp").mkdir()  # the worker's own temporary folder (TMPDIR)
                start(f"worker-{i}", ["worker", address, "--nthreads", "1", "--host", "127.0.0.1",
                                      "--no-dashboard", "--name", f"worker-{i}"], workdir,
                      env={**scrubbed, "TMPDIR": str(workdir / "tmp")})  # fmt: skip
            with distributed.Client(address, timeout=30) as watcher:
                watcher.wait_for_workers(2, timeout=90)

            host, port = address.removeprefix("tcp://").rsplit(":", 1)
            proxy = RecordingProxy((host, int(port)))
            caller = tmp_path / "caller"
            caller.mkdir()
            caller_env = {**os.environ, "PRIMER_API_KEY": canary}
            by_address = cli(str(probe), "--grid", str(grid), "--dask", proxy.address, "--out",
                             str(caller / "runs"), env=caller_env, cwd=caller)  # fmt: skip
            by_setting = cli(str(probe), "-p", "n", "6", "-p", "order_prefix", "remote", "--dask", "--out",
                             str(caller / "again"), env={**caller_env, "DASK_SCHEDULER_ADDRESS": proxy.address},
                             cwd=caller)  # fmt: skip
            leftovers = {workdir.name: sorted(p.name for p in workdir.iterdir()) for workdir in workdirs}
            scratch = {
                workdir.name: sorted(p.name for p in (workdir / "tmp").iterdir()) for workdir in workdirs
            }
            sessions = SandboxHandle(primer.base_url, worker_key).sessions()
        finally:
            if proxy is not None:
                proxy.close()
            for process in reversed(processes):
                _stop(process)
            for handle in handles:
                handle.close()

    assert all(process.poll() is not None for process in processes)
    for run in (by_address, by_setting):
        assert run.returncode == 0, run.stdout + run.stderr
        assert f"Dask: the scheduler {proxy.address} with 2 worker(s), 2 thread(s)" in run.stderr
    assert "4 of 4 ran cleanly" in by_address.stdout and "1 of 1 ran cleanly" in by_setting.stdout

    # The executed notebooks came back to the caller; the points talked to "Primer" with the workers' key.
    rows = summary_rows(caller / "runs")
    assert [(r["status"], r["summary.order_id"], r["summary.environment"]) for r in rows] == [
        ("ok", f"remote-{n}", "sandbox") for n in (1, 2, 4, 5)
    ]
    produced = sorted(p.name for p in (caller / "runs").iterdir())
    assert produced == [
        "probe-001.ipynb",
        "probe-002.ipynb",
        "probe-003.ipynb",
        "probe-004.ipynb",
        "summary.csv",
    ]
    assert sorted(s["orderId"] for s in sessions) == [f"remote-{n}" for n in (1, 2, 4, 5, 6)]
    # Nothing left in the workers' working directories but their own .env.
    assert leftovers == {"worker-1": [".env", "tmp"], "worker-2": [".env", "tmp"]}
    # ... and in their temporary folders, only Dask's own scratch space.
    assert scratch == {"worker-1": ["dask-scratch-space"], "worker-2": ["dask-scratch-space"]}

    # The canary is nowhere: not on the wire, in any log, output or summary.
    assert PROBE_MARKER.encode() in proxy.upstream  # the notebook went out through the proxy ...
    assert b"remote-5" in proxy.downstream  # ... and the executed notebooks came back through it
    places = {
        "sent to the scheduler": bytes(proxy.upstream),
        "received from the scheduler": bytes(proxy.downstream),
        **{f"log {p.name}": p.read_bytes() for p in logs.iterdir()},
        **{f"output {p.name}": p.read_bytes() for p in caller.rglob("*") if p.is_file()},
        "caller's output": (
            by_address.stdout + by_address.stderr + by_setting.stdout + by_setting.stderr
        ).encode(),
    }
    assert [place for place, data in places.items() if canary.encode() in data] == []
    # The workers' own key stayed inside the workers too.
    assert [place for place, data in places.items() if worker_key.encode() in data] == []
