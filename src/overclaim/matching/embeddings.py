"""Embedding features of claim matching: post and claim vectors, the claim-vector cache, cosine blocks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from overclaim.matching.encoders import _CACHE_MODELS, e5_encode, sentence_encoder, static_encode
from overclaim.matching.features import STATIC_FEATURES, _rank_and_gap
from overclaim.matching.text import strip_signature
from overclaim.store.claimreview import FactCheck
from overclaim.store.factchecks import FactCheckStore

# Claims added to the candidates by embedding nearest neighbours (cosine, brute force).
EMBED_NEIGHBOURS = 20
# Cosines of the post (expanded, e5's "query: " prefix) with each candidate's claim and title
# ("passage: "; a fact-check without a title stands for it with its claim), their mean, its log
# rank and lead among the candidates and its log rank among all stored claims; then the same for
# the post through e5's own trained adapter. multilingual-e5-small is trained for retrieval and
# errs elsewhere than MiniLM: chosen by train CV MAP@5 (5 folds, 3 splits, cached candidates),
# 0.9318 -> 0.9361 with the plain block, 0.9388 with the adapted one, 0.9393 with both; the
# raw post (not expanded) as a third block 0.9380. Its adapted cosine alone ranks the candidates
# at 0.8675 (out of fold), MiniLM's at 0.8632.
E5_FEATURES = (
    "e5_claim", "e5_title", "e5_mean", "e5_log_rank", "e5_gap", "e5_global_log_rank",
    "e5a_claim", "e5a_title", "e5a_mean", "e5a_log_rank", "e5a_gap", "e5a_global_log_rank",
)
# Cosines of the whole post; of its best-matching sentence (pieces of a tweet often carry
# different claims), summed with the whole; and of the post through the trained adapter
# (rank among all stored claims, and a reciprocal-rank fusion of that rank with the lexical one).
EMBED_FEATURES = (
    "cos_claim", "cos_title", "cos_best", "cos_log_rank", "cos_gap",
    "sent_claim", "sent_title", "sent_mean", "sent_comb", "sent_log_rank", "sent_gap",
    "adapt_claim", "adapt_title", "adapt_mean", "adapt_log_rank", "adapt_gap", "adapt_global_log_rank",
    "adapt_rrf",
    *E5_FEATURES,
)
# A post sentence of fewer words than this is not embedded on its own.
MIN_PIECE_WORDS = 3
_PIECE_SPLIT_RE = re.compile(r"(?<=[.!?…])\s+|\n+|\s+[—–]\s+")


def query_pieces(query: str) -> list[str]:
    """Sentences of an expanded post (signature left out) of at least :data:`MIN_PIECE_WORDS` words."""
    pieces = (p.strip() for p in _PIECE_SPLIT_RE.split(strip_signature(query)))
    return [p for p in pieces if len(p.split()) >= MIN_PIECE_WORDS]


@dataclass
class QueryEmbedding:
    """Embeddings of a post: the whole expanded text (``whole``), its sentences (``pieces``, rows), and e5's vector.

    ``e5`` is ``None`` for a bare MiniLM vector (its e5 features are then missing).
    """

    whole: np.ndarray
    pieces: np.ndarray
    e5: np.ndarray | None = None

    @classmethod
    def of(cls, query: str) -> QueryEmbedding:
        """Encode an expanded post and its :func:`query_pieces` in one batch, and the post under e5."""
        vectors = encode([query, *query_pieces(query)])
        return cls(vectors[0], vectors[1:], e5_encode([query], query=True)[0])


def adapt(qvec: np.ndarray, adapter: np.ndarray | None) -> np.ndarray:
    """``qvec`` through the trained linear adapter: ``q + q @ A``, unit length (``qvec`` when ``None``)."""
    if adapter is None:
        return qvec
    out = qvec + qvec @ adapter.astype(np.float32)
    return (out / (np.linalg.norm(out) or 1.0)).astype(np.float32)


def encode(texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length float32 sentence embeddings (one row per text)."""
    vectors = sentence_encoder().encode(
        list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False,
        convert_to_numpy=True,
    )
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


@dataclass
class ClaimEmbeddings:
    """Embeddings of a store's claims and titles under MiniLM and e5 (float16 on disk, float32 in memory).

    Brute-force cosine search: a 10k-claim store costs 15 MB of memory per matrix (four
    matrices) and a few milliseconds a query; a 1M store would take 768 MB on disk per matrix
    (float16), 1.5 GB in memory (float32; 6 GB for the four) and eight 1M x 384 matrix-vector
    products a query (nearest neighbours, and the rank among all claims of the adapted MiniLM,
    plain e5 and adapted e5 cosines; one product is 55 ms at the median in
    ``benchmarks/claim_matching.py``): past ~100k claims use an ANN index.
    A claim without a title has a zero MiniLM title vector and its claim's e5 vector as e5 title.
    """

    ids: list[str]
    claims: np.ndarray
    titles: np.ndarray
    e5_claims: np.ndarray
    e5_titles: np.ndarray

    def __post_init__(self) -> None:
        self.index = {cid: i for i, cid in enumerate(self.ids)}

    @classmethod
    def for_store(cls, store: FactCheckStore, path: str | Path | None = None) -> ClaimEmbeddings:
        """Embeddings of every stored claim: those cached in ``path`` are reused, the rest encoded (and saved)."""
        if path is None and store.dialect == "sqlite" and "://" not in store.target and store.target != ":memory:":
            path = Path(store.target).with_suffix(".embeddings.npz")
        records = list(store.iter_all())
        names = ("claims", "titles", "e5_claims", "e5_titles")
        cached: dict[str, tuple[str, list[np.ndarray]]] = {}
        if path is not None and Path(path).exists():
            with np.load(path, allow_pickle=False) as data:
                if str(data["model"]) == _CACHE_MODELS:
                    columns = [data[name] for name in names]
                    for row, (cid, key) in enumerate(zip(data["ids"], data["keys"], strict=True)):
                        cached[str(cid)] = (str(key), [col[row] for col in columns])
        keys = [_text_key(fc) for fc in records]
        todo = [i for i, (fc, key) in enumerate(zip(records, keys, strict=True))
                if cached.get(fc.claim_id, ("",))[0] != key]
        dim = 384
        mats = {name: np.zeros((len(records), dim), dtype=np.float16) for name in names}
        for i, fc in enumerate(records):
            hit = cached.get(fc.claim_id)
            if hit is not None and hit[0] == keys[i]:
                for name, vec in zip(names, hit[1], strict=True):
                    mats[name][i] = vec
        if todo:
            mats["claims"][todo] = encode([records[i].claim for i in todo]).astype(np.float16)
            with_title = [i for i in todo if records[i].title]
            if with_title:
                mats["titles"][with_title] = encode([records[i].title or "" for i in with_title]).astype(np.float16)
            mats["e5_claims"][todo] = e5_encode([records[i].claim for i in todo], query=False).astype(np.float16)
            mats["e5_titles"][todo] = mats["e5_claims"][todo]
            if with_title:
                mats["e5_titles"][with_title] = e5_encode([records[i].title or "" for i in with_title],
                                                          query=False).astype(np.float16)
            if path is not None:
                np.savez(path, model=np.array(_CACHE_MODELS), ids=np.array([fc.claim_id for fc in records]),
                         keys=np.array(keys), **mats)  # type: ignore[arg-type]
        return cls([fc.claim_id for fc in records], *(mats[name].astype(np.float32) for name in names))

    @cached_property
    def e5_space(self) -> ClaimEmbeddings:
        """The same claims with the e5 matrices in the MiniLM places (for the e5 cosines and adapter)."""
        return ClaimEmbeddings(self.ids, self.e5_claims, self.e5_titles, self.e5_claims, self.e5_titles)

    def subset(self, claim_ids: Sequence[str]) -> ClaimEmbeddings:
        """The embeddings of ``claim_ids`` alone (a smaller store of known claims)."""
        rows = [self.index[c] for c in claim_ids]
        return ClaimEmbeddings(list(claim_ids), self.claims[rows], self.titles[rows], self.e5_claims[rows],
                               self.e5_titles[rows])

    def rows_of(self, claim_ids: Collection[str]) -> np.ndarray:
        """Row numbers of the known ids among ``claim_ids``."""
        return np.array(sorted(self.index[c] for c in claim_ids if c in self.index), dtype=np.int64)

    def nearest(self, qvec: np.ndarray, k: int, skip: Collection[str] = ()) -> list[tuple[str, float]]:
        """The ``k`` claims closest to ``qvec`` (best cosine with claim or title), best first, ``skip`` left out."""
        if not self.ids or k <= 0:
            return []
        sims = np.maximum(self.claims @ qvec, self.titles @ qvec)
        if skip:
            sims[self.rows_of(skip)] = -np.inf
            k = min(k, len(sims) - len(self.rows_of(skip)))
            if k <= 0:
                return []
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(self.ids[i], float(sims[i])) for i in top]

    def cosines(self, qvec: np.ndarray, claim_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Cosine of ``qvec`` with the claim and with the title of each id (0 when unknown)."""
        rows = [self.index.get(cid, -1) for cid in claim_ids]
        known = np.array([r >= 0 for r in rows], dtype=bool)
        idx = np.array([max(r, 0) for r in rows], dtype=np.int64)
        claim_cos = np.where(known, self.claims[idx] @ qvec, 0.0) if rows else np.zeros(0)
        title_cos = np.where(known, self.titles[idx] @ qvec, 0.0) if rows else np.zeros(0)
        return claim_cos, title_cos


    def mean_cosines(self, qvec: np.ndarray) -> np.ndarray:
        """Mean of the claim and the title cosine of ``qvec`` with every stored claim (store order)."""
        return np.asarray((self.claims @ qvec + self.titles @ qvec) / 2, dtype=np.float32)


def _text_key(fc: FactCheck) -> str:
    return hashlib.sha1(f"{fc.claim}\x00{fc.title or ''}".encode()).hexdigest()[:16]


def _cosine_block(
    embedded: ClaimEmbeddings, qvec: np.ndarray, claim_ids: Sequence[str], skip: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Claim and title cosines, their mean, its log rank and lead, and its log rank among all stored claims.

    Rows ``skip`` of ``embedded`` count as not stored (claims held out of the store).

    Returns:
        Those 6 columns, and the rank among all stored claims itself.
    """
    claim_cos, title_cos = embedded.cosines(qvec, claim_ids)
    mean = (claim_cos + title_cos) / 2
    log_rank, gap = _rank_and_gap(mean)
    everything = embedded.mean_cosines(qvec)
    if skip is not None and len(skip):
        everything[skip] = -np.inf
    global_rank = (everything[None, :] > mean[:, None].astype(np.float32)).sum(axis=1) + 1
    return np.column_stack([claim_cos, title_cos, mean, log_rank, gap, np.log(global_rank)]), global_rank


def e5_features(
    embedded: ClaimEmbeddings, e5vec: np.ndarray | None, claim_ids: Sequence[str], adapter: np.ndarray | None = None,
    skip: np.ndarray | None = None,
) -> np.ndarray:
    """Columns :data:`E5_FEATURES` for the candidates ``claim_ids`` of a post with e5 vector ``e5vec``.

    Without one (a bare MiniLM vector) they are NaN, which LightGBM takes as missing (zeros would
    read as "ranked first").
    """
    if e5vec is None:
        return np.full((len(claim_ids), len(E5_FEATURES)), np.nan)
    space = embedded.e5_space
    plain, _ = _cosine_block(space, e5vec, claim_ids, skip)
    adapted, _ = _cosine_block(space, adapt(e5vec, adapter), claim_ids, skip)
    return np.hstack([plain, adapted])


def embedding_features(
    embedded: ClaimEmbeddings, qvec: np.ndarray | QueryEmbedding, claim_ids: Sequence[str],
    adapter: np.ndarray | None = None, e5_adapter: np.ndarray | None = None, skip: Collection[str] = (),
) -> np.ndarray:
    """Columns :data:`EMBED_FEATURES` for the candidates ``claim_ids`` (in retrieval order) of a post.

    Args:
        embedded: the store's claim embeddings.
        qvec: the post's embeddings (a bare MiniLM vector counts as a post of one sentence, without e5).
        claim_ids: the candidates, in retrieval order (their lexical rank feeds ``adapt_rrf``).
        adapter: the trained ``384 x 384`` MiniLM query adapter; none (identity) when ``None``.
        e5_adapter: the same for e5 post vectors.
        skip: stored claims that count as not stored (held out), for the ranks among all stored claims.
    """
    query = qvec if isinstance(qvec, QueryEmbedding) else QueryEmbedding(qvec, np.zeros((0, len(qvec))))
    n = len(claim_ids)
    if n == 0:
        return np.zeros((0, len(EMBED_FEATURES)))
    claim_cos, title_cos = embedded.cosines(query.whole, claim_ids)
    best = np.maximum(claim_cos, title_cos)
    cos_log_rank, cos_gap = _rank_and_gap(best)
    whole_mean = (claim_cos + title_cos) / 2
    if len(query.pieces):
        rows = [embedded.index.get(cid, -1) for cid in claim_ids]
        known = np.array([[r >= 0] for r in rows], dtype=bool)
        idx = np.array([max(r, 0) for r in rows], dtype=np.int64)
        piece_claim = np.where(known, embedded.claims[idx] @ query.pieces.T, 0.0)
        piece_title = np.where(known, embedded.titles[idx] @ query.pieces.T, 0.0)
        sent_claim = piece_claim.max(axis=1)
        sent_title = piece_title.max(axis=1)
        sent_mean = ((piece_claim + piece_title) / 2).max(axis=1)
    else:
        sent_claim, sent_title, sent_mean = claim_cos, title_cos, whole_mean
    sent_comb = whole_mean + sent_mean
    sent_log_rank, sent_gap = _rank_and_gap(sent_comb)
    skip_rows = embedded.rows_of(skip) if skip else None
    adapted, global_rank = _cosine_block(embedded, adapt(query.whole, adapter), claim_ids, skip_rows)
    rrf = 1.0 / (60.0 + np.arange(1, n + 1)) + 1.0 / (60.0 + global_rank)
    return np.column_stack([
        claim_cos, title_cos, best, cos_log_rank, cos_gap,
        sent_claim, sent_title, sent_mean, sent_comb, sent_log_rank, sent_gap,
        adapted, rrf,
        e5_features(embedded, query.e5, claim_ids, e5_adapter, skip_rows),
    ])



def static_features(post: str, factchecks: Sequence[FactCheck]) -> np.ndarray:
    """Columns :data:`STATIC_FEATURES` for the candidates ``factchecks`` of a post (the text before :func:`expand`)."""
    n = len(factchecks)
    if n == 0:
        return np.zeros((0, len(STATIC_FEATURES)))
    titled = [i for i, fc in enumerate(factchecks) if fc.title]
    vectors = static_encode([strip_signature(post), *(fc.claim for fc in factchecks),
                             *(factchecks[i].title or "" for i in titled)])
    q = vectors[0]
    claim_cos = (vectors[1 : n + 1] @ q).astype(np.float64)
    title_cos = claim_cos.copy()  # a fact-check without a title stands for it with its claim
    title_cos[titled] = vectors[n + 1 :] @ q
    mean = (claim_cos + title_cos) / 2
    log_rank, gap = _rank_and_gap(mean)
    return np.column_stack([claim_cos, title_cos, mean, log_rank, gap])
