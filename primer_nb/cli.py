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
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


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
