"""The fact-check store: schema.org ClaimReview records the user owns, searchable offline.

    store = FactCheckStore("factchecks.sqlite")           # SQLite file (WAL), FTS5 index
    store = FactCheckStore("postgresql://user@host/db")   # PostgreSQL, tsvector + GIN index
    result = store.import_file("claimreviews.jsonld")     # JSON-LD, JSONL or CSV/TSV
    store.search(["strikes", "mexico"], limit=50)          # lexical candidates, best first

One row per reviewed claim (``claim_id`` is unique): claim text, the review's
title, claimant, claim date, rating, reviewer, review URL and language, after
schema.org ClaimReview. Imports are idempotent (a ``claim_id`` already stored is
counted as ``already_stored`` and left as it is) and run in one transaction: a
failure part-way stores nothing. Bad records (no claim text, a duplicate id in
the file, a line that is not JSON) are reported with their line and skipped.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
import sys
import unicodedata
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.exc import SQLAlchemyError

from overclaim.errors import (
    BinaryInputError,
    EmptyFieldError,
    EncodingError,
    FileNotFound,
    InputError,
    InputTooLargeError,
    MalformedInputError,
    StoreError,
    UnknownFormatError,
)
from overclaim.store.db import DEFAULT_DB, create_tables, engine

if TYPE_CHECKING:
    import numpy as np

metadata = MetaData()

FIELDS = ("claim_id", "claim", "title", "claimant", "claim_date", "rating", "reviewer", "url", "language",
          "review_date", "rating_value", "best_rating", "worst_rating", "claimant_type", "claimant_url",
          "reviewer_type", "reviewer_url", "appearance", "first_appearance")
_FIELD_SET = frozenset(FIELDS)
# Fields added after the first release: a store made before them gains them (empty) when opened.
ADDED_FIELDS = FIELDS[10:]

factchecks_table = Table(
    "factchecks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("claim_id", String(512), nullable=False, unique=True),
    Column("claim", Text, nullable=False),
    Column("title", Text, nullable=True),
    Column("claimant", Text, nullable=True),
    Column("claim_date", String(64), nullable=True),
    Column("rating", String(256), nullable=True),
    Column("reviewer", String(512), nullable=True),
    Column("url", Text, nullable=True),
    Column("language", String(32), nullable=True),
    Column("review_date", String(64), nullable=True),
    # reviewRating's ratingValue / bestRating / worstRating, as written (numbers kept as text).
    Column("rating_value", String(64), nullable=True),
    Column("best_rating", String(64), nullable=True),
    Column("worst_rating", String(64), nullable=True),
    # The claimant's @type (Person, Organization) and URL (url or sameAs).
    Column("claimant_type", String(64), nullable=True),
    Column("claimant_url", Text, nullable=True),
    # The fact-checker's (author's) @type and URL.
    Column("reviewer_type", String(64), nullable=True),
    Column("reviewer_url", Text, nullable=True),
    # itemReviewed.appearance / firstAppearance: a URL as text, anything else (a CreativeWork, a
    # list of them) as its JSON text, so an export writes back what was imported.
    Column("appearance", Text, nullable=True),
    Column("first_appearance", Text, nullable=True),
)

# Near-duplicate index: MinHash LSH band keys of each claim (see minhash_signatures).
lsh_table = Table(
    "factcheck_lsh",
    metadata,
    Column("key", BigInteger, primary_key=True),
    Column("factcheck_id", Integer, primary_key=True),
    # One B-tree (the key) instead of a rowid table plus its primary-key index: half the writes.
    sqlite_with_rowid=False,
)

# A whole JSON / JSON-LD document is parsed in memory; above this size the import
# refuses it with a message pointing to JSONL, which streams (any size).
# 256 MB of JSON takes about 2-3 GB of memory to parse with the standard library.
MAX_JSON_DOCUMENT_BYTES = 256 * 1024 * 1024
# Rows written per INSERT batch; 5,000 keeps memory flat and inserts fast (SQLite and PostgreSQL).
BATCH_SIZE = 5_000
# Longest claim text kept (characters); longer ones are cut.
MAX_CLAIM_CHARS = 5_000

# Column names accepted, in CSV/TSV headers and flat JSON records, for each field (lower-cased).
ALIASES: dict[str, tuple[str, ...]] = {
    "claim_id": ("claim_id", "id", "@id", "identifier", "vclaim_id"),
    "claim": ("claim", "claimreviewed", "claim_reviewed", "vclaim", "text", "claim_text"),
    "title": ("title", "headline", "name"),
    "claimant": ("claimant", "author", "claim_author"),
    "claim_date": ("claim_date", "claimdate"),
    "rating": ("rating", "textualrating", "textual_rating", "alternatename", "verdict", "label"),
    "reviewer": ("reviewer", "publisher", "fact_checker", "factchecker"),
    "url": ("url", "review_url", "link"),
    "language": ("language", "lang", "inlanguage"),
    "review_date": ("review_date", "datepublished", "date_published", "date"),
    "rating_value": ("rating_value", "ratingvalue"),
    "best_rating": ("best_rating", "bestrating"),
    "worst_rating": ("worst_rating", "worstrating"),
    "claimant_type": ("claimant_type",),
    "claimant_url": ("claimant_url",),
    "reviewer_type": ("reviewer_type",),
    "reviewer_url": ("reviewer_url", "publisher_url"),
    "appearance": ("appearance", "appearances", "claim_appearances"),
    "first_appearance": ("first_appearance", "firstappearance", "claim_first_appearance"),
}
# Fields whose value may be JSON (a CreativeWork or a list): kept as JSON text, not flattened.
JSON_FIELDS = ("appearance", "first_appearance")


@dataclass(frozen=True)
class FactCheck:
    """One reviewed claim (a schema.org ClaimReview, flattened).

    ``rating`` is the textual rating (``reviewRating.alternateName``); ``rating_value``,
    ``best_rating`` and ``worst_rating`` the numeric scale, as written. ``appearance`` and
    ``first_appearance`` hold a URL, or the JSON text of what the ClaimReview gave there.
    """

    claim_id: str
    claim: str
    title: str | None = None
    claimant: str | None = None
    claim_date: str | None = None
    rating: str | None = None
    reviewer: str | None = None
    url: str | None = None
    language: str | None = None
    review_date: str | None = None
    rating_value: str | None = None
    best_rating: str | None = None
    worst_rating: str | None = None
    claimant_type: str | None = None
    claimant_url: str | None = None
    reviewer_type: str | None = None
    reviewer_url: str | None = None
    appearance: str | None = None
    first_appearance: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """The record as a flat dict (the JSONL/CSV export format)."""
        return {name: getattr(self, name) for name in FIELDS}

    def to_tuple(self) -> tuple[str | None, ...]:
        """The record's values in :data:`FIELDS` order."""
        return tuple(getattr(self, name) for name in FIELDS)

    @property
    def rating_label(self) -> str | None:
        """The rating as shown: the textual rating, else the numeric one ("2 of 5")."""
        if self.rating:
            return self.rating
        if self.rating_value:
            return f"{self.rating_value} of {self.best_rating}" if self.best_rating else self.rating_value
        return None

    @property
    def has_own_id(self) -> bool:
        """Whether ``claim_id`` came from the source (``@id``, an id column), not derived by the import."""
        return self.claim_id != _stable_id(self.url, self.claim)

    def to_claimreview(self) -> dict[str, Any]:
        """The record as a schema.org ClaimReview JSON-LD object.

        Every stored field is written back where it was read from, so importing the object
        gives this record again. ``@id`` is written only when the source gave one (an id
        the import derived is not an identifier anybody published); an ``@type`` only when
        the source named one.
        """
        item: dict[str, Any] = {"@type": "Claim"}
        if self.claimant or self.claimant_url or self.claimant_type:
            item["author"] = _party_node(self.claimant_type, self.claimant, self.claimant_url)
        if self.claim_date:
            item["datePublished"] = self.claim_date
        if self.appearance:
            item["appearance"] = _json_field(self.appearance)
        if self.first_appearance:
            item["firstAppearance"] = _json_field(self.first_appearance)
        out: dict[str, Any] = {"@context": "https://schema.org", "@type": "ClaimReview"}
        if self.has_own_id:
            out["@id"] = self.claim_id
        out["claimReviewed"] = self.claim
        out["itemReviewed"] = item
        if self.title:
            out["name"] = self.title
        rating = {
            key: value
            for key, value in (
                ("ratingValue", self.rating_value), ("bestRating", self.best_rating),
                ("worstRating", self.worst_rating), ("alternateName", self.rating),
            )
            if value
        }
        if rating:
            out["reviewRating"] = {"@type": "Rating", **rating}
        if self.reviewer or self.reviewer_url or self.reviewer_type:
            out["author"] = _party_node(self.reviewer_type, self.reviewer, self.reviewer_url)
        if self.url:
            out["url"] = self.url
        if self.language:
            out["inLanguage"] = self.language
        if self.review_date:
            out["datePublished"] = self.review_date
        return out


def _party_node(kind: str | None, name: str | None, url: str | None) -> dict[str, Any]:
    """A Person or Organization node (claimant, fact-checker): ``@type`` only when known."""
    out: dict[str, Any] = {"@type": kind} if kind else {}
    if name:
        out["name"] = name
    if url:
        out["url"] = url
    return out


def _json_field(text: str) -> Any:
    """A stored :data:`JSON_FIELDS` value as JSON-LD: JSON text parsed, a URL as it is."""
    if text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def _json_text(value: Any) -> str | None:
    """A :data:`JSON_FIELDS` value as stored: a string as it is, an object or a list as JSON text.

    Text that is JSON (a CSV cell holding an exported object) is re-written compactly, so
    it compares equal after a round trip.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("[", "{"):
            try:
                value = json.loads(text)
            except ValueError:
                return text
        else:
            return text or None
    if isinstance(value, (list, dict)) and not value:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class FactCheckFilter:
    """Which stored fact-checks a search may return: by language, age and publisher (all must hold).

    Empty fields do not filter. A record lacking the field a filter asks about (no language,
    no date that reads as ISO 8601, no publisher) is left out: its language or age is unknown.

    Attributes:
        languages: language codes; ``en`` takes ``en``, ``en-GB``, ``en_US`` (case-insensitive).
        max_age_days: the review date (else the claim date, which is never later) at most this
            many days before ``today``.
        publishers: the fact-checker's name holding one of these (case-insensitive:
            ``afp`` takes "AFP Factuel"), or the host of its URL or of the review's URL being one
            of them or under one (``politifact.com`` takes www.politifact.com).
        today: the day ages are counted from; the current UTC day when None.
    """

    languages: tuple[str, ...] = ()
    max_age_days: int | None = None
    publishers: tuple[str, ...] = ()
    today: datetime.date | None = None

    @classmethod
    def of(
        cls, languages: Iterable[str] = (), max_age_days: int | None = None, publishers: Iterable[str] = (),
        today: datetime.date | None = None,
    ) -> FactCheckFilter:
        """A filter from user input, checked.

        Raises:
            EmptyFieldError: a blank language or publisher (naming the field).
            InputError: a negative age.
        """
        langs = tuple(_filter_values(languages, "language"))
        pubs = tuple(_filter_values(publishers, "publisher"))
        if max_age_days is not None and (isinstance(max_age_days, bool) or max_age_days < 0):
            raise InputError(f"must be a number of days, 0 or more, got {max_age_days!r}", field="max_age_days")
        return cls(langs, max_age_days, pubs, today)

    def __bool__(self) -> bool:
        return bool(self.languages or self.publishers or self.max_age_days is not None)

    def describe(self) -> str:
        """The filters in words: "language en or fr; reviewed in the last 30 days; publisher afp"."""
        parts = []
        if self.languages:
            parts.append("language " + " or ".join(self.languages))
        if self.max_age_days is not None:
            parts.append(f"reviewed in the last {self.max_age_days} days")
        if self.publishers:
            parts.append("publisher " + " or ".join(self.publishers))
        return "; ".join(parts)

    def accepts(self, fc: FactCheck) -> bool:
        """Whether ``fc`` passes every filter that is set."""
        if self.languages:
            lang = (fc.language or "").strip().lower().replace("_", "-")
            if not any(lang == code or lang.startswith(code + "-") for code in self.languages):
                return False
        if self.max_age_days is not None:
            day = _iso_day(fc.review_date) or _iso_day(fc.claim_date)
            today = self.today or datetime.datetime.now(datetime.timezone.utc).date()
            if day is None or (today - day).days > self.max_age_days:
                return False
        if self.publishers:
            name = (fc.reviewer or "").casefold()
            hosts = {_host(fc.reviewer_url), _host(fc.url)} - {""}
            if not any(p in name or any(h == p or h.endswith("." + p) for h in hosts) for p in self.publishers):
                return False
        return True


def _filter_values(values: Iterable[str], name: str) -> Iterator[str]:
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise EmptyFieldError("must not be blank", field=name)
        yield value.strip().casefold().replace("_", "-") if name == "language" else value.strip().casefold()


def _iso_day(value: str | None) -> datetime.date | None:
    """The day of an ISO 8601 date or timestamp ("2024-02-01", "2024-02-01T00:00:00Z"), or None."""
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _host(url: str | None) -> str:
    """The lower-cased host of a URL without a leading ``www.``; "" when there is none."""
    from urllib.parse import urlsplit

    if not url:
        return ""
    try:
        host = urlsplit(url if "://" in url else f"https://{url}").hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


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


class _BadRecord(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- parsing ---------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A plain string from a JSON-LD value (string, number, {'name': ...}, [first, ...])."""
    if value is None:
        return None
    if isinstance(value, str):  # the common case first: imports call this ~20 times a record
        return value.strip() or None
    if isinstance(value, list):
        return _text(value[0]) if value else None
    if isinstance(value, dict):
        for key in ("name", "@value", "text", "alternateName", "url", "@id"):
            if key in value:
                return _text(value[key])
        return None
    if isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def _stable_id(*parts: str | None) -> str:
    digest = hashlib.sha1("\x1f".join(p or "" for p in parts).encode("utf-8")).hexdigest()
    return f"sha1:{digest[:20]}"


def _finish(values: Mapping[str, str | None]) -> FactCheck:
    claim = (values.get("claim") or "").strip()
    if not claim:
        raise _BadRecord("missing claim text", field="claim")
    if len(claim) > MAX_CLAIM_CHARS:
        claim = claim[:MAX_CLAIM_CHARS]
    claim_id = (values.get("claim_id") or "").strip()
    if not claim_id:
        # No id given: derive one from the review URL and the claim, so re-imports match.
        claim_id = _stable_id(values.get("url"), claim)
    elif len(claim_id) > 512:
        raise _BadRecord("claim id is longer than 512 characters", field="claim_id")
    # Values come from _text / _json_text: stripped text or None.
    kept = {k: v for k, v in values.items() if k in _FIELD_SET}
    kept["claim"] = claim
    kept["claim_id"] = claim_id
    return FactCheck(**kept)  # type: ignore[arg-type]


def _is_claimreview(obj: Mapping[str, Any]) -> bool:
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return "ClaimReview" in kinds or "claimReviewed" in obj


def _first(value: Any) -> Any:
    """The first item of a list (JSON-LD allows a list wherever one value is expected), else the value."""
    return (value[0] if value else None) if isinstance(value, list) else value


def _party_of(value: Any) -> tuple[str | None, str | None, str | None]:
    """A Person or Organization node's name, ``@type`` and URL (``url``, else ``sameAs``).

    A plain string is the name alone (no type, no URL).
    """
    value = _first(value)
    if value is None:
        return None, None, None
    if not isinstance(value, dict):
        return _text(value), None, None
    name = _text(value.get("name")) or _text(value.get("alternateName"))
    return name, _text(value.get("@type")), _text(value.get("url")) or _text(value.get("sameAs"))


def from_claimreview(obj: Mapping[str, Any]) -> FactCheck:
    """A :class:`FactCheck` from a schema.org ClaimReview object.

    Raises:
        _BadRecord: the object has no claim text.
    """
    raw_item = _first(obj.get("itemReviewed"))
    item: Mapping[str, Any] = raw_item if isinstance(raw_item, dict) else {}
    rating = _first(obj.get("reviewRating"))
    scale: Mapping[str, Any] = rating if isinstance(rating, dict) else {}
    claim = obj.get("claimReviewed")
    if claim is None:
        claim = item.get("text") or item.get("name")
    if claim is not None and not isinstance(claim, (str, list, dict)):
        raise _BadRecord("claim text is not a string", field="claimReviewed")
    claimant, claimant_type, claimant_url = _party_of(item.get("author"))
    reviewer, reviewer_type, reviewer_url = _party_of(
        obj.get("author") if obj.get("author") is not None else obj.get("publisher")
    )
    values = {
        "claim_id": _text(obj.get("@id")) or _text(obj.get("identifier")),
        "claim": _text(claim),
        "title": _text(obj.get("name")) or _text(obj.get("headline")),
        "claimant": claimant,
        "claimant_type": claimant_type,
        "claimant_url": claimant_url,
        "claim_date": _text(item.get("datePublished")),
        "rating": _text(scale.get("alternateName")) if scale else _text(rating),
        "rating_value": _text(scale.get("ratingValue")),
        "best_rating": _text(scale.get("bestRating")),
        "worst_rating": _text(scale.get("worstRating")),
        "reviewer": reviewer,
        "reviewer_type": reviewer_type,
        "reviewer_url": reviewer_url,
        "url": _text(obj.get("url")),
        "language": _text(obj.get("inLanguage")),
        "review_date": _text(obj.get("datePublished")),
        "appearance": _json_text(item.get("appearance")),
        "first_appearance": _json_text(item.get("firstAppearance")),
    }
    if values["claim"] is None:
        raise _BadRecord("missing claim text", field="claimReviewed")
    return _finish(values)


def _flat_mapping(keys: Iterable[str], mapping: Mapping[str, str] | None) -> dict[str, str]:
    """Source key for each field: explicit ``mapping`` (field -> column) first, then aliases."""
    keys = list(keys)
    lower = {k.strip().lower(): k for k in keys}
    out: dict[str, str] = {}
    for name in FIELDS:
        if mapping and name in mapping:
            if mapping[name] not in keys:
                raise UnknownFormatError(
                    f"column {mapping[name]!r} (mapped to {name}) is not in the header {keys}", field=name
                )
            out[name] = mapping[name]
            continue
        for alias in ALIASES[name]:
            if alias in lower:
                out[name] = lower[alias]
                break
    if "claim_id" not in out and keys and keys[0].strip() == "":
        # An unnamed first column (pandas index, as in CLEF's verified_claims.docs.tsv) is the id.
        out["claim_id"] = keys[0]
    return out


def from_flat(row: Mapping[str, Any], columns: Mapping[str, str]) -> FactCheck:
    """A :class:`FactCheck` from a flat record (CSV row or JSON object) through ``columns``."""
    values = {name: (_json_text if name in JSON_FIELDS else _text)(row.get(col)) for name, col in columns.items()}
    return _finish(values)


def _claimreviews_in(doc: Any, typed_only: bool = False) -> Iterator[Any]:
    """The records of a JSON(-LD) document: ClaimReview objects and flat records, in order.

    The document may be one object, an array, an ``@graph``, a DataFeed (``dataFeedElement``
    items) or a Fact Check Tools API response (``claims[]``, each with ``claimReview[]``; see
    :func:`_api_claimreviews`). In an ``@graph`` (and with ``typed_only``, as for the blocks of
    a web page) only ClaimReview nodes are records: the page's other nodes (WebPage,
    Organization, BreadcrumbList ...) are not fact-checks, so they are neither imported nor
    counted as bad records; a ClaimReview nested in one of them (a WebPage's ``mainEntity``)
    is found, and its ``{"@id": ...}`` references to other nodes of the graph are followed.
    A :class:`_BadRecord` is yielded where a record was expected and none can be made.
    """
    if isinstance(doc, list):
        for item in doc:
            yield from _claimreviews_in(item, typed_only)
    elif isinstance(doc, dict):
        if "@graph" in doc:
            graph = doc["@graph"]
            nodes = graph if isinstance(graph, list) else [graph]
            by_id = {n["@id"]: n for n in nodes if isinstance(n, dict) and isinstance(n.get("@id"), str)}
            for review in _typed_claimreviews(nodes):
                yield _resolve(review, by_id)
        elif "dataFeedElement" in doc:
            elements = doc["dataFeedElement"]
            if elements is None:
                return
            for element in elements if isinstance(elements, list) else [elements]:
                # A DataFeedItem holds its ClaimReview under "item"; anything else is the record
                # itself (a number or string there is reported as a bad record, not a TypeError).
                items = element.get("item", []) if isinstance(element, dict) else element
                yield from _claimreviews_in(items if isinstance(items, list) else [items], typed_only)
        elif _is_api_response(doc):
            yield from _api_claimreviews(doc)
        elif typed_only and not _is_claimreview(doc):
            yield from _typed_claimreviews(doc.values())
        else:
            yield doc
    elif not typed_only:
        yield doc


def _typed_claimreviews(nodes: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """ClaimReview objects among ``nodes`` and inside the other nodes' values (not inside a ClaimReview)."""
    for node in nodes:
        if isinstance(node, list):
            yield from _typed_claimreviews(node)
        elif isinstance(node, dict):
            if _is_claimreview(node):
                yield node
            else:
                yield from _typed_claimreviews(node.values())


# Properties of a ClaimReview (and of its itemReviewed) whose {"@id": ...} reference to another
# node of an @graph is replaced by that node (Yoast and other page generators write them so).
_REFERENCES = ("itemReviewed", "author", "publisher", "reviewRating", "appearance", "firstAppearance")


def _resolve(node: dict[str, Any], by_id: Mapping[str, Any], depth: int = 0) -> dict[str, Any]:
    """``node`` with its :data:`_REFERENCES` that are bare ``{"@id": ...}`` references replaced by the nodes named.

    ``node`` itself is returned when nothing is replaced (most graphs: no copy).
    """
    if not by_id:
        return node
    out: dict[str, Any] | None = None
    for key in _REFERENCES:
        value = node.get(key)
        if not isinstance(value, dict):
            continue
        new = value
        if len(value) == 1 and isinstance(value.get("@id"), str):
            new = by_id.get(value["@id"], value)
        if key == "itemReviewed" and depth == 0 and isinstance(new, dict):
            new = _resolve(new, by_id, depth + 1)
        if new is not value:
            out = dict(node) if out is None else out
            out[key] = new
    return node if out is None else out


def _is_api_response(doc: Mapping[str, Any]) -> bool:
    """Whether ``doc`` is a Google Fact Check Tools API ``claims:search`` response."""
    claims = doc.get("claims")
    return (
        isinstance(claims, list) and "@type" not in doc and "claimReviewed" not in doc
        and all(isinstance(c, dict) and ("claimReview" in c or "text" in c) for c in claims)
    )


def _api_claimreviews(doc: Mapping[str, Any]) -> Iterator[Any]:
    """ClaimReview objects for a Fact Check Tools API response: one per (claim, review) pair.

    A claim's ``text``, ``claimant`` and ``claimDate`` go to ``claimReviewed`` and
    ``itemReviewed``; each review's ``publisher`` (``name``, and ``site`` as its https URL),
    ``url``, ``title``, ``reviewDate``, ``textualRating`` and ``languageCode`` to the
    ClaimReview's author, url, name, datePublished, reviewRating and inLanguage. A claim with
    no review is a bad record (it has no fact-check to store).
    """
    for n, claim in enumerate(doc["claims"], 1):
        reviews = claim.get("claimReview")
        reviews = [r for r in (reviews if isinstance(reviews, list) else [reviews]) if r is not None]
        if not reviews:
            yield _BadRecord(f"claim {n} of the API response has no claimReview", field="claimReview")
            continue
        item: dict[str, Any] = {"@type": "Claim"}
        if claim.get("claimant") is not None:
            item["author"] = {"name": claim["claimant"]}
        if claim.get("claimDate") is not None:
            item["datePublished"] = claim["claimDate"]
        for review in reviews:
            if not isinstance(review, dict):
                yield _BadRecord(f"a claimReview of claim {n} is not an object", field="claimReview")
                continue
            out: dict[str, Any] = {"@type": "ClaimReview", "claimReviewed": claim.get("text"), "itemReviewed": item}
            publisher = review.get("publisher")
            if isinstance(publisher, dict):
                site = _text(publisher.get("site"))
                out["author"] = {"name": publisher.get("name"),
                                 "url": f"https://{site}" if site and "://" not in site else site}
            for key, target in (("url", "url"), ("title", "name"), ("reviewDate", "datePublished"),
                                ("languageCode", "inLanguage")):
                if review.get(key) is not None:
                    out[target] = review[key]
            if review.get("textualRating") is not None:
                out["reviewRating"] = {"@type": "Rating", "alternateName": review["textualRating"]}
            yield out


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


# --- near duplicates: MinHash LSH ------------------------------------------------------

# 32 permutations in 8 bands of 4 rows: a record becomes a near-duplicate candidate with
# probability 0.98 at Jaccard 0.8, 0.67 at 0.6 and 0.18 at 0.4 (shingles: word pairs of
# the de-obfuscated, case-folded text). Word pairs rather than character 5-grams: six times
# fewer hashes a record, so imports keep their speed.
NUM_PERM = 32
LSH_BANDS = 8
LSH_ROWS = 4
SHINGLE_WORDS = 2
MINHASH_SEED = 1
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_PERMS: tuple[np.ndarray, np.ndarray] | None = None


def shingle_text(text: str) -> str:
    """Text as shingled for near-duplicate search: NFKC, case-folded, words joined by single spaces."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


_PAIR_MULT = 0x9E3779B1  # odd multiplier (golden ratio) that mixes the first word of a pair


def shingle_hashes(text: str) -> list[int]:
    """32-bit hashes of the word pairs of :func:`shingle_text`: ``(crc32(w1) * 0x9E3779B1 + crc32(w2)) mod 2**32``.

    A one-word text has its word's crc32, an empty text ``[0]``. This is the reference for the
    vectorized :func:`minhash_signatures`.
    """
    words = [zlib.crc32(w) for w in shingle_text(text).encode("utf-8").split()]
    if len(words) < SHINGLE_WORDS:
        return [words[0] if words else 0]
    return [(w1 * _PAIR_MULT + w2) & 0xFFFFFFFF for w1, w2 in zip(words, words[1:], strict=False)]


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The datasketch affine32 permutation parameters ``(a, b)`` for NUM_PERM and MINHASH_SEED."""
    global _PERMS
    if _PERMS is None:
        from datasketch import MinHash

        a, b = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, hashfunc=int, scheme="affine32").permutations
        _PERMS = (a, b)
    return _PERMS


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (the pre-mix datasketch applies in its affine32 scheme)."""
    import numpy as np

    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def minhash_signatures(texts: Iterable[str], chunk: int = 2000) -> np.ndarray:
    """MinHash signatures of many texts, shape ``(n, NUM_PERM)``, computed at once with numpy.

    The values equal datasketch's ``MinHash(num_perm=32, seed=1, hashfunc=int)`` updated with
    :func:`shingle_hashes` (building one ``MinHash`` a text is far slower). Only the word
    hashing runs a text at a time; pairs, permutations and minima are array operations.
    """
    import numpy as np

    a, b = _permutations()
    texts = list(texts)
    out = np.empty((len(texts), NUM_PERM), dtype=np.uint32)
    crc = zlib.crc32
    for start in range(0, len(texts), chunk):
        part = texts[start : start + chunk]
        word_hashes: list[int] = []
        counts = np.empty(len(part), dtype=np.int64)
        for i, text in enumerate(part):
            words = shingle_text(text).encode("utf-8").split()
            counts[i] = len(words)
            word_hashes.extend(map(crc, words))
        w = np.asarray(word_hashes, dtype=np.uint32)
        tid = np.repeat(np.arange(len(part)), counts)
        same = tid[:-1] == tid[1:]
        pairs = w[:-1][same] * np.uint32(_PAIR_MULT) + w[1:][same]
        pair_tid = tid[:-1][same]
        # Texts of fewer than two words: their one word's hash, or 0 when empty.
        short = np.flatnonzero(counts < SHINGLE_WORDS)
        firsts = np.cumsum(counts) - counts
        singles = np.zeros(len(short), dtype=np.uint32)
        has_word = counts[short] > 0
        singles[has_word] = w[firsts[short][has_word]]
        values = np.concatenate((pairs, singles))
        owner = np.concatenate((pair_tid, short))
        order = np.argsort(owner, kind="stable")
        hv = _fmix32(values[order])[:, None]
        phv = a * hv + b  # uint32 arithmetic wraps: the affine map modulo 2**32
        offsets = np.concatenate(([0], np.cumsum(np.maximum(counts - 1, 1))[:-1]))
        out[start : start + len(part)] = np.minimum.reduceat(phv, offsets, axis=0)
    return out


def lsh_keys(signatures: np.ndarray) -> np.ndarray:
    """LSH band keys, shape ``(n, LSH_BANDS)``, signed 64-bit: one hash of each band's rows."""
    import numpy as np

    sig = signatures.reshape(len(signatures), LSH_BANDS, LSH_ROWS).astype(np.uint64)
    key: Any = np.zeros((len(signatures), LSH_BANDS), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(LSH_ROWS):
            key = key * np.uint64(1_000_003) + sig[:, :, r]
        key = key * np.uint64(31) + np.arange(LSH_BANDS, dtype=np.uint64)
        key ^= key >> np.uint64(29)
        key *= np.uint64(0xBF58476D1CE4E5B9)
        key ^= key >> np.uint64(32)
    return key.view(np.int64)


def estimated_jaccard(one: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Jaccard similarity estimated from MinHash signatures: one against each row of ``others``."""
    import numpy as np

    return np.asarray((others == one[None, :]).mean(axis=1), dtype=np.float64)


# --- the store -------------------------------------------------------------------------

_SQLITE_SETUP = [
    # External-content FTS5 index over claim, title and claimant; Porter stemming.
    "CREATE VIRTUAL TABLE IF NOT EXISTS factchecks_fts USING fts5("
    "claim, title, claimant, content='factchecks', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    # No insert trigger: imports index each batch with one INSERT ... SELECT, which is
    # about 2.5 times faster than a per-row trigger (measured on 50,000 records).
    "DROP TRIGGER IF EXISTS factchecks_ai",
    "CREATE TRIGGER IF NOT EXISTS factchecks_ad AFTER DELETE ON factchecks BEGIN "
    "INSERT INTO factchecks_fts(factchecks_fts, rowid, claim, title, claimant) "
    "VALUES ('delete', old.id, old.claim, old.title, old.claimant); END",
]

_SQLITE_INSERT = (
    f"INSERT INTO factchecks ({', '.join(FIELDS)}) VALUES ({', '.join('?' for _ in FIELDS)})"
)
_SQLITE_INDEX = (
    "INSERT INTO factchecks_fts(rowid, claim, title, claimant) "
    "SELECT id, claim, title, claimant FROM factchecks WHERE id > ?"
)

_PG_SETUP = [
    "ALTER TABLE factchecks ADD COLUMN IF NOT EXISTS search tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(claim, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(title, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(claimant, '')), 'C')) STORED",
    "CREATE INDEX IF NOT EXISTS factchecks_search_idx ON factchecks USING gin(search)",
]

# Search pruning on SQLite (see FactCheckStore.search). FTS5's BM25 costs about 5 us a
# scored record on one core of the shared test machine. When the query's words match more
# than FULL_SCORING_LIMIT records together, only records holding the rarest words, up to
# SCORED_POSTINGS_BUDGET of them, are scored (about 15 ms on a 1,000,000-record store).
# Stores of up to 20,000 records (CLEF's has 10,375) are always fully scored.
FULL_SCORING_LIMIT = 20_000
SCORED_POSTINGS_BUDGET = 3_000
# Beyond the budget, the next PAIRED_TERMS rarest words are searched in pairs (A AND B).
PAIRED_TERMS = 2

_TERM_RE = re.compile(r"[^\W_]+", re.UNICODE)


class FactCheckStore:
    """Fact-checks in a database: SQLite file path (default) or database URL.

    Args:
        target: SQLite file path or SQLAlchemy/PostgreSQL URL; tables and the
            search index are created on first use.

    Raises:
        StoreError: the database cannot be opened or set up.
    """

    def __init__(self, target: str | Path = DEFAULT_DB) -> None:
        self.target = str(target)
        self.engine: Engine = engine(self.target)
        self.dialect = self.engine.dialect.name
        # Per-term record counts for search pruning, valid while the store's size is _df_size.
        self._df: dict[str, int] = {}
        self._df_size = -1
        try:
            create_tables(metadata, self.engine)
            self._add_missing_columns()
            with self.engine.begin() as conn:
                for statement in _SQLITE_SETUP if self.dialect == "sqlite" else _PG_SETUP:
                    conn.execute(sql_text(statement))
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot set up the fact-check tables: {_reason(exc)}", source=self.target) from exc

    def _add_missing_columns(self) -> None:
        """Give a store made by an older release the columns added since (:data:`ADDED_FIELDS`), empty.

        Another process opening the same store may add them first: a column that then exists
        is not an error.
        """
        from sqlalchemy import inspect

        def missing() -> list[str]:
            have = {c["name"] for c in inspect(self.engine).get_columns("factchecks")}
            return [name for name in ADDED_FIELDS if name not in have]

        for name in missing():
            kind = factchecks_table.c[name].type.compile(dialect=self.engine.dialect)
            try:
                with self.engine.begin() as conn:
                    conn.execute(sql_text(f"ALTER TABLE factchecks ADD COLUMN {name} {kind}"))
            except SQLAlchemyError:
                if name in missing():
                    raise

    # -- writing --

    def import_file(
        self,
        path: str | Path,
        fmt: str | None = None,
        mapping: Mapping[str, str] | None = None,
        strict: bool = False,
        max_json_bytes: int = MAX_JSON_DOCUMENT_BYTES,
    ) -> ImportResult:
        """Import a JSON-LD, JSONL, CSV or TSV file in one transaction.

        Args:
            path: the file.
            fmt: format name, detected when ``None`` (see :func:`read_records`).
            mapping: field -> column name for CSV/TSV and flat JSON records.
            strict: on the first bad record, store nothing and raise.
            max_json_bytes: largest whole JSON document accepted.

        Returns:
            Counts of records read, imported, already stored and skipped, and the issues.

        Raises:
            MalformedInputError: a bad record with ``strict`` (nothing stored), or an
                unparseable JSON document.
            StoreError: the database failed; the transaction was rolled back, nothing stored.
        """
        import time

        started = time.perf_counter()
        result = ImportResult(source=str(path))
        records = read_records(path, fmt, mapping, max_json_bytes)
        self._import(records, result, strict)
        result.seconds = time.perf_counter() - started
        if result.imported == 0 and result.already_stored == 0 and not _is_blank(Path(path)):
            # A file with content but no usable record was not understood (a page without
            # ClaimReview markup, an API error or an empty answer): never "imported 0", exit 0.
            if result.read == 0:
                raise UnknownFormatError(
                    "holds no fact-check record (no ClaimReview object, DataFeed item, Fact Check Tools API "
                    "claim or CSV row); nothing imported",
                    source=str(path),
                )
            raise MalformedInputError(
                f"holds no usable fact-check record: all {result.read} are bad (the first: {result.issues[0]}); "
                "nothing imported",
                source=str(path),
            )
        return result

    def add(self, records: Iterable[FactCheck], source: str = "records") -> ImportResult:
        """Store fact-checks (in one transaction), leaving ids already stored as they are."""
        result = ImportResult(source=source)
        self._import(((None, r) for r in records), result, strict=False)
        return result

    def _import(
        self, records: Iterable[tuple[int | None, FactCheck | ImportIssue]], result: ImportResult, strict: bool
    ) -> None:
        seen: dict[str, int | None] = {}
        batch: list[FactCheck] = []
        table = factchecks_table
        try:
            with self.engine.begin() as conn:
                if self.dialect == "sqlite":
                    # A 256 MB page cache keeps the claim_id index and FTS5 segments in memory while
                    # a big import runs (SQLite's default is 2 MB).
                    conn.exec_driver_sql("PRAGMA cache_size=-262144")
                for line, item in records:
                    result.read += 1
                    if isinstance(item, FactCheck) and item.claim_id in seen:
                        first = seen[item.claim_id]
                        item = ImportIssue(
                            line,
                            f"duplicate claim id {item.claim_id!r}"
                            + (f" (first on line {first})" if first is not None else ""),
                            "claim_id",
                        )
                    if isinstance(item, ImportIssue):
                        if strict:
                            raise MalformedInputError(
                                f"{item.message}; nothing imported (strict)",
                                source=result.source, line=item.line, field=item.field,
                            )
                        result.skipped += 1
                        result.issues.append(item)
                        continue
                    seen[item.claim_id] = line
                    batch.append(item)
                    if len(batch) >= BATCH_SIZE:
                        self._write(conn, table, batch, result)
                        batch = []
                if batch:
                    self._write(conn, table, batch, result)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"import failed and was rolled back, nothing stored: {_reason(exc)}", source=self.target
            ) from exc

    def _write(self, conn: Any, table: Table, batch: list[FactCheck], result: ImportResult) -> None:
        ids = [r.claim_id for r in batch]
        existing = set(conn.execute(select(table.c.claim_id).where(table.c.claim_id.in_(ids))).scalars())
        new = [r for r in batch if r.claim_id not in existing]
        result.already_stored += len(batch) - len(new)
        if not new:
            return
        last = conn.execute(select(func.max(table.c.id))).scalar() or 0
        if self.dialect == "sqlite":
            conn.exec_driver_sql(_SQLITE_INSERT, [r.to_tuple() for r in new])
            conn.exec_driver_sql(_SQLITE_INDEX, (last,))
        else:
            conn.execute(insert(table), [r.to_dict() for r in new])
        ids = conn.execute(
            select(table.c.id, table.c.claim).where(table.c.id > last).order_by(table.c.id)
        ).all()
        keys = lsh_keys(minhash_signatures(claim for _, claim in ids)).tolist()
        pairs = [(k, row[0]) for row, band in zip(ids, keys, strict=True) for k in band]
        if self.dialect == "sqlite":
            conn.exec_driver_sql("INSERT OR IGNORE INTO factcheck_lsh (key, factcheck_id) VALUES (?, ?)", pairs)
        else:
            conn.execute(insert(lsh_table), [{"key": k, "factcheck_id": i} for k, i in set(pairs)])
        result.imported += len(new)

    def delete(self, claim_ids: Iterable[str]) -> int:
        """Remove fact-checks by id; returns how many were removed."""
        ids = list(claim_ids)
        with self.engine.begin() as conn:
            rowids = select(factchecks_table.c.id).where(factchecks_table.c.claim_id.in_(ids))
            conn.execute(lsh_table.delete().where(lsh_table.c.factcheck_id.in_(rowids)))
            res = conn.execute(factchecks_table.delete().where(factchecks_table.c.claim_id.in_(ids)))
        return int(res.rowcount or 0)

    # -- reading --

    def __len__(self) -> int:
        """Count the stored fact-checks."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(factchecks_table)).scalar() or 0)

    def version(self) -> tuple[int, int]:
        """``(count, largest row id)``: changes whenever records are added or removed."""
        with self.engine.connect() as conn:
            row = conn.execute(select(func.count(), func.max(factchecks_table.c.id))).one()
        return int(row[0] or 0), int(row[1] or 0)

    def size_hint(self) -> int:
        """Largest row id: the record count when nothing was deleted, read in O(1)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(factchecks_table.c.id))).scalar() or 0)

    def get(self, claim_id: str) -> FactCheck | None:
        """The fact-check with this id, or ``None``."""
        with self.engine.connect() as conn:
            row = conn.execute(select(*_columns()).where(factchecks_table.c.claim_id == claim_id)).first()
        return FactCheck(*row) if row else None

    def iter_all(self, limit: int | None = None, offset: int = 0, chunk: int = 10_000) -> Iterator[FactCheck]:
        """Stored fact-checks in import order."""
        last = 0
        skipped = 0
        returned = 0
        with self.engine.connect() as conn:
            while True:
                query = (
                    select(factchecks_table.c.id, *_columns())
                    .where(factchecks_table.c.id > last)
                    .order_by(factchecks_table.c.id)
                    .limit(chunk)
                )
                rows = conn.execute(query).all()
                if not rows:
                    return
                for row in rows:
                    last = row[0]
                    if skipped < offset:
                        skipped += 1
                        continue
                    if limit is not None and returned >= limit:
                        return
                    returned += 1
                    yield FactCheck(*row[1:])

    def stats(self) -> dict[str, Any]:
        """Counts: total, by rating, by reviewer and by language (top 20 of each)."""
        out: dict[str, Any] = {"factchecks": len(self), "backend": self.dialect}
        with self.engine.connect() as conn:
            for name in ("rating", "reviewer", "language"):
                col = factchecks_table.c[name]
                rows = conn.execute(
                    select(col, func.count()).group_by(col).order_by(func.count().desc(), col).limit(20)
                ).all()
                out[f"by_{name}"] = {str(k) if k is not None else "(none)": int(v) for k, v in rows}
        return out

    def export(self, out: IO[str], fmt: str = "jsonl") -> int:
        """Write every fact-check to ``out`` as ``jsonl``, ``jsonld`` (an ``@graph``) or ``csv``; returns the count."""
        n = 0
        if fmt == "csv":
            writer = csv.DictWriter(out, fieldnames=list(FIELDS))
            writer.writeheader()
            for rec in self.iter_all():
                writer.writerow(rec.to_dict())
                n += 1
        elif fmt == "jsonl":
            for rec in self.iter_all():
                out.write(json.dumps(rec.to_claimreview(), ensure_ascii=False) + "\n")
                n += 1
        elif fmt == "jsonld":
            out.write('{"@context": "https://schema.org", "@graph": [\n')
            for rec in self.iter_all():
                body = dict(rec.to_claimreview())
                body.pop("@context", None)
                out.write((",\n" if n else "") + json.dumps(body, ensure_ascii=False))
                n += 1
            out.write("\n]}\n")
        else:
            raise UnknownFormatError(f"unknown export format {fmt!r} (jsonl, jsonld, csv)")
        return n

    def search(self, terms: Iterable[str], limit: int = 50) -> list[tuple[FactCheck, float]]:
        """Lexical candidates for a bag of words, best first, with the backend's rank score.

        SQLite ranks with FTS5's BM25 over claim, title and claimant; PostgreSQL with
        ``ts_rank`` over a weighted tsvector. Any term may match (OR query). On SQLite,
        when the terms together match more than :data:`FULL_SCORING_LIMIT` records, only
        the rarest terms (matching up to :data:`SCORED_POSTINGS_BUDGET` records) are
        searched, with the next rarest ones in pairs (records holding both): BM25 costs a
        few microseconds a scored record, which would otherwise grow with the store. The
        re-ranker still compares every word of the query.

        Args:
            terms: query words (lower-cased; stop words already removed).
            limit: most candidates returned.
        """
        words = [w for w in dict.fromkeys(t.lower() for t in terms) if _TERM_RE.fullmatch(w)]
        if not words:
            return []
        try:
            with self.engine.connect() as conn:
                if self.dialect == "sqlite":
                    rows = conn.execute(
                        sql_text(
                            f"SELECT {', '.join('f.' + name for name in FIELDS)}, -s.score FROM "
                            "(SELECT rowid, bm25(factchecks_fts, 1.0, 1.0, 0.5) AS score FROM factchecks_fts "
                            "WHERE factchecks_fts MATCH :q ORDER BY score LIMIT :k) AS s "
                            "JOIN factchecks AS f ON f.id = s.rowid ORDER BY s.score"
                        ),
                        {"q": self._fts_query(conn, words), "k": limit},
                    ).all()
                else:
                    expr = " | ".join(words)
                    rows = conn.execute(
                        sql_text(
                            f"SELECT {', '.join(FIELDS)}, ts_rank(search, q) AS score FROM factchecks, "
                            "to_tsquery('english', :q) AS q WHERE search @@ q ORDER BY score DESC LIMIT :k"
                        ),
                        {"q": expr, "k": limit},
                    ).all()
        except SQLAlchemyError as exc:
            raise StoreError(f"search failed: {_reason(exc)}", source=self.target) from exc
        return [(FactCheck(*row[:-1]), float(row[-1])) for row in rows]

    def near_duplicates(self, text: str, min_jaccard: float = 0.5, limit: int = 10) -> list[tuple[FactCheck, float]]:
        """Stored claims that ``text`` nearly repeats (MinHash LSH), with their estimated Jaccard, best first.

        Args:
            text: the post, de-obfuscated (the pipeline passes the clean headline).
            min_jaccard: smallest estimated Jaccard similarity (of word-pair shingles) kept.
            limit: most records returned.
        """
        import numpy as np

        signature = minhash_signatures([text])
        keys = [int(k) for k in lsh_keys(signature)[0]]
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(*_columns())
                    .where(
                        factchecks_table.c.id.in_(
                            select(lsh_table.c.factcheck_id).where(lsh_table.c.key.in_(keys)).distinct()
                        )
                    )
                    .limit(200)
                ).all()
        except SQLAlchemyError as exc:
            raise StoreError(f"near-duplicate search failed: {_reason(exc)}", source=self.target) from exc
        if not rows:
            return []
        records = [FactCheck(*row) for row in rows]
        similarity = estimated_jaccard(signature[0], minhash_signatures(r.claim for r in records))
        order = np.argsort(-similarity, kind="stable")
        return [(records[i], float(similarity[i])) for i in order if similarity[i] >= min_jaccard][:limit]

    def _fts_query(self, conn: Any, words: list[str]) -> str:
        """FTS5 expression: all words OR-ed, or only the rarest ones when all would match too many records."""
        everything = " OR ".join(f'"{w}"' for w in words)
        size = int(conn.execute(sql_text("SELECT max(id) FROM factchecks")).scalar() or 0)
        if size <= FULL_SCORING_LIMIT:
            return everything
        if self._df_size != size:
            self._df.clear()
            self._df_size = size
        counts = []
        for w in words:
            if w not in self._df:
                if len(self._df) > 100_000:
                    self._df.clear()
                self._df[w] = int(
                    conn.execute(
                        sql_text(
                            "SELECT count(*) FROM (SELECT 1 FROM factchecks_fts WHERE factchecks_fts MATCH :q "
                            "LIMIT :cap)"
                        ),
                        {"q": f'"{w}"', "cap": FULL_SCORING_LIMIT + 1},
                    ).scalar()
                    or 0
                )
            counts.append((self._df[w], w))
        counts.sort()
        if sum(c for c, _ in counts) <= FULL_SCORING_LIMIT:
            return everything
        core: list[str] = []
        total = 0
        for count, w in counts:
            if total + count > SCORED_POSTINGS_BUDGET:
                break
            core.append(w)
            total += count
        # The next-rarest words count only in pairs: records holding two of them are few,
        # and a re-post whose rarest word is common still finds its claim.
        rest = [w for _, w in counts[len(core) : len(core) + PAIRED_TERMS]]
        pairs = [f'("{a}" AND "{b}")' for i, a in enumerate(rest) for b in rest[i + 1 :]]
        parts = [f'"{w}"' for w in core] + pairs
        return " OR ".join(parts) if parts else everything


def _is_blank(path: Path) -> bool:
    """Whether a file holds nothing but white space (and a byte-order mark)."""
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            if chunk.replace(b"\xef\xbb\xbf", b"").strip():
                return False
    return True


def _columns() -> list[Column[Any]]:
    return [factchecks_table.c[name] for name in FIELDS]


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return f"{exc.__class__.__name__}: {orig}" if orig is not None else exc.__class__.__name__


def parse_mapping(pairs: Iterable[str]) -> dict[str, str]:
    """``["claim=vclaim", "claim_id=id"]`` -> ``{"claim": "vclaim", "claim_id": "id"}``.

    Raises:
        UnknownFormatError: a pair is not ``FIELD=COLUMN`` or names an unknown field.
    """
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        name = name.strip()
        if not sep or name not in FIELDS:
            raise UnknownFormatError(f"bad column mapping {pair!r}: use FIELD=COLUMN, FIELD one of {', '.join(FIELDS)}")
        out[name] = column
    return out


def dumps_records(records: Iterable[FactCheck]) -> str:
    """Records as JSONL text (flat form), e.g. for tests and fixtures."""
    buf = io.StringIO()
    for rec in records:
        buf.write(json.dumps(rec.to_dict(), ensure_ascii=False) + "\n")
    return buf.getvalue()
