"""The fact-check store: schema.org ClaimReview records the user owns, searchable offline.

The record model and ClaimReview parsing live in claimreview.py, the file readers in
claimreview_files.py, the search filters in filters.py, MinHash in overclaim.matching.minhash.

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
import json
import re
from collections.abc import Iterable, Iterator, Mapping
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
    MalformedInputError,
    StoreError,
    UnknownFormatError,
)
from overclaim.matching.minhash import (
    LSH_BANDS,
    LSH_ROWS,
    MINHASH_SEED,
    NUM_PERM,
    SHINGLE_WORDS,
    estimated_jaccard,
    lsh_keys,
    minhash_signatures,
    shingle_hashes,
    shingle_text,
)
from overclaim.store.claimreview import (
    ADDED_FIELDS,
    ALIASES,
    FIELDS,
    JSON_FIELDS,
    MAX_CLAIM_CHARS,
    FactCheck,
    dumps_records,
    from_claimreview,
    from_flat,
    parse_mapping,
)
from overclaim.store.claimreview_files import (
    MAX_JSON_DOCUMENT_BYTES,
    ImportIssue,
    ImportResult,
    detect_format,
    read_records,
)
from overclaim.store.db import DEFAULT_DB, create_tables, engine
from overclaim.store.filters import FactCheckFilter

if TYPE_CHECKING:
    pass

# Names that moved to overclaim.matching and the store's own modules: imported from here
# they keep working (listed so the linters see them used).
__all__ = [
    "ADDED_FIELDS", "ALIASES", "FIELDS", "FactCheck", "FactCheckFilter", "ImportIssue", "ImportResult",
    "JSON_FIELDS", "LSH_BANDS", "LSH_ROWS", "MAX_CLAIM_CHARS", "MAX_JSON_DOCUMENT_BYTES", "MINHASH_SEED",
    "NUM_PERM", "SHINGLE_WORDS", "detect_format", "dumps_records", "estimated_jaccard", "from_claimreview",
    "from_flat", "lsh_keys", "minhash_signatures", "parse_mapping", "read_records", "shingle_hashes",
    "shingle_text",
]

metadata = MetaData()



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

# Rows written per INSERT batch; 5,000 keeps memory flat and inserts fast (SQLite and PostgreSQL).
BATCH_SIZE = 5_000



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


