"""``overclaim train stance`` and ``overclaim eval stance``: thin adapters over :mod:`overclaim.training.stance`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from overclaim.cli.apps import eval_app, train_app

DEFAULT_DATA = Path("../shared/data/fnc1")


@train_app.command("stance")
def train_stance(
    data: Annotated[Path, typer.Option("--data", help="Folder with train_*.csv files.")] = DEFAULT_DATA,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (split, SVD, LightGBM).")] = 13,
    out: Annotated[Path | None, typer.Option("--out", help="Artifact folder (default: the package's).")] = None,
    test: Annotated[bool, typer.Option("--test/--no-test", help="Score competition_test_* for the model card.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the model card as JSON.")] = False,
    entailment: Annotated[
        bool,
        typer.Option(
            "--entailment/--no-entailment",
            help="Experimental: train stance_entail, with the entailment cross-encoder's per-post aggregates as "
            "extra features. Not shipped: with the current cross-encoder (which saw FNC-1 train sentences) it "
            "scored FNC 82.7 on the competition test against 83.5 without them.",
        ),
    ] = False,
    cache: Annotated[
        Path | None, typer.Option("--cache", help="Folder caching the entailment aggregates of the FNC-1 pairs.")
    ] = Path(".cache/overclaim"),
    processes: Annotated[int, typer.Option("--processes", help="Processes computing the aggregates.")] = 2,
) -> None:
    """Train the FNC-1 stance model (fixed seed, CPU) and write its artifact and model card."""
    from overclaim.training.stance import train

    log = (lambda _m: None) if as_json else typer.echo
    if entailment:
        from overclaim.training.entailment import PipelineAggregates

        extra = PipelineAggregates(cache_dir=cache, processes=processes)
        card = train(data, seed=seed, out=out, test=test, log=log, extra=extra, name="stance_entail", version="3")
    else:
        card = train(data, seed=seed, out=out, test=test, log=log)
    if as_json:
        typer.echo(json.dumps(card, indent=2))


def _format(result: dict[str, Any]) -> str:
    labels = result["labels"]
    lines = [
        f"pairs:        {result['pairs']}",
        f"FNC score:    {result['fnc_score']:.2f}% of max ({result['fnc_raw']:.2f} / {result['fnc_max']:.2f})",
        f"macro-F1:     {result['macro_f1']:.4f}",
        "F1:           " + ", ".join(f"{k} {v:.4f}" for k, v in result["f1"].items()),
        f"calibration:  {result['calibration_error']:.4f} expected calibration error (top label, 10 bins)",
        f"pairs/second: {result['pairs_per_second']} ({result['seconds']} s, model load included: "
        f"{result['load_seconds']} s)",
        "confusion (rows gold, columns predicted):",
        " " * 12 + "".join(f"{name:>11}" for name in labels),
    ]
    for name, row in zip(labels, result["confusion"], strict=True):
        lines.append(f"{name:>12}" + "".join(f"{n:>11}" for n in row))
    return "\n".join(lines)


@eval_app.command("stance")
def eval_stance(
    stances: Annotated[Path, typer.Option("--stances", help="FNC-format stances CSV (Headline, Body ID, Stance).")],
    bodies: Annotated[Path, typer.Option("--bodies", help="FNC-format bodies CSV (Body ID, articleBody).")],
    model: Annotated[Path | None, typer.Option("--model", help="Artifact folder (default: the shipped model).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Score the stance model: FNC score, macro-F1, per-class F1, confusion matrix, pairs/second."""
    from overclaim.training.stance import evaluate_files

    result = evaluate_files(stances, bodies, model_dir=model)
    typer.echo(json.dumps(result, indent=2) if as_json else _format(result))
