"""``overclaim train claim-strength`` and ``overclaim eval claim-strength``.

Thin adapters over :mod:`overclaim.training.claim_strength`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from overclaim.cli.apps import eval_app, train_app

CLAIM_STRENGTH_DATA = Path("../shared/data/claim_strength/annotated_pubmed.csv")
INSCIOUT_DATA = Path("../shared/data/claim_strength/insciout_train.jsonl")
_DATA_HELP = (
    "CSV with a label column (0 none, 1 correlational, 2 conditional causal, 3 direct causal) and a sentence column."
)
_INSCIOUT_HELP = "InSciOut pairs (JSONL) for the exaggeration figure; skipped when missing."
_CV_HELP = "Cross-validate on the file (default: only when it is the training file); --no-cv scores the shipped model."


def _echo(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for key in ("data", "sentences", "evaluation", "accuracy", "macro_f1", "mean_fold_macro_f1"):
        if key in result:
            typer.echo(f"{key + ':':<22}{result[key]}")
    for label, f1 in result.get("f1", {}).items():
        typer.echo(f"{'f1 ' + label + ':':<22}{f1}")
    confusion = result.get("confusion")
    if confusion:
        labels = confusion["labels"]
        typer.echo("confusion (rows gold, columns predicted):")
        typer.echo(" " * 20 + "".join(f"{label[:12]:>14}" for label in labels))
        for label, row in zip(labels, confusion["matrix"], strict=True):
            typer.echo(f"{label:<20}" + "".join(f"{x:>14}" for x in row))
    if "insciout" in result and result["insciout"]:
        typer.echo(f"{'insciout f1:':<22}{result['insciout']['exaggerates_f1']}")


@train_app.command("claim-strength")
def train_claim_strength(
    data: Annotated[Path, typer.Option("--data", help=_DATA_HELP)] = CLAIM_STRENGTH_DATA,
    insciout: Annotated[Path, typer.Option("--insciout", help=_INSCIOUT_HELP)] = INSCIOUT_DATA,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (folds, solver).")] = 13,
    folds: Annotated[int, typer.Option("--folds", min=0, help="Cross-validation folds (0: none).")] = 5,
    out: Annotated[Path | None, typer.Option("--out", help="Artifact folder (default: the package's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model card as JSON.")] = False,
) -> None:
    """Train the claim-strength model (fixed seed, CPU), cross-validate, write its artifact and model card."""
    from overclaim.training.claim_strength import train

    card = train(data, out_dir=out, seed=seed, folds=folds, insciout_path=insciout)
    _echo(card if as_json else {**card["figures"], "insciout": card.get("insciout")}, as_json)


@eval_app.command("claim-strength")
def eval_claim_strength(
    data: Annotated[Path, typer.Option("--data", help=_DATA_HELP)] = CLAIM_STRENGTH_DATA,
    cv: Annotated[bool | None, typer.Option("--cv/--no-cv", help=_CV_HELP)] = None,
    folds: Annotated[int, typer.Option("--folds", min=2, help="Folds for cross-validation.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Accuracy, macro-F1, per-class F1 and confusion (5-fold CV on the training file)."""
    from overclaim.training.claim_strength import evaluate

    _echo(evaluate(data, cv=cv, folds=folds), as_json)
