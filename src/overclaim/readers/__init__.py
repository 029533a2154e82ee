"""Input readers: turn a file, stdin or a record into a :class:`~overclaim.report.Post`.

Formats:

- ``text``: first non-empty line is the headline, the rest is the body;
- ``json``: an object with ``headline`` and ``body`` (optional ``id``, ``url``,
  ``outlet``, ``published``), or an array of such objects;
- ``jsonl``: one such object a line;
- ``csv``: a header row, one post a row (column names mapped with ``mapping``);
- ``html``: a web page; headline, main text and metadata extracted with trafilatura
  (the headline's ``<h1>`` copy taken out of the body);
- a URL (:func:`read_url`): the page fetched with the SSRF-guarded fetcher, then read as ``html``.

Every problem is raised as an :class:`~overclaim.errors.InputError` that names the
file, the line and the field. ``check`` and the batch (:mod:`overclaim.batch`) share these
rules, written here once: NUL characters and lone surrogates are refused in any field, a
UTF-16/32 file is named as such, a CSV row must have as many fields as its header, and JSON
too deep or with a number too long for Python is ``malformed``. The batch streams big files
record by record through :func:`parse_json_line`, :func:`csv_header` and :func:`iter_csv_file`
(and reads Parquet, a format of many records only: :data:`RECORD_EXTENSIONS`).

The package: :mod:`~overclaim.readers.records` (the rules for fields, JSON values, mapped columns
and bytes), :mod:`~overclaim.readers.tables` (JSON arrays, JSON lines, CSV),
:mod:`~overclaim.readers.html` (web pages and URLs), and here the format detection and the
readers of a whole input. Every name is importable from ``overclaim.readers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from overclaim.errors import (
    EmptyFieldError,
    InputTooLargeError,
    UnknownFormatError,
)
from overclaim.readers.html import (
    MAX_HTML_DEPTH,
    flatten_html,
    is_url,
    json_ld_blocks,
    parse_html,
    post_from_page,
    read_url,
    strip_leading_headline,
)
from overclaim.readers.records import (
    BINARY_CONTROL_SHARE,
    EXTENSIONS,
    FORMATS,
    MAX_CSV_FIELD,
    MAX_INPUT_BYTES,
    POST_FIELDS,
    RECORD_EXTENSIONS,
    Format,
    RecordFormat,
    check_csv_header,
    check_mapping,
    check_text,
    decode,
    json_error,
    loads_json,
    parse_json_line,
    parse_text,
    post_from_record,
    read_bytes,
    refuse_wide_encodings,
)
from overclaim.readers.tables import CsvRow, csv_header, csv_rows, iter_csv, iter_csv_file, iter_jsonl, parse_json
from overclaim.report import Post

__all__ = [
    "BINARY_CONTROL_SHARE",
    "CsvRow",
    "EXTENSIONS",
    "FORMATS",
    "Format",
    "MAX_CSV_FIELD",
    "MAX_HTML_DEPTH",
    "MAX_INPUT_BYTES",
    "POST_FIELDS",
    "RECORD_EXTENSIONS",
    "RecordFormat",
    "check_csv_header",
    "check_mapping",
    "check_text",
    "csv_header",
    "csv_rows",
    "decode",
    "detect_format",
    "flatten_html",
    "is_url",
    "iter_csv",
    "iter_csv_file",
    "iter_jsonl",
    "json_error",
    "json_ld_blocks",
    "loads_json",
    "parse_html",
    "parse_json",
    "parse_json_line",
    "parse_text",
    "post_from_page",
    "post_from_record",
    "read_bytes",
    "read_input",
    "read_post",
    "read_posts",
    "read_url",
    "refuse_wide_encodings",
    "sniff_format",
    "strip_leading_headline",
]

def detect_format(source: str, text: str, *, columns: bool = False) -> Format:
    """Guess the format from the file extension, else from the content.

    Args:
        source: the file name (``<stdin>`` for standard input).
        text: the content.
        columns: columns are mapped (``--map``): content that is not JSON is CSV, never plain text or HTML.
    """
    suffix = Path(source).suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if suffix and suffix not in ("", ".") and source != "<stdin>":
        raise UnknownFormatError(
            f"unknown format '{suffix}'; use one of {', '.join(FORMATS)} (or --input-format)", source=source
        )
    return sniff_format(text, columns=columns)


def sniff_format(text: str, *, columns: bool = False) -> Format:
    """The format of ``text`` from its content alone: ``json``, ``jsonl``, ``html`` or ``text``.

    The fact-check importer (:mod:`overclaim.store.factchecks`) tells its formats apart here too.
    ``columns`` (``--map`` given): content that is not JSON is ``csv``.
    """
    text = text.lstrip("\ufeff").lstrip()
    head = text[:512].lower()
    if head.startswith("{") or head.startswith("["):
        first_line = text.split("\n", 1)[0].strip()
        if head.startswith("{") and first_line.endswith("}") and text.strip().count("\n") > 0:
            return "jsonl"
        return "json"
    if columns:
        return "csv"
    if head.startswith(("<!doctype html", "<html")) or "<body" in head or (head.startswith("<") and "<html" in head):
        return "html"  # the last: a page saved with a leading comment ("<!-- saved from url=... -->")
    return "text"


def read_posts(path: str | Path, fmt: str | None = None, mapping: Mapping[str, str] | None = None) -> list[Post]:
    """All posts in a file (``-`` for stdin), in any supported format.

    Raises:
        InputError: any problem, naming the file, line and field.
    """
    return read_input(path, fmt, mapping)[1]


def read_input(
    path: str | Path, fmt: str | None = None, mapping: Mapping[str, str] | None = None
) -> tuple[str, list[Post]]:
    """All posts in a file (``-`` for stdin) and the format they were read as (given, or guessed).

    With a ``mapping``, content whose format cannot be told by its name is read as JSON when it
    looks like JSON, else as CSV (``--map`` names columns: plain text has none).

    Raises:
        InputError: any problem, naming the file, line and field.
    """
    check_mapping(mapping)
    data, source = read_bytes(path)
    if len(data) > MAX_INPUT_BYTES:
        raise InputTooLargeError(f"is over {MAX_INPUT_BYTES // (1024 * 1024)} MB", source=source)
    text = decode(data, source)
    if not text.strip():
        raise EmptyFieldError("is empty", source=source)
    if fmt is not None and fmt not in FORMATS:
        raise UnknownFormatError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}", source=source)
    kind = fmt or detect_format(source, text, columns=bool(mapping))
    if kind == "text":
        return kind, [parse_text(text, source)]
    if kind == "html":
        return kind, [parse_html(text, source)]
    if kind == "json":
        return kind, parse_json(text, source, mapping)
    posts = list(iter_jsonl(text, source, mapping) if kind == "jsonl" else iter_csv(text, source, mapping))
    if not posts:
        raise EmptyFieldError("has no posts", source=source)
    return kind, posts


def read_post(path: str | Path, fmt: str | None = None) -> Post:
    """The single post in a file; the first one when the file holds several."""
    return read_posts(path, fmt)[0]
