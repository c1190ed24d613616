"""Run the kit's notebooks with papermill: one at a time, as a walkthrough, or as sweeps.

A thin layer over papermill: it finds the notebooks shipped with the kit,
checks parameters (an API key is never a parameter), executes notebooks in
separate processes with a progress bar, exports HTML with nbconvert, and
collects each run's summary (the JSON output of the cell tagged ``summary``).
Grids run in a local process pool, or on Dask distributed
(:mod:`primer_nb.dask_sweep`).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from primer_nb.api.errors import PrimerConfigError
from primer_nb.config.settings import dotenv_settings

__all__ = [
    "DEFAULT_POINT_TIMEOUT",
    "GridExecutor",
    "GridJob",
    "GridProgress",
    "ProcessPool",
    "RunResult",
    "execute",
    "export_html",
    "find_notebook",
    "load_grid",
    "notebook_dir",
    "notebook_parameters",
    "notebooks",
    "refresh_committed_outputs",
    "run_grid",
    "walkthrough",
    "working_copy",
]

SECRET_WORDS = ("key", "secret", "password", "token")
_WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
KERNEL = "python3"
# Run in each kernel this runner starts: at exit, move every object to the GC's
# permanent generation so the interpreter skips its last full collection, which is
# slow once pandas and matplotlib are loaded and frees nothing the ending process
# needs (the kernel has already replied and closed its sockets; atexit hooks and
# stream flushes still run). Python does not promise finalizers for objects alive
# at exit anyway.
_SKIP_FINAL_COLLECTION = "--IPKernelApp.exec_lines=__import__('atexit').register(__import__('gc').freeze)"
# How long a kernel gets to exit after its shutdown reply before jupyter_client
# terminates it: half of this, then SIGTERM, the other half, then SIGKILL. Healthy
# kernels exit well within it; now and then ipykernel's control thread, after the
# reply, waits on the output thread its main thread is closing, and the kernel hangs
# until terminated, so a long grace only makes that run slower.
KERNEL_EXIT_GRACE = 1.0
DEFAULT_POINT_TIMEOUT = 600.0
"""Seconds one run of a grid may take, kernel start and every cell together, before its kernel is stopped."""
# What jupyter_client and pyzmq say when a kernel did not come up: it died at once (on
# TCP, another process took one of its ports between pick and bind) or a busy machine
# kept it from answering in time. Nothing has run yet, so starting it again is safe.
_KERNEL_START_FAILURES = ("Kernel died before replying", "Kernel didn't respond in", "Address already in use")
# Length of "/primer-nb-kernel-XXXXXXXX/kernel-65535", the socket path below the temporary folder.
_SOCKET_SUFFIX = 40


def notebook_dir() -> Path:
    """Where the kit's notebooks are: inside the installed package, or the repository's ``notebooks/``."""
    packaged = Path(__file__).resolve().parent / "notebooks"
    if packaged.is_dir() and any(packaged.glob("*.ipynb")):
        return packaged
    return Path(__file__).resolve().parent.parent / "notebooks"


def notebooks() -> list[Path]:
    """The walkthrough notebooks, in order."""
    return sorted(notebook_dir().glob("[0-9][0-9]-*.ipynb"))


def find_notebook(name: str | Path) -> Path:
    """A notebook by path, file name or number prefix (``04`` finds ``04-parameterized-run.ipynb``)."""
    path = Path(name)
    if path.exists():
        return path
    for candidate in notebooks():
        if (
            candidate.name == path.name
            or candidate.name.startswith(f"{name}-")
            or candidate.stem == str(name)
        ):
            return candidate
    known = ", ".join(p.name for p in notebooks())
    raise PrimerConfigError(f"no notebook {str(name)!r}; the kit has: {known}")


def notebook_parameters(path: str | Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares (papermill's inspection): name → type, default, help."""
    import papermill

    return dict(papermill.inspect_notebook(str(path)))


def check_parameters(parameters: Mapping[str, Any]) -> None:
    """Refuse anything that looks like a secret: keys come from the environment, never parameters.

    A name that looks like a secret is refused, and so is any value holding the
    configured ``PRIMER_API_KEY``.
    """
    for name in parameters:
        if any(word in name.lower() for word in SECRET_WORDS):
            raise PrimerConfigError(
                f"parameter {name!r} looks like a secret; set PRIMER_API_KEY in the environment or .env "
                "instead (papermill writes parameters into the saved notebook)"
            )
    key = configured_key()
    if key and key in json.dumps(dict(parameters), default=str):
        raise PrimerConfigError(
            "a parameter value holds the configured PRIMER_API_KEY; the kernel reads the key from the "
            "environment or .env itself (papermill writes parameters into the saved notebook)"
        )


def configured_key() -> str | None:
    """This process's ``PRIMER_API_KEY`` (environment, then ``.env``) when it is long enough to look for."""
    key = os.environ.get("PRIMER_API_KEY") or dotenv_settings().get("PRIMER_API_KEY")
    return key if key and len(key) >= 8 else None


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def execute(
    notebook: str | Path,
    output: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    timeout: int | None = 600,
    sandbox: bool | None = None,
    total_timeout: float | None = None,
) -> Path:
    """Execute ``notebook`` with papermill into ``output``; raise papermill's error if a cell fails.

    Parameters
    ----------
    env:
        Environment variables for the kernel (and the sandbox started beside it).
        The kernel also gets the ``PRIMER_*`` settings of the ``.env`` file found
        from this process's working directory, which its own search, from the
        notebook's folder, would miss.
    timeout:
        Seconds each cell may run (``None``: no limit).
    sandbox:
        Start a local sandbox process beside the kernel for its ``connect()`` to
        use; ``None`` (default) does so when the configuration says the notebook
        will use the embedded sandbox.
    total_timeout:
        Seconds for the whole execution, kernel start included: each cell gets
        what is left (at most ``timeout``). When a cell runs out of time, nbclient
        raises ``CellTimeoutError`` and the kernel is shut down.
    """
    import papermill

    parameters = dict(parameters or {})
    check_parameters(parameters)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    source = Path(notebook)
    kernel_env = {**{k: v for k, v in dotenv_settings().items() if k not in os.environ}, **(env or {})}
    with (
        _environment(kernel_env),
        _sandbox_for_kernel(parameters, sandbox),
        tempfile.TemporaryDirectory(prefix="primer-nb-kernel-", dir=_socket_parent()) as sockets,
    ):
        papermill.execute_notebook(
            str(source), str(output), parameters=parameters, kernel_name=KERNEL, cwd=str(source.parent),
            progress_bar=False, request_save_on_cell_execute=False, extra_arguments=[_SKIP_FINAL_COLLECTION],
            **_time_limits(timeout, total_timeout), **_kernel_transport(sockets),
        )  # fmt: skip
    return output


def _time_limits(per_cell: int | None, total: float | None) -> dict[str, Any]:
    """papermill's timeout options: each cell at most ``per_cell`` s, and all of it within ``total`` s."""
    if total is None:
        return {"execution_timeout": per_cell}
    deadline = time.monotonic() + total

    def left(cell: Any = None) -> int:
        # nbclient reads 0 as "no limit": a run already out of time still gets one second, not forever.
        seconds = max(1, math.ceil(deadline - time.monotonic()))
        return min(seconds, per_cell) if per_cell else seconds

    return {"execution_timeout": per_cell, "timeout_func": left, "start_timeout": min(60, left())}


@contextmanager
def _sandbox_for_kernel(parameters: Mapping[str, Any], wanted: bool | None) -> Iterator[None]:
    """Start a local sandbox process alongside the kernel when the notebook will use one.

    The kernel's ``connect()`` finds it through ``$PRIMER_NB_SANDBOX_URL``, so it
    neither starts a server nor waits for one: the sandbox boots on another core
    while the kernel starts. Each execution gets a fresh sandbox (deterministic
    when ``PRIMER_NB_DETERMINISTIC=1``), stopped when the notebook is done.
    """
    if not (_uses_embedded_sandbox(parameters) if wanted is None else wanted):
        yield
        return
    from primer_nb.config.settings import deterministic_requested
    from primer_nb.sandbox.serving.process import SandboxProcess

    sandbox = SandboxProcess(deterministic=deterministic_requested()).start(wait=False)
    try:
        with _environment(sandbox.environment()):
            yield
    finally:
        # Its stdin closes, so it exits by itself; waiting for that would only add
        # uvicorn's shutdown grace to every execution.
        sandbox.stop(wait=False)


def _uses_embedded_sandbox(parameters: Mapping[str, Any]) -> bool:
    """Whether ``connect()`` in the kernel would start the embedded sandbox (the runner's best guess)."""
    from primer_nb.config.settings import ENV_SANDBOX_URL, resolve_settings

    environment = parameters.get("environment")
    if os.environ.get(ENV_SANDBOX_URL) or environment not in (None, "", "local"):
        return False
    try:
        settings = resolve_settings(environment=environment or None)
    except PrimerConfigError:
        return False  # the kernel will explain the configuration problem itself
    return settings.environment == "local" and settings.base_url is None


def _socket_parent() -> str | None:
    """Where the kernel's socket folder goes: the temporary folder, or ``/tmp`` when that path is too long.

    A Unix socket's path must fit in ``sockaddr_un.sun_path`` (107 bytes on
    Linux); a worker whose ``TMPDIR`` is deep in a job's scratch space would
    otherwise get kernels that cannot bind.
    """
    default = tempfile.gettempdir()
    if len(os.fsencode(default)) + _SOCKET_SUFFIX <= _ipc_path_max() or os.name != "posix":
        return None
    short = "/tmp"  # noqa: S108 - only the parent of a private mkdtemp folder
    return short if os.access(short, os.W_OK | os.X_OK) else None


def _ipc_path_max() -> int:
    import zmq

    return int(getattr(zmq, "IPC_PATH_MAX_LEN", 103))


def _kernel_transport(folder: str) -> dict[str, Any]:
    """Kernel manager options: Unix sockets in ``folder`` where available, else TCP.

    With TCP, jupyter_client picks free ports and releases them before the
    kernel binds them, so parallel runs can collide; Unix sockets cannot, and the
    kernel does not warn about unencrypted TCP either. When ``folder``'s path is
    too long for a socket, the kernel uses TCP (its start is retried once if
    another process takes a port first). The same manager gives a kernel
    :data:`KERNEL_EXIT_GRACE` seconds to exit.
    """
    if os.name != "posix":
        return {}
    from jupyter_client.manager import AsyncKernelManager

    prefix = str(Path(folder) / "kernel")
    # The kernel names its sockets "<prefix>-<n>".
    unix_sockets = len(os.fsencode(prefix)) + len("-65535") <= _ipc_path_max()

    class RunnerKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            if unix_sockets:
                kwargs.setdefault("transport", "ipc")
                kwargs.setdefault("ip", prefix)
            kwargs.setdefault("shutdown_wait_time", KERNEL_EXIT_GRACE)
            super().__init__(**kwargs)

    return {"kernel_manager_class": RunnerKernelManager}


def export_html(notebook: str | Path, output: str | Path | None = None) -> Path:
    """Export an executed notebook to HTML (nbconvert's lab template)."""
    import nbformat
    from nbconvert import HTMLExporter

    notebook = Path(notebook)
    output = Path(output) if output is not None else notebook.with_suffix(".html")
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(notebook, as_version=4))
    output.write_text(body, encoding="utf-8")
    return output


def summary_of(notebook: str | Path) -> dict[str, Any] | None:
    """The JSON the cell tagged ``summary`` displayed, if any."""
    import nbformat

    nb = nbformat.read(Path(notebook), as_version=4)
    for cell in nb.cells:
        if "summary" in cell.get("metadata", {}).get("tags", []):
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if "application/json" in data:
                    value = data["application/json"]
                    return value if isinstance(value, dict) else json.loads(value)
    return None


@dataclass
class RunResult:
    """One notebook execution of a sweep or walkthrough."""

    notebook: str
    parameters: dict[str, Any]
    status: str = "ok"
    duration: float = 0.0
    error: str = ""
    output: str = ""
    html: str = ""
    summary: dict[str, Any] | None = field(default=None)

    def row(self) -> dict[str, Any]:
        """A flat row for the summary table."""
        return {
            "notebook": self.notebook,
            "parameters": json.dumps(self.parameters, sort_keys=True),
            "status": self.status,
            "duration_s": round(self.duration, 2),
            "error": self.error,
            "output": self.output,
            **{f"summary.{k}": v for k, v in (self.summary or {}).items()},
        }


def kernel_start_failed(exc: BaseException) -> bool:
    """Whether ``exc`` says a kernel failed to come up, for a reason worth one more try."""
    return isinstance(exc, Exception) and any(text in str(exc) for text in _KERNEL_START_FAILURES)


def run_one(
    notebook: str,
    output: str,
    parameters: dict[str, Any],
    env: dict[str, str],
    html: bool,
    timeout: float | None = None,
) -> RunResult:
    """Execute one notebook, never raising: the outcome, timing and summary go into a :class:`RunResult`.

    A kernel that fails to start for a transient reason (:func:`kernel_start_failed`)
    is started once more. ``timeout`` bounds the whole run, both attempts included.
    """
    start = time.perf_counter()
    deadline = None if timeout is None else time.monotonic() + timeout
    result = RunResult(Path(notebook).name, parameters, output=output)
    try:
        for attempt in (1, 2):
            left = None if deadline is None else max(1.0, deadline - time.monotonic())
            try:
                execute(notebook, output, parameters, env=env, total_timeout=left)
                break
            except Exception as exc:
                out_of_time = deadline is not None and time.monotonic() >= deadline
                if attempt == 2 or out_of_time or not kernel_start_failed(exc):
                    raise
        result.summary = summary_of(output)
        if html:
            result.html = str(export_html(output))
    except Exception as exc:  # recorded, not fatal: a sweep goes on
        result.status = "failed"
        if deadline is not None and time.monotonic() >= deadline:
            result.error = f"TimeoutError: the run took more than {timeout:g} s; its kernel was stopped"
        else:
            first = str(exc).strip().splitlines()
            result.error = f"{type(exc).__name__}: {first[-1] if first else ''}"[:500]
    result.duration = time.perf_counter() - start
    return result


def load_grid(path: str | Path) -> list[dict[str, Any]]:
    """Parameter sets from a YAML or JSON file.

    A mapping of name → list is a cartesian product (``{currency: [GBP, JPY], quantity: [1, 2]}``
    gives four runs; a scalar counts as a one-item list); a list of mappings is
    taken as explicit sets.
    """
    import yaml

    data = yaml.safe_load(Path(path).read_text())
    if isinstance(data, list):
        if not all(isinstance(item, dict) for item in data):
            raise PrimerConfigError(f"{path}: a list grid must hold mappings of parameter → value")
        return [dict(item) for item in data]
    if isinstance(data, dict):
        names = list(data)
        values = [v if isinstance(v, list) else [v] for v in data.values()]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
    raise PrimerConfigError(f"{path}: the grid must be a mapping of lists or a list of mappings")


def run_grid(
    notebook: str | Path,
    parameter_sets: Sequence[Mapping[str, Any]],
    *,
    out_dir: str | Path,
    workers: int = 2,
    progress: bool = True,
    html: bool = False,
    env: Mapping[str, str] | None = None,
    timeout: float | None = DEFAULT_POINT_TIMEOUT,
    executor: GridExecutor | None = None,
) -> list[RunResult]:
    """Execute ``notebook`` once per parameter set: in a process pool, or on Dask distributed.

    Parameters
    ----------
    notebook:
        A path, file name or number prefix (``"04"``).
    parameter_sets:
        One mapping of papermill parameters per run (see :func:`load_grid`).
    out_dir:
        Where the executed notebooks (``<stem>-001.ipynb``, ...), their HTML
        and ``summary.csv`` go.
    workers:
        Size of the local process pool (without ``executor``).
    html:
        Also export each executed notebook to HTML.
    env:
        Environment variables for every run's kernel. On Dask they travel to
        the workers, so names that look like secrets are refused there.
    timeout:
        Seconds one run may take (kernel start and all cells); then its kernel
        is stopped and the run is recorded as failed.
    executor:
        Where the runs execute: ``None`` is a :class:`ProcessPool` of ``workers``
        processes; a :class:`~primer_nb.dask_sweep.DaskExecutor` makes every run
        a task on Dask distributed, the executed notebooks coming back to this
        process. Anything with the :class:`GridExecutor` method will do.

    Returns
    -------
    One :class:`RunResult` per parameter set, in order. Failures are recorded
    in theirs and the other runs go on.
    """
    source = find_notebook(notebook)
    sets = [dict(p) for p in parameter_sets] or [{}]
    for parameters in sets:
        check_parameters(parameters)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    outputs = [out / f"{source.stem}-{i:03d}.ipynb" for i in range(1, len(sets) + 1)]
    with _progress_bar(len(sets), f"running {source.name}", enabled=progress) as bar:
        job = GridJob(source, sets, outputs, dict(env or {}), html, timeout)
        results = (executor or ProcessPool(workers)).run_points(job, bar)
    write_summary(results, out / "summary.csv")
    return results


@dataclass(frozen=True)
class GridJob:
    """A grid to run: the notebook, one parameter set and output path per run, and how to run each."""

    source: Path
    parameter_sets: Sequence[dict[str, Any]]
    outputs: Sequence[Path]
    env: dict[str, str]
    html: bool
    timeout: float | None


class GridProgress(Protocol):
    """Where an executor reports: ``advance()`` once per finished run, ``write(line)`` for news."""

    def advance(self) -> None:
        """One more run finished."""
        ...

    def write(self, line: str) -> None:
        """Show a line of news (a dashboard link, the workers) without breaking the bar."""
        ...


class GridExecutor(Protocol):
    """Runs a grid's points somewhere and writes each executed notebook to its output path."""

    def run_points(self, job: GridJob, progress: GridProgress) -> list[RunResult]:
        """One :class:`RunResult` per parameter set, in order."""
        ...


@dataclass(frozen=True)
class ProcessPool:
    """The default :class:`GridExecutor`: a pool of ``workers`` local processes."""

    workers: int = 2

    def run_points(self, job: GridJob, progress: GridProgress) -> list[RunResult]:
        """Run every point in the pool, gathering results as they complete."""
        results: list[RunResult | None] = [None] * len(job.parameter_sets)
        with ProcessPoolExecutor(max_workers=max(1, self.workers)) as pool:
            futures = {
                pool.submit(
                    run_one, str(job.source), str(output), parameters, job.env, job.html, job.timeout
                ): i
                for i, (parameters, output) in enumerate(zip(job.parameter_sets, job.outputs, strict=True))
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                progress.advance()
        return [r for r in results if r is not None]


@dataclass
class _ProgressBar:
    """A tqdm bar over a grid's runs, or nothing at all; ``write`` prints above it."""

    bar: Any = None

    def advance(self) -> None:
        """One more run finished."""
        if self.bar is not None:
            self.bar.update(1)

    def write(self, line: str) -> None:
        """Print ``line`` above the bar."""
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)


@contextmanager
def _progress_bar(total: int, label: str, *, enabled: bool) -> Iterator[_ProgressBar]:
    if not enabled:
        yield _ProgressBar()
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=label, unit="run") as bar:
        yield _ProgressBar(bar)


def write_summary(results: Sequence[RunResult], path: str | Path) -> Path:
    """Save the runs' rows as CSV."""
    rows = [r.row() for r in results]
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)


def walkthrough(out_dir: str | Path, *, html: bool = True, deterministic: bool = False) -> list[RunResult]:
    """Execute every notebook in order, each against a fresh local sandbox; export HTML too."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = {"PRIMER_ENVIRONMENT": "local"}
    if deterministic:
        env["PRIMER_NB_DETERMINISTIC"] = "1"
    return [run_one(str(nb), str(out / nb.name), {}, env, html) for nb in notebooks()]


def working_copy(target: str | Path) -> tuple[list[Path], list[Path]]:
    """Copy the notebooks into ``target`` for editing; never overwrite a file already there.

    Returns (copied, kept).
    """
    folder = Path(target)
    folder.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for source in notebooks():
        copy = folder / source.name
        if copy.exists():
            kept.append(copy)
        else:
            shutil.copy2(source, copy)
            copied.append(copy)
    return copied, kept


def refresh_committed_outputs(target: str | Path | None = None) -> list[RunResult]:
    """Re-execute the repository's notebooks in place, deterministically (what is committed).

    The local sandbox runs with a frozen clock and seeded ids, so the outputs
    only change when the code or the notebooks do; nbval checks them.
    """
    folder = Path(target) if target is not None else notebook_dir()
    env = {"PRIMER_ENVIRONMENT": "local", "PRIMER_NB_DETERMINISTIC": "1"}
    results = []
    for nb in sorted(folder.glob("[0-9][0-9]-*.ipynb")):
        scratch = nb.with_suffix(".executing.ipynb")
        result = run_one(str(nb), str(scratch), {}, env, html=False)
        if result.status == "ok":
            _strip_papermill_metadata(scratch)
            shutil.move(scratch, nb)
        else:
            scratch.unlink(missing_ok=True)
        results.append(result)
    return results


def _strip_papermill_metadata(path: Path) -> None:
    # Timings and durations differ every run; the committed file keeps only outputs.
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if _WIDGET_VIEW in data:
                # The widget's model died with the kernel; a stored view would only show
                # "Error displaying widget" when the file is opened or rendered.
                name = str(data.get("text/plain", "widget")).split("(", 1)[0]
                output["data"] = {"text/plain": f"[interactive {name}: run the notebook to use it]"}
        if "injected-parameters" in cell.metadata.get("tags", []):
            raise RuntimeError("refresh must not inject parameters")
    nbformat.write(nb, path)
