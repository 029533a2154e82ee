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
"""

from __future__ import annotations

import codecs
import csv
import datetime
import html as html_lib
import io
import json
import sys
from collections.abc import Iterator, Mapping
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, cast

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
    from overclaim.fetch import AddressPolicy, FetchedPage

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


class _JsonLdBlocks(HTMLParser):
    """Collects the text of each ``<script type="application/ld+json">`` element, with its first line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.blocks: list[tuple[int, str]] = []
        self._open: tuple[int, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            kind = (dict(attrs).get("type") or "").split(";")[0].strip().lower()
            self._open = (self.getpos()[0], []) if kind == "application/ld+json" else None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._open is not None:
            self.blocks.append((self._open[0], "".join(self._open[1])))
            self._open = None


def json_ld_blocks(html: str) -> list[tuple[int, str]]:
    """Every ``<script type="application/ld+json">`` block of an HTML page: (line of its tag, its text)."""
    parser = _JsonLdBlocks()
    parser.feed(html)
    parser.close()
    return parser.blocks


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
MAX_HTML_DEPTH = 200
# Elements with no content (never pushed on the nesting stack).
_VOID_TAGS = frozenset(
    "area base br col embed hr img input keygen link meta param source track wbr".split()
)


def _parse_tree(html: str) -> tuple[Any, bool]:
    """``html`` parsed as trafilatura parses it (lxml), and whether libxml2 gave up on its nesting depth.

    The tree is None when lxml cannot read the page at all (then trafilatura refuses it).
    """
    from lxml.html import HTMLParser as LxmlHTMLParser
    from lxml.html import fromstring

    parser = LxmlHTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True,
                            remove_pis=True)
    try:
        tree = fromstring(html.encode("utf-8", "replace"), parser=parser)
    except Exception:  # noqa: BLE001 - an unparsable page is trafilatura's to refuse
        return None, False
    return tree, any("Excessive depth" in e.message for e in parser.error_log)


class _Flattener(HTMLParser):
    """Re-writes HTML with elements nested at most ``MAX_HTML_DEPTH`` deep; deeper tags are dropped, text kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, written)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_TAGS:
            self.out.append(self.get_starttag_text() or "")
            return
        if self.stack and self.stack[-1][0] == tag and tag in ("p", "li", "option", "tr", "td", "th", "dt", "dd"):
            self.handle_endtag(tag)  # an implied end tag: <p>a<p>b
        written = len(self.stack) < MAX_HTML_DEPTH
        if written:
            self.out.append(self.get_starttag_text() or "")
        self.stack.append((tag, written))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if len(self.stack) < MAX_HTML_DEPTH:
            self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if not any(t == tag for t, _ in self.stack):
            return
        while self.stack:
            open_tag, written = self.stack.pop()
            if written:
                self.out.append(f"</{open_tag}>")
            if open_tag == tag:
                return

    def handle_data(self, data: str) -> None:
        self.out.append(html_lib.escape(data, quote=False))

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")


def flatten_html(html: str) -> str:
    """``html`` with its elements nested at most :data:`MAX_HTML_DEPTH` deep (deeper tags dropped, text kept)."""
    flattener = _Flattener()
    flattener.feed(html)
    flattener.close()
    return "".join(flattener.out)


# Quote and dash forms told apart by a headline's <title>/og:title and its <h1> copy.
_SAME_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                              "\u2014": "-", "\u00a0": " "})
# What separates a headline from the outlet's name in a page title ("Storm hits | The Post").
_TITLE_SEPARATORS = ("|", "-", "\u2013", "\u2014", ":", "\u00b7", "\u2022", "/")


def _comparable(text: str) -> str:
    """``text`` as two copies of one headline compare: NFKC, case-folded, quotes and spaces unified."""
    import unicodedata

    return " ".join(unicodedata.normalize("NFKC", text).translate(_SAME_QUOTES).casefold().split())


def _is_headline_copy(line: str, headline: str) -> bool:
    """Whether ``line`` (the body's first line) is ``headline`` again, as an article's ``<h1>`` repeats it.

    The same text (up to case, quote forms and spacing), or the headline less a trailing
    outlet name ("Storm hits the coast" under the title "Storm hits the coast | The Post").
    """
    a, b = _comparable(line), _comparable(headline)
    if not a or not b:
        return False
    if a == b:
        return True
    # The line is the title less a suffix after a separator; at least half the title, so a
    # one-word kicker ("Storm") under "Storm: what we know" is not taken for the headline.
    rest = b[len(a):].strip() if b.startswith(a) else ""
    return bool(rest) and rest[:1] in _TITLE_SEPARATORS and len(a) * 2 >= len(b)


def strip_leading_headline(body: str, *headlines: str | None) -> str:
    """``body`` less its first line when that line is one of ``headlines`` again (an article's ``<h1>``).

    Only a leading copy goes: a headline quoted later in the article, or a first paragraph
    that merely starts with the headline's words, stays.
    """
    first, sep, rest = body.lstrip().partition("\n")
    if any(h and _is_headline_copy(first, h) for h in headlines):
        return rest.strip() if sep else ""
    return body


def _first_h1(tree: Any) -> str | None:
    """The text of the page's first ``<h1>`` (the article headline on an article page), or None."""
    h1 = tree.find(".//h1") if tree is not None else None
    if h1 is None:
        return None
    return " ".join(h1.text_content().split()) or None


def _meta_property(tree: Any, name: str) -> str | None:
    """The first non-blank ``<meta property=name content=...>`` of the page, spaces collapsed."""
    for meta in tree.iterfind(f".//meta[@property='{name}']"):
        value = " ".join((meta.get("content") or "").split())
        if value:
            return value
    return None


def _social_caption(tree: Any, title: str, outlet: str | None) -> str | None:
    """A social post's caption: the ``og:description`` of a page with no article headline, or None.

    A page has no article headline when it has no ``<h1>`` (other than the site's name, a logo)
    and either does not call itself an article (``og:type``) or its title is only the site's
    name ("Instagram").
    """
    if tree is None:
        return None
    site = _comparable(outlet or "")
    for h1 in tree.iterfind(".//h1"):
        text = _comparable(h1.text_content())
        if text and text != site:
            return None
    caption = _meta_property(tree, "og:description")
    if caption is None:
        return None
    title_is_site = not title or (outlet is not None and _comparable(title) == _comparable(outlet))
    if title_is_site or (_meta_property(tree, "og:type") or "").lower() != "article":
        return caption
    return None


def _http_url(value: object) -> str | None:
    """``value`` when it is an absolute http(s) URL (a page's canonical link), else None."""
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def parse_html(html: str, source: str = "<input>", url: str | None = None) -> Post:
    """A post from an HTML page: its headline, its main text (trafilatura) as body, and its metadata.

    The headline is the page's title (``og:title``, JSON-LD ``headline``, ``<title>``, ``<h1>``,
    as trafilatura finds it); a social post's page (no ``<h1>``, and not an ``og:type`` article
    or titled only with the site's name) has its ``og:description`` caption as its headline.
    The body is the main text less a leading copy of the headline or of the ``<h1>`` (which
    trafilatura keeps), so a page and the same post as plain text read alike. ``outlet`` is
    the site name (``og:site_name``, the JSON-LD publisher, else the host name), ``published``
    the page's date, ``url`` the ``url`` given (where the page was fetched from) else the
    page's canonical URL.

    A page nested too deeply for the HTML parser is read whole, through :func:`flatten_html`.
    """
    import trafilatura

    tree, too_deep = _parse_tree(html)
    if too_deep:
        html = flatten_html(html)
    extracted = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    if extracted is None:
        raise EmptyFieldError("no article text found in the HTML page", source=source, field="body")
    data = extracted.as_dict() if hasattr(extracted, "as_dict") else dict(extracted)
    outlet = (data.get("sitename") or "").strip() or None
    if outlet is not None and _http_url(outlet):
        outlet = None  # an article:publisher link (a Facebook page), not a name
    title = (data.get("title") or "").strip()
    headline = _social_caption(tree, title, outlet) or title
    body = (data.get("text") or "").strip()
    if not headline:
        raise EmptyFieldError("no title found in the HTML page", source=source, field="headline")
    body = strip_leading_headline(body, headline, _first_h1(tree))
    if not body:
        raise EmptyFieldError("no article text found in the HTML page", source=source, field="body")
    post = Post(
        headline=headline,
        body=body,
        url=url or _http_url(data.get("url")),
        outlet=outlet,
        published=data.get("date") or None,
    )
    return _checked(post, source)


def post_from_page(page: FetchedPage) -> Post:
    """A post from a fetched page: an HTML page read by :func:`parse_html`, plain text by :func:`parse_text`.

    The CLI (``overclaim check URL``) and the service (``{"url": ...}``) read fetched pages here.
    """
    if page.content_type == "text/plain":
        return parse_text(page.text, source=page.url).model_copy(update={"url": page.url})
    return parse_html(page.text, source=page.url, url=page.url)


def is_url(value: str | Path) -> bool:
    """Whether an input argument is an http(s) URL rather than a file name."""
    return str(value).strip().lower().startswith(("http://", "https://"))


def read_url(url: str, *, policy: AddressPolicy | None = None) -> Post:
    """The post on the page at ``url``, fetched with the SSRF-guarded fetcher (:mod:`overclaim.fetch`).

    Args:
        url: an http(s) URL.
        policy: which addresses may be reached; None (always, outside tests): public ones only.
            Size and time limits: :data:`overclaim.fetch.FETCH_MAX_BYTES`, ``FETCH_TIMEOUT_S``.

    Raises:
        FetchError: the URL is refused or cannot be fetched in the limits (address, size, time,
            not a web page).
        InputError: the page has no title or no article text.
    """
    from overclaim import fetch

    # The limits are read when called (tests lower them to reach them quickly).
    page = fetch.fetch_url(url, max_bytes=fetch.FETCH_MAX_BYTES, timeout=fetch.FETCH_TIMEOUT_S,
                           policy=policy or fetch.public_only)
    return post_from_page(page)


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
