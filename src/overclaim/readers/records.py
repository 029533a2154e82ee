"""Fields and records: the rules every reader applies (text, JSON values, mapped columns, bytes).

Part of :mod:`overclaim.readers`, which re-exports every name.
"""

from __future__ import annotations

import codecs
import datetime
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from overclaim.errors import (
    BinaryInputError,
    EmptyFieldError,
    EncodingError,
    FileNotFound,
    InputError,
    InputTooLargeError,
    MalformedInputError,
    UnknownFormatError,
    WrongTypeError,
)
from overclaim.report import Post

if TYPE_CHECKING:
    pass

Format = Literal["text", "json", "jsonl", "csv", "html"]
FORMATS: tuple[str, ...] = ("text", "json", "jsonl", "csv", "html")
EXTENSIONS: dict[str, Format] = {
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
}
# Formats of files holding many records, streamed record by record by the batch; Parquet
# (columnar, read with pyarrow) only there: `check` refuses it as an unknown format.
RecordFormat = Literal["jsonl", "csv", "parquet"]
RECORD_EXTENSIONS: dict[str, RecordFormat] = {
    **{suffix: cast(RecordFormat, fmt) for suffix, fmt in EXTENSIONS.items() if fmt in ("jsonl", "csv")},
    ".parquet": "parquet",
    ".pq": "parquet",
}
POST_FIELDS = ("headline", "body", "id", "url", "outlet", "published")
# Largest single input read whole (a batch streams instead): 50 MB.
MAX_INPUT_BYTES = 50 * 1024 * 1024
# Largest CSV field: the batch's MAX_LINE_BYTES (16 MB; a test keeps them equal), far above
# a body (cut at Config.max_body_chars = 200k characters) and above the csv module's 128 KB.
MAX_CSV_FIELD = 16 * 1024 * 1024
# A JSONL line is binary junk rather than text when the first 4 KB hold a NUL byte or more than
# this share of control characters (tab and line ends aside): a line of text has almost none,
# a line cut out of a binary file has many.
BINARY_CONTROL_SHARE = 0.10
_CONTROL = frozenset(range(0, 32)) - {9, 10, 13}
# Byte-order marks of the encodings refused with their name (UTF-32 first: its LE mark starts
# with UTF-16's).
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def json_error(exc: Exception, source: str, line: int | None = None) -> MalformedInputError:
    """The one-line error for JSON that :func:`json.loads` refused (``exc``), at ``line`` of ``source``.

    Besides bad syntax: nesting deeper than Python's recursion limit (``RecursionError``) and an
    integer longer than Python's 4,300-digit conversion limit (``ValueError``).
    """
    if isinstance(exc, json.JSONDecodeError):
        where = exc.lineno + (line - 1 if line is not None else 0)
        return MalformedInputError(f"invalid JSON: {exc.msg} (column {exc.colno})", source=source, line=where)
    if isinstance(exc, RecursionError):
        return MalformedInputError("invalid JSON: nested too deeply", source=source, line=line)
    if isinstance(exc, UnicodeDecodeError):
        return MalformedInputError("invalid JSON: not UTF-8", source=source, line=line)
    if "digits" in str(exc):
        return MalformedInputError(
            f"invalid JSON: a number has more than {sys.get_int_max_str_digits()} digits", source=source, line=line
        )
    return MalformedInputError(f"invalid JSON: {exc}", source=source, line=line)


def loads_json(text: str | bytes, source: str = "<input>", line: int | None = None) -> Any:
    """``json.loads(text)``, every failure a :class:`MalformedInputError` (see :func:`json_error`)."""
    try:
        return json.loads(text)
    except (RecursionError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise json_error(exc, source, line) from exc


def parse_json_line(data: bytes, source: str, line: int) -> Any:
    """One line of a JSONL file, as read from it (bytes), parsed; the batch reads its input here.

    Raises:
        BinaryInputError: the line is binary data (see :data:`BINARY_CONTROL_SHARE`).
        EncodingError: the line is not UTF-8 (names the byte and its column).
        MalformedInputError: the line is not JSON (see :func:`json_error`).
    """
    sample = data[:4096]
    if b"\x00" in sample or sum(b in _CONTROL for b in sample) > BINARY_CONTROL_SHARE * len(sample):
        raise BinaryInputError("is binary data, not a JSON line", source=source, line=line)
    try:
        text = data.decode("utf-8-sig" if line == 1 else "utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(f"is not valid UTF-8 (byte 0x{data[exc.start]:02x} at column {exc.start + 1})",
                            source=source, line=line) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:  # the line's own number, whatever line of its text JSON names
        raise MalformedInputError(f"invalid JSON: {exc.msg} (column {exc.colno})", source=source, line=line) from exc
    except (RecursionError, ValueError) as exc:  # too deep; a number over Python's 4,300 digits
        raise json_error(exc, source, line) from exc


def check_text(value: str, *, source: str | None = None, line: int | None = None, field: str | None = None) -> None:
    """Refuse text that cannot be checked and written back as UTF-8: NUL characters, lone surrogates.

    Raises:
        BinaryInputError: ``value`` holds NUL characters.
        EncodingError: ``value`` holds lone surrogates (an escaped ``udfff`` in JSON).
    """
    if "\x00" in value:
        raise BinaryInputError("holds binary data (NUL characters)", source=source, line=line, field=field)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise EncodingError(
                f"is not valid UTF-8 text (a lone surrogate U+{ord(value[exc.start]):04X} at character {exc.start})",
                source=source, line=line, field=field,
            ) from exc


def _checked(post: Post, source: str, line: int | None = None, mapping: Mapping[str, str] | None = None) -> Post:
    for name in POST_FIELDS:
        value = getattr(post, name)
        if value is not None:
            check_text(value, source=source, line=line, field=(mapping or {}).get(name, name))
    return post


def check_mapping(mapping: Mapping[str, str] | None) -> None:
    """Refuse a mapping that names a field a post does not have (``--map foo=bar``).

    Raises:
        InputError: a key is not one of :data:`POST_FIELDS`.
    """
    for name in mapping or {}:
        if name not in POST_FIELDS:
            raise InputError(f"unknown field {name!r}; map one of {', '.join(POST_FIELDS)}", field="--map")


def check_csv_header(header: list[str], mapping: Mapping[str, str] | None, source: str) -> None:
    """Refuse a CSV header that lacks a (mapped) column or has a column name twice.

    Headline and body must be there, and every column named in ``mapping``; a name given
    twice is refused because a row could then give either value.

    Raises:
        MalformedInputError: naming the column.
    """
    mapping = mapping or {}
    for name in POST_FIELDS:
        col = mapping.get(name, name)
        if col not in header and (name in ("headline", "body") or name in mapping):
            raise MalformedInputError(
                f"CSV header has no column '{col}' (columns: {', '.join(header) or 'none'}); map one with --map",
                source=source,
                line=1,
                field=col,
            )
    seen: set[str] = set()
    for col in header:
        if col in seen:
            raise MalformedInputError(f"CSV header has the column '{col}' twice", source=source, line=1, field=col)
        seen.add(col)


def post_from_record(
    record: object,
    *,
    source: str = "<input>",
    line: int | None = None,
    mapping: Mapping[str, str] | None = None,
) -> Post:
    """Validate one record (a parsed JSON object or CSV row) into a :class:`Post`.

    Args:
        record: the parsed record.
        source: file name used in error messages.
        line: line (or row) number used in error messages.
        mapping: post field -> record key, e.g. ``{"headline": "title", "body": "text"}``.

    Raises:
        MalformedInputError: the record is not an object.
        EmptyFieldError: headline or body missing or blank.
        WrongTypeError: a field is not text.
    """
    if not isinstance(record, Mapping):
        raise MalformedInputError(
            f"expected an object with 'headline' and 'body', got {type(record).__name__}", source=source, line=line
        )
    mapping = mapping or {}
    values: dict[str, Any] = {}
    for name in POST_FIELDS:
        key = mapping.get(name, name)
        value = record.get(key)
        if value is None or (isinstance(value, str) and not value.strip() and name not in ("headline", "body")):
            continue
        if name == "id" and isinstance(value, int) and not isinstance(value, bool):
            try:
                value = str(value)
            except ValueError as exc:  # over Python's 4,300-digit conversion limit
                raise WrongTypeError("is a number too long to be an id", source=source, line=line, field=key) from exc
        if name == "published" and isinstance(value, datetime.date):
            value = value.isoformat()  # a Parquet / pandas timestamp or date (datetime is a date)
        if not isinstance(value, str):
            raise WrongTypeError(f"must be text, got {type(value).__name__}", source=source, line=line, field=key)
        check_text(value, source=source, line=line, field=key)
        values[name] = value
    for name in ("headline", "body"):
        key = mapping.get(name, name)
        if name not in values:
            raise EmptyFieldError("is missing", source=source, line=line, field=key)
        if not values[name].strip():
            raise EmptyFieldError("is empty", source=source, line=line, field=key)
    return Post(**values)


def refuse_wide_encodings(head: bytes, source: str, line: int | None = None) -> None:
    """Refuse UTF-16 and UTF-32 text (by its byte-order mark) by name, rather than as binary.

    Raises:
        EncodingError: ``head`` starts with a UTF-16 or UTF-32 byte-order mark.
    """
    for bom, name in _WIDE_BOMS:
        if head.startswith(bom):
            raise EncodingError(f"is {name} (it starts with a {name} byte-order mark); convert it to UTF-8",
                                source=source, line=line)


def decode(data: bytes, source: str) -> str:
    """Decode bytes as UTF-8 text, refusing binary data with a clear message.

    Raises:
        BinaryInputError: the data has NUL bytes (a binary file), wherever they are.
        EncodingError: the data is UTF-16 or UTF-32 (it starts with their byte-order mark),
            or not valid UTF-8 (names the byte offset).
    """
    refuse_wide_encodings(data, source)
    nul = data.find(b"\x00")
    if nul >= 0:
        where = "" if nul < 8192 else f" (a NUL byte at offset {nul})"
        raise BinaryInputError(f"is a binary file, not text{where}", source=source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); convert it to UTF-8",
            source=source,
        ) from exc


def parse_text(text: str, source: str = "<input>") -> Post:
    """A post from plain text: first non-empty line is the headline, the rest the body."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip():
            headline = line.strip()
            body = "\n".join(lines[i + 1 :]).strip()
            if not body:
                raise EmptyFieldError(
                    "has a headline but no body (the body starts on the second line)",
                    source=source,
                    line=i + 2,
                    field="body",
                )
            return _checked(Post(headline=headline, body=body), source)
    raise EmptyFieldError("is empty", source=source, field="headline")


# libxml2 (lxml, under trafilatura) stops parsing a page nested deeper than 256 elements
# ("Excessive depth in document"), so the rest of the article is lost. Such a page is read
# again with its elements nested at most this deep (the deeper tags dropped, their text
# kept): 200 leaves room for the elements libxml2 adds (html, body, implied p).


def read_bytes(path: str | Path) -> tuple[bytes, str]:
    """Bytes of a file (``-`` for stdin) and the name to use in messages."""
    if str(path) == "-":
        return sys.stdin.buffer.read(MAX_INPUT_BYTES + 1), "<stdin>"
    p = Path(path)
    if not p.exists():
        raise FileNotFound("no such file", source=str(p))
    if p.is_dir():
        raise UnknownFormatError("is a folder, not a file", source=str(p))
    if p.stat().st_size > MAX_INPUT_BYTES:
        raise InputTooLargeError(f"is over {MAX_INPUT_BYTES // (1024 * 1024)} MB; use `overclaim batch`", source=str(p))
    return p.read_bytes(), str(p)
