"""The batch's worker side: turn raw records into output records, exactly one each, never raising.

Runs in the worker processes (or Dask workers): one :class:`~overclaim.Checker` per process
(:func:`worker_checker`), a chunk of posts checked together (:func:`check_chunk`), each
output record encoded here by its output's writer (:func:`overclaim.batch.writers.encode`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from overclaim.batch.job import Job, pick, post_keys
from overclaim.batch.records import RawRecord, parse_raw
from overclaim.batch.writers import OutputRecord, encode, to_json
from overclaim.errors import (
    EncodingError,
    InternalCheckError,
    OverclaimError,
    WorkerCrashError,
    reraise_control_flow,
)


class Result(NamedTuple):
    """One output record: its verdict label (or ``error:<code>``), the record, the report's JSON text.

    ``record`` is as its output's writer encoded it; ``report_json`` is there when the run stores reports.
    """

    label: str
    record: str | dict[str, Any]
    report_json: str | None = None


_checkers: dict[tuple[str | None, tuple[str, ...], str], Any] = {}
_checker_lock = threading.Lock()


def worker_checker(job: Job) -> Any:
    """The :class:`~overclaim.Checker` of this process for ``job``, built and warmed up on first use."""
    key = (job.factchecks, job.skip, job.profile)
    checker = _checkers.get(key)
    if checker is None:
        with _checker_lock:
            checker = _checkers.get(key)
            if checker is None:
                from overclaim.config import Config
                from overclaim.pipeline import Checker

                checker = Checker(Config(profile=job.profile), factchecks=job.factchecks, skip=frozenset(job.skip))
                checker.warm_up()
                _checkers[key] = checker
    return checker


def _raw_id(record: object, mapping: Mapping[str, str]) -> str | None:
    if isinstance(record, Mapping):
        value = record.get(mapping.get("id", "id"))
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            text = str(value)
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return None
            return text
    return None


def _envelope(raw: RawRecord, record_id: str | None) -> dict[str, Any]:
    return {
        "source": raw.source,
        "line": raw.line,
        "id": record_id if record_id is not None else f"{raw.source}:{raw.line}",
    }


def _kept_input(record: object, job: Job) -> dict[str, Any] | None:
    """The input columns a record carries to its output record (``keep_input``): those the post is not read from."""
    if not job.keep_input:
        return None
    if not isinstance(record, Mapping):
        return {}  # not an object (an unreadable line): nothing to carry
    used = post_keys(dict(job.mapping))
    # A value that is not text (refused by _prepared: the record is an error record naming it) is left out.
    return {str(key): value if _writable(value) else None
            for key, value in record.items() if key not in used and _writable(key)}


def _writable(value: object) -> bool:
    """Whether ``value`` can be written as UTF-8 (no lone surrogate: an undecodable CSV byte, a JSON escape)."""
    try:
        to_json(value).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        return False
    return True


def _check_kept(record: object, raw: RawRecord, job: Job) -> None:
    """Refuse a kept input column that cannot be written as text, naming it, as the post's own fields are."""
    if job.keep_input and isinstance(record, Mapping):
        used = post_keys(dict(job.mapping))
        for key, value in record.items():
            if key not in used and not (_writable(key) and _writable(value)):
                name = key if _writable(key) else ascii(key)
                raise EncodingError("is not valid UTF-8 text", source=raw.source, line=raw.line, field=name)


def _error_result(raw: RawRecord, record_id: str | None, error: Mapping[str, object], job: Job,
                  record: object = None) -> Result:
    head = _envelope(raw, record_id)
    head.update(status="error", verdict=None, score=None)
    label = f"error:{error.get('code', 'error')}"
    return Result(label, encode(OutputRecord(head, error=error, kept=_kept_input(record, job)), job))


def _ok_result(raw: RawRecord, report: Any, job: Job, record: object = None) -> Result:
    head = _envelope(raw, report.post.id)
    head.update(status="ok", verdict=report.verdict.label, score=report.verdict.score)
    # The report's JSON text, made once: the output record and the report store take it as it is.
    report_json = report.model_dump_json() if (job.want_reports or not job.fields) else None
    picked = None
    if job.fields:
        dumped = report.model_dump(mode="json")
        picked = {path: pick(dumped, path) for path in job.fields}
    out = OutputRecord(head, picked=picked, report_json=None if picked is not None else report_json,
                       kept=_kept_input(record, job))
    return Result(report.verdict.label, encode(out, job), report_json if job.want_reports else None)


def _error_of(raw: RawRecord, record: object, exc: BaseException, job: Job) -> Result:
    """The output record of an error raised while reading or checking ``raw``."""
    record_id = _raw_id(record, dict(job.mapping))
    if isinstance(exc, OverclaimError):
        if exc.source is None:
            exc.source, exc.line = raw.source, raw.line
            exc.args = (str(exc),)
        return _error_result(raw, record_id, exc.to_dict(), job, record)
    message = f"internal error while checking: {type(exc).__name__}: {exc}"
    error = InternalCheckError(message[:2000], source=raw.source, line=raw.line).to_dict()
    return _error_result(raw, record_id, error, job, record)


def _prepared(raw: RawRecord, job: Job) -> tuple[object, Any]:
    """The parsed record and its :class:`~overclaim.report.Post`, or its error :class:`Result`."""
    from overclaim.readers import post_from_record

    mapping = dict(job.mapping)
    record: object = raw.payload
    try:
        if raw.error is not None:
            return record, _error_result(raw, _raw_id(record, mapping), raw.error, job, record)
        record = parse_raw(raw)
        # post_from_record refuses NUL characters and lone surrogates in every field it reads.
        post = post_from_record(record, source=raw.source, line=raw.line, mapping=mapping)
        _check_kept(record, raw, job)
        return record, post
    except BaseException as exc:  # noqa: BLE001 - one bad post must not stop a batch of millions
        reraise_control_flow(exc)  # a library panic is this post's error too
        return record, _error_of(raw, record, exc, job)


def _finished(raw: RawRecord, record: object, report: Any, job: Job) -> Result:
    try:
        return _ok_result(raw, report, job, record)
    except BaseException as exc:  # noqa: BLE001
        reraise_control_flow(exc)
        return _error_of(raw, record, exc, job)


def check_raw(raw: RawRecord, job: Job) -> Result:
    """Turn one raw record into exactly one output record; never raises."""
    record, post = _prepared(raw, job)
    if isinstance(post, Result):
        return post
    try:
        report = worker_checker(job).check_post(post)
    except BaseException as exc:  # noqa: BLE001
        reraise_control_flow(exc)
        return _error_of(raw, record, exc, job)
    return _finished(raw, record, report, job)


def check_chunk(job: Job, chunk: Sequence[RawRecord]) -> list[Result]:
    """Output records for a chunk of raw records, in order (the unit of work sent to a worker).

    The chunk's good posts are checked together (:meth:`~overclaim.Checker.check_many`: the
    same reports for less CPU); if that raises, they are checked one at a time, so the error
    lands on its own record and the others still get their reports.
    """
    from overclaim.pipeline import gc_paused

    with gc_paused():  # the reports are freed before the collector runs again (see gc_paused)
        return _check_chunk(job, chunk)


def _check_chunk(job: Job, chunk: Sequence[RawRecord]) -> list[Result]:
    prepared = [_prepared(raw, job) for raw in chunk]
    good = [i for i, (_, post) in enumerate(prepared) if not isinstance(post, Result)]
    reports: list[Any] | None = None
    if good:
        try:
            reports = worker_checker(job).check_many([prepared[i][1] for i in good])
        except BaseException as exc:  # noqa: BLE001 - told apart below, post by post
            reraise_control_flow(exc)
            reports = None
    results: list[Result] = [post if isinstance(post, Result) else None for _, post in prepared]  # type: ignore[misc]
    for k, i in enumerate(good):
        record = prepared[i][0]
        results[i] = check_raw(chunk[i], job) if reports is None else _finished(chunk[i], record, reports[k], job)
    return results


def init_worker(job: Job) -> None:
    """Load the models of this worker process now, before its first chunk.

    Then the loaded objects are moved out of the garbage collector's sight (``gc.freeze``):
    they live as long as the process, and walking them on every full collection is wasted.
    """
    import gc

    worker_checker(job)
    gc.freeze()


def crash_results(job: Job, chunk: Sequence[RawRecord], why: str) -> list[Result]:
    """Error records for records whose worker died (they are never silently dropped)."""
    results = []
    for raw in chunk:
        record: object = raw.payload
        if isinstance(record, bytes):  # its id and kept columns, when the line is JSON
            try:
                record = json.loads(record)
            except (ValueError, RecursionError):
                record = None
        error = WorkerCrashError(why, source=raw.source, line=raw.line).to_dict()
        results.append(_error_result(raw, _raw_id(record, dict(job.mapping)), error, job, record))
    return results
