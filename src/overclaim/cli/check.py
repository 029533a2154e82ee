"""``overclaim check`` (one post, or every post of a small file) and ``overclaim schema``."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from overclaim.cli.apps import app
from overclaim.cli.options import (
    FactchecksOption,
    LanguageOption,
    MaxAgeOption,
    Profile,
    ProfileOption,
    PublisherOption,
)
from overclaim.cli.output import check_output_path, write_output, write_stdout, writing
from overclaim.errors import EmptyFieldError, InputError

if TYPE_CHECKING:
    from overclaim.fetch import AddressPolicy

# Which addresses `check URL` may fetch from: None is public ones only (overclaim.fetch.public_only).
# Tests set it to let a local test server through; nothing else does.
FETCH_POLICY: AddressPolicy | None = None


class OutputFormat(str, Enum):
    """How ``check`` prints the report."""

    terminal = "terminal"
    json = "json"
    jsonl = "jsonl"
    markdown = "markdown"
    html = "html"
    claimreview = "claimreview"


def parse_mapping(pairs: list[str] | None) -> dict[str, str]:
    """``["headline=title", "body=text"]`` -> ``{"headline": "title", "body": "text"}``."""
    from overclaim.readers import check_mapping

    out: dict[str, str] = {}
    for pair in pairs or []:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise InputError(f"--map expects FIELD=COLUMN, got {pair!r}", field="--map")
        out[field.strip()] = column.strip()
    check_mapping(out)  # an unknown field (--map foo=bar) is refused, in check and batch alike
    return out


@app.command()
def check(
    path: Annotated[
        str | None,
        typer.Argument(
            help="Post file (text, JSON, JSONL, CSV, HTML), - for stdin, or an http(s) URL: the page is fetched "
            "(public addresses only, 2 MB, 10 s) and read as an article page."
        ),
    ] = None,
    headline: Annotated[str | None, typer.Option("--headline", "-H", help="Headline text (with --body).")] = None,
    body: Annotated[str | None, typer.Option("--body", "-B", help="Body text (with --headline).")] = None,
    fmt: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="Output format. json on a JSONL input prints JSONL (one report a line); "
                                            "on several posts of another input, a JSON array. claimreview: the verdict "
                                            "as a ClaimReview draft (JSON-LD) for a fact-checker to edit and publish."),
    ] = OutputFormat.terminal,
    input_format: Annotated[
        str | None, typer.Option("--input-format", help="text, json, jsonl, csv or html (default: guess).")
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="FIELD=COLUMN for CSV/JSON inputs, e.g. headline=title; stdin that is not "
                                   "JSON is then read as CSV."),
    ] = None,
    factchecks: FactchecksOption = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")] = None,
    profile: ProfileOption = Profile.default,
    language: LanguageOption = None,
    max_age_days: MaxAgeOption = None,
    publisher: PublisherOption = None,
) -> None:
    """Check whether the article backs the headline, and say why."""
    from overclaim.pipeline import Checker
    from overclaim.readers import is_url, read_input, read_url
    from overclaim.render import render

    if out is not None:
        check_output_path(out)  # before the check, not after it
    if path is None and headline is None and body is None:
        raise InputError("give a post file, '-' for stdin, or --headline and --body")
    for name, given in (("--language", language), ("--max-age-days", max_age_days), ("--publisher", publisher)):
        if given is not None and given != [] and factchecks is None:
            raise InputError("filters the fact-check matches; give the store with --factchecks", field=name)
    if path is not None and (headline is not None or body is not None):
        raise InputError("give either a post file or --headline/--body, not both")
    if path is None:
        if not headline or not headline.strip():
            raise EmptyFieldError("is empty", field="--headline")
        if not body or not body.strip():
            raise EmptyFieldError("is empty", field="--body")
        from overclaim.report import Post

        posts = [Post(headline=headline, body=body)]
    elif is_url(path):
        if input_format not in (None, "html"):
            raise InputError("a URL is read as a web page; leave out --input-format", field="--input-format")
        if mapping:
            raise InputError("--map maps CSV or JSON columns; a URL is read as a web page", field="--map")
        posts = [read_url(path.strip(), policy=FETCH_POLICY)]
    else:
        read_as, posts = read_input(path, input_format, parse_mapping(mapping))
        if read_as == "jsonl" and fmt is OutputFormat.json:
            fmt = OutputFormat.jsonl  # JSON lines in, JSON lines out: one report a line
    from overclaim.config import Config

    config = Config(profile=profile.value, match_languages=tuple(language or ()), match_max_age_days=max_age_days,
                    match_publishers=tuple(publisher or ()))
    checker = Checker(config, factchecks=factchecks)
    reports = checker.check_many(posts)
    if fmt is OutputFormat.terminal and out is None:
        from overclaim.render.terminal import print_report

        with writing("stdout"):
            for i, report in enumerate(reports, 1):
                if len(reports) > 1:  # several posts: each report under its own labelled rule, a blank line apart
                    write_stdout(("\n" if i > 1 else "") + post_label(report, i, len(reports)) + "\n")
                print_report(report)
        write_stdout("")  # flushes: a full disk behind stdout is one line here, not a traceback at exit
        return
    if fmt is OutputFormat.jsonl:
        text = "\n".join(r.to_json(indent=None) for r in reports)
    elif fmt is OutputFormat.json and len(reports) > 1:
        text = json.dumps([json.loads(r.to_json()) for r in reports], indent=2, ensure_ascii=False)
    elif fmt is OutputFormat.claimreview and len(reports) > 1:
        from overclaim.render.claimreview import render_claimreviews

        text = render_claimreviews(reports)
    elif fmt in (OutputFormat.terminal, OutputFormat.markdown) and len(reports) > 1:
        text = "\n".join(post_label(r, i, len(reports)) + "\n" + render(r, fmt.value)
                         for i, r in enumerate(reports, 1))
    else:
        text = "\n".join(render(r, fmt.value) for r in reports)
    if out is None:
        write_stdout(text if text.endswith("\n") else text + "\n")
    else:
        write_output(out, text)
        typer.echo(f"wrote {out}", err=True)


def post_label(report: Any, number: int, total: int) -> str:
    """The rule above one of several reports: "── post 2 of 5 · id abc ──" (id when the post has one)."""
    from overclaim.render.safe import printable

    post_id = f" · id {printable(report.post.id, newlines=False)}" if report.post.id else ""
    return f"── post {number} of {total}{post_id} ──"


@app.command()
def schema() -> None:
    """Print the published JSON schema of the report."""
    from overclaim.report import report_schema_json

    typer.echo(report_schema_json())


def version_lines() -> list[str]:
    """The package version, then one line per shipped model: its version (if it has one) and build date."""
    from overclaim.resources import ARTIFACT_DIR, model_card
    from overclaim.version import __version__

    lines = [f"overclaim {__version__}"]
    if ARTIFACT_DIR.exists():
        for d in sorted(p for p in ARTIFACT_DIR.iterdir() if p.is_dir()):
            card = model_card(d.name)
            parts = [f"version {card['version']}"] if "version" in card else []
            parts.append(f"built {card.get('date') or card.get('trained') or 'on an unknown date'}")
            lines.append(f"  model {d.name}: {', '.join(parts)}")
    return lines


@app.command()
def version() -> None:
    """Print the overclaim version and the models it ships, with their build dates."""
    for line in version_lines():
        typer.echo(line)


def _print_version(value: bool) -> None:
    if value:
        version()
        raise typer.Exit()


@app.callback()
def _options(
    show_version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the versions and exit."
    ),
) -> None:
    """Show, with evidence, where a headline says more than its article does."""
