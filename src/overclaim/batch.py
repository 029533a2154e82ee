"""Batch runs: check every record of big JSONL / CSV / Parquet inputs, locally or on Dask.

    summary = run_batch("posts.jsonl", "reports.jsonl", workers=4)
    summary = run_batch("crawl/", "reports.parquet", resume=True)
    summary = run_batch("posts.csv", "out.jsonl", mapping={"headline": "title", "body": "text"},
                        scheduler="tcp://scheduler:8786")

Input: a JSONL (``.jsonl``/``.ndjson``), CSV (``.csv``, header row, columns
mapped with ``mapping``) or Parquet (``.parquet``) file, or a folder of them
(read in name order, sub-folders included). Files are streamed: memory stays
flat whatever their size.

Output: one record per input record, in input order, keyed by ``source`` (the
file, relative to the input folder), ``line`` (JSONL/CSV line, Parquet row,
from 1) and ``id`` (the input's id, else ``source:line``). A checked record has
``status: "ok"``, ``verdict``, ``score`` and the full ``report`` (or only the
report fields named in ``fields``, as dotted paths); a record that cannot be
checked has ``status: "error"`` and ``error`` (code, message naming the
file/line/field). Blank JSONL lines are not records and give no output. With
``keep_input_columns``, the input columns the post is not read from (a gold
label) ride along: an ``input`` object in JSONL, ``input.<name>`` columns in CSV
and Parquet.

The output's name says its format (:func:`output_format_for`):

- JSONL (``.jsonl``, or any other name) is appended and flushed chunk by chunk.
  ``resume=True`` cuts a trailing half-written line and skips the records already
  in the output.
- CSV (``.csv``): a header row, then one row per record, UTF-8, RFC 4180 quoting:
  the envelope, ``error_code``/``error_message``/``error_field``, one column per
  field named by its dotted path (or ``report``, the report's JSON), then the kept
  input columns. A list or object field is JSON text; null is an empty cell.
  Written and flushed a chunk at a time; ``resume`` cuts a half-written last row.
- Parquet (``.parquet``) is a folder of part files (``part-00000.parquet`` ...), each
  written to a temporary name and renamed when complete, so a killed run never
  leaves a broken part; ``pyarrow.dataset`` / ``pandas.read_parquet`` read the
  folder as one table. Columns are typed like the report's fields (a label is a
  string column, a score a double one); lists, objects and the ``report`` are JSON
  text (named in the schema's ``overclaim.json_columns`` metadata).
- Ctrl-C (SIGINT) waits while a chunk is being written, so every record in the
  output is whole; :class:`BatchInterrupted` then carries the summary.
  A resumed run's summary counts the whole output (:meth:`BatchSummary.totals`).
- An output inside the input folder is not read as input; an output that is an
  input (by name or through a link) is refused before anything is written.
- With a report store, reports are stored just before their records reach the
  output, so a record in the output has its report stored.
- A file that cannot be read (a broken Parquet file, a damaged row group) gives
  error records, like a bad JSONL line, and the run goes on.

Work is spread over processes (``workers``; one :class:`~overclaim.Checker` per
process, models loaded once when it starts) or over the workers of a Dask
distributed cluster (``scheduler``: one Checker per worker process). At most a
few chunks per worker are in flight, so the reader never runs ahead of the
checkers.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import multiprocessing
import os
import signal
import threading
import time
import types
import typing
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

from overclaim.errors import (
    BinaryInputError,
    EncodingError,
    FileNotFound,
    InputError,
    InputTooLargeError,
    InternalCheckError,
    MalformedInputError,
    OverclaimError,
    UnknownFormatError,
    WorkerCrashError,
    reraise_control_flow,
)

InputFormat = Literal["jsonl", "csv", "parquet"]
OutputFormat = Literal["jsonl", "csv", "parquet"]
# How a column of a CSV or Parquet output is typed. A scalar report field keeps its type
# (Parquet: string, int64, double and bool columns; CSV: its text); a list or an object is
# JSON text in one column (CSV and Parquet alike; a JSONL output keeps it as JSON).
ColumnKind = Literal["string", "int", "float", "bool", "json"]
# Python types of scalar report fields and their column kind (bool before int: a bool is an int).
_SCALAR_KINDS: tuple[tuple[type, ColumnKind], ...] = ((bool, "bool"), (int, "int"), (float, "float"), (str, "string"))

INPUT_SUFFIXES: dict[str, InputFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
# Records sent to a worker at a time: large enough that inter-process traffic is
# a small share of the work (a post takes a few ms), small enough for a smooth bar.
DEFAULT_CHUNK_SIZE = 64
# Chunks in flight per worker: keeps every worker busy while the next result is
# written, and bounds memory (records waiting = workers x this x chunk size).
INFLIGHT_PER_WORKER = 4
# A JSONL line longer than this is an error record, not read whole (a post body
# is cut at Config.max_body_chars = 200k characters anyway).
MAX_LINE_BYTES = 16 * 1024 * 1024
# Rows per Parquet part file.
PARQUET_PART_ROWS = 5_000
# Share of control characters above which a line is binary junk rather than text.
_BINARY_CONTROL_SHARE = 0.10
_CONTROL = frozenset(range(0, 32)) - {9, 10, 13}

ENVELOPE_FIELDS = ("source", "line", "id", "status", "verdict", "score")
# The columns of a CSV or Parquet output, in order: the envelope, the error (empty for a
# checked record), then the chosen fields (or the whole report as JSON text), then the kept
# input columns, each named INPUT_PREFIX + its input name.
ENVELOPE_COLUMNS: tuple[tuple[str, ColumnKind], ...] = (
    ("source", "string"), ("line", "int"), ("id", "string"), ("status", "string"), ("verdict", "string"),
    ("score", "float"), ("error_code", "string"), ("error_message", "string"), ("error_field", "string"),
)
INPUT_PREFIX = "input."


# --------------------------------------------------------------------------- input


class RawRecord(NamedTuple):
    """One input record before parsing: a JSONL line (bytes) or a CSV/Parquet row (dict).

    ``error`` holds an error dict (``OverclaimError.to_dict()``) when the reader
    already knows the record is unusable (line too long, broken CSV row).
    """

    source: str
    line: int
    payload: bytes | dict[str, Any] | None
    error: dict[str, object] | None = None


@dataclass(frozen=True)
class InputFile:
    """One input file: its path, the name used in output records, and its format."""

    path: Path
    source: str
    format: InputFormat


def input_files(path: str | Path, input_format: InputFormat | None = None) -> list[InputFile]:
    """The files a batch reads: ``path`` itself, or the supported files in a folder (name order).

    Raises:
        FileNotFound: ``path`` does not exist.
        UnknownFormatError: the file's format is not JSONL, CSV or Parquet, or the folder has none.
    """
    root = Path(path)
    if not root.exists():
        raise FileNotFound("no such file or folder", source=str(root))
    if root.is_file():
        fmt = input_format or INPUT_SUFFIXES.get(root.suffix.lower())
        if fmt is None:
            raise UnknownFormatError(
                f"unknown batch input format '{root.suffix}'; use .jsonl, .csv or .parquet (or --input-format)",
                source=str(root),
            )
        return [InputFile(root, root.name, fmt)]
    files = []
    for p in sorted(root.rglob("*")):
        fmt = INPUT_SUFFIXES.get(p.suffix.lower())
        if p.is_file() and fmt is not None and not p.name.startswith("."):
            files.append(InputFile(p, p.relative_to(root).as_posix(), input_format or fmt))
    if not files:
        raise UnknownFormatError("folder has no .jsonl, .csv or .parquet files", source=str(root))
    return files


def _entry(path: Path) -> Path:
    """``path`` as a directory entry: its folder with links resolved, its own name kept (a link stays a link)."""
    path = Path(os.path.abspath(path))
    return Path(os.path.realpath(path.parent)) / path.name


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet) or cannot be read
        return False


def exclude_output(files: Sequence[InputFile], input_path: str | Path, output_path: str | Path,
                   output_format: OutputFormat) -> list[InputFile]:
    """The input files without the batch's own output; refuse an output that would overwrite an input.

    The output file itself (or, for Parquet output, every file in the output folder)
    is left out of a folder's inputs: a run writing into the folder it reads would
    otherwise read its own records back while appending them. An output that is an
    input file given by name, a link to one (symbolic or hard), or a Parquet folder
    holding the input is refused, because opening it for writing would destroy it.

    Raises:
        InputError: the output is, or links to, an input file.
    """
    out = _entry(Path(output_path))
    out_real = Path(os.path.realpath(out))
    root_is_folder = Path(input_path).is_dir()
    kept = []
    for file in files:
        entry = _entry(file.path)
        if output_format == "parquet":
            inside = Path(os.path.realpath(entry)).is_relative_to(out_real) or entry.is_relative_to(out)
            if inside and root_is_folder and not Path(os.path.realpath(input_path)).is_relative_to(out_real):
                continue  # a part file of this run's output, inside the folder being read
            if inside:
                raise InputError(f"is inside the output folder {output_path}; choose another --out",
                                 source=file.source if root_is_folder else str(file.path))
            kept.append(file)
            continue
        if entry == out and root_is_folder:
            continue  # the output itself, written into the folder being read
        if entry == out or out_real == Path(os.path.realpath(entry)) or _same_file(out, entry):
            raise InputError(f"is the input {file.path} (or a link to it); writing there would destroy it; "
                             "choose another --out", source=str(output_path))
        kept.append(file)
    if not kept:
        raise UnknownFormatError("folder has no .jsonl, .csv or .parquet files besides the output",
                                 source=str(input_path))
    return kept


def _error(exc: OverclaimError) -> dict[str, object]:
    return exc.to_dict()


def iter_jsonl_raw(file: InputFile) -> Iterator[RawRecord]:
    """Raw lines of a JSONL file, one :class:`RawRecord` per non-blank line (parsed later, in a worker)."""
    from overclaim.readers import refuse_wide_encodings

    with open(file.path, "rb") as f:
        try:
            refuse_wide_encodings(f.read(4), file.source, 1)  # named, as `check` names it, not "binary"
        except EncodingError as exc:  # its lines cannot even be told apart: one error record for the file
            yield RawRecord(file.source, 1, None, _error(exc))
            return
        f.seek(0)
        for n in itertools.count(1):
            data = f.readline(MAX_LINE_BYTES + 1)
            if not data:
                return
            if len(data) > MAX_LINE_BYTES and not data.endswith(b"\n"):
                while (rest := f.readline(MAX_LINE_BYTES)) and not rest.endswith(b"\n"):
                    pass
                err = InputTooLargeError(f"line is over {MAX_LINE_BYTES // (1024 * 1024)} MB",
                                         source=file.source, line=n)
                yield RawRecord(file.source, n, None, _error(err))
                continue
            if data.strip():
                yield RawRecord(file.source, n, data)


def _csv_header(file: InputFile, mapping: Mapping[str, str] | None) -> list[str]:
    """The header of a CSV file; refuse one that lacks a (mapped) column or has one twice, as ``check`` does."""
    from overclaim.readers import check_csv_header, refuse_wide_encodings

    with open(file.path, "rb") as raw:
        refuse_wide_encodings(raw.read(4), file.source)
    with open(file.path, encoding="utf-8-sig", errors="replace", newline="") as f:
        header = next(csv.reader(f), [])
    check_csv_header(header, mapping, file.source)
    return header


def iter_csv_raw(file: InputFile) -> Iterator[RawRecord]:
    """Rows of a CSV file (header row first) as dicts; ``line`` is the row's first line."""
    csv.field_size_limit(MAX_LINE_BYTES)
    # surrogateescape: a row with bytes that are not UTF-8 becomes an error record
    # (found in the worker) instead of stopping the whole file.
    with open(file.path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except (StopIteration, csv.Error):
            return
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                err = MalformedInputError(f"broken CSV row: {exc}", source=file.source, line=start)
                yield RawRecord(file.source, start, None, _error(err))
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(header):
                err = MalformedInputError(f"row has {len(row)} fields, the header has {len(header)}",
                                          source=file.source, line=start)
                yield RawRecord(file.source, start, dict(zip(header, row, strict=False)), _error(err))
                continue
            yield RawRecord(file.source, start, dict(zip(header, row, strict=False)))


def iter_parquet_raw(file: InputFile, batch_rows: int = 1024) -> Iterator[RawRecord]:
    """Rows of a Parquet file as dicts, read a row group batch at a time; ``line`` is the row number.

    A file that cannot be read gives error records instead of stopping the batch, like an
    unreadable JSONL line: one record (``line`` 1) when the file itself cannot be opened
    (its row count is unknown), else one per row of a row group that cannot be read. The
    same damaged file gives the same records on every run, so ``resume`` skips them.
    """
    import pyarrow.parquet as pq

    def broken(line: int, what: str, exc: Exception) -> RawRecord:
        message = f"cannot read Parquet {what}: {type(exc).__name__}: {str(exc)[:300]}"
        return RawRecord(file.source, line, None, _error(MalformedInputError(message, source=file.source, line=line)))

    try:
        pf = pq.ParquetFile(file.path)
        sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.metadata.num_row_groups)]
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for a broken file
        yield broken(1, "file", exc)
        return
    n = 0
    for group, size in enumerate(sizes):
        first = n + 1
        try:
            for batch in pf.iter_batches(batch_size=batch_rows, row_groups=[group]):
                for row in batch.to_pylist():
                    n += 1
                    yield RawRecord(file.source, n, row)
        except Exception as exc:  # noqa: BLE001 - a damaged row group costs its rows, not the file
            while n < first - 1 + size:
                n += 1
                yield broken(n, f"row group {group} (rows {first}-{first - 1 + size})", exc)


def iter_raw_records(files: Sequence[InputFile], mapping: Mapping[str, str] | None = None) -> Iterator[RawRecord]:
    """Every raw record of ``files``, in order, streamed.

    Raises:
        MalformedInputError: a CSV header lacks the headline or body column (checked
            for every CSV file before the first record is read).
    """
    for file in files:
        if file.format == "csv":
            _csv_header(file, mapping)
    for file in files:
        if file.format == "jsonl":
            yield from iter_jsonl_raw(file)
        elif file.format == "csv":
            yield from iter_csv_raw(file)
        else:
            yield from iter_parquet_raw(file)


def estimate_total(files: Sequence[InputFile]) -> int | None:
    """Records in ``files`` for the progress bar: exact for Parquet, line count for JSONL; None with CSV."""
    total = 0
    for file in files:
        if file.format == "csv":
            return None
        if file.format == "parquet":
            import pyarrow.parquet as pq

            try:
                total += pq.ParquetFile(file.path).metadata.num_rows
            except Exception:  # noqa: BLE001 - a broken file gives one error record (iter_parquet_raw)
                total += 1
            continue
        last = b"\n"
        with open(file.path, "rb") as f:
            while block := f.read(1 << 20):
                total += block.count(b"\n")
                last = block[-1:]
        total += last != b"\n"
    return total


def post_keys(mapping: Mapping[str, str] | None) -> set[str]:
    """The input keys a post is read from (``headline``, ``body``, ``id`` ... or their mapped columns)."""
    from overclaim.readers import POST_FIELDS

    mapping = mapping or {}
    return {mapping.get(name, name) for name in POST_FIELDS}


def _value_kind(value: object) -> ColumnKind | None:
    """The column kind a JSON value fits (None for null: it fits any)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return "json"  # over a Parquet int64
    return next((kind for py_type, kind in _SCALAR_KINDS if isinstance(value, py_type)), "json")


def _arrow_kind(arrow_type: Any) -> ColumnKind:
    import pyarrow as pa

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_temporal(arrow_type):
        return "string"  # dates and times as ISO 8601 text
    if pa.types.is_boolean(arrow_type):
        return "bool"
    if pa.types.is_signed_integer(arrow_type) or (
            pa.types.is_unsigned_integer(arrow_type) and arrow_type.bit_width < 64):  # uint64 may not fit int64
        return "int"
    if pa.types.is_floating(arrow_type):
        return "float"
    return "json"


def _merged_kind(a: ColumnKind | None, b: ColumnKind | None) -> ColumnKind | None:
    """The kind of a column holding values of kinds ``a`` and ``b``: integers and floats are floats, else JSON."""
    if a is None or b is None or a == b:
        return a or b
    return "float" if {a, b} == {"int", "float"} else "json"


def input_columns(files: Sequence[InputFile], mapping: Mapping[str, str] | None = None) -> list[tuple[str, ColumnKind]]:
    """The input columns a CSV or Parquet output keeps (``keep_input_columns``), with their kinds.

    Every column of the input that the post is not read from, in order of first appearance:
    a CSV header's columns are text; a Parquet file's keep their type; the keys of JSONL
    records are found by reading every line first (a column whose values are of several
    types is JSON text). A column of several files with different types is JSON text too.
    """
    skip = post_keys(mapping)
    kinds: dict[str, ColumnKind | None] = {}

    def see(name: str, kind: ColumnKind | None) -> None:
        if name not in skip:
            kinds[name] = _merged_kind(kinds[name], kind) if name in kinds else kind

    for file in files:
        if file.format == "csv":
            for name in _csv_header(file, mapping):
                see(name, "string")
        elif file.format == "parquet":
            import pyarrow.parquet as pq

            try:
                schema = pq.read_schema(file.path)
            except Exception:  # noqa: BLE001 - a broken file gives error records (iter_parquet_raw)
                continue
            for arrow_field in schema:
                see(arrow_field.name, _arrow_kind(arrow_field.type))
        else:
            for raw in iter_jsonl_raw(file):
                try:
                    record = json.loads(raw.payload) if isinstance(raw.payload, bytes) else None
                except (ValueError, RecursionError):  # its error record is made by the worker
                    continue
                if isinstance(record, dict):
                    for name, value in record.items():
                        see(name, _value_kind(value))
    return [(name, kind or "string") for name, kind in kinds.items()]


# --------------------------------------------------------------------------- output fields


def _field_annotation(path: str) -> Any:
    """The type annotation of the report field at a dotted ``path``.

    Raises:
        InputError: the path names no field of the report (lists are not descended into).
    """
    from pydantic import BaseModel

    from overclaim.report import Report

    model: Any = Report
    ann: Any = None
    for part in path.split("."):
        if model is None or part not in model.model_fields:
            raise InputError(f"no report field '{path}' (see `overclaim schema`)", field="fields")
        ann = model.model_fields[part].annotation
        # Descend into a model or an optional model, never into a list.
        candidates = [ann, *typing.get_args(ann)] if _is_union(ann) else [ann]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return ann


def _is_union(ann: Any) -> bool:
    return typing.get_origin(ann) in (typing.Union, types.UnionType)


def validate_fields(fields: Sequence[str]) -> list[str]:
    """Check dotted report field paths (``verdict.label``, ``certainty.gap``) against the Report model.

    Raises:
        InputError: a path names no field of the report.
    """
    reserved = {name for name, _ in ENVELOPE_COLUMNS} | {"report", "error", "input"}
    out = []
    for path in fields:
        path = path.strip()
        if path:
            _field_annotation(path)
            if path in reserved:
                raise InputError(f"'{path}' is also the name of an output column; name the fields inside it "
                                 "(see `overclaim schema`)", field="fields")
            out.append(path)
    return out


def _kind_of_annotation(ann: Any) -> ColumnKind:
    """The column kind of a report field's type: its scalar type, else ``json`` (lists, objects)."""
    if _is_union(ann):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        return _kind_of_annotation(args[0]) if len(args) == 1 else "json"
    if typing.get_origin(ann) is Literal:
        values = typing.get_args(ann)
        return "string" if all(isinstance(v, str) for v in values) else "json"
    for py_type, kind in _SCALAR_KINDS:
        if isinstance(ann, type) and issubclass(ann, py_type):
            return kind
    return "json"


def field_kind(path: str) -> ColumnKind:
    """How the report field at ``path`` is typed in a CSV or Parquet output (see :data:`ColumnKind`)."""
    return _kind_of_annotation(_field_annotation(path))


def pick(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of a dumped report, None where absent."""
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


# --------------------------------------------------------------------------- worker side


@dataclass(frozen=True)
class Job:
    """What a worker needs to turn raw records into output records (small; sent with each chunk)."""

    output_format: OutputFormat = "jsonl"
    fields: tuple[str, ...] = ()
    field_kinds: tuple[ColumnKind, ...] = ()  # one per field (CSV / Parquet)
    mapping: tuple[tuple[str, str], ...] = ()
    keep_input: bool = False  # carry the input columns the post is not read from
    input_columns: tuple[tuple[str, ColumnKind], ...] = ()  # those columns, for CSV / Parquet output
    factchecks: str | None = None
    skip: tuple[str, ...] = ()
    want_reports: bool = False
    profile: str = "default"  # Config.profile of the workers' checker


class Result(NamedTuple):
    """One output record: its verdict label (or ``error:<code>``), the record, and the report JSON if asked."""

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


def _parse_line(raw: RawRecord) -> object:
    data = raw.payload
    assert isinstance(data, bytes)
    sample = data[:4096]
    if b"\x00" in sample or sum(b in _CONTROL for b in sample) > _BINARY_CONTROL_SHARE * len(sample):
        raise BinaryInputError("is binary data, not a JSON line", source=raw.source, line=raw.line)
    try:
        text = data.decode("utf-8-sig" if raw.line == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(f"is not valid UTF-8 (byte 0x{data[exc.start]:02x} at column {exc.start + 1})",
                            source=raw.source, line=raw.line) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedInputError(f"invalid JSON: {exc.msg} (column {exc.colno})",
                                  source=raw.source, line=raw.line) from exc
    except (RecursionError, ValueError) as exc:  # too deep; a number over Python's 4,300 digits
        from overclaim.readers import json_error

        raise json_error(exc, raw.source, raw.line) from exc


def _check_text(value: str | None, name: str, raw: RawRecord) -> None:
    """Refuse text that cannot be written back as UTF-8 (lone surrogates, undecodable CSV bytes)."""
    if value is None:
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EncodingError("is not valid UTF-8 text", source=raw.source, line=raw.line, field=name) from exc
    if "\x00" in value:
        raise BinaryInputError("holds binary data (NUL characters)", source=raw.source, line=raw.line, field=name)


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


def _json_default(value: object) -> str:
    """JSON for what an input may hold beyond JSON: dates and times (Parquet) as ISO 8601, the rest as text."""
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else str(value)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _cell(value: Any, kind: ColumnKind) -> Any:
    """``value`` for a column of ``kind`` in a CSV or Parquet output (None stays None)."""
    if value is None:
        return None
    if kind == "json":
        return _json(value)
    if kind == "string":
        if isinstance(value, str):
            return value
        iso = getattr(value, "isoformat", None)  # a Parquet date or time
        return iso() if callable(iso) else _json(value)
    if kind == "bool":
        return value if isinstance(value, bool) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None  # a number column: the input scan saw only numbers here (see input_columns)
    return float(value) if kind == "float" else value


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
        _json(value).encode("utf-8")
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


def _output_record(head: dict[str, Any], job: Job, *, error: Mapping[str, object] | None = None,
                   picked: dict[str, Any] | None = None, report_json: str | None = None,
                   kept: dict[str, Any] | None = None) -> str | dict[str, Any]:
    """One output record: a JSON line, or a flat row of column values for a CSV or Parquet output."""
    if job.output_format == "jsonl":
        record = dict(head)
        if error is not None:
            record["error"] = dict(error)
        record.update(picked or {})
        if kept is not None:
            record["input"] = kept
        line = _json(record)
        return line if report_json is None else line[:-1] + ', "report": ' + report_json + "}"
    row = dict(head)
    if error is not None:
        row.update(error_code=error.get("code"), error_message=error.get("message"), error_field=error.get("field"))
    if picked is not None:
        row.update({path: _cell(picked[path], kind) for path, kind in zip(job.fields, job.field_kinds, strict=True)})
    elif report_json is not None:
        row["report"] = report_json
    for name, kind in job.input_columns:
        row[INPUT_PREFIX + name] = _cell((kept or {}).get(name), kind)
    return row


def _error_result(raw: RawRecord, record_id: str | None, error: Mapping[str, object], job: Job,
                  record: object = None) -> Result:
    head = _envelope(raw, record_id)
    head.update(status="error", verdict=None, score=None)
    label = f"error:{error.get('code', 'error')}"
    return Result(label, _output_record(head, job, error=error, kept=_kept_input(record, job)))


def _ok_result(raw: RawRecord, report: Any, job: Job, record: object = None) -> Result:
    head = _envelope(raw, report.post.id)
    head.update(status="ok", verdict=report.verdict.label, score=report.verdict.score)
    report_json = report.model_dump_json() if (job.want_reports or not job.fields) else None
    picked = None
    if job.fields:
        dumped = report.model_dump(mode="json")
        picked = {path: pick(dumped, path) for path in job.fields}
    out = _output_record(head, job, picked=picked, report_json=None if picked is not None else report_json,
                         kept=_kept_input(record, job))
    return Result(report.verdict.label, out, report_json if job.want_reports else None)


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
        if isinstance(raw.payload, bytes):
            record = _parse_line(raw)
        post = post_from_record(record, source=raw.source, line=raw.line, mapping=mapping)
        for name in ("headline", "body", "id", "url", "outlet", "published"):
            _check_text(getattr(post, name), mapping.get(name, name), raw)
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


def _init_worker(job: Job) -> None:
    """Load the models of this worker process now, before its first chunk.

    Then the loaded objects are moved out of the garbage collector's sight (``gc.freeze``):
    they live as long as the process, and walking them on every full collection is wasted.
    """
    import gc

    worker_checker(job)
    gc.freeze()


# --------------------------------------------------------------------------- writers


def _key(source: object, line: object) -> tuple[str, int]:
    return (str(source), int(line))  # type: ignore[call-overload]


def _label(status: object, verdict: object, error_code: object) -> str:
    """A record's count key in a summary: its verdict, or ``error:<code>``."""
    return str(verdict) if status == "ok" else f"error:{error_code or 'error'}"


def table_columns(job: Job) -> list[tuple[str, ColumnKind]]:
    """The columns of a CSV or Parquet output of ``job``, in order (see :data:`ENVELOPE_COLUMNS`)."""
    columns = list(ENVELOPE_COLUMNS)
    columns += list(zip(job.fields, job.field_kinds, strict=True)) if job.fields else [("report", "json")]
    columns += [(INPUT_PREFIX + name, kind) for name, kind in job.input_columns]
    return columns


class _Writer:
    """What every output writer has: the records already in the output, and a hook run before a commit."""

    format: OutputFormat
    # Called before records become part of the output (and so count as done on resume):
    # run_batch stores their reports there, so a store that fails leaves them to be redone.
    before_commit: Callable[[], None] | None = None

    def __init__(self, path: Path) -> None:
        self.path = path
        # The (source, line) keys of the records already in the output (resume skips them) and
        # their verdicts and error codes (the run's summary counts the whole output).
        self.done: set[tuple[str, int]] = set()
        self.previous: Counter[str] = Counter()

    def _seen(self, source: object, line: object, label: str) -> None:
        self.done.add(_key(source, line))
        self.previous[label] += 1

    def write(self, records: Iterable[str | dict[str, Any]]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class JsonlWriter(_Writer):
    """Appends output lines to a JSONL file, flushing after every chunk.

    Args:
        path: output file.
        resume: keep what is there (cutting a half-written last line) and report its keys.
    """

    format: OutputFormat = "jsonl"

    def __init__(self, path: Path, *, resume: bool) -> None:
        super().__init__(path)
        if resume and path.exists():
            self._recover()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a" if resume else "w", encoding="utf-8")

    def _recover(self) -> None:
        with open(self.path, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            end = size
            while end > 0:
                f.seek(max(0, end - 65536))
                block = f.read(end - max(0, end - 65536))
                nl = block.rfind(b"\n")
                if nl >= 0:
                    end = max(0, end - 65536) + nl + 1
                    break
                end = max(0, end - 65536)
            if end != size:
                f.truncate(end)
        with open(self.path, "rb") as f:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    error = record.get("error") or {}
                    self._seen(record["source"], record["line"],
                               _label(record.get("status"), record.get("verdict"), error.get("code")))
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise InputError("is not batch output (cannot resume from it)", source=str(self.path),
                                     line=n) from exc

    def write(self, records: Iterable[str | dict[str, Any]]) -> None:
        """Write records (JSON lines) and flush them to the OS (after :attr:`before_commit`)."""
        text = "".join(f"{r}\n" for r in records)
        if self.before_commit is not None:
            self.before_commit()
        self._file.write(text)
        self._file.flush()

    def close(self) -> None:
        """Flush and close."""
        self._file.close()


def _csv_text(value: Any) -> str:
    """A cell of a CSV output: empty for null, ``true``/``false``, numbers as Python writes them, text as is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


class CsvWriter(_Writer):
    """Writes output rows to a CSV file (UTF-8, a header row, RFC 4180 quoting), a chunk at a time.

    Each chunk's rows are written with one call and flushed. ``resume`` cuts a half-written
    last row (one the file ends inside of) and refuses a file whose header is not this run's
    columns (other ``fields`` or kept input columns).

    Args:
        path: output file.
        resume: keep what is there and report its keys.
        columns: the column names, in order (:func:`table_columns`).
    """

    format: OutputFormat = "csv"

    def __init__(self, path: Path, *, resume: bool, columns: Sequence[str]) -> None:
        super().__init__(path)
        self.columns = list(columns)
        header = resume and path.exists() and self._recover()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a" if header else "w", encoding="utf-8", newline="")
        if not header:
            self._put([dict(zip(self.columns, self.columns, strict=True))])

    def _recover(self) -> bool:
        """Read the complete rows there, cut a half-written last one; False when not even the header is complete.

        A row is complete when the file goes on after it, or ends with its line end. A row that
        is cut (the file ends inside it) can only be the last one; anything else that does not
        read as this run's rows is refused, never cut.
        """
        csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
        end = 0  # bytes up to the end of the last complete row
        consumed, last = 0, b""
        with open(self.path, "rb+") as f:

            def lines() -> Iterator[str]:
                nonlocal consumed, last
                for data in f:
                    consumed, last = consumed + len(data), data[-1:]
                    yield data.decode("utf-8", errors="surrogateescape")

            def broken(why: str) -> InputError:
                return InputError(f"is not batch output ({why}); cannot resume from it", source=str(self.path),
                                  line=reader.line_num)

            reader = csv.reader(lines(), strict=True)
            header: list[str] | None = None
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    if f.read(1):
                        raise broken(f"a broken CSV row: {exc}") from exc
                    break  # the file ends inside a quoted field: a half-written last row
                if last != b"\n" or (header is not None and len(row) != len(self.columns)):
                    if f.read(1):
                        raise broken("a row of another shape")
                    break  # the file ends inside this row
                if header is None:
                    header = row
                    if header != self.columns:
                        raise InputError("was written with other columns (--fields or --keep-input-columns); "
                                         "resume with the same options, or write to another --out",
                                         source=str(self.path))
                else:
                    try:
                        self._seen(row[0], row[1], _label(row[3], row[4], row[6]))
                    except ValueError as exc:
                        raise broken(f"line number {row[1]!r}") from exc
                end = consumed
            f.truncate(end)
        return end > 0

    def _put(self, rows: Iterable[dict[str, Any]]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, extrasaction="raise")
        writer.writerows({key: _csv_text(value) for key, value in row.items()} for row in rows)
        self._file.write(buffer.getvalue())
        self._file.flush()

    def write(self, records: Iterable[str | dict[str, Any]]) -> None:
        """Write rows and flush them to the OS (after :attr:`before_commit`)."""
        rows = [r for r in records if isinstance(r, dict)]
        if self.before_commit is not None:
            self.before_commit()
        self._put(rows)

    def close(self) -> None:
        """Flush and close."""
        self._file.close()


_ARROW_TYPES = {"string": "string", "int": "int64", "float": "float64", "bool": "bool_", "json": "string"}
# Schema metadata key of a Parquet output: the columns holding JSON text (read_output parses them).
JSON_COLUMNS_KEY = b"overclaim.json_columns"


class ParquetWriter(_Writer):
    """Writes output rows to a folder of Parquet part files, each renamed into place when complete.

    Args:
        path: output folder (``reports.parquet/``).
        resume: keep the complete parts there and report their keys; otherwise the folder must be empty.
        columns: the columns and their kinds (:func:`table_columns`): scalars typed, JSON text for the rest.
    """

    format: OutputFormat = "parquet"

    def __init__(self, path: Path, *, resume: bool, columns: Sequence[tuple[str, ColumnKind]]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__(path)
        json_columns = [name for name, kind in columns if kind == "json"]
        self.schema = pa.schema([pa.field(name, getattr(pa, _ARROW_TYPES[kind])()) for name, kind in columns],
                                metadata={JSON_COLUMNS_KEY: json.dumps(json_columns).encode()})
        path.mkdir(parents=True, exist_ok=True)
        for tmp in path.glob(".part-*.tmp"):
            tmp.unlink()
        parts = sorted(path.glob("part-*.parquet"))
        if resume:
            for part in parts:
                if not pq.read_schema(part).equals(self.schema, check_metadata=False):
                    raise InputError("was written with other columns (--fields or --keep-input-columns); "
                                     "resume with the same options, or write to another --out", source=str(part))
                table = pq.read_table(part, columns=["source", "line", "status", "verdict", "error_code"])
                for row in table.to_pylist():
                    self._seen(row["source"], row["line"], _label(row["status"], row["verdict"], row["error_code"]))
        else:
            for part in parts:
                part.unlink()
        self._next = 1 + max((int(p.stem.split("-")[1]) for p in parts if resume), default=-1)
        self._rows: list[dict[str, Any]] = []

    def write(self, records: Iterable[str | dict[str, Any]]) -> None:
        """Buffer rows; write a part file when enough have gathered."""
        self._rows.extend(r for r in records if isinstance(r, dict))
        if len(self._rows) >= PARQUET_PART_ROWS:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if not self._rows:
            return
        table = pa.Table.from_pylist(self._rows, schema=self.schema)
        if self.before_commit is not None:
            self.before_commit()
        final = self.path / f"part-{self._next:05d}.parquet"
        tmp = self.path / f".part-{self._next:05d}.tmp"
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, final)
        self._next += 1
        self._rows = []

    def close(self) -> None:
        """Write the last part."""
        self._flush()


OUTPUT_SUFFIXES: dict[str, OutputFormat] = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet",
}
# Output names whose format the batch does not write: JSONL under one of them would be read as
# that format and fail, or worse, half-succeed (a spreadsheet opening JSON lines as one column).
REFUSED_OUTPUT_SUFFIXES = (".tsv", ".json", ".xlsx", ".xls")


def output_format_for(path: str | Path) -> OutputFormat:
    """The output format its name says: ``.csv`` CSV, ``.parquet`` a Parquet folder, else JSONL.

    Raises:
        UnknownFormatError: the name says a format the batch does not write (``.json``, ``.xlsx`` ...).
    """
    suffix = Path(path).suffix.lower()
    if suffix in REFUSED_OUTPUT_SUFFIXES:
        raise UnknownFormatError(
            f"batch output is JSONL (.jsonl), CSV (.csv) or Parquet (.parquet), not '{suffix}'",
            source=str(path), field="--out",
        )
    return OUTPUT_SUFFIXES.get(suffix, "jsonl")


def _writer(out: Path, out_format: OutputFormat, resume: bool, job: Job) -> _Writer:
    if out_format == "jsonl":
        return JsonlWriter(out, resume=resume)
    columns = table_columns(job)
    if out_format == "csv":
        return CsvWriter(out, resume=resume, columns=[name for name, _ in columns])
    return ParquetWriter(out, resume=resume, columns=columns)


# --------------------------------------------------------------------------- running


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


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _chunks(records: Iterable[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    it = iter(records)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


class _Pending(Protocol):
    def result(self) -> list[Result]: ...


def _crash_results(job: Job, chunk: Sequence[RawRecord], why: str) -> list[Result]:
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


def _bounded(submit: Callable[[list[RawRecord]], _Pending], chunks: Iterable[list[RawRecord]], inflight: int,
             on_failure: Callable[[list[RawRecord], Exception], list[Result]]) -> Iterator[list[Result]]:
    """Results of ``submit(chunk)`` in input order, with at most ``inflight`` chunks pending.

    Works with Dask futures; the reader stops while the window is full, so memory
    does not grow with the input. A chunk whose future fails gets ``on_failure``'s results.
    """
    pending: deque[tuple[list[RawRecord], _Pending]] = deque()

    def take() -> list[Result]:
        chunk, future = pending.popleft()
        try:
            return future.result()
        except Exception as exc:  # noqa: BLE001 - a lost worker must cost records, not the batch
            return on_failure(chunk, exc)

    for chunk in chunks:
        pending.append((chunk, submit(chunk)))
        if len(pending) >= inflight:
            yield take()
    while pending:
        yield take()


# The function a worker runs on a chunk (a module attribute so tests can swap in one that crashes).
_chunk_function: Callable[[Job, Sequence[RawRecord]], list[Result]] = check_chunk


def _ignore_sigint() -> None:
    """In a worker process: leave Ctrl-C to the batch's own process, which stops the run and the pool.

    Ctrl-C in a terminal reaches every process of the group; a worker that took it would die
    with a traceback and cost its chunk a ``worker_crash`` record.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _LocalPool:
    """A process pool that is rebuilt when a worker dies, with a generation count to tell old futures."""

    def __init__(self, job: Job, workers: int) -> None:
        methods = multiprocessing.get_all_start_methods()
        # forkserver/spawn: workers start from a clean interpreter, never from a copy of
        # a process that runs threads (the progress bar, Dask's event loop).
        self.ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if isinstance(self.ctx, multiprocessing.context.ForkServerContext):
            # Import the pipeline once in the fork server (1.3 of the 1.8 CPU seconds a
            # worker takes to start); models still load in each worker, on its probe.
            from overclaim.pipeline import STAGES

            self.ctx.set_forkserver_preload(["overclaim.batch", *(spec.split(":")[0] for _, spec in STAGES)])
        self.job, self.workers, self.generation = job, workers, 0
        self.pool = self._new()
        # Load the models in every worker before the first chunk; a missing model
        # (ModelError) stops the batch here, with its own message, instead of
        # turning every record into an error.
        for probe in [self.pool.submit(_init_worker, job) for _ in range(workers)]:
            probe.result()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=self.ctx, initializer=_ignore_sigint)

    def submit(self, chunk: list[RawRecord]) -> tuple[Future[list[Result]], int]:
        return self.pool.submit(_chunk_function, self.job, chunk), self.generation

    def restart(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new()
        self.generation += 1

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _run_pool(job: Job, chunks: Iterable[list[RawRecord]], workers: int) -> Iterator[list[Result]]:
    """Chunks checked by ``workers`` processes, results in input order.

    When a worker dies the pool is rebuilt: the chunk being waited for is re-checked a
    record at a time, so only a record that kills its worker becomes a ``worker_crash``
    record, and the other chunks lost with the old pool are sent again.
    """
    lp = _LocalPool(job, workers)
    pending: deque[tuple[list[RawRecord], Future[list[Result]], int]] = deque()

    def isolated(raw: RawRecord) -> Result:
        future, _ = lp.submit([raw])
        try:
            return future.result()[0]
        except BrokenProcessPool:
            lp.restart()
            return _crash_results(job, [raw], "the worker process died while checking this record")[0]

    def take() -> list[Result]:
        chunk, future, generation = pending.popleft()
        while True:
            try:
                return future.result()
            except BrokenProcessPool:
                if generation < lp.generation:  # lost with a pool that was already replaced: send again
                    future, generation = lp.submit(chunk)
                    continue
                # This chunk was running when its worker died. Re-check it a record at a time
                # with nothing else in the new pool, so only a record that kills its worker
                # gets a worker_crash record; then send the chunks lost with the old pool again.
                lp.restart()
                results = [isolated(raw) for raw in chunk]
                lost = list(pending)
                pending.clear()
                pending.extend((c, *lp.submit(c)) for c, _, _ in lost)
                return results

    try:
        for chunk in chunks:
            pending.append((chunk, *lp.submit(chunk)))
            if len(pending) >= workers * INFLIGHT_PER_WORKER:
                yield take()
        while pending:
            yield take()
    finally:
        lp.close()


def _run_local(job: Job, chunks: Iterable[list[RawRecord]], workers: int) -> Iterator[list[Result]]:
    if workers > 1:
        yield from _run_pool(job, chunks, workers)
        return
    worker_checker(job)
    for chunk in chunks:
        yield _chunk_function(job, chunk)


def _run_dask(job: Job, chunks: Iterable[list[RawRecord]], scheduler: Any) -> Iterator[list[Result]]:
    """Connect to the Dask scheduler now (a bad address fails before any work), then stream results."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - the extra is missing
        raise InputError("needs Dask: pip install 'overclaim[dask]'", field="--scheduler") from exc
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler) if own else scheduler
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}", field="--scheduler") from exc
    try:
        # Load the models once in every worker process before the first chunk.
        client.run(_init_worker, job)
    except BaseException:
        if own:
            client.close()
        raise
    return _dask_results(job, chunks, client, own)


def _dask_results(job: Job, chunks: Iterable[list[RawRecord]], client: Any, own: bool) -> Iterator[list[Result]]:
    def failed(chunk: list[RawRecord], exc: Exception) -> list[Result]:
        # Dask has already retried the task on other workers (distributed.scheduler.allowed-failures).
        return _crash_results(job, chunk, f"the Dask task failed: {type(exc).__name__}: {str(exc)[:300]}")

    try:
        threads = sum(client.nthreads().values()) or 1
        yield from _bounded(lambda c: client.submit(check_chunk, job, c, pure=False), chunks,
                            threads * INFLIGHT_PER_WORKER, failed)
    finally:
        if own:
            client.close()


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
    writer = _writer(out, out_format, resume, job)
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
            chunks = _chunks(todo(), chunk_size)
            results = (_run_dask(job, chunks, scheduler) if scheduler is not None
                       else _run_local(job, chunks, n_workers))
            if on_start is not None:
                total = estimate_total(files)
                on_start(None if total is None else max(0, total - len(done)))
            for chunk_results in results:
                # Ctrl-C waits while a chunk is stored, written and counted: it lands before or after.
                with _sigint_deferred():
                    unstored.extend(r for r in chunk_results if r.report_json is not None)
                    writer.write(r.record for r in chunk_results)
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


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a batch run; ``summary`` counts what is in the output (run again with ``resume``)."""

    def __init__(self, summary: BatchSummary) -> None:
        super().__init__(f"interrupted: {summary.totals()['records']} records in {summary.output}")
        self.summary = summary


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
    from overclaim.report import Report

    reports = [Report.model_validate_json(r.report_json) for r in results if r.report_json is not None]
    return len(report_store.add_many(reports)) if reports else 0


def _row_as_record(row: dict[str, Any], parse: Callable[[str, Any], Any]) -> dict[str, Any]:
    """A CSV or Parquet output row in the shape of a JSONL output record (``parse(column, value)`` reads a cell)."""
    out = {k: parse(k, row.get(k)) for k in ENVELOPE_FIELDS}
    kept = {k[len(INPUT_PREFIX):]: parse(k, v) for k, v in row.items() if k.startswith(INPUT_PREFIX)}
    if out["status"] == "error":
        error = {"code": row["error_code"], "message": row["error_message"], "line": out["line"]}
        if row.get("error_field"):
            error["field"] = row["error_field"]
        out["error"] = error
    else:
        out.update((k, parse(k, v)) for k, v in row.items()
                   if k not in out and not k.startswith(("error_", INPUT_PREFIX)))
    if kept:
        out["input"] = kept
    return out


def _parquet_rows(folder: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    rows: list[dict[str, Any]] = []
    for part in sorted(folder.glob("part-*.parquet")):
        table = pq.read_table(part)
        json_columns = set(json.loads((table.schema.metadata or {}).get(JSON_COLUMNS_KEY, b"[]")))

        def parse(column: str, value: Any, json_columns: set[str] = json_columns) -> Any:
            return json.loads(value) if column in json_columns and value is not None else value

        rows.extend(_row_as_record(r, parse) for r in table.to_pylist())
    return rows


def _csv_cell(column: str, text: Any) -> Any:
    """A CSV output cell as its value: typed by the column (envelope and report fields); kept input stays text."""
    if text in (None, ""):
        return None
    if column.startswith(INPUT_PREFIX):
        return text
    kind = dict(ENVELOPE_COLUMNS).get(column) or ("json" if column == "report" else field_kind(column))
    if kind == "json":
        return json.loads(text)
    if kind == "bool":
        return text == "true"
    return int(text) if kind == "int" else float(text) if kind == "float" else text


def read_output(path: str | Path) -> list[dict[str, Any]]:
    """All records of a batch output (JSONL or CSV file, Parquet folder) as JSONL-shaped dicts, in order.

    For tests and small outputs; big outputs are better read with pyarrow or pandas. A CSV
    output's envelope and report fields are read back by their type (a kept input column stays text).
    """
    p = Path(path)
    if p.is_dir():
        return _parquet_rows(p)
    if output_format_for(p) == "csv":
        csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_BYTES))
        with open(p, encoding="utf-8", newline="") as f:
            return [_row_as_record(row, _csv_cell) for row in csv.DictReader(f)]
    with open(p, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


__all__ = [
    "BatchInterrupted",
    "BatchSummary",
    "CsvWriter",
    "InputFile",
    "JsonlWriter",
    "ParquetWriter",
    "RawRecord",
    "check_chunk",
    "check_raw",
    "field_kind",
    "input_columns",
    "input_files",
    "iter_raw_records",
    "read_output",
    "run_batch",
    "validate_fields",
]
