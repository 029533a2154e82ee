"""The claim matcher: lexical retrieval, re-ranking and same-claim calibration over a fact-check store."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from overclaim.matching.embeddings import (
    EMBED_FEATURES,
    EMBED_NEIGHBOURS,
    ClaimEmbeddings,
    QueryEmbedding,
    embedding_features,
    static_features,
)
from overclaim.matching.encoders import require_embeddings
from overclaim.matching.features import (
    EMBED_PAIR_FEATURES,
    LEXICAL_FEATURES,
    abstain_features,
    calibration_features,
    calibrator_inputs,
    pair_features,
)
from overclaim.matching.text import expand, query_terms
from overclaim.report import FactCheckMatch
from overclaim.store.claimreview import FactCheck
from overclaim.store.factchecks import FactCheckStore
from overclaim.store.filters import FactCheckFilter

ARTIFACT = "claim_matching"
# Re-ranker trained with the sentence-embedding features (``embeddings`` extra).
EMBED_ARTIFACT = "claim_matching_embed"



# Estimated Jaccard (word pairs, MinHash) from which a stored claim counts as nearly repeated
# by a post. 0.5: a 10-word claim re-posted with two words changed scores about 0.5.
NEAR_DUPLICATE_JACCARD = 0.5
# Candidates re-ranked per query. On CLEF 2020 train, 50 holds the right claim for
# 97% of tweets (recall@50), and 100 adds under 1 point.
CANDIDATES = 50
# With filters (language, age, publisher), this many times CANDIDATES lexical candidates are
# fetched before the filters keep CANDIDATES of them. A choice, not tuned: 4 keeps the candidate
# list full while up to three quarters of the best matches are filtered out.
FILTERED_SEARCH_FACTOR = 4



@dataclass
class ScoredCandidate:
    """A retrieved fact-check with its re-ranker score and same-claim probability."""

    factcheck: FactCheck
    retrieval_score: float
    score: float
    probability: float
    near_duplicate: float | None = None

    def to_match(self) -> FactCheckMatch:
        """The report's :class:`~overclaim.report.FactCheckMatch`."""
        fc = self.factcheck
        return FactCheckMatch(
            claim_id=fc.claim_id,
            claim=fc.claim,
            rating=fc.rating_label,
            reviewer=fc.reviewer,
            url=fc.url,
            score=round(self.score, 4),
            probability=round(min(1.0, max(0.0, self.probability)), 4),
            claimant=fc.claimant,
            claim_date=fc.claim_date,
            review_date=fc.review_date,
            language=fc.language,
        )


class ClaimMatcher:
    """Finds stored fact-checks of the claim in a text: retrieval, re-ranking, calibration.

    Args:
        store: the fact-check store (or its path/URL).
        model: the trained re-ranker bundle (``{"ranker", "calibrator", ...}``); loaded
            from the ``claim_matching`` artifact when ``None``.
        candidates: how many lexical candidates are re-ranked.
        embeddings: add sentence-embedding nearest neighbours to the candidates and cosine
            features to the re-ranker (``claim_matching_embed`` artifact); needs the
            ``embeddings`` extra.
        embeddings_path: ``.npz`` file caching the claim embeddings; next to a SQLite
            store's file when ``None`` (in memory only for database URLs).

    Raises:
        ExtraNotInstalledError: ``embeddings`` is asked for without the extra installed.
    """

    def __init__(self, store: FactCheckStore | str, model: dict[str, Any] | None = None,
                 candidates: int = CANDIDATES, embeddings: bool = False,
                 embeddings_path: str | Path | None = None) -> None:
        if embeddings:
            require_embeddings()
        self.store = store if isinstance(store, FactCheckStore) else FactCheckStore(store)
        self._model = model
        self.candidates = candidates
        self.embeddings = embeddings
        self.embeddings_path = embeddings_path
        self._claim_embeddings: ClaimEmbeddings | None = None

    @property
    def model(self) -> dict[str, Any]:
        """The re-ranker bundle, loaded on first use."""
        if self._model is None:
            from overclaim.resources import load_artifact

            self._model = load_artifact(EMBED_ARTIFACT if self.embeddings else ARTIFACT)
        return self._model

    def retrieve(self, text: str) -> tuple[str, list[tuple[FactCheck, float]]]:
        """The expanded query and its candidates: lexical ones best first, then near-duplicates not among them."""
        query, found, _, _ = self._retrieve(text)
        return query, found

    def candidates_of(self, text: str) -> tuple[list[tuple[FactCheck, float]], np.ndarray]:
        """The candidates for ``text`` and their feature matrix (columns :attr:`feature_names`)."""
        query, found, _, qvec = self._retrieve(text)
        return found, self.features(query, found, qvec, post=text)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Re-ranker columns: :data:`LEXICAL_FEATURES`; with embeddings `EMBED_PAIR_FEATURES` + `EMBED_FEATURES`."""
        return (*EMBED_PAIR_FEATURES, *EMBED_FEATURES) if self.embeddings else LEXICAL_FEATURES

    @property
    def claim_embeddings(self) -> ClaimEmbeddings:
        """Embeddings of the stored claims, computed (or read from their file) on first use."""
        if self._claim_embeddings is None:
            self._claim_embeddings = ClaimEmbeddings.for_store(self.store, self.embeddings_path)
        return self._claim_embeddings

    def features(
        self, query: str, found: Sequence[tuple[FactCheck, float]],
        qvec: np.ndarray | QueryEmbedding | None = None, post: str | None = None,
        embedded: ClaimEmbeddings | None = None, skip: Collection[str] = (),
    ) -> np.ndarray:
        """Feature matrix of ``found`` for the expanded ``query`` (and its embeddings, with embeddings).

        ``post`` is the text before :func:`expand` (see :func:`pair_features`). The model's
        ``adapter`` (if any) maps the post embedding for the ``adapt_*`` features. ``embedded``
        stands for the store's claim embeddings (training: a smaller store), and stored claims
        ``skip`` count as absent from it.
        """
        feats = pair_features(query, found, post=post)
        if not self.embeddings:
            return np.hstack([feats, static_features(post if post is not None else query, [fc for fc, _ in found])])
        feats = feats[:, : len(EMBED_PAIR_FEATURES)]
        if qvec is None:
            return feats
        cos = embedding_features(embedded or self.claim_embeddings, qvec, [fc.claim_id for fc, _ in found],
                                 adapter=self.model.get("adapter"), e5_adapter=self.model.get("e5_adapter"),
                                 skip=skip)
        return np.hstack([feats, cos])

    def _retrieve(
        self, text: str, where: FactCheckFilter | None = None, exclude: Collection[str] = ()
    ) -> tuple[str, list[tuple[FactCheck, float]], dict[str, float], QueryEmbedding | None]:
        """Expanded query, candidates, near-duplicate Jaccards and query embedding.

        Stored claims ``exclude`` are treated as not stored (evaluation and training hold a query's
        own claims out this way; the index's word statistics still count them, a negligible change).
        """
        query = expand(text)
        limit = self.candidates * (FILTERED_SEARCH_FACTOR if where else 1) + len(exclude)
        found = self.store.search(query_terms(query), limit=limit)
        found = [
            (fc, score) for fc, score in found if fc.claim_id not in exclude and (not where or where.accepts(fc))
        ][: self.candidates]
        seen = {fc.claim_id for fc, _ in found}
        near: dict[str, float] = {}
        for fc, jaccard in self.store.near_duplicates(text, min_jaccard=NEAR_DUPLICATE_JACCARD):
            if fc.claim_id in exclude or (where and not where.accepts(fc)):
                continue
            near[fc.claim_id] = jaccard
            if fc.claim_id not in seen:
                found.append((fc, 0.0))
                seen.add(fc.claim_id)
        qvec = None
        if self.embeddings:
            qvec = QueryEmbedding.of(query)
            for cid, _cos in self.claim_embeddings.nearest(qvec.whole, EMBED_NEIGHBOURS, skip=exclude):
                if cid not in seen and (neighbour := self.store.get(cid)) is not None and (
                    not where or where.accepts(neighbour)
                ):
                    found.append((neighbour, 0.0))
                    seen.add(cid)
        return query, found, near, qvec

    def probabilities(
        self, query: str, factchecks: Sequence[FactCheck], feats: np.ndarray, scores: np.ndarray
    ) -> np.ndarray:
        """Calibrated same-claim probabilities of one post's candidates from their features and ranker scores.

        A bundle without ``calibrator_columns`` (trained before the calibrator learned to abstain) reads
        the score and its lead only.
        """
        model = self.model
        if "calibrator_columns" not in model:
            x = calibration_features(scores)
        else:
            x = calibrator_inputs(scores, feats, self.feature_names, abstain_features(query, factchecks))
        return np.asarray(model["calibrator"].predict_proba(x)[:, 1], dtype=np.float64)

    def rank(
        self, text: str, where: FactCheckFilter | None = None, exclude: Collection[str] = ()
    ) -> list[ScoredCandidate]:
        """All candidates for ``text``, re-ranked best first, with calibrated probabilities.

        ``where`` keeps only the fact-checks it accepts (language, age, publisher) among the
        candidates, before they are scored: the search runs as in a store holding only those,
        so a second publisher's review of the same claim is not ranked (and calibrated) under
        the first's. Stored claims ``exclude`` are treated as not stored (see :meth:`_retrieve`).
        """
        query, found, near, qvec = self._retrieve(text, where, exclude)
        if not found:
            return []
        model = self.model
        feats = self.features(query, found, qvec, post=text, skip=exclude)
        scores = np.asarray(model["ranker"].predict(feats), dtype=np.float64)
        probs = self.probabilities(query, [fc for fc, _ in found], feats, scores)
        order = np.argsort(-scores, kind="stable")
        return [
            ScoredCandidate(found[i][0], found[i][1], float(scores[i]), float(probs[i]),
                            near.get(found[i][0].claim_id))
            for i in order
        ]

    def match(self, text: str, top_k: int = 3, min_probability: float = 0.5,
              where: FactCheckFilter | None = None) -> list[FactCheckMatch]:
        """The best ``top_k`` fact-checks ``where`` accepts, same-claim probability at least ``min_probability``."""
        return [c.to_match() for c in self.rank(text, where)[:top_k] if c.probability >= min_probability]
