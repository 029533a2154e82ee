"""CLEF CheckThat! 2020 Task 2 files read for claim matching, the ranking metrics, and the claims' copies.

Part of the claim-matching trainer (:mod:`overclaim.training.claim_matching`, which re-exports every name).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from overclaim.errors import DataError, FileNotFound
from overclaim.store.factchecks import FactCheck, FactCheckStore

DATA_DIR = Path("../shared/data/claim_matching")
SEED = 0


@dataclass
class ClefSplit:
    """Queries (id -> text) and their relevant claim ids."""

    queries: dict[str, str]
    qrels: dict[str, set[str]]


def _tsv_rows(path: Path) -> list[list[str]]:
    if not path.exists():
        raise FileNotFound("no such file", source=str(path))
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.reader(fh, delimiter="\t"))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read as UTF-8 TSV: {exc}", source=str(path)) from exc


def read_claims(path: str | Path) -> list[FactCheck]:
    """Verified claims from a CLEF ``verified_claims.docs.tsv`` file.

    Raises:
        DataError: a row does not have id, claim and title columns.
    """
    path = Path(path)
    rows = _tsv_rows(path)
    out = []
    for n, row in enumerate(rows[1:], 2):
        if not row:
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise DataError("expected id, claim text and title columns", source=str(path), line=n)
        out.append(FactCheck(claim_id=row[0].strip(), claim=row[1].strip(),
                             title=row[2].strip() if len(row) > 2 and row[2].strip() else None))
    if not out:
        raise DataError("no claims", source=str(path))
    return out


def read_queries(path: str | Path) -> dict[str, str]:
    """Query id -> text from a CLEF ``tweets.queries.tsv`` file (header row first)."""
    path = Path(path)
    out: dict[str, str] = {}
    for n, row in enumerate(_tsv_rows(path)[1:], 2):
        if not row:
            continue
        if len(row) < 2 or not row[0].strip():
            raise DataError("expected a query id and its text", source=str(path), line=n)
        out[row[0].strip()] = row[1]
    if not out:
        raise DataError("no queries", source=str(path))
    return out


def read_qrels(path: str | Path) -> dict[str, set[str]]:
    """Query id -> relevant claim ids from a TREC-style qrels file (``qid 0 claim_id relevance``)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFound("no such file", source=str(path))
    out: dict[str, set[str]] = defaultdict(set)
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise DataError("expected 'query_id 0 claim_id relevance'", source=str(path), line=n)
        if parts[3] != "0":
            out[parts[0]].add(parts[2])
    return dict(out)


def load_split(data_dir: str | Path, split: str) -> ClefSplit:
    """The ``train`` or ``dev`` split of a CLEF 2020 Task 2 folder."""
    folder = Path(data_dir) / split
    return ClefSplit(read_queries(folder / "tweets.queries.tsv"), read_qrels(folder / "tweet-vclaim-pairs.qrels"))


def average_precision(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """AP@k: mean of precision at each relevant hit in the top ``k``, over min(|relevant|, k)."""
    if not relevant:
        return 0.0
    hits = 0
    total = 0.0
    for i, cid in enumerate(ranked[:k], 1):
        if cid in relevant:
            hits += 1
            total += hits / i
    return total / min(len(relevant), k)


def ranking_metrics(rankings: Mapping[str, Sequence[str]], qrels: Mapping[str, set[str]]) -> dict[str, float]:
    """MAP@1, MAP@3, MAP@5, MAP@10 and recall@5 over the queries that have relevance judgements."""
    qids = [q for q in qrels if qrels[q]]
    if not qids:
        raise DataError("no query has a relevant claim in the qrels")
    out: dict[str, float] = {}
    for k in (1, 3, 5, 10):
        out[f"map@{k}"] = float(np.mean([average_precision(rankings.get(q, []), qrels[q], k) for q in qids]))
    out["recall@5"] = float(np.mean([len(set(rankings.get(q, [])[:5]) & qrels[q]) / len(qrels[q]) for q in qids]))
    return out


def verbatim_copies(claims: Iterable[FactCheck]) -> dict[str, frozenset[str]]:
    """Claim id -> ids of the claims with the same words (case, quotes and punctuation aside), itself included.

    The CLEF 2020 claims file holds 184 such sets (369 claims, mostly one text with straight and
    one with curly quotes); 190 of 800 train and 49 of 197 dev queries have a claim with a copy. A
    query whose judged claim is held out of the store still has its copy there, which is the same
    claim, not a false match: copies are held out together and count as right.
    """
    import re

    by_text: dict[str, list[str]] = defaultdict(list)
    for fc in claims:
        by_text[" ".join(re.findall(r"[^\W_]+", fc.claim.lower()))].append(fc.claim_id)
    return {cid: frozenset(ids) for ids in by_text.values() for cid in ids}


def same_claims(relevant: Iterable[str], copies: Mapping[str, frozenset[str]]) -> set[str]:
    """``relevant`` with their verbatim copies (:func:`verbatim_copies`)."""
    return {c for r in relevant for c in copies.get(r, frozenset({r}))}


def build_store(claims: Iterable[FactCheck], folder: str | Path) -> FactCheckStore:
    """A fresh SQLite store in ``folder`` holding ``claims``."""
    store = FactCheckStore(str(Path(folder) / "claims.sqlite"))
    store.add(claims, source="claims")
    return store

def _folds(n: int, k: int = 5, seed: int = SEED) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    return [order[i::k] for i in range(k)]
