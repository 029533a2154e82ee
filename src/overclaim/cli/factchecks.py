"""``overclaim factchecks import|list|stats|export``, ``overclaim match``, claim-matching train/eval commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from overclaim.cli.apps import app, eval_app, train_app
from overclaim.cli.options import (
    LanguageOption,
    MaxAgeOption,
    OldStoreOption,
    PublisherOption,
    existing_factchecks_store,
    one_spelling,
)
from overclaim.render.safe import printable
from overclaim.store.db import DEFAULT_DB

factchecks_app = typer.Typer(
    help="The fact-check store: import ClaimReview (JSON-LD, fact-check pages, Fact Check Tools API answers, "
    "DataFeeds), JSONL or CSV; list, count, export.",
    no_args_is_help=True,
)
app.add_typer(factchecks_app, name="factchecks")

StoreOption = Annotated[
    str | None,
    typer.Option("--factchecks", "-s", envvar="OVERCLAIM_FACTCHECKS",
                 help=f"Fact-check store: SQLite file path or database URL (default: {DEFAULT_DB})."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
EmbeddingsOption = Annotated[
    bool,
    typer.Option("--embeddings", help="Add sentence-embedding similarity (needs the 'embeddings' extra)."),
]


def _store(store: str | None, old_store: str | None, *, must_exist: bool = True) -> str:
    """The fact-check store named by --factchecks (or its old spelling --store), else the default one.

    Raises:
        FileNotFound: ``must_exist`` and no such SQLite file (only ``factchecks import`` creates one).
    """
    path = one_spelling(store, old_store, "--factchecks") or DEFAULT_DB
    return path if not must_exist else existing_factchecks_store(path) or path


def _echo_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


@factchecks_app.command("import")
def import_(
    path: Annotated[
        Path,
        typer.Argument(
            help="ClaimReview JSON-LD (object, array, @graph, DataFeed), a fact-check article page (HTML: its "
            "application/ld+json blocks), a Fact Check Tools API response (claims[]), JSONL, CSV or TSV."
        ),
    ],
    store: StoreOption = None,
    old_store: OldStoreOption = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonld, jsonl, html, csv or tsv (default: guess).")
    ] = None,
    mapping: Annotated[
        list[str] | None, typer.Option("--map", help="FIELD=COLUMN for CSV/flat JSON, e.g. claim=vclaim.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Store nothing if any record is bad.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Import fact-checks; records already stored are left alone, bad records reported and skipped.

    A file with content but no usable record (a page without ClaimReview markup, an empty API
    answer) is an error (exit 2).
    """
    from overclaim.store.factchecks import FactCheckStore, parse_mapping

    fc_store = FactCheckStore(_store(store, old_store, must_exist=False))  # import creates a new store
    result = fc_store.import_file(path, fmt=fmt, mapping=parse_mapping(mapping or []), strict=strict)
    if as_json:
        _echo_json(result.to_dict())
        return
    for issue in result.issues[:50]:
        typer.echo(printable(f"{path}: skipped {issue}", newlines=False), err=True)
    if len(result.issues) > 50:
        typer.echo(f"{path}: ... and {len(result.issues) - 50} more skipped records", err=True)
    rate = result.read / result.seconds if result.seconds else 0.0
    typer.echo(
        f"{path}: read {result.read}, imported {result.imported}, already stored {result.already_stored}, "
        f"skipped {result.skipped} ({result.seconds:.1f} s, {rate:,.0f} records/s)"
    )


@factchecks_app.command("list")
def list_(
    store: StoreOption = None,
    old_store: OldStoreOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Most records shown.")] = 20,
    offset: Annotated[int, typer.Option("--offset", help="Records skipped first.")] = 0,
    as_json: JsonOption = False,
) -> None:
    """List stored fact-checks in import order."""
    from overclaim.store.factchecks import FactCheckStore

    records = list(FactCheckStore(_store(store, old_store)).iter_all(limit=limit, offset=offset))
    if as_json:
        _echo_json([r.to_dict() for r in records])
        return
    for r in records:
        rating = f" [{r.rating}]" if r.rating else ""
        typer.echo(printable(f"{r.claim_id}\t{r.claim[:100]}{rating}", newlines=False))


@factchecks_app.command("stats")
def stats(store: StoreOption = None, old_store: OldStoreOption = None, as_json: JsonOption = False) -> None:
    """Count stored fact-checks, by rating, reviewer and language."""
    from overclaim.store.factchecks import FactCheckStore

    data = FactCheckStore(_store(store, old_store)).stats()
    if as_json:
        _echo_json(data)
        return
    typer.echo(f"{data['factchecks']} fact-checks ({data['backend']})")
    for key in ("by_rating", "by_reviewer", "by_language"):
        if data[key]:
            typer.echo(f"{key.replace('_', ' ')}: " + ", ".join(f"{k} {v}" for k, v in data[key].items()))


@factchecks_app.command("export")
def export(
    store: StoreOption = None,
    old_store: OldStoreOption = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl (ClaimReview a line), jsonld (@graph) or csv.")] = "jsonl",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout.")] = None,
) -> None:
    """Export every stored fact-check."""
    from overclaim.cli.output import check_output_path, write_stdout, writing
    from overclaim.store.factchecks import FactCheckStore

    if out is not None:
        check_output_path(out)
    fc_store = FactCheckStore(_store(store, old_store))
    if out is None:
        with writing("stdout"):
            fc_store.export(sys.stdout, fmt)
        write_stdout("")  # flushes: a full disk behind stdout is one line here
        return
    with writing(out), out.open("w", encoding="utf-8", newline="") as fh:
        n = fc_store.export(fh, fmt)
    typer.echo(f"wrote {n} fact-checks to {out}", err=True)


@app.command("match")
def match(
    text: Annotated[str, typer.Argument(help="The claim, headline or post text.")],
    store: StoreOption = None,
    old_store: OldStoreOption = None,
    top_k: Annotated[int, typer.Option("--top", "-k", help="Most matches shown.")] = 3,
    min_probability: Annotated[
        float | None,
        typer.Option("--min-probability", help="Hide matches under this (default: the shown threshold, config)."),
    ] = None,
    embeddings: EmbeddingsOption = False,
    language: LanguageOption = None,
    max_age_days: MaxAgeOption = None,
    publisher: PublisherOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find stored fact-checks of the claim in TEXT (same-claim probability at or above the threshold)."""
    from overclaim.config import DEFAULT_CONFIG
    from overclaim.errors import EmptyFieldError
    from overclaim.stages.match import ClaimMatcher, clean_text
    from overclaim.store.factchecks import FactCheckFilter

    if not text.strip():
        raise EmptyFieldError("is empty", field="TEXT")
    where = FactCheckFilter.of(language or (), max_age_days, publisher or ())
    threshold = DEFAULT_CONFIG.match_min_probability if min_probability is None else min_probability
    matcher = ClaimMatcher(_store(store, old_store), embeddings=embeddings)
    ranked = [c for c in matcher.rank(clean_text(text), where)[:top_k] if c.probability >= threshold]
    if as_json:
        _echo_json([{**c.to_match().model_dump(), "near_duplicate": c.near_duplicate} for c in ranked])
        return
    if not ranked:
        filters = f" ({where.describe()})" if where else ""
        typer.echo(f"no stored fact-check with a same-claim probability of {threshold:.2f} or more{filters}")
    for c in ranked:
        m = c.to_match()
        near = f"(near-duplicate, Jaccard ~{c.near_duplicate:.2f})" if c.near_duplicate is not None else ""
        extra = " ".join(x for x in (f"[{m.rating}]" if m.rating else "", m.url or "", near) if x)
        typer.echo(printable(f"{m.probability:.2f}  {m.claim_id}  {m.claim}" + (f"  {extra}" if extra else ""),
                             newlines=False))
        if m.provenance():
            typer.echo(printable(f"      {m.provenance()}", newlines=False))


@eval_app.command("claim-matching")
def eval_claim_matching(
    queries: Annotated[Path, typer.Option("--queries", help="CLEF tweets.queries.tsv (id, text).")] = Path(
        "../shared/data/claim_matching/dev/tweets.queries.tsv"
    ),
    qrels: Annotated[Path, typer.Option("--qrels", help="CLEF qrels (query_id 0 claim_id 1).")] = Path(
        "../shared/data/claim_matching/dev/tweet-vclaim-pairs.qrels"
    ),
    claims: Annotated[Path, typer.Option("--claims", help="CLEF verified_claims.docs.tsv (id, vclaim, title).")] = Path(
        "../shared/data/claim_matching/verified_claims.docs.tsv"
    ),
    embeddings: EmbeddingsOption = False,
    min_probability: Annotated[
        float | None,
        typer.Option("--min-probability", help="Shown threshold for the shown figures (default: config)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """MAP@1/3/5, recall@5, queries/s, and what is shown: shown precision and the false-match rate.

    The false-match rate is the share of queries shown any match once their right claims (and
    verbatim copies of them) are held out of the store.
    """
    from overclaim.training.claim_matching import evaluate_files

    result = evaluate_files(queries, qrels, claims, embeddings=embeddings, threshold=min_probability)
    if as_json:
        _echo_json(result)
        return
    precision = result["shown_precision"]
    typer.echo(
        f"{result['queries']} queries over {result['claims']} claims: MAP@1 {result['map@1']:.4f}  "
        f"MAP@3 {result['map@3']:.4f}  MAP@5 {result['map@5']:.4f}  recall@5 {result['recall@5']:.4f}  "
        f"{result['queries_per_second']} queries/s\n"
        f"shown at {result['shown_threshold']:.2f}: precision "
        + (f"{precision:.4f}" if precision is not None else "n/a (nothing shown)")
        + f"  recall {result['shown_recall']:.4f}  false-match rate {result['false_match_rate']:.4f}"
    )


@train_app.command("claim-matching")
def train_claim_matching(
    data: Annotated[Path, typer.Option("--data", help="CLEF 2020 Task 2 folder.")] = Path(
        "../shared/data/claim_matching"
    ),
    out: Annotated[Path | None, typer.Option("--out", help="Artifact folder (default: the package's).")] = None,
    embeddings: Annotated[
        bool, typer.Option("--embeddings", help="Train claim_matching_embed (needs the 'embeddings' extra).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Train the fact-check re-ranker and calibrator on CLEF train; report dev figures."""
    from overclaim.training.claim_matching import train

    if embeddings:
        from overclaim.stages.match import require_embeddings

        require_embeddings()
    card = train(data, out, embeddings=embeddings)
    if as_json:
        _echo_json(card["figures"])
        return
    dev = card["figures"]["dev"]
    typer.echo(
        f"dev: MAP@1 {dev['map@1']:.4f}  MAP@3 {dev['map@3']:.4f}  MAP@5 {dev['map@5']:.4f}  "
        f"recall@5 {dev['recall@5']:.4f}  ({card['training_seconds']} s)"
    )
