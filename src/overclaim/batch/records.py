"""The batch's input: the files of a run and their records, streamed, read through :mod:`overclaim.readers`.

A record leaves here raw (:class:`RawRecord`): a JSONL line as bytes (parsed in a worker,
by :func:`overclaim.readers.parse_json_line`), a CSV or Parquet row as a dict, or the
error that already refuses it (a line too long, a broken CSV row, an unreadable Parquet
row group). Every input record gives one raw record, so one output record.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from overclaim.batch.job import SCALAR_KINDS, ColumnKind, OutputFormat, post_keys
from overclaim.errors import (
    EncodingError,
    FileNotFound,
    InputError,
    InputTooLargeError,
    MalformedInputError,
    UnknownFormatError,
)
from overclaim.readers import (
    RECORD_EXTENSIONS,
    RecordFormat,
    csv_header,
    iter_csv_file,
    parse_json_line,
    refuse_wide_encodings,
)

InputFormat = RecordFormat
INPUT_SUFFIXES: dict[str, InputFormat] = RECORD_EXTENSIONS
# A JSONL line longer than this is an error record, not read whole (a post body
# is cut at Config.max_body_chars = 200k characters anyway).
MAX_LINE_BYTES = 16 * 1024 * 1024


class RawRecord(NamedTuple):
    """One input record before parsing: a JSONL line (bytes) or a CSV/Parquet row (dict).

    ``error`` holds an error dict (``OverclaimError.to_dict()``) when the reader
    already knows the record is unusable (line too long, broken CSV row).
    """

    source: str
    line: int
    payload: bytes | dict[str, Any] | None
    error: dict[str, object] | None = None


def parse_raw(raw: RawRecord) -> object:
    """The record a raw record holds: a JSONL line parsed, a row as it is.

    Raises:
        InputError: the line is binary, not UTF-8 or not JSON (:func:`~overclaim.readers.parse_json_line`).
    """
    if isinstance(raw.payload, bytes):
        return parse_json_line(raw.payload, raw.source, raw.line)
    return raw.payload


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


def iter_jsonl_raw(file: InputFile) -> Iterator[RawRecord]:
    """Raw lines of a JSONL file, one :class:`RawRecord` per non-blank line (parsed later, in a worker)."""
    with open(file.path, "rb") as f:
        try:
            refuse_wide_encodings(f.read(4), file.source, 1)  # named, as `check` names it, not "binary"
        except EncodingError as exc:  # its lines cannot even be told apart: one error record for the file
            yield RawRecord(file.source, 1, None, exc.to_dict())
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
                yield RawRecord(file.source, n, None, err.to_dict())
                continue
            if data.strip():
                yield RawRecord(file.source, n, data)


def iter_csv_raw(file: InputFile) -> Iterator[RawRecord]:
    """Rows of a CSV file (header row first) as dicts; ``line`` is the row's first line."""
    for row in iter_csv_file(file.path, file.source):
        yield RawRecord(file.source, row.line, row.values, None if row.error is None else row.error.to_dict())


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
        return RawRecord(file.source, line, None, MalformedInputError(message, source=file.source, line=line).to_dict())

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
            csv_header(file.path, file.source, mapping)
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


# --------------------------------------------------------------------------- kept input columns


def _value_kind(value: object) -> ColumnKind | None:
    """The column kind a JSON value fits (None for null: it fits any)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return "json"  # over a Parquet int64
    return next((kind for py_type, kind in SCALAR_KINDS if isinstance(value, py_type)), "json")


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
            for name in csv_header(file.path, file.source, mapping):
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
