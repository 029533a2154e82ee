"""The ClaimReview model of a stored fact-check: its fields, column aliases and parsing.

ClaimReview JSON-LD and flat records are read into :class:`FactCheck`; records are written back
as JSON-LD lines.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from overclaim.errors import (
    UnknownFormatError,
)

if TYPE_CHECKING:
    pass


FIELDS = ("claim_id", "claim", "title", "claimant", "claim_date", "rating", "reviewer", "url", "language",
          "review_date", "rating_value", "best_rating", "worst_rating", "claimant_type", "claimant_url",
          "reviewer_type", "reviewer_url", "appearance", "first_appearance")
_FIELD_SET = frozenset(FIELDS)
# Fields added after the first release: a store made before them gains them (empty) when opened.
ADDED_FIELDS = FIELDS[10:]


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
