"""``overclaim train clickbait`` and ``overclaim eval clickbait``: thin adapters over training/clickbait.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from overclaim.cli.apps import eval_app, train_app

DataOption = Annotated[
    Path,
    typer.Option(
        "--data",
        "-d",
        help="Folder with clickbait_data.gz and non_clickbait_data.gz (one headline a line).",
    ),
]
FoldsOption = Annotated[int, typer.Option("--folds", help="Cross-validation folds.")]
SeedOption = Annotated[int, typer.Option("--seed", help="Random seed (folds and solver).")]


def _figures_line(figures: dict[str, object]) -> str:
    return (
        f"accuracy {figures.get('accuracy')}  F1 {figures.get('f1')}  ROC-AUC {figures.get('roc_auc')}  "
        f"{figures.get('headlines_per_second'):,} headlines/s (wall), "
        f"{figures.get('headlines_per_cpu_second'):,} per CPU second"
    )


@train_app.command("clickbait")
def train_clickbait(
    data: DataOption = Path("../shared/data/clickbait"),
    out: Annotated[
        Path | None, typer.Option("--out", help="Artifact folder (default: the package's artifacts/clickbait).")
    ] = None,
    folds: Annotated[int, typer.Option("--folds", help="CV folds reported on the model card (0 skips).")] = 10,
    seed: SeedOption = 13,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model card as JSON.")] = False,
) -> None:
    """Train the clickbait model (TF-IDF word n-grams + logistic regression) and write its model card."""
    from overclaim.training.clickbait import train

    card = train(data, out_dir=out, folds=folds, seed=seed)
    if as_json:
        typer.echo(json.dumps(card, indent=2))
        return
    typer.echo(f"clickbait model trained on {card['data']['headlines']} headlines")
    typer.echo(_figures_line(card["figures"]))


@eval_app.command("clickbait")
def eval_clickbait(
    data: DataOption = Path("../shared/data/clickbait"),
    folds: FoldsOption = 10,
    seed: SeedOption = 13,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Cross-validate the clickbait model on DATA: accuracy, F1, ROC-AUC, and headlines per second."""
    from overclaim.training.clickbait import evaluate

    figures = evaluate(data, folds=folds, seed=seed)
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
        return
    typer.echo(f"{figures['headlines']} headlines ({figures['clickbait']} clickbait), {folds}-fold CV")
    typer.echo(_figures_line(figures))
