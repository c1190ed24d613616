"""The ``primer-nb`` command: a thin argparse layer over library functions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from primer_nb.__about__ import __version__

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="primer-nb",
        description="A Jupyter notebook kit for Primer's Client Session API v2.4, "
        "with a local sandbox that runs offline.",
    )
    parser.add_argument("--version", action="version", version=f"primer-nb {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_sandbox(commands)
    _add_notebook_commands(commands)
    return parser


def _add_notebook_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from primer_nb.notebooks import DEFAULT_POINT_TIMEOUT

    walk = commands.add_parser(
        "walkthrough",
        help="execute every notebook in order on a fresh local sandbox; write notebooks and HTML",
    )
    walk.add_argument("--out", default="primer-nb-walkthrough", help="output folder (default: %(default)s)")
    walk.add_argument("--no-html", action="store_true", help="skip the HTML export")
    walk.set_defaults(handler=_walkthrough)

    run = commands.add_parser(
        "run",
        help="papermill runs of one notebook over parameters or a grid, in parallel",
        description="Execute NOTEBOOK (a path, file name or number such as 04) once per parameter set.",
    )
    run.add_argument("notebook")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="a parameter (VALUE is read as YAML: 3, true, [1, 2], text)")  # fmt: skip
    run.add_argument("--grid", help="YAML/JSON file: lists per parameter (cartesian) or a list of sets")
    run.add_argument("--workers", type=int, default=2,
                     help="parallel processes, or the LocalCluster's worker processes with --dask "
                     "(default: %(default)s)")  # fmt: skip
    run.add_argument("--dask", nargs="?", const="", metavar="ADDRESS",
                     help="run each parameter set as a task on Dask distributed: the scheduler at ADDRESS, "
                     "else $DASK_SCHEDULER_ADDRESS, else a LocalCluster of --workers processes; the executed "
                     "notebooks come back to --out (needs: pip install 'primer-nb[dask]')")  # fmt: skip
    run.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_POINT_TIMEOUT,
        help="seconds one run may take before its kernel is stopped (default: %(default)g)",
    )
    run.add_argument("--out", default="primer-nb-runs", help="output folder (default: %(default)s)")
    run.add_argument("--html", action="store_true", help="also export each run to HTML")
    run.set_defaults(handler=_run)

    listing = commands.add_parser("list", help="show the notebooks and their parameters")
    listing.set_defaults(handler=_list)

    lab = commands.add_parser("lab", help="start JupyterLab (127.0.0.1) on a working copy of the notebooks")
    lab.add_argument("--dir", help="working copy (default: $PRIMER_NB_HOME/notebooks); never overwritten")
    lab.add_argument("--port", type=int, default=8888)
    lab.add_argument("--no-browser", action="store_true")
    lab.set_defaults(handler=_lab)

    refresh = commands.add_parser(
        "refresh-notebooks",
        help="(maintainers) re-execute the repository's notebooks deterministically, in place",
    )
    refresh.set_defaults(handler=_refresh)


def _print_results(results: list, out: str) -> int:
    width = max((len(r.notebook) for r in results), default=10)
    for r in results:
        extra = f"  {r.error}" if r.error else ""
        params = f" {r.parameters}" if r.parameters else ""
        print(f"{r.status:6} {r.notebook:{width}} {r.duration:6.1f} s{params}{extra}")
    failed = sum(r.status != "ok" for r in results)
    print(f"{len(results) - failed} of {len(results)} ran cleanly; outputs in {out}")
    return 1 if failed else 0


def _walkthrough(args: argparse.Namespace) -> int:
    from primer_nb.notebooks import walkthrough

    print(f"Running the walkthrough notebooks on a fresh local sandbox into {args.out}/ ...", flush=True)
    results = walkthrough(args.out, html=not args.no_html)
    for r in results:
        if r.html:
            print(f"  {r.notebook}: {r.html}")
    return _print_results(results, args.out)


def _run(args: argparse.Namespace) -> int:
    import yaml

    from primer_nb.errors import PrimerConfigError
    from primer_nb.notebooks import load_grid, run_grid

    executor = None
    if args.dask is not None:
        from primer_nb.dask_sweep import DaskExecutor

        executor = DaskExecutor(args.dask or None, workers=args.workers)
    fixed = {name: yaml.safe_load(value) for name, value in args.parameter}
    try:
        sets = [{**grid, **fixed} for grid in load_grid(args.grid)] if args.grid else [fixed]
        results = run_grid(args.notebook, sets, out_dir=args.out, workers=args.workers, html=args.html,
                           timeout=args.timeout, executor=executor)  # fmt: skip
    except PrimerConfigError as exc:
        print(f"primer-nb run: {exc}", file=sys.stderr)
        return 2
    code = _print_results(results, args.out)
    print(f"summary table: {Path(args.out) / 'summary.csv'}")
    return code


def _list(args: argparse.Namespace) -> int:
    from primer_nb.notebooks import notebook_parameters, notebooks

    for path in notebooks():
        print(path.name)
        for name, info in notebook_parameters(path).items():
            default = info.get("default")
            help_text = f"  # {info['help']}" if info.get("help") else ""
            print(f"    {name} = {default}{help_text}")
    return 0


def _lab(args: argparse.Namespace) -> int:
    import os
    import subprocess

    from primer_nb.config import home
    from primer_nb.notebooks import working_copy

    target = Path(args.dir) if args.dir else home() / "notebooks"
    _, kept = working_copy(target)
    for path in kept:
        print(f"keeping your edited copy of {path.name}")
    command = [
        sys.executable, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={args.port}",
        f"--ServerApp.root_dir={target}", *(["--no-browser"] if args.no_browser else []),
        *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
    ]  # fmt: skip
    print(f"JupyterLab on http://127.0.0.1:{args.port} with the notebooks in {target}", flush=True)
    return subprocess.call(command)  # noqa: S603 - our own interpreter and fixed arguments


def _refresh(args: argparse.Namespace) -> int:
    from primer_nb.notebooks import notebook_dir, refresh_committed_outputs

    return _print_results(refresh_committed_outputs(), str(notebook_dir()))


def _add_sandbox(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from primer_nb.sandbox.server import DEFAULT_PORT, LOOPBACK

    sandbox = commands.add_parser(
        "sandbox",
        help="serve the local sandbox (an emulator of the Client Session API) in the foreground",
        description="Serve the local sandbox until Ctrl-C or SIGTERM. Sessions persist in a SQLite file.",
    )
    sandbox.add_argument("--host", default=LOOPBACK, help="interface to bind (default: %(default)s only)")
    sandbox.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (default: %(default)s; 0 = any free)"
    )
    sandbox.add_argument("--db", help="SQLite file (default: $PRIMER_NB_HOME/sandbox.sqlite3)")
    sandbox.add_argument(
        "--api-key",
        help="accept only this X-Api-Key (default: any non-empty key); prefer $PRIMER_NB_SANDBOX_KEY",
    )
    sandbox.add_argument("--profile", help="dashboard profile (TOML or JSON) deciding which warnings appear")
    sandbox.add_argument(
        "--deterministic", action="store_true", help="frozen clock and seeded ids, for reproducible output"
    )
    sandbox.add_argument(
        "--lenient-version", action="store_true", help="treat a missing X-Api-Version header as 2.4"
    )
    sandbox.add_argument("--quiet", action="store_true", help="no access log (faster under load)")
    sandbox.set_defaults(handler=_run_sandbox)


def _run_sandbox(args: argparse.Namespace) -> int:
    import os

    from primer_nb.sandbox.server import run_sandbox

    return run_sandbox(
        host=args.host,
        port=args.port,
        db=args.db,
        api_key=args.api_key or os.environ.get("PRIMER_NB_SANDBOX_KEY") or None,
        profile=args.profile,
        deterministic=args.deterministic,
        lenient_version=args.lenient_version,
        quiet=args.quiet,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    return handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
