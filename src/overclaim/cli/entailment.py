"""``overclaim train entailment`` and ``overclaim eval entailment``: thin adapters over training/entailment.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from overclaim.cli.apps import eval_app, train_app


@train_app.command("entailment")
def train_entailment(
    data: Annotated[
        Path, typer.Option("--data", "-d", help="The shared data folder (nli/, perspectrum/, fnc1/).")
    ] = Path("../shared/data"),
    out: Annotated[
        Path | None, typer.Option("--out", help="Artifact folder (default: the package's artifacts/entailment).")
    ] = None,
    epochs: Annotated[int, typer.Option("--epochs", help="Passes over the training pairs.")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (data order, sampling, initial head).")] = 0,
    limit: Annotated[int, typer.Option("--limit", help="Train on this many pairs only (0: all); smoke tests.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model card as JSON.")] = False,
) -> None:
    """Fine-tune the entailment cross-encoder (needs the train extra: torch, transformers) and export it to ONNX."""
    from overclaim.training.entailment import TrainSettings, train

    settings = TrainSettings()
    if epochs:
        settings.epochs = epochs
    if seed:
        settings.seed = seed
    settings.limit = limit
    card = train(data, out_dir=out, settings=settings, log=lambda m: typer.echo(m, err=True))
    if as_json:
        typer.echo(json.dumps(card, indent=2))
        return
    typer.echo(f"entailment model trained on {card['training_pairs']} pairs in {card['train_seconds']} s")
    typer.echo(f"selected: {json.dumps(card['selected'])}")


@eval_app.command("entailment")
def eval_entailment(
    data: Annotated[Path, typer.Option("--data", "-d", help="JSONL in the shared NLI schema.")],
    split: Annotated[str | None, typer.Option("--split", help="Score only this split.")] = None,
    model: Annotated[Path | None, typer.Option("--model", help="Artifact folder (default: the shipped one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score the entailment model on any NLI JSONL file: accuracy, macro-F1, per-class F1, confusion, speed."""
    from overclaim.training.entailment import evaluate_file

    figures = evaluate_file(data, split=split, model_dir=model)
    if as_json:
        typer.echo(json.dumps(figures, indent=2))
        return
    typer.echo(
        f"{figures['pairs']} pairs{' (' + split + ')' if split else ''}: accuracy {figures['accuracy']}  "
        f"macro-F1 {figures['macro_f1']}  {figures['pairs_per_second']} pairs/s"
    )
    typer.echo("F1 " + "  ".join(f"{k} {v}" for k, v in figures["f1"].items()))
    labels = figures["confusion"]["labels"]
    typer.echo("confusion (rows gold, columns predicted): " + " ".join(labels))
    for name, row in zip(labels, figures["confusion"]["rows_gold_columns_predicted"], strict=True):
        typer.echo(f"  {name:>12} {row}")
