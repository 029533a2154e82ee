"""``overclaim train verdict`` and ``overclaim eval verdict``: thin adapters over the verdict model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from overclaim.cli.apps import eval_app, train_app
from overclaim.cli.options import Profile, ProfileOption


@eval_app.command("verdict")
def eval_verdict(
    data: Annotated[
        Path | None,
        typer.Option("--data", "-d", help="JSONL of posts with gold verdicts: headline, body, gold (one of the "
                                          "five verdicts), optional id. Not with --stances/--bodies."),
    ] = None,
    stances: Annotated[
        Path | None, typer.Option("--stances", help="FNC-format stances CSV (Headline, Body ID, Stance).")
    ] = None,
    bodies: Annotated[
        Path | None, typer.Option("--bodies", help="FNC-format bodies CSV (Body ID, articleBody).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="Only the first N posts (0 = all).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    profile: ProfileOption = Profile.default,
) -> None:
    """Score the pipeline's verdicts against a JSONL file's gold verdicts (--data) or FNC-1 stances.

    In the FNC-1 form the stances map to verdicts: agree=supported, discuss=overstated, disagree=contradicted.
    """
    from overclaim.errors import UsageError

    fnc = stances is not None or bodies is not None
    if data is not None and fnc:
        raise UsageError("give either --data FILE.jsonl or --stances with --bodies (FNC-1 form), not both")
    if data is None and not fnc:
        raise UsageError("give --data FILE.jsonl, or --stances FILE and --bodies FILE (FNC-1 form)")
    result: dict[str, Any]
    if data is not None:
        from overclaim.training.verdict import evaluate_jsonl

        result = evaluate_jsonl(data, limit=limit, profile=profile.value)
    else:
        if stances is None or bodies is None:
            missing = "--bodies" if bodies is None else "--stances"
            raise UsageError(f"the FNC-1 form needs both --stances and --bodies; {missing} is missing")
        from overclaim.training.verdict import evaluate_files

        result = evaluate_files(stances, bodies, limit=limit, profile=profile.value)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(
        f"posts: {result['posts']}  accuracy: {result['accuracy']:.4f}  macro-F1: {result['macro_f1']:.4f} "
        f"(over {', '.join(result['macro_f1_labels'])})"
    )
    typer.echo("F1: " + ", ".join(f"{k} {v:.4f}" for k, v in result["f1"].items()))
    typer.echo("confusion (rows gold, columns predicted):")
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
