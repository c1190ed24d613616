"""The ``primer-nb`` command: a thin argparse layer over library functions."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from primer_nb.__about__ import __version__
from primer_nb.cli.errors import (
    DEBUG_ENV,
    EXIT_INTERRUPTED,
    CommandError,
    UsageError,
    bind_failure,
    debug_requested,
    output_folder,
    reading,
    report,
)

__all__ = ["build_parser", "main"]

Handler = Callable[[argparse.Namespace], int]


_EPILOG = (
    "Exit status: 0 done, 1 the command failed (the message says why), 2 a usage error. "
    f"Errors print one message; --debug (or {DEBUG_ENV}=1) adds the traceback."
)
_GRID_HINT = "a grid is a mapping of parameter → list of values, or a list of parameter sets"
_WEBHOOK_SECRET_ENV = "PRIMER_NB_WEBHOOK_SECRET"  # noqa: S105 - the variable's name, not a secret
_PROFILE_HINT = "a profile has [methods] and [modules] tables of NAME = true/false, and warning_form"


def _port(text: str) -> int:
    """A TCP port number for argparse: 0-65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range: use 1-65535, or 0 for any free port")
    return port


def _positive(text: str) -> int:
    """A whole number of at least 1 for argparse."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is too small: use 1 or more")
    return number


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="primer-nb",
        description="A Jupyter notebook kit for Primer's Client Session API v2.4, "
        "with a local sandbox that runs offline.",
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"primer-nb {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help=f"show tracebacks of errors (also: {DEBUG_ENV}=1)"
    )
    # Every subcommand takes --debug too; SUPPRESS keeps a subcommand from resetting it to False.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_sandbox(commands, common)
    _add_listen(commands, common)
    _add_notebook_commands(commands, common)
    return parser


def _add_notebook_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    from primer_nb.notebooks import DEFAULT_POINT_TIMEOUT

    walk = commands.add_parser(
        "walkthrough",
        help="execute every notebook in order on a fresh local sandbox; write notebooks and HTML",
        parents=[common], epilog=_EPILOG,
    )  # fmt: skip
    walk.add_argument("--out", default="primer-nb-walkthrough", help="output folder (default: %(default)s)")
    walk.add_argument("--no-html", action="store_true", help="skip the HTML export")
    walk.set_defaults(handler=_walkthrough, parser=walk)

    run = commands.add_parser(
        "run",
        help="papermill runs of one notebook over parameters or a grid, in parallel",
        description="Execute NOTEBOOK (a path, file name or number such as 04) once per parameter set.",
        parents=[common], epilog=_EPILOG,
    )  # fmt: skip
    run.add_argument("notebook")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="a parameter (VALUE is read as YAML: 3, true, [1, 2], text)")  # fmt: skip
    run.add_argument("--grid", help="YAML/JSON file: lists per parameter (cartesian) or a list of sets")
    run.add_argument("--workers", type=_positive, default=2,
                     help="parallel processes, or the LocalCluster's worker processes with --dask "
                     "(default: %(default)s)")  # fmt: skip
    run.add_argument("--dask", nargs="?", const="", metavar="ADDRESS",
                     help="run each parameter set as a task on Dask distributed: the scheduler at ADDRESS, "
                     "else $DASK_SCHEDULER_ADDRESS, else a LocalCluster of --workers processes; the executed "
                     "notebooks come back to --out (needs: pip install 'primer-nb[dask]')")  # fmt: skip
    run.add_argument("--timeout", type=_positive, default=int(DEFAULT_POINT_TIMEOUT),
                     help="seconds one run may take before its kernel is stopped "
                     "(default: %(default)s)")  # fmt: skip
    run.add_argument("--out", default="primer-nb-runs", help="output folder (default: %(default)s)")
    run.add_argument("--html", action="store_true", help="also export each run to HTML")
    run.set_defaults(handler=_run, parser=run)

    listing = commands.add_parser("list", help="show the notebooks and their parameters", parents=[common])
    listing.set_defaults(handler=_list, parser=listing)

    lab = commands.add_parser(
        "lab", help="start JupyterLab (127.0.0.1) on a working copy of the notebooks", parents=[common]
    )
    lab.add_argument("--dir", help="working copy (default: $PRIMER_NB_HOME/notebooks); never overwritten")
    lab.add_argument("--port", type=_port, default=8888)
    lab.add_argument("--no-browser", action="store_true")
    lab.set_defaults(handler=_lab, parser=lab)

    refresh = commands.add_parser(
        "refresh-notebooks",
        help="(maintainers) re-execute the repository's notebooks deterministically, in place",
        parents=[common],
    )
    refresh.set_defaults(handler=_refresh, parser=refresh)


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

    output_folder(args.out, "--out")
    print(f"Running the walkthrough notebooks on a fresh local sandbox into {args.out}/ ...", flush=True)
    results = walkthrough(args.out, html=not args.no_html)
    for r in results:
        if r.html:
            print(f"  {r.notebook}: {r.html}")
    return _print_results(results, args.out)


def _parameter_value(name: str, text: str) -> Any:
    """A ``-p NAME VALUE`` value, read as YAML."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise UsageError(
            f"-p {name} {text!r}: the value is read as YAML and is not valid: {problem}",
            hint=f"""to pass it as text, quote it: -p {name} '"{text}"'""",
        ) from exc


def _run(args: argparse.Namespace) -> int:
    from primer_nb.api.errors import PrimerConfigError
    from primer_nb.notebooks import check_parameters, find_notebook, load_grid, run_grid

    try:
        notebook = find_notebook(args.notebook)
        fixed = {name: _parameter_value(name, value) for name, value in args.parameter}
        check_parameters(fixed)
    except PrimerConfigError as exc:
        raise UsageError(str(exc)) from exc
    sets = [fixed]
    if args.grid:
        with reading("grid file", args.grid, hint=_GRID_HINT):
            sets = [{**grid, **fixed} for grid in load_grid(args.grid)]
            for parameters in sets:
                check_parameters(parameters)
    output_folder(args.out, "--out")
    executor = None
    if args.dask is not None:
        from primer_nb.dask_sweep import INSTALL_HINT, DaskExecutor, dask_installed

        if not dask_installed():
            raise UsageError(f"--dask needs Dask distributed: {INSTALL_HINT}")
        executor = DaskExecutor(args.dask or None, workers=args.workers)
    results = run_grid(
        notebook, sets, out_dir=args.out, workers=args.workers, html=args.html, timeout=args.timeout,
        executor=executor,
    )  # fmt: skip
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

    from primer_nb.config.settings import home
    from primer_nb.notebooks import working_copy

    target = output_folder(Path(args.dir) if args.dir else home() / "notebooks", "--dir")
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


def _add_sandbox(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    from primer_nb.sandbox.serving.endpoint import LOOPBACK
    from primer_nb.sandbox.serving.server import DEFAULT_PORT

    sandbox = commands.add_parser(
        "sandbox",
        help="serve the local sandbox (an emulator of the Client Session API) in the foreground",
        description="Serve the local sandbox until Ctrl-C or SIGTERM. Sessions persist in a SQLite file.",
        # One line: a usage error prints it above the message, which should stay short.
        usage="%(prog)s [--host HOST] [--port PORT] [--db FILE] [--webhook URL ...] [more options: see -h]",
        parents=[common], epilog=_EPILOG,
    )  # fmt: skip
    sandbox.add_argument("--host", default=LOOPBACK, help="interface to bind (default: %(default)s only)")
    sandbox.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help="port (default: %(default)s; 0 = any free)"
    )
    sandbox.add_argument(
        "--db",
        metavar="FILE",
        help="SQLite file, created if missing, in a folder that must exist: --db never creates folders "
        "(default: $PRIMER_NB_HOME/sandbox.sqlite3; that folder is created when missing)",
    )
    sandbox.add_argument(
        "--api-key",
        help="accept only this X-Api-Key (default: any non-empty key); prefer $PRIMER_NB_SANDBOX_KEY",
    )
    sandbox.add_argument("--profile", help="dashboard profile (TOML or JSON) deciding which warnings appear")
    sandbox.add_argument(
        "--deterministic", action="store_true", help="frozen clock and seeded ids, for reproducible output"
    )
    sandbox.add_argument(
        "--strict-version",
        action="store_true",
        help="refuse any X-Api-Version but 2.4, a missing header included "
        "(default: serve every version Primer supports, and a missing header)",
    )
    # A hidden no-op, so scripts that pass it keep working: a missing header is served by default.
    sandbox.add_argument("--lenient-version", action="store_true", help=argparse.SUPPRESS)
    sandbox.add_argument("--quiet", action="store_true", help="no access log (faster under load)")
    sandbox.add_argument(
        "--webhook", action="append", default=[], metavar="URL",
        help="send webhooks to URL (repeatable); URLs on this machine only, unless --allow-remote-webhooks",
    )  # fmt: skip
    sandbox.add_argument(
        "--webhook-secret", metavar="SECRET",
        help="sign webhooks with SECRET (default: the one kept in --db, else a new one); "
        f"prefer ${_WEBHOOK_SECRET_ENV}",
    )  # fmt: skip
    sandbox.add_argument(
        "--allow-remote-webhooks", action="store_true", help="allow webhook URLs that are not on this machine"
    )
    sandbox.set_defaults(handler=_run_sandbox, parser=sandbox)


def _add_listen(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    from primer_nb.sandbox.serving.server import DEFAULT_PORT

    listen = commands.add_parser(
        "listen",
        help="receive a local sandbox's webhooks and print one line per delivery",
        description="Register a receiver with a running local sandbox and print each webhook delivery "
        "(verified with the sandbox's signing secret) until Ctrl-C.",
        parents=[common], epilog=_EPILOG,
    )  # fmt: skip
    listen.add_argument(
        "--sandbox-url",
        help=f"the sandbox (default: $PRIMER_NB_SANDBOX_URL, else http://127.0.0.1:{DEFAULT_PORT})",
    )
    listen.add_argument(
        "--api-key", help="the sandbox's key, if it was started with one; prefer $PRIMER_NB_SANDBOX_KEY"
    )
    listen.add_argument("--port", type=_port, default=0, help="port to receive on (default: any free one)")
    listen.add_argument(
        "--forward-to", metavar="URL", help="pass each verified delivery on to URL, unchanged"
    )
    listen.add_argument(
        "--events",
        nargs="+",
        metavar="TYPE",
        help="only these event types (e.g. PAYMENT.STATUS PAYMENT.REFUND)",
    )
    listen.set_defaults(handler=_listen, parser=listen)


def _listen(args: argparse.Namespace) -> int:
    import os

    from primer_nb.api.webhooks import EventType
    from primer_nb.config.settings import ENV_SANDBOX_KEY, ENV_SANDBOX_URL, LOCAL_SANDBOX_KEY
    from primer_nb.sandbox.serving.handle import SandboxHandle
    from primer_nb.sandbox.serving.server import DEFAULT_PORT
    from primer_nb.webhooks.listen import listen

    for kind in args.events or ():
        if kind not in EventType._value2member_map_:
            raise UsageError(
                f"--events {kind}: no such event type", hint=f"choose from {', '.join(EventType)}"
            )
    url = args.sandbox_url or os.environ.get(ENV_SANDBOX_URL) or f"http://127.0.0.1:{DEFAULT_PORT}"
    key = args.api_key or os.environ.get(ENV_SANDBOX_KEY) or LOCAL_SANDBOX_KEY
    sandbox = SandboxHandle(url, key)
    try:
        return listen(sandbox, port=args.port, forward_to=args.forward_to, events=args.events)
    finally:
        sandbox.close()


def _check_db(db: Path) -> None:
    """``--db`` names a file in an existing folder: the command never creates folders the user named."""
    import shlex

    if db.is_dir():
        raise UsageError(f"--db {db} is a folder", hint="name a file in it: --db DIR/sandbox.sqlite3")
    folder = db.resolve().parent
    if folder.exists() and not folder.is_dir():
        raise CommandError(f"{folder} (the folder for --db {db}) is a file", hint="choose another --db FILE")
    if not folder.exists():
        raise CommandError(
            f"{folder} (the folder for --db {db}) does not exist",
            hint=f"create it first (mkdir -p {shlex.quote(str(folder))}), "
            "or leave out --db to use $PRIMER_NB_HOME/sandbox.sqlite3",
        )


def _run_sandbox(args: argparse.Namespace) -> int:
    import contextlib
    import os
    import sqlite3

    from primer_nb.config.settings import ENV_SANDBOX_KEY
    from primer_nb.sandbox.core.profile import load_profile
    from primer_nb.sandbox.serving.endpoint import bind
    from primer_nb.sandbox.serving.server import run_sandbox

    profile = None
    if args.profile:
        with reading("profile", args.profile, hint=_PROFILE_HINT):
            profile = load_profile(args.profile)
    if args.db:
        _check_db(Path(args.db))
    from primer_nb.sandbox.core.webhooks import check_endpoint_url

    for url in args.webhook:
        try:
            check_endpoint_url(url, allow_remote=args.allow_remote_webhooks)
        except ValueError as exc:
            raise UsageError(
                f"--webhook {exc}", hint="e.g. --webhook http://127.0.0.1:8000/webhooks"
            ) from exc
    try:
        sock = bind(args.host, args.port)
    except (OSError, OverflowError) as exc:
        raise bind_failure(exc, args.host, args.port) from exc
    with contextlib.closing(sock):
        try:
            return run_sandbox(
                db=args.db,
                api_key=args.api_key or os.environ.get(ENV_SANDBOX_KEY) or None,
                profile=profile,
                deterministic=args.deterministic,
                strict_version=args.strict_version,
                quiet=args.quiet,
                sock=sock,
                webhooks=args.webhook,
                webhook_secret=args.webhook_secret or os.environ.get(_WEBHOOK_SECRET_ENV) or None,
                allow_remote_webhooks=args.allow_remote_webhooks,
            )
        except sqlite3.Error as exc:
            database = args.db or "the sandbox database"
            raise CommandError(
                f"cannot use {database} as the sandbox's SQLite database: {exc}",
                hint="choose another file with --db FILE",
            ) from exc


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status.

    The kit's errors and foreseeable failures (files, ports, folders) print one
    message and return 1, or 2 for a usage error; see :mod:`primer_nb.cli.errors`.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    command: argparse.ArgumentParser = getattr(args, "parser", parser)
    try:
        with warnings.catch_warnings():
            # A warning (e.g. a sandbox reachable from other machines) reads as one line, not as source.
            warnings.showwarning = lambda message, *_, **__: print(
                f"{command.prog}: warning: {message}", file=sys.stderr
            )
            return handler(args)
    except KeyboardInterrupt:
        print(f"{command.prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        return report(exc, prog=command.prog, debug=debug_requested(args.debug), usage=command.format_usage())
