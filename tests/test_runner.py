"""The notebook runner's limits: kernel start retried once, a time limit per run, socket paths."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest

from primer_nb import notebooks as nbrun

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def notebook(path: Path, *sources: str) -> Path:
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    probe.metadata["kernelspec"] = KERNELSPEC
    nbformat.write(probe, path)
    return path


def test_a_kernel_that_fails_to_start_is_started_once_more(tmp_path, monkeypatch):
    calls = []

    def flaky(notebook, output, parameters=None, **options):
        calls.append(options["total_timeout"])
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        Path(output).write_text(nbformat.writes(nbformat.v4.new_notebook()))
        return Path(output)

    monkeypatch.setattr(nbrun, "execute", flaky)
    result = nbrun.run_one("x.ipynb", str(tmp_path / "out.ipynb"), {}, {}, False, timeout=30)
    assert result.status == "ok" and len(calls) == 2
    assert 0 < calls[1] <= calls[0] <= 30  # the second attempt gets what is left of the run's time

    def always_dying(*args, **options):
        calls.append(options["total_timeout"])
        raise RuntimeError("Kernel died before replying to kernel_info")

    calls.clear()
    monkeypatch.setattr(nbrun, "execute", always_dying)
    result = nbrun.run_one("x.ipynb", str(tmp_path / "out.ipynb"), {}, {}, False)
    assert result.status == "failed" and len(calls) == 2 and "Kernel died" in result.error

    def broken(*args, **options):
        calls.append(options["total_timeout"])
        raise ValueError("a cell failed")

    calls.clear()
    monkeypatch.setattr(nbrun, "execute", broken)
    result = nbrun.run_one("x.ipynb", str(tmp_path / "out.ipynb"), {}, {}, False)
    assert result.status == "failed" and len(calls) == 1  # a notebook's own failure is not retried


@pytest.mark.slow
def test_a_run_over_its_time_has_its_kernel_stopped(tmp_path):
    pid_file = tmp_path / "kernel.pid"
    notebook(
        tmp_path / "stuck.ipynb",
        f"import os; open({str(pid_file)!r}, 'w').write(str(os.getpid()))",
        "import time; time.sleep(300)",
    )
    start = time.monotonic()
    result = nbrun.run_one(str(tmp_path / "stuck.ipynb"), str(tmp_path / "out.ipynb"), {},
                            {"PRIMER_ENVIRONMENT": "local"}, False, timeout=6)  # fmt: skip
    assert result.status == "failed" and "more than 6 s" in result.error, result.error
    assert time.monotonic() - start < 60
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_kernels_use_tcp_when_the_socket_folder_path_is_too_long(tmp_path):
    short = nbrun._kernel_transport(str(tmp_path))["kernel_manager_class"](kernel_name="python3")
    assert short.transport == "ipc"
    deep = tmp_path / ("d" * 120)
    manager = nbrun._kernel_transport(str(deep))["kernel_manager_class"](kernel_name="python3")
    assert manager.transport == "tcp" and manager.shutdown_wait_time == nbrun.KERNEL_EXIT_GRACE


@pytest.mark.slow
def test_a_deep_temporary_folder_still_gets_unix_socket_kernels(tmp_path, monkeypatch):
    deep = tmp_path / ("t" * 90)
    deep.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(deep))
    probe = notebook(
        tmp_path / "probe.ipynb",
        "from ipykernel.kernelapp import IPKernelApp\n"
        "app = IPKernelApp.instance()\n"
        "print(app.transport, app.ip)",
    )
    out = nbrun.execute(probe, tmp_path / "out.ipynb", env={"PRIMER_ENVIRONMENT": "local"}, sandbox=False)
    transport, prefix = nbformat.read(out, as_version=4).cells[0].outputs[0]["text"].split()
    assert transport == "ipc"
    assert Path(prefix).parent.parent == Path("/tmp")  # noqa: S108 - where the runner put the socket folder
