"""Pair features of a post and a candidate fact-check, and the calibrator's abstain features."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from overclaim.matching.text import (
    _MEDIA_CLAIM_RE,
    _MEDIA_POST_RE,
    _NAME_RE,
    _NUM_RE,
    _VIDEO_CLAIM_RE,
    _VIDEO_POST_RE,
    _YEAR_RE,
    STOP_WORDS,
    _stem,
    _weight,
    strip_signature,
    words,
)
from overclaim.store.claimreview import FactCheck


@dataclass
class _Side:
    """Pre-computed views of one text for the pair features."""

    lower: str
    stems: dict[str, float]
    bigrams: set[tuple[str, str]]
    raw: set[str]
    numbers: set[str]
    years: set[str]
    names: set[str]
    shingles: set[str]

    @classmethod
    def of(cls, text: str, with_shingles: bool = True) -> _Side:
        all_words = words(text)
        content = [w for w in all_words if w not in STOP_WORDS and not (len(w) == 1 and not w.isdigit())]
        stems: dict[str, float] = {}
        seq = []
        for w in content:
            s = _stem(w)
            seq.append(s)
            weight = _weight(w)
            if weight > stems.get(s, 0.0):
                stems[s] = weight
        lower = " ".join(all_words)
        return cls(
            lower=lower,
            stems=stems,
            bigrams=set(zip(seq, seq[1:], strict=False)),
            raw=set(content),
            numbers=set(_NUM_RE.findall(text)),
            years=set(_YEAR_RE.findall(text)) if "19" in text or "20" in text else set(),
            names={n.lower() for n in _NAME_RE.findall(text)},
            shingles={lower[i : i + 5] for i in range(max(1, len(lower) - 4))} if with_shingles else set(),
        )


# Pair features also given as their distance to the query's best candidate (value minus the
# query's maximum), so the ranker sees each candidate against its rivals on each of them.
_MAX_GAP_LEX = (
    "cover_query_claim", "cover_claim", "cover_query_title", "cover_title", "cover_both", "bigrams",
    "fuzz_set_claim", "fuzz_set_title", "fuzz_partial_title", "fuzzy_rare", "jaccard", "names_shared",
)

FEATURES = (
    "log_rank",
    "score_rel",
    "cover_query_claim",
    "cover_claim",
    "cover_query_title",
    "cover_title",
    "cover_query_both",
    "cover_both",
    "shared_weight",
    "bigrams",
    "bigram_share",
    "fuzz_set_claim",
    "fuzz_set_title",
    "fuzz_partial_title",
    "fuzzy_rare",
    "numbers_shared",
    "numbers_missing",
    "year_match",
    "names_shared",
    "names_missing",
    "jaccard",
    "query_words",
    "claim_words",
    "cover_query_both_gap",
    "shared_weight_gap",
    "cover_query_local",
    "cover_claim_local",
    "cover_body_title",
    "cover_query_local_gap",
    "cover_claim_local_gap",
    "cover_body_title_gap",
    "media_match",
    "video_match",
    *(f"{name}_gap" for name in _MAX_GAP_LEX),
)
# Cosines of the post (signature left out) with each candidate's claim and title under a static
# word-embedding model (WordLlama, core install), their mean, and that mean's log rank and lead
# among the post's candidates. Columns of the lexical re-ranker after :data:`FEATURES`: train CV
# MAP@5 (5 folds, 3 splits) 0.8855 -> 0.8943 (0.8947 in the first, cached run); a trained linear adapter on
# the post vector (0.8919) and the best post sentence's cosines (0.8941) did not add to them.
STATIC_FEATURES = ("wl_claim", "wl_title", "wl_mean", "wl_log_rank", "wl_gap")
# Columns of the lexical re-ranker (``claim_matching``).
LEXICAL_FEATURES = (*FEATURES, *STATIC_FEATURES)
# Pair features of the embedding re-ranker (``claim_matching_embed``): all but the query-relative
# copies of :data:`_MAX_GAP_LEX`, which did not help it (see the module docstring).
EMBED_PAIR_FEATURES = FEATURES[: len(FEATURES) - len(_MAX_GAP_LEX)]


def _cover(query: dict[str, float], other: dict[str, float]) -> tuple[float, float, float]:
    shared = sum(w for s, w in query.items() if s in other)
    q_total = sum(query.values()) or 1.0
    o_total = sum(other.values()) or 1.0
    return shared / q_total, shared / o_total, shared


def pair_features(
    query: str, candidates: Sequence[tuple[FactCheck, float]], post: str | None = None
) -> np.ndarray:
    """Feature matrix (one row per candidate, columns :data:`FEATURES`) for an expanded query.

    Args:
        query: the post text after :func:`expand`.
        candidates: ``(fact-check, backend score)`` pairs in retrieval order.
        post: the post before :func:`expand` (its picture links count as showing a picture);
            ``query`` when ``None``.
    """
    from rapidfuzz import fuzz, process

    q = _Side.of(query)
    body_text = strip_signature(query)
    body = _Side.of(body_text, with_shingles=False) if body_text != query else q
    media_post = 1.0 if _MEDIA_POST_RE.search(post if post is not None else query) else 0.0
    video_post = 1.0 if _VIDEO_POST_RE.search(query) else 0.0
    # Local rarity: in how many of this post's candidates (claim or title) a stem occurs.
    sides = [
        (_Side.of(fc.claim), _Side.of(fc.title or "", with_shingles=False)) for fc, _ in candidates
    ]
    n_cands = len(sides)
    df: dict[str, int] = {}
    for claim, title in sides:
        for st in claim.stems.keys() | title.stems.keys():
            df[st] = df.get(st, 0) + 1
    body_local = {st: wt * math.log((n_cands + 1) / (df.get(st, 0) + 0.5)) for st, wt in body.stems.items()}
    body_local_total = sum(body_local.values()) or 1.0
    q_words = list(q.raw)
    q_joined = " ".join(q_words)
    tweet_years = q.years
    top = max((s for _, s in candidates), default=1.0) or 1.0
    rows = []
    for rank, ((fc, score), (claim, title)) in enumerate(zip(candidates, sides, strict=True), 1):
        title_text = fc.title or ""
        both_stems = dict(claim.stems)
        for st, wt in title.stems.items():
            both_stems[st] = max(both_stems.get(st, 0.0), wt)
        cqc, cc, _ = _cover(q.stems, claim.stems)
        cqt, ct, _ = _cover(q.stems, title.stems) if title.stems else (0.0, 0.0, 0.0)
        cqb, cb, shared = _cover(q.stems, both_stems)
        cand_bigrams = claim.bigrams | title.bigrams
        n_bigrams = len(q.bigrams & cand_bigrams)
        # Rare candidate words missing from the query but found fuzzily (typos, joined hashtags).
        rare = [w for w in claim.raw | title.raw if len(w) >= 4 and _weight(w) >= 3.5 and _stem(w) not in q.stems]
        fuzzy = 0.0
        rare_total = sum(_weight(w) for w in rare) or 1.0
        for w in rare:
            if w in q_joined or process.extractOne(
                w, q_words, scorer=fuzz.ratio, score_cutoff=85
            ):
                fuzzy += _weight(w)
        cand_numbers = claim.numbers | title.numbers
        cand_years = claim.years | title.years
        names = claim.names | title.names
        names_shared = sum(1 for n in names if _stem(n) in q.stems or n in q.lower)
        if cand_years and tweet_years:
            year_match = 1.0 if cand_years & tweet_years else -1.0
        else:
            year_match = 0.0
        union = q.shingles | claim.shingles
        cand_local = {st: wt * math.log((n_cands + 1) / (df[st] + 0.5)) for st, wt in both_stems.items()}
        cover_local = sum(w for st, w in body_local.items() if st in both_stems) / body_local_total
        cover_cand_local = sum(w for st, w in cand_local.items() if st in body.stems) / (
            sum(cand_local.values()) or 1.0
        )
        cover_body_title = _cover(body.stems, title.stems)[0] if title.stems else 0.0
        cand_text = f"{fc.claim} {title_text}"
        media_claim = 1.0 if _MEDIA_CLAIM_RE.search(cand_text) else 0.0
        video_claim = 1.0 if _VIDEO_CLAIM_RE.search(cand_text) else 0.0
        rows.append(
            [
                math.log(rank),
                score / top,
                cqc,
                cc,
                cqt,
                ct,
                cqb,
                cb,
                shared,
                float(n_bigrams),
                n_bigrams / (len(cand_bigrams) or 1),
                fuzz.token_set_ratio(q.lower, claim.lower) / 100.0,
                fuzz.token_set_ratio(q.lower, title.lower) / 100.0 if title_text else 0.0,
                fuzz.partial_ratio(title.lower, q.lower) / 100.0 if title_text else 0.0,
                fuzzy / rare_total if rare else 0.0,
                float(len(cand_numbers & q.numbers)),
                float(len(cand_numbers - q.numbers)),
                year_match,
                float(names_shared),
                float(len(names) - names_shared),
                len(q.shingles & claim.shingles) / (len(union) or 1),
                math.log1p(len(q.raw)),
                math.log1p(len(claim.raw)),
                0.0,
                0.0,
                cover_local,
                cover_cand_local,
                cover_body_title,
                0.0,
                0.0,
                0.0,
                media_post * media_claim,
                video_post * video_claim,
            ]
        )
    n_computed = len(FEATURES) - len(_MAX_GAP_LEX)
    matrix = np.zeros((len(rows), len(FEATURES)))
    matrix[:, :n_computed] = np.asarray(rows, dtype=np.float64).reshape(len(rows), n_computed)
    if len(rows):
        # Lead over the best other candidate: rankers see each candidate against its rivals.
        for name in ("cover_query_both", "shared_weight"):
            matrix[:, FEATURES.index(f"{name}_gap")] = _rank_and_gap(matrix[:, FEATURES.index(name)])[1]
        # Distance to the query's best candidate (value minus the maximum) on the local-rarity and
        # body-vs-title coverages and on :data:`_MAX_GAP_LEX`.
        for name in ("cover_query_local", "cover_claim_local", "cover_body_title", *_MAX_GAP_LEX):
            values = matrix[:, FEATURES.index(name)]
            matrix[:, FEATURES.index(f"{name}_gap")] = values - values.max()
    return matrix


def calibration_features(scores: np.ndarray) -> np.ndarray:
    """Inputs of the calibrator for one query's ranker scores: the score and its lead over the next best."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return np.zeros((0, 2))
    order = np.sort(scores)[::-1]
    best_other = np.where(scores >= order[0], order[1] if len(order) > 1 else order[0] - 5.0, order[0])
    return np.column_stack([scores, scores - best_other])


# Inputs of the same-claim calibrator that tell "the same claim" from "the same topic", whatever the
# store's size (the ranker's score and lead are relative to the other candidates: a lone candidate in
# a five-record store leads by a mile). Per pair, from the post (signature left out) and the
# candidate's claim and title:
# - ``q_names_missing``: capitalised names of the post (not sentence-initial) found nowhere in the
#   candidate; ``q_numbers_missing``: the post's numbers the candidate lacks; ``numbers_clash``: both
#   have numbers and share none (2030 vs 2050); ``name_swap``: the smaller of the rarity weights of
#   the rarest post name the candidate lacks and the rarest candidate name the post lacks (Obama for Biden);
# - ``q_missing_max`` / ``c_missing_max``: rarity weight of the rarest post word the candidate lacks,
#   and of the rarest claim word the post lacks; ``swap``: the smaller of the two (one word put for
#   another: tea for coffee); ``key_missing``: rarity weight of the rarest word that the candidate's
#   claim and title both hold (its subject) and the post lacks;
# - ``q_weight`` / ``q_content``: the post's total rarity weight and log count of content words
#   (a one-word post such as "video" says too little to be any claim);
# - ``c_cover_claim``: rarity-weighted share of the claim's own words in the post (both ways of
#   coverage are in the pair features: the post's words in the candidate, the candidate's in the post).
ABSTAIN_FEATURES = (
    "q_names_missing", "q_numbers_missing", "numbers_clash", "name_swap", "q_missing_max", "c_missing_max", "swap",
    "key_missing",
    "q_weight", "q_content", "c_cover_claim",
)
# Columns of the re-ranker's features the calibrator also reads (absolute, not relative to the rivals).
CALIBRATOR_PAIR_FEATURES = (
    "cover_query_claim", "cover_claim", "cover_query_both", "cover_both", "bigram_share", "fuzz_set_claim",
    "fuzz_set_title", "fuzzy_rare", "numbers_shared", "numbers_missing", "year_match", "names_shared",
    "names_missing", "jaccard", "query_words", "claim_words",
)
# And the cosines, when the re-ranker has them (static WordLlama ones, or MiniLM and e5 with embeddings).
CALIBRATOR_COSINES = ("wl_claim", "wl_title", "wl_mean", "cos_claim", "cos_title", "cos_best", "sent_mean",
                      "adapt_mean", "e5_mean", "e5a_mean")


def abstain_features(query: str, candidates: Sequence[FactCheck]) -> np.ndarray:
    """Columns :data:`ABSTAIN_FEATURES` for an expanded post and its candidate fact-checks."""
    body = strip_signature(query)
    q = _Side.of(body, with_shingles=False)
    q_names = {n for n in q.names if _weight(n) >= 3.0}
    q_weight = sum(q.stems.values())
    rows = []
    for fc in candidates:
        text = f"{fc.claim} {fc.title or ''}"
        cand = _Side.of(text, with_shingles=False)
        claim = _Side.of(fc.claim, with_shingles=False)
        q_lacking = [_weight(n) for n in q_names if _stem(n) not in cand.stems and n not in cand.lower]
        c_lacking = [_weight(n) for n in cand.names if _weight(n) >= 3.0 and _stem(n) not in q.stems
                     and n not in q.lower]
        q_missing = [w for s, w in q.stems.items() if s not in cand.stems]
        c_missing = [w for s, w in claim.stems.items() if s not in q.stems]
        q_max = max(q_missing, default=0.0)
        c_max = max(c_missing, default=0.0)
        covered = sum(w for s, w in claim.stems.items() if s in q.stems)
        title = _Side.of(fc.title, with_shingles=False) if fc.title else claim
        key_missing = max((w for s, w in claim.stems.items() if s in title.stems and s not in q.stems), default=0.0)
        rows.append([
            float(len(q_lacking)),
            float(len(q.numbers - cand.numbers)),
            1.0 if q.numbers and cand.numbers and not q.numbers & cand.numbers else 0.0,
            min(max(q_lacking, default=0.0), max(c_lacking, default=0.0)),
            q_max,
            c_max,
            min(q_max, c_max),
            key_missing,
            q_weight,
            math.log1p(len(q.stems)),
            covered / (sum(claim.stems.values()) or 1.0),
        ])
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(ABSTAIN_FEATURES))


def calibrator_columns(feature_names: Sequence[str]) -> list[str]:
    """Names of the calibrator's inputs for a re-ranker with ``feature_names``."""
    kept = [n for n in (*CALIBRATOR_PAIR_FEATURES, *CALIBRATOR_COSINES) if n in feature_names]
    return ["score", "lead", *kept, *ABSTAIN_FEATURES]


def calibrator_inputs(
    scores: np.ndarray, feats: np.ndarray, feature_names: Sequence[str], abstain: np.ndarray
) -> np.ndarray:
    """The calibrator's input matrix (columns :func:`calibrator_columns`) for one post's candidates."""
    index = {n: i for i, n in enumerate(feature_names)}
    kept = [index[n] for n in calibrator_columns(feature_names)[2 : -len(ABSTAIN_FEATURES)]]
    return np.hstack([calibration_features(scores), feats[:, kept], abstain])


def _rank_and_gap(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log rank of each value among ``values`` (best 0) and its lead over the best other value."""
    n = len(values)
    ranks = np.empty(n)
    ranks[np.argsort(-values, kind="stable")] = np.arange(1, n + 1)
    order = np.sort(values)[::-1]
    best_other = np.where(values >= order[0], order[1] if n > 1 else 0.0, order[0])
    return np.log(ranks), values - best_other
