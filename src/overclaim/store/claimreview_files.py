"""Reading ClaimReview files: format detection and the JSON-LD, JSONL, CSV/TSV and HTML readers, record by record."""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from overclaim.errors import (
    BinaryInputError,
    EncodingError,
    FileNotFound,
    InputTooLargeError,
    MalformedInputError,
    UnknownFormatError,
)
from overclaim.store.claimreview import (
    FactCheck,
    _BadRecord,
    _claimreviews_in,
    _flat_mapping,
    _is_api_response,
    _is_claimreview,
    from_claimreview,
    from_flat,
)

if TYPE_CHECKING:
    pass



# A whole JSON / JSON-LD document is parsed in memory; above this size the import
# refuses it with a message pointing to JSONL, which streams (any size).
# 256 MB of JSON takes about 2-3 GB of memory to parse with the standard library.
MAX_JSON_DOCUMENT_BYTES = 256 * 1024 * 1024


@dataclass
class ImportIssue:
    """A record the import skipped, and why."""

    line: int | None
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "record"
        return f"{where}{f', field {self.field!r}' if self.field else ''}: {self.message}"


@dataclass
class ImportResult:
    """What an import read, stored, left alone and skipped."""

    source: str
    read: int = 0
    imported: int = 0
    already_stored: int = 0
    skipped: int = 0
    issues: list[ImportIssue] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (issues as one-line strings)."""
        return {
            "source": self.source,
            "read": self.read,
            "imported": self.imported,
            "already_stored": self.already_stored,
            "skipped": self.skipped,
            "issues": [str(i) for i in self.issues],
            "seconds": round(self.seconds, 3),
        }



def _line_index(text: str) -> list[int]:
    """Start offsets of each line, for mapping character positions to line numbers."""
    return [0] + [m.end() for m in re.finditer("\n", text)]


def _object_lines(text: str, count: int) -> list[int] | None:
    """Line numbers of the ``count`` ClaimReview objects in a JSON document, or ``None`` if unsure.

    Looks for ``"@type": "ClaimReview"`` and then ``"claimReviewed"`` keys; a pattern is used
    only when it occurs exactly once per object.
    """
    import bisect

    starts = _line_index(text)
    for pattern in (r'"@type"\s*:\s*"ClaimReview"', r'"claimReviewed"\s*:'):
        found = [bisect.bisect_right(starts, m.start()) for m in re.finditer(pattern, text)]
        if len(found) == count:
            return found
    return None


def detect_format(path: Path, head: str) -> str:
    """``jsonld`` (one JSON document), ``jsonl`` (one JSON object a line), ``html`` (a web page) or ``csv``/``tsv``.

    By the file's extension, else by its content as :func:`overclaim.readers.sniff_format` reads it
    (a ``.json``/``.jsonld`` file of one object a line is JSONL).
    """
    from overclaim.readers import sniff_format

    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".tsv":
        return "tsv"
    if suffix == ".csv":
        return "csv"
    if suffix in (".html", ".htm"):
        return "html"
    kind = sniff_format(head)
    if kind == "jsonl":
        return "jsonl"
    if kind == "json" or suffix in (".json", ".jsonld"):
        return "jsonld"
    if kind == "html":
        return "html"
    if "\t" in head.split("\n", 1)[0]:
        return "tsv"
    if "," in head.split("\n", 1)[0]:
        return "csv"
    raise UnknownFormatError("not JSON-LD, JSONL, CSV, TSV or an HTML page (use --format)", source=str(path))


def _open_bytes(path: Path) -> IO[bytes]:
    from overclaim.readers import refuse_wide_encodings

    if not path.exists() or not path.is_file():
        raise FileNotFound("no such file", source=str(path))
    fh = path.open("rb")
    head = fh.read(8192)
    try:
        refuse_wide_encodings(head, str(path))  # UTF-16 is not "binary": say what it is
    except EncodingError:
        fh.close()
        raise
    if b"\x00" in head:
        fh.close()
        raise BinaryInputError("is a binary file, not text", source=str(path))
    fh.seek(0)
    return fh


def _json_problem(exc: Exception) -> str:
    """What is wrong with JSON that ``json.loads`` refused: bad syntax, too deep, a number too long."""
    if isinstance(exc, json.JSONDecodeError):
        return f"column {exc.colno}: {exc.msg}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if "digits" in str(exc):
        return f"a number has more than {sys.get_int_max_str_digits()} digits"
    return str(exc)


def _decode_lines(fh: IO[bytes], source: str) -> Iterator[tuple[int, str]]:
    """Lines decoded one at a time, so a bad byte is reported on its own line."""
    for n, raw in enumerate(fh, 1):
        if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield n, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EncodingError(
                f"not valid UTF-8 at byte {exc.start + 1} of the line; nothing imported", source=source, line=n
            ) from exc


def read_records(
    path: str | Path,
    fmt: str | None = None,
    mapping: Mapping[str, str] | None = None,
    max_json_bytes: int = MAX_JSON_DOCUMENT_BYTES,
) -> Iterator[tuple[int | None, FactCheck | ImportIssue]]:
    """Records of a file, each with its line: a :class:`FactCheck` or an :class:`ImportIssue`.

    Args:
        path: JSON-LD (object, array, ``@graph``, DataFeed), a Fact Check Tools API response, JSONL,
            an HTML page (its ``application/ld+json`` blocks), CSV or TSV file.
        fmt: ``jsonld``, ``jsonl``, ``html``, ``csv`` or ``tsv``; detected from name and content when ``None``.
        mapping: field -> column name, for CSV/TSV headers and flat JSON records.
        max_json_bytes: largest whole JSON document read (JSONL and CSV stream, any size).

    Raises:
        MalformedInputError: a whole JSON document does not parse (nothing is read from it).
        InputTooLargeError: a whole JSON document is over ``max_json_bytes``.
    """
    path = Path(path)
    source = str(path)
    fh = _open_bytes(path)
    with fh:
        head = fh.read(65536).decode("utf-8", errors="replace").lstrip("\ufeff")
        fh.seek(0)
        fmt = (fmt or detect_format(path, head)).lower()
        if fmt in ("json", "json-ld"):
            fmt = "jsonld"
        if fmt == "htm":
            fmt = "html"
        if fmt == "jsonld":
            yield from _read_jsonld(path, fh, mapping, max_json_bytes)
        elif fmt == "html":
            yield from _read_html(path, fh, max_json_bytes)
        elif fmt == "jsonl":
            yield from _read_jsonl(source, fh, mapping)
        elif fmt in ("csv", "tsv"):
            yield from _read_csv(source, fh, "\t" if fmt == "tsv" else ",", mapping)
        else:
            raise UnknownFormatError(f"unknown format {fmt!r} (jsonld, jsonl, html, csv, tsv)", source=source)


def _record(obj: Any, mapping: Mapping[str, str] | None) -> FactCheck:
    if not isinstance(obj, dict):
        raise _BadRecord(f"expected a JSON object, got {type(obj).__name__}")
    try:
        if _is_claimreview(obj) and not mapping:
            return from_claimreview(obj)
        return from_flat(obj, _flat_mapping(obj.keys(), mapping))
    except RecursionError as exc:  # a value of lists in lists, deeper than the stack (see _text)
        raise _BadRecord("a value is nested too deeply") from exc


def _whole_document(path: Path, fh: IO[bytes], max_bytes: int) -> str:
    """The whole file as text, refused over ``max_bytes`` (with advice) or when not UTF-8."""
    size = path.stat().st_size
    if size > max_bytes:
        raise InputTooLargeError(
            f"a single JSON document of {size / 1e6:.0f} MB is over the {max_bytes / 1e6:.0f} MB limit; "
            "write one ClaimReview per line (JSONL), which imports at any size",
            source=str(path),
        )
    data = fh.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EncodingError(
            "not valid UTF-8; nothing imported", source=str(path), line=data[: exc.start].count(b"\n") + 1
        ) from exc


def _records_of(
    doc: Any, text: str, mapping: Mapping[str, str] | None, typed_only: bool = False, first_line: int = 1
) -> Iterator[tuple[int | None, FactCheck | ImportIssue]]:
    """The records of one parsed JSON document ``doc`` (written as ``text``, from line ``first_line`` of its file)."""
    try:
        objects = list(_claimreviews_in(doc, typed_only))
    except RecursionError as exc:  # arrays in arrays, deeper than the stack
        raise _BadRecord("nested too deeply") from exc
    lines = _object_lines(text, len(objects))
    for i, obj in enumerate(objects):
        line = lines[i] + first_line - 1 if lines else None
        try:
            if isinstance(obj, _BadRecord):
                raise obj
            yield line, _record(obj, mapping)
        except _BadRecord as exc:
            yield line, ImportIssue(line, exc.message if lines else f"object {i + 1}: {exc.message}", exc.field)


def _read_jsonld(
    path: Path, fh: IO[bytes], mapping: Mapping[str, str] | None, max_bytes: int
) -> Iterator[tuple[int | None, FactCheck | ImportIssue]]:
    text = _whole_document(path, fh, max_bytes)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedInputError(
            f"malformed JSON at column {exc.colno}: {exc.msg}; nothing imported", source=str(path), line=exc.lineno
        ) from exc
    except (RecursionError, ValueError) as exc:
        raise MalformedInputError(f"malformed JSON: {_json_problem(exc)}; nothing imported", source=str(path)) from exc
    try:
        records = list(_records_of(doc, text, mapping))
    except _BadRecord as exc:
        raise MalformedInputError(f"malformed JSON-LD: {exc.message}; nothing imported", source=str(path)) from exc
    yield from records


def _read_html(path: Path, fh: IO[bytes], max_bytes: int) -> Iterator[tuple[int | None, FactCheck | ImportIssue]]:
    """The ClaimReviews in a fact-check article page's ``application/ld+json`` blocks (other nodes ignored).

    A block that is not valid JSON is a bad record (at its line): the page's other blocks
    are still read.
    """
    from overclaim.readers import json_ld_blocks

    for line, block in json_ld_blocks(_whole_document(path, fh, max_bytes)):
        try:
            doc = json.loads(block)
        except (RecursionError, ValueError) as exc:
            where = line + (exc.lineno - 1 if isinstance(exc, json.JSONDecodeError) else 0)
            yield where, ImportIssue(where, f"a JSON-LD block is not valid JSON ({_json_problem(exc)})")
            continue
        try:
            yield from _records_of(doc, block, None, typed_only=True, first_line=line)
        except _BadRecord as exc:
            yield line, ImportIssue(line, f"a JSON-LD block: {exc.message}")


def _read_jsonl(
    source: str, fh: IO[bytes], mapping: Mapping[str, str] | None
) -> Iterator[tuple[int | None, FactCheck | ImportIssue]]:
    for n, line in _decode_lines(fh, source):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (RecursionError, ValueError) as exc:  # bad syntax, too deep, a number too long
            yield n, ImportIssue(n, f"not valid JSON ({_json_problem(exc)})")
            continue
        if isinstance(obj, dict) and ("@graph" in obj or "dataFeedElement" in obj or _is_api_response(obj)):
            # A whole document on one line (an API response page, a feed): each of its records is on line n.
            try:
                items = [item for _, item in _records_of(obj, "", mapping)]
            except _BadRecord as exc:
                items = [ImportIssue(n, exc.message)]
            for item in items:
                yield n, (ImportIssue(n, item.message, item.field) if isinstance(item, ImportIssue) else item)
            continue
        try:
            yield n, _record(obj, mapping)
        except _BadRecord as exc:
            yield n, ImportIssue(n, exc.message, exc.field)


def _read_csv(
    source: str, fh: IO[bytes], delimiter: str, mapping: Mapping[str, str] | None
) -> Iterator[tuple[int | None, FactCheck | ImportIssue]]:
    lines = _decode_lines(fh, source)
    current = [0]

    def feed() -> Iterator[str]:
        for n, line in lines:
            current[0] = n
            yield line

    reader = csv.reader(feed(), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise MalformedInputError(f"bad header: {exc}", source=source, line=1) from exc
    columns = _flat_mapping(header, mapping)
    if "claim" not in columns:
        raise UnknownFormatError(
            f"no claim column in the header {header}; name one with --map claim=COLUMN", source=source, line=1
        )
    width = len(header)
    while True:
        start = current[0] + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, ImportIssue(start, f"bad CSV row: {exc}")
            continue
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != width:
            yield start, ImportIssue(start, f"has {len(row)} columns, the header has {width}")
            continue
        try:
            yield start, from_flat(dict(zip(header, row, strict=True)), columns)
        except _BadRecord as exc:
            yield start, ImportIssue(start, exc.message, exc.field)
