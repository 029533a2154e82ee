"""Files of many posts: a JSON array, JSON lines and CSV rows (with the batch's streaming readers).

Part of :mod:`overclaim.readers`, which re-exports every name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from overclaim.errors import (
    EmptyFieldError,
    MalformedInputError,
)
from overclaim.readers.records import (
    MAX_CSV_FIELD,
    check_csv_header,
    loads_json,
    post_from_record,
    refuse_wide_encodings,
)
from overclaim.report import Post

if TYPE_CHECKING:
    pass

def parse_json(text: str, source: str = "<input>", mapping: Mapping[str, str] | None = None) -> list[Post]:
    """Posts from a JSON object or array of objects."""
    data = loads_json(text, source)
    if isinstance(data, list):
        if not data:
            raise EmptyFieldError("is an empty JSON array", source=source)
        return [post_from_record(item, source=source, line=None, mapping=mapping) for item in data]
    return [post_from_record(data, source=source, line=1, mapping=mapping)]


def iter_jsonl(text: str, source: str = "<input>", mapping: Mapping[str, str] | None = None) -> Iterator[Post]:
    """Posts from JSON lines; blank lines are skipped, every other line must be a post."""
    for n, line in enumerate(io.StringIO(text), start=1):
        if not line.strip():
            continue
        record = loads_json(line.strip(), source, n)
        yield post_from_record(record, source=source, line=n, mapping=mapping)


class CsvRow(NamedTuple):
    """One row of a CSV file: its first line, its values by column, and the error that refuses it, if any.

    A row with more or fewer fields than the header keeps the values it has (an id to name it by).
    """

    line: int
    values: dict[str, str] | None
    error: MalformedInputError | None = None


def csv_rows(reader: Any, header: list[str], source: str) -> Iterator[CsvRow]:
    """The rows after the header of a :func:`csv.reader`; a broken row is an error row and reading goes on.

    Blank lines are not rows.
    """
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield CsvRow(start, None, MalformedInputError(f"broken CSV row: {exc}", source=source, line=start))
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            error = MalformedInputError(f"row has {len(row)} fields, the header has {len(header)}",
                                        source=source, line=start)
            yield CsvRow(start, dict(zip(header, row, strict=False)), error)
            continue
        yield CsvRow(start, dict(zip(header, row, strict=True)))


def _raise_csv_field_limit() -> None:
    # Process-wide; only ever raised (a field of the csv module's 128 KB is a long article).
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CSV_FIELD))


def iter_csv(text: str, source: str = "<input>", mapping: Mapping[str, str] | None = None) -> Iterator[Post]:
    """Posts from CSV with a header row; ``mapping`` maps post fields to column names.

    Raises:
        MalformedInputError: a bad header (see :func:`check_csv_header`), a broken row, or a
            row with more or fewer fields than the header.
    """
    _raise_csv_field_limit()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise MalformedInputError(f"broken CSV header: {exc}", source=source, line=1) from exc
    check_csv_header(header, mapping, source)
    for row in csv_rows(reader, header, source):
        if row.error is not None:
            raise row.error
        yield post_from_record(row.values, source=source, line=row.line, mapping=mapping)


def csv_header(path: str | Path, source: str, mapping: Mapping[str, str] | None = None) -> list[str]:
    """The header row of a CSV file, checked as ``check`` checks it (:func:`check_csv_header`).

    Raises:
        EncodingError: the file is UTF-16 or UTF-32.
        MalformedInputError: the header lacks a (mapped) column or has one twice.
    """
    with open(path, "rb") as raw:
        refuse_wide_encodings(raw.read(4), source)
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        header = next(csv.reader(f), [])
    check_csv_header(header, mapping, source)
    return header


def iter_csv_file(path: str | Path, source: str) -> Iterator[CsvRow]:
    """The rows of a CSV file, streamed (memory stays flat); check its header first with :func:`csv_header`.

    Bytes that are not UTF-8 are kept as lone surrogates (``surrogateescape``), so the row that
    holds them is refused (by :func:`post_from_record`), not the whole file.
    """
    _raise_csv_field_limit()
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        reader = csv.reader(f)
        try:
            header = next(reader)
        except (StopIteration, csv.Error):
            return
        yield from csv_rows(reader, header, source)
