"""Grids on Dask distributed: every run of a sweep is one task on a worker of a Dask cluster.

:class:`DaskExecutor` says which cluster: the scheduler at an address, the one
Dask's own configuration names (``scheduler-address``, i.e.
``$DASK_SCHEDULER_ADDRESS``), a ``distributed.Client`` already connected, or
else a ``LocalCluster`` of worker *processes* with one thread each (papermill
changes its process's working directory, and kernels are processes anyway).
:func:`primer_nb.notebooks.run_grid` takes it as ``executor``.

Each run is submitted as its own task (``pure=False``) with the notebook's
text, its parameters and non-secret environment variables, and nothing else.
On the worker, :func:`run_point` writes the notebook into a temporary folder,
executes it there with the kit's runner (a fresh local sandbox beside the
kernel, unless the worker's own configuration points at Primer), and returns
the executed notebook, its HTML and its summary; the folder, the kernel's
``PRIMER_NB_HOME`` included, is deleted before the task ends. The caller
writes what comes back under its ``out_dir``, so workers need not share a
filesystem with it.

The API key never travels: a worker reads ``PRIMER_API_KEY`` from its own
environment or the ``.env`` file found from its working directory.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from primer_nb.api.errors import PrimerConfigError
from primer_nb.notebooks import SECRET_WORDS, GridJob, GridProgress, RunResult, configured_key, run_one

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

__all__ = [
    "INSTALL_HINT",
    "DaskExecutor",
    "PointOutcome",
    "dask_installed",
    "run_on_dask",
    "run_point",
    "scheduler_address",
]

INSTALL_HINT = (
    "running on Dask needs Dask distributed, which is not installed: "
    "pip install 'primer-nb[dask]' (or conda install -c conda-forge distributed)"
)
"""What to do when ``distributed`` cannot be imported."""

# A LocalCluster lives for one sweep and shares this machine's cores with the kernels:
# its workers do not sample every running task's stack 100 times a second for the
# dashboard's profile (of papermill waiting on a kernel), and its event loops tick and
# monitor the system less often. Runs last seconds, so a worker is handed its next run
# when it finishes one rather than holding one in reserve, which at the end of a sweep
# could leave one worker busy with two while the other idles.
_LOCAL_CLUSTER_CONFIG = {
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "2s",
    # A local worker forked from this process starts with the kit, papermill and Dask already
    # imported, as a process-pool worker does; a spawned one imports them all again. macOS
    # cannot fork a process with threads safely, so it gets a fork server there.
    "distributed.worker.multiprocessing-method": "fork" if sys.platform.startswith("linux") else "forkserver",
}
# papermill changes the working directory of the whole process and the runner sets the
# kernel's environment variables in os.environ: on a worker with several threads, runs
# take turns.
_ONE_RUN_AT_A_TIME = threading.Lock()


def dask_installed() -> bool:
    """Whether Dask distributed can be imported here (the ``dask`` extra)."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def scheduler_address(address: str | None = None) -> str | None:
    """The scheduler to use: ``address``, else Dask's ``scheduler-address`` setting, else ``None``.

    Dask reads that setting from its configuration files and from
    ``$DASK_SCHEDULER_ADDRESS``; ``None`` means: start a ``LocalCluster``.
    """
    if address:
        return address
    import dask

    return dask.config.get("scheduler-address", default=None) or None


class DaskExecutor:
    """Where a grid runs on Dask distributed; pass it to :func:`~primer_nb.notebooks.run_grid`.

    >>> run_grid("04", sets, out_dir="runs", executor=DaskExecutor())              # doctest: +SKIP
    >>> run_grid("04", sets, out_dir="runs", executor=DaskExecutor("tcp://10.0.0.5:8786"))  # doctest: +SKIP

    Parameters
    ----------
    address:
        A scheduler's address. Default: Dask's ``scheduler-address`` setting
        (``$DASK_SCHEDULER_ADDRESS``); without one, a ``LocalCluster``.
    workers:
        Worker processes of the ``LocalCluster`` (one thread each).
    client:
        A ``distributed.Client`` to use as it is (it is not closed here).
    connect_timeout:
        Seconds to wait for the scheduler.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int = 2,
        client: Client | None = None,
        connect_timeout: float = 30.0,
    ) -> None:
        if address and client is not None:
            raise ValueError("give a scheduler address or a client, not both")
        self.address = address
        self.workers = max(1, workers)
        self.connect_timeout = connect_timeout
        self._client: Client | None = client
        self._owns_client = client is None
        self._cluster: LocalCluster | None = None

    @property
    def started(self) -> bool:
        """Whether a client is connected."""
        return self._client is not None

    @property
    def client(self) -> Client:
        """The connected ``distributed.Client`` (starting the executor first if needed)."""
        if self._client is None:
            self.start()
        assert self._client is not None  # noqa: S101 - start() sets it or raises
        return self._client

    def start(self) -> DaskExecutor:
        """Connect to the scheduler, or start the ``LocalCluster``; no-op when connected.

        Raises :class:`~primer_nb.api.errors.PrimerConfigError` when Dask distributed is
        not installed or the scheduler cannot be reached.
        """
        if self._client is not None:
            return self
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise PrimerConfigError(INSTALL_HINT) from None
        address = scheduler_address(self.address)
        if address is None:
            # Loopback only, and a free dashboard port rather than 8787, which another
            # cluster on this machine may hold. Its nannies hand this configuration on.
            with dask.config.set(_LOCAL_CLUSTER_CONFIG):
                self._cluster = LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",
                )  # fmt: skip
            self._client = Client(self._cluster, set_as_default=False)
            return self
        try:
            self._client = Client(address, timeout=self.connect_timeout, set_as_default=False)
        except OSError as exc:
            raise PrimerConfigError(f"could not reach the Dask scheduler at {address}: {exc}") from None
        return self

    def run_points(self, job: GridJob, progress: GridProgress) -> list[RunResult]:
        """Run the grid's points as Dask tasks (see :func:`run_on_dask`)."""
        return run_on_dask(
            self, job.source, job.parameter_sets, job.outputs, env=job.env, html=job.html,
            timeout=job.timeout, advance=progress.advance, announce=progress.write,
        )  # fmt: skip

    def close(self) -> None:
        """Disconnect, and stop the ``LocalCluster`` if this executor started one (a given client stays)."""
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            client.close()
        cluster, self._cluster = self._cluster, None
        if cluster is not None:
            cluster.close()

    @property
    def dashboard_link(self) -> str | None:
        """The scheduler's dashboard, when it serves one."""
        if self._client is None:
            return None
        try:
            return self._client.dashboard_link or None
        except (KeyError, AttributeError, OSError):
            return None

    def describe(self) -> str:
        """One line: which cluster, how many workers and threads, and the dashboard link if any."""
        client = self.client
        threads = client.nthreads()
        address = client.scheduler.address if client.scheduler is not None else "(not connected)"
        where = "a LocalCluster" if self._cluster is not None else f"the scheduler {address}"
        line = f"Dask: {where} with {len(threads)} worker(s), {sum(threads.values())} thread(s)"
        if not threads:
            line += " (none yet: the runs wait for workers to join)"
        elif any(n > 1 for n in threads.values()):
            line += " (each worker process runs one notebook at a time; start workers with --nthreads 1)"
        if self.dashboard_link:
            line += f"; dashboard {self.dashboard_link}"
        return line

    def __enter__(self) -> DaskExecutor:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.address or not self._owns_client:
            target = self.address or "a given client"
        else:
            target = "$DASK_SCHEDULER_ADDRESS or a LocalCluster"
        state = "started" if self.started else "not started"
        return f"DaskExecutor({target}, workers={self.workers}, {state})"


@dataclass
class PointOutcome:
    """What a worker sends back for one run: its result, the executed notebook and its HTML."""

    result: RunResult
    notebook: bytes | None = None
    html: str | None = None


def run_point(
    source: str,
    notebook_name: str,
    output_name: str,
    parameters: dict[str, Any],
    env: dict[str, str],
    html: bool,
    timeout: float | None,
) -> PointOutcome:
    """(On a worker) execute one run of a grid in a temporary folder and return everything it made.

    ``source`` is the notebook's text. The kernel gets ``env``, the worker's own
    ``PRIMER_*`` settings (environment and ``.env``), and a ``PRIMER_NB_HOME``
    inside the temporary folder, which is deleted before this returns.
    """
    with _ONE_RUN_AT_A_TIME, tempfile.TemporaryDirectory(prefix="primer-nb-run-") as tmp:
        folder = Path(tmp)
        notebook = folder / notebook_name
        notebook.write_text(source, encoding="utf-8")
        output = folder / "out" / output_name
        kernel_env = {**env, "PRIMER_NB_HOME": str(folder / "home")}
        result = run_one(str(notebook), str(output), parameters, kernel_env, html, timeout)
        executed = output.read_bytes() if output.exists() else None
        page = Path(result.html).read_text(encoding="utf-8") if result.html else None
        return PointOutcome(result, executed, page)


def run_on_dask(
    executor: DaskExecutor | Client,
    source: Path,
    parameter_sets: Sequence[dict[str, Any]],
    outputs: Sequence[Path],
    *,
    env: Mapping[str, str],
    html: bool,
    timeout: float | None,
    advance: Callable[[], None] = lambda: None,
    announce: Callable[[str], None] = lambda line: None,
) -> list[RunResult]:
    """Run every parameter set of ``source`` as a task on Dask; write what comes back to ``outputs``.

    Results are gathered as they complete (``advance`` is called for each) and
    returned in the order of ``parameter_sets``. A task that never returned (its
    worker died, the cluster lost it) is recorded as failed like a failing
    notebook. An executor that is not started yet is started here and closed at
    the end.
    """
    key = configured_key()
    for name, value in env.items():
        if any(word in name.lower() for word in SECRET_WORDS) or (key and key in value):
            raise PrimerConfigError(
                f"environment variable {name!r} looks like a secret and would be sent to the Dask workers; "
                "each worker reads PRIMER_API_KEY from its own environment or .env"
            )
    runner = executor if isinstance(executor, DaskExecutor) else DaskExecutor(client=executor)
    started_here = not runner.started
    runner.start()
    try:
        from distributed import as_completed

        client = runner.client
        announce(runner.describe())
        text = source.read_text(encoding="utf-8")
        batch = uuid.uuid4().hex[:8]
        futures = {
            client.submit(
                run_point, text, source.name, output.name, parameters, dict(env), html, timeout,
                pure=False, key=f"{output.stem}-{batch}",
            ): index
            for index, (parameters, output) in enumerate(zip(parameter_sets, outputs, strict=True))
        }  # fmt: skip
        results: list[RunResult | None] = [None] * len(futures)
        pending = set(futures)
        try:
            for future in as_completed(futures, loop=client.loop):
                index = futures[future]
                results[index] = _collect(future, source.name, parameter_sets[index], outputs[index])
                pending.discard(future)
                future.release()  # its notebook is on disk here now; the cluster can drop it
                advance()
        finally:
            if pending:
                with contextlib.suppress(Exception):  # the cluster may already be gone
                    client.cancel(list(pending))
        return [r for r in results if r is not None]
    finally:
        if started_here:
            runner.close()


def _collect(future: Any, notebook: str, parameters: dict[str, Any], output: Path) -> RunResult:
    """One finished task's result, its notebook and HTML written beside the other outputs."""
    try:
        outcome: PointOutcome = future.result()
    except Exception as exc:  # recorded like a failing run (KilledWorker, a cancelled or lost task)
        first = str(exc).strip().splitlines()
        error = f"{type(exc).__name__} on Dask: {first[-1] if first else 'the task did not return'}"[:500]
        return RunResult(notebook, parameters, status="failed", error=error, output=str(output))
    result = outcome.result
    result.output = str(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    if outcome.notebook is not None:
        output.write_bytes(outcome.notebook)
    if outcome.html is not None:
        page = output.with_suffix(".html")
        page.write_text(outcome.html, encoding="utf-8")
        result.html = str(page)
    return result
