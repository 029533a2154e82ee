"""Text pieces of the stance model: word tokens, stems, cue words and the TF-IDF vectorizer.

Inference-time code (:mod:`overclaim.models.stance` reads it); ``overclaim.training.stance``
trains with it. Nothing here imports the training package.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

# Hash buckets for stems outside the vocabulary (see :class:`Vectorizer`).
OOV_BUCKETS = 1 << 18

WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)?", re.UNICODE)
STOP = frozenset(ENGLISH_STOP_WORDS) | {"s", "t", "said", "says", "say"}

# Cue lists (lower-cased words). REFUTE extends the official FNC-1 baseline's refuting
# words with denial words seen in Emergent debunking articles; HEDGE are reporting and
# hedging verbs and adverbs (certainty cues of the foundation, CoNLL-2010 weasel words).
REFUTE = (
    "fake", "fraud", "hoax", "false", "deny", "denies", "denied", "refute", "refuted", "nope", "doubt",
    "doubts", "bogus", "debunk", "debunked", "debunks", "prank", "pranks", "retract", "retracted", "satire",
    "satirical", "untrue", "myth", "misleading", "fabricated", "baseless", "unfounded", "dismissed",
    "rejected", "incorrect", "wrong", "spoof", "parody", "rumour", "rumor", "never", "despite", "not",
)
HEDGE = (
    "reportedly", "allegedly", "alleged", "claims", "claimed", "claim", "according", "unconfirmed",
    "unverified", "may", "might", "could", "possibly", "apparently", "purportedly", "supposedly", "reports",
    "report", "reported", "suggests", "suggest", "appears", "appear", "believed", "speculation", "unclear",
    "sources", "source", "rumors", "rumours", "if", "would", "perhaps", "likely", "unlikely", "seems",
    "expected", "considering", "evaluating", "plans", "potentially", "reportedly",
)
NEGATION = (
    "no", "not", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot", "isn't",
    "wasn't", "aren't", "weren't", "don't", "doesn't", "didn't", "won't", "can't", "couldn't", "hasn't",
    "haven't", "wouldn't", "shouldn't",
)
CONFIRM = (
    "confirmed", "confirms", "confirm", "officially", "announced", "announces", "revealed", "proof",
    "proves", "proved", "evidence", "shows", "showed", "indeed", "actually", "true", "verified", "footage",
    "video", "photos", "statement",
)
CUE_GROUPS: dict[str, frozenset[str]] = {
    "refute": frozenset(REFUTE),
    "hedge": frozenset(HEDGE),
    "negation": frozenset(NEGATION),
    "confirm": frozenset(CONFIRM),
}
# Single refuting words tracked on their own in the best sentences.
REFUTE_WORDS: tuple[str, ...] = tuple(dict.fromkeys(REFUTE))
CUE_COLUMNS: tuple[str, ...] = (*CUE_GROUPS, "question", *(f"w_{w}" for w in REFUTE_WORDS))
N_GROUPS = len(CUE_GROUPS) + 1  # + question


@lru_cache(maxsize=500_000)
def _stem(word: str) -> str:
    from overclaim.resources import stem

    return stem(word) if word.isascii() else word


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits, inner apostrophes kept)."""
    return WORD_RE.findall(text.lower().replace("’", "'"))


def content_stems(tokens: Sequence[str]) -> list[str]:
    """Stems of the tokens that are not stop words."""
    return [_stem(t) for t in tokens if t not in STOP and len(t) > 1]


# word -> cue-group columns it counts in; refuting word -> its own presence column.
_GROUP_COLUMNS: dict[str, tuple[int, ...]] = {}
for _j, _group in enumerate(CUE_GROUPS.values()):
    for _w in _group:
        _GROUP_COLUMNS[_w] = (*_GROUP_COLUMNS.get(_w, ()), _j)
_REFUTE_COLUMN: dict[str, int] = {w: N_GROUPS + j for j, w in enumerate(REFUTE_WORDS)}


def cue_vector(tokens: Sequence[str], text: str) -> np.ndarray:
    """Counts of each cue group, question marks, then presence of each refuting word."""
    out = np.zeros(len(CUE_COLUMNS), dtype=np.float32)
    counts = [0] * len(CUE_GROUPS)
    present: set[str] = set()
    for t in tokens:
        cols = _GROUP_COLUMNS.get(t)
        if cols is not None:
            present.add(t)
            for j in cols:
                counts[j] += 1
    out[: len(CUE_GROUPS)] = counts
    out[len(CUE_GROUPS)] = text.count("?")
    for w in present:
        col = _REFUTE_COLUMN.get(w)
        if col is not None:
            out[col] = 1.0
    return out


def _cue_matrix(tokens: Sequence[Sequence[str]], texts: Sequence[str]) -> np.ndarray:
    """:func:`cue_vector` of every text, as rows (built in Python lists, one array at the end)."""
    n_groups = len(CUE_GROUPS)
    rows = []
    for toks, text in zip(tokens, texts, strict=True):
        row = [0.0] * len(CUE_COLUMNS)
        for t in toks:
            cols = _GROUP_COLUMNS.get(t)
            if cols is not None:
                for j in cols:
                    row[j] += 1.0
                col = _REFUTE_COLUMN.get(t)
                if col is not None:
                    row[col] = 1.0
        row[n_groups] = text.count("?")
        rows.append(row)
    return np.array(rows, dtype=np.float32).reshape(len(rows), len(CUE_COLUMNS))


def _ngrams(tokens: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def _ngram_needs(grams: set[tuple[str, ...]]) -> list[tuple[str, frozenset[str]]]:
    """Each n-gram's form for :func:`_ngram_hits`, computed once per headline.

    The form is the n-gram joined by spaces with a space at each end, with the stems of its
    content words.
    """
    return [(f" {' '.join(g)} ", frozenset(_stem(w) for w in g if w not in STOP and len(w) > 1)) for g in grams]


def _ngram_hits(needs: list[tuple[str, frozenset[str]]], joined: str, stems: set[str]) -> int:
    """How many of a headline's n-grams (:func:`_ngram_needs`) occur in a text's tokens.

    The same count as ``len(grams & _ngrams(tokens, n))``. ``joined`` is the tokens joined by
    single spaces with a space at each end, ``stems`` the text's content stems. Tokens hold no
    spaces, so an n-gram occurs in the tokens exactly when its space-joined form, spaces around,
    occurs in ``joined``; an n-gram with a content word whose stem is not in ``stems`` cannot
    occur and is not searched. Cheaper than the tokens' n-gram set when one headline meets a body.
    """
    return sum(1 for form, needed in needs if needed <= stems and form in joined)


@dataclass
class Vectorizer:
    """Stem vocabulary with IDF weights; turns stem lists into sparse rows.

    Stems outside the vocabulary (names and words of stories never seen in training) are
    hashed into ``buckets`` extra columns with the IDF of the rarest known term, so they still
    count in similarities: the competition test set is made of new stories.
    """

    index: dict[str, int]
    idf: np.ndarray
    buckets: int = 0

    @property
    def width(self) -> int:
        """Number of columns of the rows: vocabulary plus hash buckets."""
        return len(self.index) + self.buckets

    @classmethod
    def fit(cls, docs: Sequence[Sequence[str]], min_df: int = 2, max_terms: int = 20_000) -> Vectorizer:
        """Vocabulary of the ``max_terms`` most frequent stems seen in at least ``min_df`` documents."""
        df: dict[str, int] = {}
        for doc in docs:
            for t in set(doc):
                df[t] = df.get(t, 0) + 1
        kept = sorted((t for t, c in df.items() if c >= min_df), key=lambda t: (-df[t], t))[:max_terms]
        n = len(docs)
        idf = np.array([math.log((1 + n) / (1 + df[t])) + 1.0 for t in kept], dtype=np.float32)
        return cls({t: i for i, t in enumerate(kept)}, idf, OOV_BUCKETS)

    def count_rows(self, docs: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw term counts as CSR arrays ``(data, indices, indptr)``, terms in order of first use."""
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        index = self.index
        size, buckets = len(index), self.buckets
        for doc in docs:
            row: dict[int, int] = {}
            for t in doc:
                j = index.get(t)
                if j is None:
                    if not buckets:
                        continue
                    j = size + (zlib.crc32(t.encode("utf-8")) % buckets)
                row[j] = row.get(j, 0) + 1
            indices.extend(row)
            data.extend(row.values())
            indptr.append(len(indices))
        return np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32), np.asarray(indptr)

    def counts(self, docs: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        """Raw term counts, one row per document."""
        return sparse.csr_matrix(self.count_rows(docs), shape=(len(docs), self.width))

    def tfidf_data(self, data: np.ndarray, indices: np.ndarray) -> np.ndarray:
        """Sublinear TF-IDF weights (not normalised) of count entries ``data`` in columns ``indices``."""
        known = indices < len(self.index)
        idf = np.where(known, self.idf[np.where(known, indices, 0)], float(self.idf.max()))
        out: np.ndarray = (1.0 + np.log(data)) * idf
        return out

    def tfidf(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        """L2-normalised sublinear TF-IDF rows from raw counts."""
        m = sparse.csr_matrix((counts.data, counts.indices, counts.indptr), shape=counts.shape)
        m.data = self.tfidf_data(counts.data, counts.indices)
        return _l2(m)


def _l2_data(data: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """CSR ``data`` with every row (rows given by ``indptr``) scaled to unit L2 norm, as float32."""
    n = len(indptr) - 1
    rows = np.repeat(np.arange(n), np.diff(indptr))
    norms = np.sqrt(np.bincount(rows, weights=np.square(data, dtype=np.float64), minlength=n))
    norms[norms == 0] = 1.0
    out: np.ndarray = (data / norms[rows]).astype(np.float32)
    return out


def _l2(m: sparse.csr_matrix) -> sparse.csr_matrix:
    return sparse.csr_matrix((_l2_data(m.data, m.indptr), m.indices, m.indptr), shape=m.shape)


def _restrict(m: sparse.csr_matrix, cols: np.ndarray) -> sparse.csr_matrix:
    """The columns ``cols`` (sorted, unique) of ``m``, renumbered 0..len(cols)-1."""
    keep = np.isin(m.indices, cols)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))[keep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=m.shape[0]))])
    return sparse.csr_matrix(
        (m.data[keep], np.searchsorted(cols, m.indices[keep]).astype(np.int32), indptr),
        shape=(m.shape[0], len(cols)),
    )
