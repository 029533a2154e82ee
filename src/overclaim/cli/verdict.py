"""``overclaim train verdict`` and ``overclaim eval verdict``: thin adapters over the verdict model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from overclaim.cli import eval_app, train_app
from overclaim.cli.options import Profile, ProfileOption


@eval_app.command("verdict")
def eval_verdict(
    stances: Annotated[Path, typer.Option("--stances", help="FNC-format stances CSV (Headline, Body ID, Stance).")],
    bodies: Annotated[Path, typer.Option("--bodies", help="FNC-format bodies CSV (Body ID, articleBody).")],
    limit: Annotated[int, typer.Option("--limit", help="Only the first N pairs (0 = all).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    profile: ProfileOption = Profile.default,
) -> None:
    """Score the pipeline's verdicts against FNC-1 stances mapped to verdicts (agree=supported, ...)."""
    from overclaim.training.verdict import evaluate_files

    result = evaluate_files(stances, bodies, limit=limit, profile=profile.value)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"posts: {result['posts']}  accuracy: {result['accuracy']:.4f}  macro-F1: {result['macro_f1']:.4f}")
    typer.echo("F1: " + ", ".join(f"{k} {v:.4f}" for k, v in result["f1"].items()))
    typer.echo(" " * 14 + "".join(f"{v:>14}" for v in result["labels"]))
    for v, row in zip(result["labels"], result["confusion"], strict=True):
        typer.echo(f"{v:>14}" + "".join(f"{n:>14}" for n in row))
    typer.echo(f"posts/second: {result['posts_per_second']}")


@train_app.command("verdict")
def train_verdict(
    data: Annotated[Path, typer.Option("--data", help="The shared data folder (fnc1/, emergent/, nli/, ...).")] = Path(
        "../shared/data"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Random seed (splits, stance refit).")] = 13,
    out: Annotated[Path | None, typer.Option("--out", help="Artifact folder (default: the package's).")] = None,
    features_dir: Annotated[
        Path | None,
        typer.Option(
            "--features-dir", help="Keep the featurized posts here and reuse them (delete when a stage changes)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model card as JSON.")] = False,
) -> None:
    """Train the verdict model of each profile from the shared data sets and write them with the card."""
    from overclaim.training.verdict_model import model_card_markdown, train

    log = (lambda _m: None) if as_json else typer.echo
    card = train(data, out=out, seed=seed, log=log, features_dir=features_dir)
    if as_json:
        typer.echo(json.dumps(card, indent=2))
        return
    typer.echo(model_card_markdown(card))
