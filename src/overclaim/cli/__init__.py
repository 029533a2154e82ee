"""The ``overclaim`` command line: a thin adapter over the library.

Each area registers its commands from its own module (``cli/<area>.py``) on the
apps defined here: ``app`` (top level), ``train_app`` (``overclaim train ...``)
and ``eval_app`` (``overclaim eval ...``). Errors from :mod:`overclaim.errors`
print as one line on stderr and exit with their ``exit_code`` (2 for bad input).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import typer

from overclaim.errors import OutputError, OverclaimError

app = typer.Typer(
    name="overclaim",
    help="Show, with evidence, where a headline says more than its article does.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
train_app = typer.Typer(help="Rebuild the models that ship in the package (fixed seed, CPU).", no_args_is_help=True)
eval_app = typer.Typer(help="Score a model on any file of the documented format.", no_args_is_help=True)
app.add_typer(train_app, name="train")
app.add_typer(eval_app, name="eval")

# Modules that register commands, in help order. Add yours here.
COMMAND_MODULES = [
    "overclaim.cli.check",
    "overclaim.cli.stance",
    "overclaim.cli.verdict",
    "overclaim.cli.certainty",
    "overclaim.cli.clickbait",
    "overclaim.cli.factchecks",
    "overclaim.cli.batch",
    "overclaim.cli.serve",
]

for _module in COMMAND_MODULES:
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as _exc:  # an area not built yet
        if _exc.name != _module:
            raise


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


@contextlib.contextmanager
def writing(target: str | Path) -> Iterator[None]:
    """Turn an ``OSError`` while writing ``target`` (a path, or "stdout") into a one-line :class:`OutputError`.

    ``target`` names the output in the message; the OS's reason follows (no such folder, is a
    folder, read-only, no space left on the device).
    """
    try:
        yield
    except OSError as exc:
        raise OutputError(f"cannot write: {_reason(exc)}", source=str(target)) from exc


def check_output_path(path: Path) -> None:
    """Refuse, before any work, an output file that cannot be written: a folder, or a missing folder.

    Raises:
        OutputError: naming the path.
    """
    if path.is_dir():
        raise OutputError("is a folder; give a file name", source=str(path))
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"cannot write: the folder {parent} does not exist", source=str(path))
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputError("cannot write: permission denied (a read-only place)", source=str(path))


def write_output(path: Path, text: str) -> None:
    """Write ``text`` to the file ``path`` (UTF-8); any OS error is one :class:`OutputError` line."""
    check_output_path(path)
    with writing(path), open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def write_stdout(text: str) -> None:
    """Write ``text`` to stdout and flush it, so a full disk or closed pipe is reported here, in one line."""
    with writing("stdout"):
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except OSError:
            _drop_stdout()
            raise


def _drop_stdout() -> None:
    """Point stdout at the null device, so Python's flush at exit does not fail (and print) again."""
    with contextlib.suppress(OSError, ValueError):  # stdout without a file descriptor (captured)
        fd = sys.stdout.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)


def _flush_or_drop_stdout() -> None:
    try:
        sys.stdout.flush()
    except OSError:
        _drop_stdout()


def main() -> None:
    """Entry point of the ``overclaim`` console script."""
    try:
        app()
    except OverclaimError as exc:
        _flush_or_drop_stdout()
        typer.echo(f"overclaim: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        _flush_or_drop_stdout()
        # The last net for a file a command could not read or write (full disk, read-only place,
        # missing folder): one line, exit 2, as for bad input, never a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"overclaim: error: {where}{_reason(exc)}", err=True)
        sys.exit(2)
