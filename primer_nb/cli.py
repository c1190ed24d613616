"""The ``primer-nb`` command: a thin argparse layer over library functions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

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
    return parser


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
