"""The command line's Typer apps: ``app`` (top level), ``train_app`` and ``eval_app``.

Apart from :mod:`overclaim.cli` (which imports every command module) so that a command module
imports the app it registers on without importing the package that imports it: no cycle.
"""

from __future__ import annotations

import typer

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
