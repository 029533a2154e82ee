"""Input readers: turn a file, stdin or a record into a :class:`~overclaim.report.Post`.

Formats:

- ``text``: first non-empty line is the headline, the rest is the body;
- ``json``: an object with ``headline`` and ``body`` (optional ``id``, ``url``,
  ``outlet``, ``published``), or an array of such objects;
- ``jsonl``: one such object a line;
- ``csv``: a header row, one post a row (column names mapped with ``mapping``);
- ``html``: a web page; headline and main text extracted with trafilatura.

Every problem is raised as an :class:`~overclaim.errors.InputError` that names the
file, the line and the field.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from overclaim.errors import (
    BinaryInputError,
    EmptyFieldError,
    EncodingError,
    FileNotFound,
    InputTooLargeError,
    MalformedInputError,
    UnknownFormatError,
    WrongTypeError,
)
from overclaim.report import Post

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
POST_FIELDS = ("headline", "body", "id", "url", "outlet", "published")
# Largest single input read whole (a batch streams instead): 50 MB.
MAX_INPUT_BYTES = 50 * 1024 * 1024


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
            value = str(value)
        if not isinstance(value, str):
            raise WrongTypeError(f"must be text, got {type(value).__name__}", source=source, line=line, field=key)
        values[name] = value
    for name in ("headline", "body"):
        key = mapping.get(name, name)
        if name not in values:
            raise EmptyFieldError("is missing", source=source, line=line, field=key)
        if not values[name].strip():
            raise EmptyFieldError("is empty", source=source, line=line, field=key)
    return Post(**values)


def decode(data: bytes, source: str) -> str:
    """Decode bytes as UTF-8 text, refusing binary data with a clear message.

    Raises:
        BinaryInputError: the data has NUL bytes (a binary file).
        EncodingError: the data is not valid UTF-8 (names the byte offset).
    """
    if b"\x00" in data[:8192]:
        raise BinaryInputError("is a binary file, not text", source=source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); convert it to UTF-8",
            source=source,
        ) from exc


def detect_format(source: str, text: str) -> Format:
    """Guess the format from the file extension, else from the content."""
    suffix = Path(source).suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    if suffix and suffix not in ("", ".") and source != "<stdin>":
        raise UnknownFormatError(
            f"unknown format '{suffix}'; use one of {', '.join(FORMATS)} (or --input-format)", source=source
        )
    head = text.lstrip()[:512].lower()
    if head.startswith("{") or head.startswith("["):
        first_line = text.lstrip().split("\n", 1)[0].strip()
        if head.startswith("{") and first_line.endswith("}") and text.strip().count("\n") > 0:
            return "jsonl"
        return "json"
    if head.startswith("<!doctype html") or head.startswith("<html") or "<body" in head:
        return "html"
    return "text"


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
            return Post(headline=headline, body=body)
    raise EmptyFieldError("is empty", source=source, field="headline")


def parse_html(html: str, source: str = "<input>", url: str | None = None) -> Post:
    """A post from an HTML page: its title as headline, its main text (trafilatura) as body."""
    import trafilatura

    extracted = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    if extracted is None:
        raise EmptyFieldError("no article text found in the HTML page", source=source, field="body")
    data = extracted.as_dict() if hasattr(extracted, "as_dict") else dict(extracted)
    headline = (data.get("title") or "").strip()
    body = (data.get("text") or "").strip()
    if not headline:
        raise EmptyFieldError("no title found in the HTML page", source=source, field="headline")
    if not body:
        raise EmptyFieldError("no article text found in the HTML page", source=source, field="body")
    return Post(
        headline=headline,
        body=body,
        url=url or data.get("url") or None,
        outlet=data.get("sitename") or None,
        published=data.get("date") or None,
    )


def _json_line_error(exc: json.JSONDecodeError, source: str, line_offset: int = 0) -> MalformedInputError:
    return MalformedInputError(
        f"invalid JSON: {exc.msg} (column {exc.colno})", source=source, line=exc.lineno + line_offset
    )


def parse_json(text: str, source: str = "<input>", mapping: Mapping[str, str] | None = None) -> list[Post]:
    """Posts from a JSON object or array of objects."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _json_line_error(exc, source) from exc
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
        try:
            record = json.loads(line.strip())
        except json.JSONDecodeError as exc:
            raise _json_line_error(exc, source, n - 1) from exc
        yield post_from_record(record, source=source, line=n, mapping=mapping)


def iter_csv(text: str, source: str = "<input>", mapping: Mapping[str, str] | None = None) -> Iterator[Post]:
    """Posts from CSV with a header row; ``mapping`` maps post fields to column names."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    mapping = mapping or {}
    header = reader.fieldnames or []
    for name in ("headline", "body"):
        col = mapping.get(name, name)
        if col not in header:
            raise MalformedInputError(
                f"CSV header has no column '{col}' (columns: {', '.join(header) or 'none'}); map one with --map",
                source=source,
                line=1,
                field=col,
            )
    for row in reader:
        yield post_from_record(row, source=source, line=reader.line_num, mapping=mapping)


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


def read_posts(path: str | Path, fmt: str | None = None, mapping: Mapping[str, str] | None = None) -> list[Post]:
    """All posts in a file (``-`` for stdin), in any supported format.

    Raises:
        InputError: any problem, naming the file, line and field.
    """
    data, source = read_bytes(path)
    if len(data) > MAX_INPUT_BYTES:
        raise InputTooLargeError(f"is over {MAX_INPUT_BYTES // (1024 * 1024)} MB", source=source)
    text = decode(data, source)
    if not text.strip():
        raise EmptyFieldError("is empty", source=source)
    if fmt is not None and fmt not in FORMATS:
        raise UnknownFormatError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}", source=source)
    kind = fmt or detect_format(source, text)
    if kind == "text":
        return [parse_text(text, source)]
    if kind == "html":
        return [parse_html(text, source)]
    if kind == "json":
        return parse_json(text, source, mapping)
    posts = list(iter_jsonl(text, source, mapping) if kind == "jsonl" else iter_csv(text, source, mapping))
    if not posts:
        raise EmptyFieldError("has no posts", source=source)
    return posts


def read_post(path: str | Path, fmt: str | None = None) -> Post:
    """The single post in a file; the first one when the file holds several."""
    return read_posts(path, fmt)[0]
