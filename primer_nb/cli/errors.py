"""How the ``primer-nb`` command reports failures: one short message, what went wrong and what to do.

Exit statuses: 0 success; 1 the command could not do its work (a file it read
was malformed, a port was taken, an output folder was not writable, a notebook
failed, the API answered with an error); 2 a usage error, as argparse gives
(a value out of range, an unknown notebook, a secret-looking parameter, an
input file that does not exist); 130 interrupted.

The kit's own errors (:class:`~primer_nb.api.errors.PrimerError`) and the
foreseeable ones (files, ports) print no traceback unless ``--debug`` or
``PRIMER_NB_DEBUG=1`` asks for one. Anything else is a bug in the kit: it
prints the traceback and asks for a report.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
import tempfile
import tomllib
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from primer_nb.__about__ import __version__
from primer_nb.api.errors import PrimerError
from primer_nb.config.settings import is_truthy

__all__ = [
    "DEBUG_ENV",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "CommandError",
    "UsageError",
    "bind_failure",
    "debug_requested",
    "explain",
    "output_folder",
    "reading",
    "report",
]

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
DEBUG_ENV = "PRIMER_NB_DEBUG"


class CommandError(Exception):
    """A failure the command explains in one message: ``message`` says what is wrong, ``hint`` what to do."""

    status = EXIT_FAILURE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(CommandError):
    """The command line itself is wrong (exit status 2, like argparse's own errors)."""

    status = EXIT_USAGE


def debug_requested(flag: bool = False) -> bool:
    """Whether to show tracebacks: ``--debug`` or ``$PRIMER_NB_DEBUG`` set to 1/true/yes/on."""
    return flag or is_truthy(os.environ.get(DEBUG_ENV))


def _where(line: int, column: int) -> str:
    return f"line {line}, column {column}"


def _parse_error(what: str, path: str | Path, exc: Exception) -> str | None:
    """``<what> <path>, line L, column C: <problem>`` for YAML, JSON and TOML syntax errors."""
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        text = f"{what} {path}, {_where(mark.line + 1, mark.column + 1)}: {exc.problem}"
        if exc.context and exc.context_mark is not None:
            start = exc.context_mark
            text += f" ({exc.context} that starts at {_where(start.line + 1, start.column + 1)})"
        return text
    if isinstance(exc, yaml.YAMLError):
        return f"{what} {path} is not valid YAML: {exc}"
    if isinstance(exc, json.JSONDecodeError):
        return f"{what} {path}, {_where(exc.lineno, exc.colno)}: {exc.msg}"
    if isinstance(exc, tomllib.TOMLDecodeError):
        # The message ends with "(at line L, column C)" (3.11-3.13 have no attributes for it).
        return f"{what} {path} is not valid TOML: {exc}"
    return None


@contextmanager
def reading(what: str, path: str | Path, *, hint: str | None = None) -> Iterator[None]:
    """Turn failures to read, parse or check an input file into a :class:`CommandError` naming it.

    A file that does not exist is a usage error; a syntax error names the line
    and column; a :class:`ValueError` or :class:`PrimerError` raised while
    checking the content is prefixed with the file. ``hint`` says what a
    valid file looks like.
    """
    import yaml

    try:
        yield
    except FileNotFoundError as exc:
        raise UsageError(f"{what} {path} does not exist", hint="check the path and the file name") from exc
    except IsADirectoryError as exc:
        raise UsageError(f"{what} {path} is a folder, not a file") from exc
    except OSError as exc:
        raise CommandError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{what} {path} is not UTF-8 text (byte {exc.start})", hint=hint) from exc
    except (yaml.YAMLError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CommandError(_parse_error(what, path, exc) or str(exc), hint=hint) from exc
    except (PrimerError, ValueError) as exc:
        text = str(exc)
        prefix = f"{what} " if text.startswith(str(path)) else f"{what} {path}: "
        raise CommandError(prefix + text, hint=hint) from exc


def output_folder(path: str | Path, option: str) -> Path:
    """Create the output folder ``path`` when missing and check a file can be written in it.

    Raise :class:`CommandError` saying why not, and that ``option`` chooses another.
    """
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        in_the_way = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
        reason = f"{in_the_way} is a file, not a folder" if in_the_way else (exc.strerror or str(exc))
        raise CommandError(
            f"cannot write to the output folder {folder}: {reason}",
            hint=f"choose a folder you can write to with {option} DIR",
        ) from exc
    return folder


def _port_owner(port: int) -> str:
    """`` by process PID (command line)`` when the process listening on ``port`` can be seen, else ``""``."""
    try:
        import psutil

        for conn in psutil.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                process = psutil.Process(conn.pid)
                command = " ".join(" ".join(process.cmdline()).split()) or process.name()
                if len(command) > 80:
                    command = command[:79] + "…"
                return f" by process {conn.pid} ({command})"
    except Exception:  # noqa: S110 - best effort: the message stands without it
        pass
    return ""


def bind_failure(exc: OSError | OverflowError, host: str, port: int) -> CommandError:
    """The message for a server that could not listen on ``host:port``."""
    if isinstance(exc, OverflowError):
        return UsageError(f"port {port} is out of range", hint="use 1-65535, or --port 0 for any free port")
    code = exc.errno
    if code == errno.EADDRINUSE:
        owner = _port_owner(port)
        stop = "stop that process" if owner else "stop the program that uses it"
        return CommandError(
            f"port {port} on {host} is already in use{owner}",
            hint=f"{stop}, choose another port with --port N, or use --port 0 for any free port",
        )
    if code == errno.EACCES:
        return CommandError(
            f"no permission to listen on port {port} (ports below 1024 need root)",
            hint="use a port above 1023, or --port 0 for any free port",
        )
    if code == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return UsageError(
            f"cannot listen on {host}: {exc.strerror or exc}",
            hint="use 127.0.0.1 (the default) or an address of this machine",
        )
    return CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def explain(exc: BaseException) -> CommandError | None:
    """The one-message form of a foreseeable failure; ``None`` for a bug (an unexpected exception)."""
    if isinstance(exc, CommandError):
        return exc
    if isinstance(exc, PrimerError):
        return CommandError(str(exc))
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return CommandError(f"{exc.strerror or exc}{where}")
    return None


def report(
    exc: BaseException, *, prog: str, debug: bool, usage: str | None = None, stream: TextIO | None = None
) -> int:
    """Print ``exc`` for a person on ``stream`` (stderr) and return the exit status.

    A foreseeable failure prints ``<prog>: error: <message>`` and its hint,
    after the usage line for a usage error (as argparse does) and after the
    traceback with ``debug``. Anything else is a bug: traceback, then a request
    to report it.
    """
    out = stream if stream is not None else sys.stderr
    problem = explain(exc)
    if problem is None:
        traceback.print_exception(exc, file=out)
        print(
            f"{prog}: internal error: {type(exc).__name__}: {exc}\n"
            f"This is a bug in primer-nb {__version__} (Python {sys.version.split()[0]}); "
            "please report it with the command you ran and the traceback above.",
            file=out,
        )
        return EXIT_FAILURE
    if debug:
        traceback.print_exception(exc, file=out)
    if problem.status == EXIT_USAGE and usage:
        out.write(usage)
    print(f"{prog}: error: {problem.message}", file=out)
    if problem.hint:
        print(f"  {problem.hint}", file=out)
    return problem.status
