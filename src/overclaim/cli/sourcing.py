"""``overclaim train sourcing`` and ``overclaim eval sourcing``: adapters over :mod:`overclaim.training.sourcing`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from overclaim.cli.apps import eval_app, train_app

TRAIN_DATA = Path("../shared/data/attribution/polnear_train.jsonl")
DEV_DATA = Path("../shared/data/attribution/polnear_dev.jsonl")

EVAL_KEYS = ["data", "articles", "attributions", "predicted_attributions",
             "source_precision", "source_recall", "source_f1",
             "source_exact_precision", "source_exact_recall", "source_exact_f1",
             "cue_precision", "cue_recall", "cue_f1", "cue_exact_precision", "cue_exact_recall", "cue_exact_f1",
             "content_precision", "content_recall", "content_f1", "attributions_per_second", "ms_per_article"]


@eval_app.command("sourcing")
def eval_sourcing(
    data: Annotated[Path, typer.Option("--data", help="PolNeAR-format JSONL (text + attributions).")] = DEV_DATA,
    all_annotations: Annotated[bool, typer.Option(
        "--all-annotations", help="Score every annotation line (default: the first per article).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Source / cue / content span P, R, F1 (overlap and exact) of the sourcing stage, attributions/second."""
    from overclaim.training.sourcing import evaluate

    result = evaluate(data, all_annotations=all_annotations)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    for key in EVAL_KEYS:
        if key in result:
            typer.echo(f"{key + ':':<26}{result[key]}")


@train_app.command("sourcing")
def train_sourcing(
    data: Annotated[Path, typer.Option("--data", help="PolNeAR-format JSONL to learn from.")] = TRAIN_DATA,
    dev: Annotated[Path | None, typer.Option("--dev", help="PolNeAR-format JSONL scored for the card.")] = DEV_DATA,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 13,
    out: Annotated[Path | None, typer.Option("--out", help="Artifact folder (default: the package's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model card as JSON.")] = False,
) -> None:
    """Train the attribution tagger and cue lexicon (fixed seed, CPU) and write the artifact and model card."""
    from overclaim.training.sourcing import train

    card = train(data, dev=dev if dev is not None and dev.exists() else None, out_dir=out, seed=seed)
    typer.echo(json.dumps(card, indent=2) if as_json else json.dumps(card.get("figures", {}), indent=2))
