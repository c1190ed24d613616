"""The ``primer-nb`` command: argparse over library calls (:mod:`~primer_nb.cli.commands`),
and one place that turns failures into short messages (:mod:`~primer_nb.cli.errors`)."""

from primer_nb.cli.commands import build_parser, main

__all__ = ["build_parser", "main"]
