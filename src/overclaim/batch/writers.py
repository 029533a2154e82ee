"""The batch's output: one writer per format, each owning its encoding, and :func:`read_output`.

A worker turns a checked (or refused) record into an :class:`OutputRecord` (the envelope,
the error, the chosen fields or the report's JSON text, the kept input columns) and
encodes it with its output's writer (:meth:`JsonlWriter.encode`, :meth:`CsvWriter.encode`,
:meth:`ParquetWriter.encode`), so the encoding work is spread over the workers and done
once: the report is dumped to JSON text once and the JSONL line, the CSV cell and the
report store all take that text. A writer takes only what its own ``encode`` makes (a
record of another format is a ``TypeError``, never dropped).

- JSONL (``.jsonl``, or any other name) is appended and flushed chunk by chunk.
  ``resume`` cuts a trailing half-written line and skips the records already in the output.
- CSV (``.csv``): a header row, then one row per record, UTF-8, RFC 4180 quoting. A list or
  object field is JSON text; null is an empty cell. ``resume`` cuts a half-written last row.
- Parquet (``.parquet``) is a folder of part files, each written to a temporary name and
  renamed when complete; columns are typed like the report's fields (JSON text for lists,
  objects and the report, named in the schema's ``overclaim.json_columns`` metadata).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

from overclaim.batch.job import (
    ENVELOPE_COLUMNS,
    ENVELOPE_FIELDS,
    INPUT_PREFIX,
    ColumnKind,
    Job,
    OutputFormat,
    field_kind,
    table_columns,
)
from overclaim.errors import InputError, UnknownFormatError
from overclaim.readers import MAX_CSV_FIELD

# Rows per Parquet part file.
PARQUET_PART_ROWS = 5_000
OUTPUT_SUFFIXES: dict[str, OutputFormat] = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet",
}
# Output names whose format the batch does not write: JSONL under one of them would be read as
# that format and fail, or worse, half-succeed (a spreadsheet opening JSON lines as one column).
REFUSED_OUTPUT_SUFFIXES = (".tsv", ".json", ".xlsx", ".xls")
_ARROW_TYPES = {"string": "string", "int": "int64", "float": "float64", "bool": "bool_", "json": "string"}
# Schema metadata key of a Parquet output: the columns holding JSON text (read_output parses them).
JSON_COLUMNS_KEY = b"overclaim.json_columns"


class OutputRecord(NamedTuple):
    """One output record before encoding, the same for every format.

    ``head`` is the envelope (source, line, id, status, verdict, score); ``report_json`` the
    report's JSON text when the whole report is written (no ``fields`` chosen); ``kept`` the
    kept input columns (None when they are not kept).
    """

    head: dict[str, Any]
    error: Mapping[str, object] | None = None
    picked: dict[str, Any] | None = None
    report_json: str | None = None
    kept: dict[str, Any] | None = None


def _json_default(value: object) -> str:
    """JSON for what an input may hold beyond JSON: dates and times (Parquet) as ISO 8601, the rest as text."""
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else str(value)


def to_json(value: object) -> str:
    """Compact JSON text of a value of an output record (UTF-8 kept, dates as ISO 8601)."""
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def _cell(value: Any, kind: ColumnKind) -> Any:
    """``value`` for a column of ``kind`` in a CSV or Parquet output (None stays None)."""
    if value is None:
        return None
    if kind == "json":
        return to_json(value)
    if kind == "string":
        if isinstance(value, str):
            return value
        iso = getattr(value, "isoformat", None)  # a Parquet date or time
        return iso() if callable(iso) else to_json(value)
    if kind == "bool":
        return value if isinstance(value, bool) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None  # a number column: the input scan saw only numbers here (see input_columns)
    return float(value) if kind == "float" else value


def _table_row(record: OutputRecord, job: Job) -> dict[str, Any]:
    """A flat row of typed column values for a CSV or Parquet output (columns: ``job.table_columns``)."""
    row = dict(record.head)
    if record.error is not None:
        error = record.error
        row.update(error_code=error.get("code"), error_message=error.get("message"), error_field=error.get("field"))
    if record.picked is not None:
        row.update({path: _cell(record.picked[path], kind)
                    for path, kind in zip(job.fields, job.field_kinds, strict=True)})
    elif record.report_json is not None:
        row["report"] = record.report_json
    for name, kind in job.input_columns:
        row[INPUT_PREFIX + name] = _cell((record.kept or {}).get(name), kind)
    return row


def _key(source: object, line: object) -> tuple[str, int]:
    return (str(source), int(line))  # type: ignore[call-overload]


def _label(status: object, verdict: object, error_code: object) -> str:
    """A record's count key in a summary: its verdict, or ``error:<code>``."""
    return str(verdict) if status == "ok" else f"error:{error_code or 'error'}"


Encoded = TypeVar("Encoded", str, dict[str, Any])


class Writer(Generic[Encoded]):
    """What every output writer has: its encoding, the records already in the output, a hook run before a commit."""

    format: ClassVar[OutputFormat]
    # The type of what encode() makes and write() takes.
    encoded_type: ClassVar[type]
    # Called before records become part of the output (and so count as done on resume):
    # run_batch stores their reports there, so a store that fails leaves them to be redone.
    before_commit: Callable[[], None] | None = None

    def __init__(self, path: Path) -> None:
        self.path = path
        # The (source, line) keys of the records already in the output (resume skips them) and
        # their verdicts and error codes (the run's summary counts the whole output).
        self.done: set[tuple[str, int]] = set()
        self.previous: Counter[str] = Counter()

    @staticmethod
    def encode(record: OutputRecord, job: Job) -> Encoded:
        """One output record in this writer's format (run in the worker that checked it)."""
        raise NotImplementedError

    def _seen(self, source: object, line: object, label: str) -> None:
        self.done.add(_key(source, line))
        self.previous[label] += 1

    def _checked(self, records: Sequence[Any]) -> Sequence[Encoded]:
        for record in records:
            if not isinstance(record, self.encoded_type):
                raise TypeError(f"a {self.format} writer takes records made by its encode(), "
                                f"not {type(record).__name__}")
        return records

    def write(self, records: Sequence[Encoded]) -> None:
        """Add encoded records to the output (running :attr:`before_commit` before they are committed)."""
        raise NotImplementedError

    def close(self) -> None:
        """Commit what is left and close the output."""
        raise NotImplementedError


class JsonlWriter(Writer[str]):
    """Appends output lines to a JSONL file, flushing after every chunk.

    Args:
        path: output file.
        resume: keep what is there (cutting a half-written last line) and report its keys.
    """

    format = "jsonl"
    encoded_type = str

    def __init__(self, path: Path, *, resume: bool) -> None:
        super().__init__(path)
        if resume and path.exists():
            self._recover()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a" if resume else "w", encoding="utf-8")

    @staticmethod
    def encode(record: OutputRecord, job: Job) -> str:
        """A JSON line (without its line end); the report's JSON text goes in as it is, last."""
        out = dict(record.head)
        if record.error is not None:
            out["error"] = dict(record.error)
        out.update(record.picked or {})
        if record.kept is not None:
            out["input"] = record.kept
        line = to_json(out)
        return line if record.report_json is None else line[:-1] + ', "report": ' + record.report_json + "}"

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

    def write(self, records: Sequence[str]) -> None:
        """Write records (JSON lines) and flush them to the OS (after :attr:`before_commit`)."""
        text = "".join(f"{r}\n" for r in self._checked(records))
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


class CsvWriter(Writer[dict[str, Any]]):
    """Writes output rows to a CSV file (UTF-8, a header row, RFC 4180 quoting), a chunk at a time.

    Each chunk's rows are written with one call and flushed. ``resume`` cuts a half-written
    last row (one the file ends inside of) and refuses a file whose header is not this run's
    columns (other ``fields`` or kept input columns).

    Args:
        path: output file.
        resume: keep what is there and report its keys.
        columns: the column names, in order (:func:`~overclaim.batch.job.table_columns`).
    """

    format = "csv"
    encoded_type = dict

    def __init__(self, path: Path, *, resume: bool, columns: Sequence[str]) -> None:
        super().__init__(path)
        self.columns = list(columns)
        header = resume and path.exists() and self._recover()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a" if header else "w", encoding="utf-8", newline="")
        if not header:
            self._put([dict(zip(self.columns, self.columns, strict=True))])

    @staticmethod
    def encode(record: OutputRecord, job: Job) -> dict[str, Any]:
        """A row of cell texts by column name (a column left out is an empty cell)."""
        return {key: _csv_text(value) for key, value in _table_row(record, job).items()}

    def _recover(self) -> bool:
        """Read the complete rows there, cut a half-written last one; False when not even the header is complete.

        A row is complete when the file goes on after it, or ends with its line end. A row that
        is cut (the file ends inside it) can only be the last one; anything else that does not
        read as this run's rows is refused, never cut.
        """
        csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_FIELD))
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

    def _put(self, rows: Sequence[dict[str, Any]]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.columns, extrasaction="raise")
        writer.writerows(rows)
        self._file.write(buffer.getvalue())
        self._file.flush()

    def write(self, records: Sequence[dict[str, Any]]) -> None:
        """Write rows and flush them to the OS (after :attr:`before_commit`)."""
        rows = self._checked(records)
        if self.before_commit is not None:
            self.before_commit()
        self._put(rows)

    def close(self) -> None:
        """Flush and close."""
        self._file.close()


class ParquetWriter(Writer[dict[str, Any]]):
    """Writes output rows to a folder of Parquet part files, each renamed into place when complete.

    Args:
        path: output folder (``reports.parquet/``).
        resume: keep the complete parts there and report their keys; otherwise the folder must be empty.
        columns: the columns and their kinds (:func:`~overclaim.batch.job.table_columns`): scalars typed,
            JSON text for the rest.
    """

    format = "parquet"
    encoded_type = dict

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

    @staticmethod
    def encode(record: OutputRecord, job: Job) -> dict[str, Any]:
        """A row of typed values by column name (pyarrow fills a column left out with null)."""
        return _table_row(record, job)

    def write(self, records: Sequence[dict[str, Any]]) -> None:
        """Buffer rows; write a part file when enough have gathered."""
        self._rows.extend(self._checked(records))
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


WRITERS: dict[OutputFormat, type[Writer[Any]]] = {"jsonl": JsonlWriter, "csv": CsvWriter, "parquet": ParquetWriter}


def encode(record: OutputRecord, job: Job) -> str | dict[str, Any]:
    """``record`` encoded by the writer of ``job``'s output format."""
    return WRITERS[job.output_format].encode(record, job)


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


def open_writer(out: Path, resume: bool, job: Job) -> Writer[Any]:
    """The writer of ``job``'s output format at ``out`` (kept and read back with ``resume``, else emptied)."""
    if job.output_format == "jsonl":
        return JsonlWriter(out, resume=resume)
    columns = table_columns(job)
    if job.output_format == "csv":
        return CsvWriter(out, resume=resume, columns=[name for name, _ in columns])
    return ParquetWriter(out, resume=resume, columns=columns)


# --------------------------------------------------------------------------- reading an output back


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
        csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_FIELD))
        with open(p, encoding="utf-8", newline="") as f:
            return [_row_as_record(row, _csv_cell) for row in csv.DictReader(f)]
    with open(p, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
