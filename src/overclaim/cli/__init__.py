"""The ``overclaim`` command line: a thin adapter over the library.

Each area registers its commands from its own module (``cli/<area>.py``) on the
apps of :mod:`overclaim.cli.apps`: ``app`` (top level), ``train_app`` (``overclaim train ...``)
and ``eval_app`` (``overclaim eval ...``); this package imports them all. Errors from :mod:`overclaim.errors`
print as one line on stderr and exit with their ``exit_code`` (2 for bad input).
"""

from __future__ import annotations

import importlib
import sys

import typer

from overclaim.cli.apps import app as app
from overclaim.cli.apps import eval_app as eval_app
from overclaim.cli.apps import train_app as train_app
from overclaim.cli.output import flush_or_drop_stdout, os_reason
from overclaim.errors import OverclaimError

# Modules that register commands, in help order. Add yours here.
COMMAND_MODULES = [
    "overclaim.cli.check",
    "overclaim.cli.stance",
    "overclaim.cli.entailment",
    "overclaim.cli.verdict",
    "overclaim.cli.certainty",
    "overclaim.cli.claim_strength",
    "overclaim.cli.clickbait",
    "overclaim.cli.sourcing",
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


def main() -> None:
    """Entry point of the ``overclaim`` console script."""
    try:
        app()
    except OverclaimError as exc:
        from overclaim.render.safe import printable

        flush_or_drop_stdout()
        # One line, and no control character of the input it quotes reaches the terminal.
        typer.echo(f"overclaim: error: {printable(str(exc), newlines=False)}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        flush_or_drop_stdout()
        # The last net for a file a command could not read or write (full disk, read-only place,
        # missing folder): one line, exit 2, as for bad input, never a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        from overclaim.render.safe import printable

        typer.echo(f"overclaim: error: {printable(where + os_reason(exc), newlines=False)}", err=True)
        sys.exit(2)
