"""A batch run: read, check, store and write every record once; resume, Ctrl-C and the run's summary."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
import types
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from overclaim.batch.job import Job, field_kind, validate_fields
from overclaim.batch.pool import chunks_of, default_workers, run_dask, run_local
from overclaim.batch.records import (
    InputFormat,
    RawRecord,
    estimate_total,
    exclude_output,
    input_columns,
    input_files,
    iter_raw_records,
)
from overclaim.batch.worker import Result
from overclaim.batch.writers import open_writer, output_format_for
from overclaim.errors import InputError

# Records sent to a worker at a time: large enough that inter-process traffic is
# a small share of the work (a post takes a few ms), small enough for a smooth bar.
DEFAULT_CHUNK_SIZE = 64


def _zero_verdicts() -> dict[str, int]:
    """Every verdict label at 0, so a summary lists each of them (``cannot_judge`` too) even when none occurred."""
    from overclaim.report import VERDICT_LABELS

    return dict.fromkeys(VERDICT_LABELS, 0)


@dataclass
class BatchSummary:
    """What a batch run did: counts by verdict (every verdict, zeros included) and error code, time, speed."""

    input: str
    output: str
    workers: int
    scheduler: str | None = None
    records: int = 0
    skipped: int = 0
    ok: int = 0
    errors: int = 0
    verdicts: dict[str, int] = field(default_factory=_zero_verdicts)
    error_codes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stored: int = 0
    # Verdicts (``error:<code>`` for error records) of the records already in the output
    # when the run started (a resumed run): the totals count them with this run's.
    previous: Counter[str] = field(default_factory=Counter)
    interrupted: bool = False

    @property
    def records_per_second(self) -> float:
        """Records checked per second of wall time (skipped ones not counted)."""
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def totals(self) -> dict[str, Any]:
        """Counts of the whole output, the records already there before this run and this run's together."""
        verdicts = Counter(self.verdicts)
        error_codes = Counter(self.error_codes)
        for label, n in self.previous.items():
            if label.startswith("error:"):
                error_codes[label[len("error:"):]] += n
            else:
                verdicts[label] += n
        errors = sum(error_codes.values())
        ok = sum(verdicts.values())
        return {"records": ok + errors, "ok": ok, "errors": errors, "verdicts": dict(sorted(verdicts.items())),
                "error_codes": dict(sorted(error_codes.items()))}

    def add(self, results: Sequence[Result]) -> None:
        """Count a chunk of results."""
        counts = Counter(r.label for r in results)
        for label, n in counts.items():
            if label.startswith("error:"):
                code = label[len("error:"):]
                self.errors += n
                self.error_codes[code] = self.error_codes.get(code, 0) + n
            else:
                self.ok += n
                self.verdicts[label] = self.verdicts.get(label, 0) + n
        self.records += len(results)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for ``--json`` output.

        ``records``, ``ok``, ``errors``, ``verdicts`` and ``error_codes`` count this run's records
        (``new`` is ``records`` again, by its name); ``total`` counts the whole output, with the
        records a resumed run found there (``already_in_output``).
        """
        return {
            "input": self.input,
            "output": self.output,
            "workers": self.workers,
            "scheduler": self.scheduler,
            "interrupted": self.interrupted,
            "records": self.records,
            "new": self.records,
            "already_in_output": sum(self.previous.values()),
            "total": self.totals(),
            "skipped": self.skipped,
            "ok": self.ok,
            "errors": self.errors,
            "verdicts": dict(sorted(self.verdicts.items())),
            "error_codes": dict(sorted(self.error_codes.items())),
            "stored": self.stored,
            "seconds": round(self.seconds, 3),
            "records_per_second": round(self.records_per_second, 2),
        }


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a batch run; ``summary`` counts what is in the output (run again with ``resume``)."""

    def __init__(self, summary: BatchSummary) -> None:
        super().__init__(f"interrupted: {summary.totals()['records']} records in {summary.output}")
        self.summary = summary


def run_batch(
    input_path: str | Path,
    output_path: str | Path,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    mapping: Mapping[str, str] | None = None,
    fields: Sequence[str] = (),
    resume: bool = False,
    overwrite: bool = False,
    input_format: InputFormat | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    factchecks: str | None = None,
    skip: Iterable[str] = (),
    store: str | None = None,
    profile: str = "default",
    keep_input_columns: bool = False,
    on_start: Callable[[int | None], None] | None = None,
    on_progress: Callable[[BatchSummary], None] | None = None,
) -> BatchSummary:
    """Check every record of ``input_path`` and write one output record per input record.

    Args:
        input_path: JSONL / CSV / Parquet file, or a folder of them.
        output_path: ``.jsonl`` or ``.csv`` file, or ``.parquet`` folder of part files.
        workers: local processes (default: all cores; 1 runs in this process).
        scheduler: Dask scheduler address (or a ``distributed.Client``); runs there instead.
        mapping: post field -> input column/key (``{"headline": "title"}``).
        fields: dotted report fields to keep instead of the full report.
        resume: skip the records already in the output; keep it.
        overwrite: replace an existing output (otherwise it is refused).
        input_format: force a format for a file whose suffix says nothing.
        chunk_size: records sent to a worker at a time.
        factchecks: fact-check store for the ``matches`` block (None skips matching).
        skip: pipeline stages to leave out.
        profile: the pipeline profile (``Config.profile``): "default" or "fast".
        store: also keep every report in this report store (SQLite path or database URL).
        keep_input_columns: carry every input column the post is not read from to its output
            record (``input`` object in JSONL, ``input.<name>`` columns in CSV and Parquet).
        on_start: called once with the estimated number of records to check (None if unknown).
        on_progress: called with the running summary after each chunk is written.

    Returns:
        The run's :class:`BatchSummary`.

    Raises:
        InputError: the input cannot be found or read as a batch, a field name is unknown,
            or the output exists and neither ``resume`` nor ``overwrite`` is set.
        BatchInterrupted: Ctrl-C (SIGINT): the records checked so far are in the output, whole
            (none is half-written), and the exception's summary counts them; ``resume`` goes on.
    """
    started = time.perf_counter()
    out = Path(output_path)
    out_format = output_format_for(out)
    files = exclude_output(input_files(input_path, input_format), input_path, out, out_format)
    chosen = validate_fields(fields)
    if out.exists() and not (resume or overwrite) and (out.is_file() and out.stat().st_size > 0 or
                                                       out.is_dir() and any(out.iterdir())):
        raise InputError("output exists; pass --resume to continue it or --overwrite to replace it",
                         source=str(out))
    if chunk_size < 1:
        raise InputError("must be at least 1", field="chunk_size")
    n_workers = workers if workers is not None else default_workers()
    if n_workers < 1:
        raise InputError("must be at least 1", field="workers")
    report_store = None
    if store is not None:
        from overclaim.store.reports import ReportStore

        report_store = ReportStore(store)
    job = Job(output_format=out_format, fields=tuple(chosen), field_kinds=tuple(field_kind(f) for f in chosen),
              mapping=tuple(sorted((mapping or {}).items())), factchecks=factchecks, skip=tuple(sorted(skip)),
              want_reports=report_store is not None, profile=profile, keep_input=keep_input_columns,
              input_columns=tuple(input_columns(files, mapping)) if keep_input_columns and out_format != "jsonl"
              else ())
    writer = open_writer(out, resume, job)
    summary = BatchSummary(input=str(input_path), output=str(out), workers=n_workers,
                           scheduler=None if scheduler is None else str(getattr(scheduler, "scheduler", scheduler)),
                           previous=writer.previous)
    done = writer.done
    # Reports of records written but not yet committed to the output. They are stored
    # just before their records land in the output (a record in the output is done:
    # resume skips it), so a store that fails stops the run with those records still
    # to do, and resume checks and stores them again. The price is the other way round:
    # if the output write fails after the store, resume stores those reports twice.
    unstored: list[Result] = []

    def store_pending() -> None:
        if report_store is not None and unstored:
            summary.stored += _store(report_store, unstored)
            unstored.clear()

    writer.before_commit = store_pending

    def todo() -> Iterator[RawRecord]:
        for raw in iter_raw_records(files, mapping):
            if done and (raw.source, raw.line) in done:
                summary.skipped += 1
                continue
            yield raw

    results: Iterator[list[Result]] = iter(())
    try:
        try:
            chunks = chunks_of(todo(), chunk_size)
            results = (run_dask(job, chunks, scheduler) if scheduler is not None
                       else run_local(job, chunks, n_workers))
            if on_start is not None:
                total = estimate_total(files)
                on_start(None if total is None else max(0, total - len(done)))
            for chunk_results in results:
                # Ctrl-C waits while a chunk is stored, written and counted: it lands before or after.
                with _sigint_deferred():
                    unstored.extend(r for r in chunk_results if r.report_json is not None)
                    writer.write([r.record for r in chunk_results])
                    summary.add(chunk_results)
                summary.seconds = time.perf_counter() - started
                if on_progress is not None:
                    on_progress(summary)
        finally:
            if isinstance(results, types.GeneratorType):
                results.close()  # the worker pool or the Dask client, now rather than when collected
            writer.close()  # a Parquet output's last rows: checked records, complete
    except KeyboardInterrupt:
        summary.interrupted = True
        summary.seconds = time.perf_counter() - started
        raise BatchInterrupted(summary) from None
    summary.seconds = time.perf_counter() - started
    return summary


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back until the block is done, then raise it; elsewhere than the main thread, no-op.

    A write to the output then never stops half-way: the chunk's records are all in it or none.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
    if caught and callable(old):
        old(signal.SIGINT, None)
    elif caught and old == signal.SIG_DFL:
        raise KeyboardInterrupt


def _store(report_store: Any, results: Sequence[Result]) -> int:
    """Store the reports of ``results``: each report's JSON text, made once in its worker, is stored as it is.

    The store still reads the reports (its columns: verdict, score, post id, headline), but
    never encodes them again.
    """
    from overclaim.report import Report

    texts = [r.report_json for r in results if r.report_json is not None]
    reports = [Report.model_validate_json(text) for text in texts]
    return len(report_store.add_many(reports, texts)) if reports else 0
