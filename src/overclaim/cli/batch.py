"""``overclaim batch``: check every record of big files on all cores or on a Dask cluster."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from overclaim.cli.apps import app
from overclaim.cli.options import FactchecksOption, Profile, ProfileOption

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, Task
    from rich.text import Text

    from overclaim.batch import BatchSummary


class InputFormatOption(str, Enum):
    """Batch input formats (default: from each file's suffix)."""

    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


def _rate_column() -> object:
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Records per second."""

        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text("-- rec/s" if speed is None else f"{speed:,.0f} rec/s", style="progress.data.speed")

    return RateColumn()


def print_summary(summary: BatchSummary, console: Console) -> None:
    """The end-of-run table: counts by verdict, errors by code, time and speed."""
    from rich.table import Table
    from rich.text import Text

    from overclaim.render.safe import printable

    # Text, not markup: a path may hold '[' or control characters.
    title = Text(printable(f"overclaim batch: {summary.input} -> {summary.output}", newlines=False))
    # Counts of the whole output; after a resume, a second column says how many of them are new.
    totals = summary.totals()
    resumed = bool(summary.previous)
    table = Table(title=title, show_header=True)
    table.add_column("")
    table.add_column("in output" if resumed else "records", justify="right")
    if resumed:
        table.add_column("new (this run)", justify="right")

    def row(name: str, total: int, new: int) -> None:
        table.add_row(name, f"{total:,}", *([f"{new:,}"] if resumed else []))

    for label, n in sorted(totals["verdicts"].items(), key=lambda kv: -kv[1]):
        row(label, n, summary.verdicts.get(label, 0))
    for code, n in sorted(totals["error_codes"].items(), key=lambda kv: -kv[1]):
        row(f"[red]error: {code}[/red]", n, summary.error_codes.get(code, 0))
    row("[bold]total[/bold]", totals["records"], summary.records)
    if summary.stored:
        table.add_row("stored", f"{summary.stored:,}")
    console.print(table)
    where = f"Dask at {summary.scheduler}" if summary.scheduler else f"{summary.workers} worker(s)"
    before = f" ({sum(summary.previous.values()):,} were already in the output)" if resumed else ""
    console.print(Text(printable(f"{summary.records:,} record(s) checked in {summary.seconds:,.1f} s, "
                                 f"{summary.records_per_second:,.1f} records/s on {where}{before}; "
                                 f"{totals['errors']:,} error record(s) in the output", newlines=False)))


def resume_command(argv: list[str]) -> str:
    """The command that carries on this batch run: the same arguments, with ``--resume`` for ``--overwrite``."""
    import shlex

    args = [a for a in argv if a != "--overwrite"]
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join(["overclaim", *args])


def interrupted_message(summary: BatchSummary, argv: list[str]) -> str:
    """What Ctrl-C prints: how many records the output holds (none half-written) and how to go on."""
    from overclaim.render.safe import printable

    total = summary.totals()["records"]
    said = (f"overclaim: interrupted: {total:,} record(s) in {summary.output} ({summary.records:,} written by this "
            f"run), each whole; the rest are not checked yet. Resume with:")
    # No control character of a path reaches the terminal (the command's quoting keeps spaces).
    return printable(said, newlines=False) + "\n  " + printable(resume_command(argv), newlines=False)


@contextlib.contextmanager
def _output_errors(out: Path) -> Iterator[None]:
    """An ``OSError`` writing the output as one :class:`OutputError` line naming it.

    An error is the output's when it names the output, a path inside it (a Parquet part) or a
    folder above it, or names no file (a failed write: a full disk). Others (an input that
    cannot be read) pass on to ``main()``, which prints them in one line too.
    """
    from overclaim.errors import OutputError

    try:
        yield
    except OSError as exc:
        if exc.filename is not None:
            named, target = Path(exc.filename).resolve(), out.resolve()
            if not (named.is_relative_to(target) or target.is_relative_to(named)):
                raise
        raise OutputError(f"cannot write: {exc.strerror or exc}", source=str(out)) from exc


@contextlib.contextmanager
def _interrupts(as_json: bool, bar: Progress) -> Iterator[None]:
    """Ctrl-C: stop the bar, say what the output holds and the command that goes on, exit 130 (128 + SIGINT)."""
    import sys

    from overclaim.batch import BatchInterrupted

    try:
        yield
    except KeyboardInterrupt as exc:
        bar.stop()
        if not isinstance(exc, BatchInterrupted):  # before the output was opened
            typer.echo("overclaim: interrupted before any record was written", err=True)
            raise typer.Exit(130) from None
        if as_json:
            typer.echo(json.dumps(exc.summary.to_dict(), indent=2))
        typer.echo(interrupted_message(exc.summary, sys.argv[1:]), err=True)
        raise typer.Exit(130) from None


@app.command()
def batch(
    input_path: Annotated[Path, typer.Argument(help="JSONL, CSV or Parquet file, or a folder of them.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output, its format by its name: a .jsonl or .csv file, or a .parquet "
                                               "folder of part files.")
    ],
    workers: Annotated[
        int | None, typer.Option("--workers", "-w", help="Local worker processes (default: all cores).")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Dask scheduler address (tcp://host:8786); runs there.")
    ] = None,
    mapping: Annotated[
        list[str] | None, typer.Option("--map", help="FIELD=COLUMN, e.g. headline=title (repeat).")
    ] = None,
    fields: Annotated[
        str | None,
        typer.Option("--fields", help="Comma-separated report fields to keep instead of the full report, "
                                      "e.g. verdict.label,verdict.score,certainty.gap: one column each, named by "
                                      "the dotted path (CSV, Parquet: typed; lists and objects as JSON text)."),
    ] = None,
    keep_input_columns: Annotated[
        bool, typer.Option("--keep-input-columns", help="Carry every input column the post is not read from (a "
                                                         "gold label, a topic) to its output record: an 'input' "
                                                         "object in JSONL, input.NAME columns in CSV and Parquet.")
    ] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Skip records already in the output.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")] = False,
    input_format: Annotated[
        InputFormatOption | None, typer.Option("--input-format", help="Force the input format.")
    ] = None,
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="Records sent to a worker at a time.")] = 64,
    factchecks: FactchecksOption = None,
    store: Annotated[
        str | None, typer.Option("--store", help="Also keep every report in this store (SQLite path or URL).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    profile: ProfileOption = Profile.default,
) -> None:
    """Check every post of big files; one output record per input record, errors included."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from overclaim.batch import output_format_for, run_batch
    from overclaim.cli.check import parse_mapping
    from overclaim.errors import OutputError

    if output_format_for(out) != "parquet" and out.is_dir():
        raise OutputError("is a folder; give a .jsonl or .csv file (or a .parquet folder)", source=str(out))

    console = Console(stderr=True)
    chosen = [f for f in (fields or "").split(",") if f.strip()]
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _rate_column(),  # type: ignore[arg-type]
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not progress,
        transient=False,
    )
    task = bar.add_task("checking", total=None)

    def start(total: int | None) -> None:
        # The bar appears once the input and output have been checked, so a bad
        # command line prints its one-line error alone.
        bar.update(task, total=total)
        bar.start()

    try:
        with _output_errors(out), _interrupts(as_json, bar):
            summary = run_batch(
                input_path,
                out,
                workers=workers,
                scheduler=scheduler,
                mapping=parse_mapping(mapping),
                fields=chosen,
                resume=resume,
                overwrite=overwrite,
                input_format=input_format.value if input_format else None,
                chunk_size=chunk_size,
                factchecks=factchecks,
                store=store,
                profile=profile.value,
                keep_input_columns=keep_input_columns,
                on_start=start,
                on_progress=lambda s: bar.update(task, completed=s.records),
            )
        bar.update(task, total=summary.records, completed=summary.records)
    finally:
        bar.stop()
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        print_summary(summary, console)
