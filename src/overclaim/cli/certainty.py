"""``overclaim train|eval hedging`` and ``overclaim train|eval headline-certainty``.

Thin adapters over :mod:`overclaim.training.hedging` and
:mod:`overclaim.training.headline_certainty`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from overclaim.cli.apps import eval_app, train_app

HEDGING_DATA = Path("../shared/data/hedging/wiki_weasel_train.csv")
EMERGENT_DATA = Path("../shared/data/emergent/emergent_train.csv")

_CV_HELP = "Cross-validate on the file (default: only when it is the training file); --no-cv scores the shipped model."


def _echo(result: dict[str, Any], as_json: bool, keys: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for key in keys:
        if key in result:
            typer.echo(f"{key + ':':<22}{result[key]}")


def _echo_card(card: dict[str, Any], out: Path | None, as_json: bool, keys: list[str]) -> None:
    _echo(card if as_json else {**card["figures"], "artifact": str(out or "package")}, as_json, [*keys, "artifact"])


@train_app.command("hedging")
def train_hedging(
    data: Annotated[Path, typer.Option("--data", help="CSV with columns text,label (1 = uncertain).")] = HEDGING_DATA,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (folds, solver).")] = 13,
    out: Annotated[Path | None, typer.Option("--out", help="Artifact folder (default: the package's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model card as JSON.")] = False,
) -> None:
    """Train the sentence hedging model (fixed seed, CPU) and write its artifact and model card."""
    from overclaim.training.hedging import train

    _echo_card(train(data, out_dir=out, seed=seed), out, as_json, ["precision", "recall", "f1", "threshold"])


@eval_app.command("hedging")
def eval_hedging(
    data: Annotated[Path, typer.Option("--data", help="CSV with columns text,label (1 = uncertain).")] = HEDGING_DATA,
    cv: Annotated[bool | None, typer.Option("--cv/--no-cv", help=_CV_HELP)] = None,
    folds: Annotated[int, typer.Option("--folds", min=2, help="Folds for cross-validation.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Precision, recall and F1 of the uncertain class (5-fold CV on the training file)."""
    from overclaim.training.hedging import evaluate

    result = evaluate(data, cv=cv, folds=folds)
    _echo(result, as_json, ["data", "sentences", "uncertain", "evaluation", "threshold", "precision", "recall",
                            "f1", "accuracy", "roc_auc", "confusion", "sentences_per_second"])


@train_app.command("headline-certainty")
def train_headline_certainty(
    data: Annotated[Path, typer.Option("--data", help="Emergent-format CSV.")] = EMERGENT_DATA,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (folds, solver).")] = 13,
    out: Annotated[Path | None, typer.Option("--out", help="Artifact folder (default: the package's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model card as JSON.")] = False,
) -> None:
    """Train the headline certainty model (for / observing / against) and write its artifact and card."""
    from overclaim.training.headline_certainty import train

    _echo_card(train(data, out_dir=out, seed=seed), out, as_json, ["accuracy", "macro_f1", "f1"])


@eval_app.command("headline-certainty")
def eval_headline_certainty(
    data: Annotated[Path, typer.Option("--data", help="Emergent-format CSV.")] = EMERGENT_DATA,
    cv: Annotated[bool | None, typer.Option("--cv/--no-cv", help=_CV_HELP)] = None,
    folds: Annotated[int, typer.Option("--folds", min=2, help="Folds for cross-validation.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Accuracy and macro-F1 (claim-grouped 5-fold CV on the training file)."""
    from overclaim.training.headline_certainty import evaluate

    result = evaluate(data, cv=cv, folds=folds)
    _echo(result, as_json, ["data", "headlines", "claims", "evaluation", "accuracy", "macro_f1", "f1", "confusion",
                            "headlines_per_second"])
