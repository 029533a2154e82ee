"""The stance model's featurizer: (headline, body) pairs to the feature matrix.

Features (all computed from the headline, the body and the body's sentences;
nothing is downloaded):

- *similarity*: cosine of the headline with the whole body in TF-IDF (stems,
  sublinear TF, stop words dropped), raw TF (as in UCL Machine Reading's
  system) and a truncated SVD of TF-IDF (as in Talos);
- *sentence evidence*: cosine of the headline with every body sentence (max,
  mean of the best three, mean, position of the best, share above thresholds,
  similarity of the lead), and IDF-weighted headline-term coverage of the body,
  of the lead and of the best sentence;
- *overlap*: Jaccard of stem sets, headline bigram / trigram hits in the body
  (the official baseline's n-gram features);
- *cues*: counts of refuting, hedging / reporting, negation, confirming and
  question cues in the headline, in the whole body (rate), in the lead, in the
  best sentence and in the three sentences most similar to the headline, plus
  each refuting word on its own in those sentences; a polarity agreement flag;
- *topic*: the SVD vectors of headline and body (Talos' tree features).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from overclaim.models.stance_text import (
    CUE_COLUMNS,
    CUE_GROUPS,
    N_GROUPS,
    Vectorizer,
    _cue_matrix,
    _l2,
    _l2_data,
    _ngram_hits,
    _ngram_needs,
    _ngrams,
    _restrict,
    content_stems,
    words,
)


def _chunks(order: Sequence[int], offsets: np.ndarray, size: int = 4096) -> list[list[int]]:
    """Group body indices (in ``order``) into runs of about ``size`` sentences."""
    chunks: list[list[int]] = []
    current: list[int] = []
    count = 0
    for b in order:
        current.append(b)
        count += int(offsets[b + 1] - offsets[b])
        if count >= size:
            chunks.append(current)
            current, count = [], 0
    if current:
        chunks.append(current)
    return chunks


@dataclass
class Texts:
    """Featurized unique texts (headlines or bodies)."""

    tokens: list[list[str]]
    stems: list[list[str]]
    tfidf: sparse.csr_matrix | None  # None in the single-post path (:meth:`StanceFeaturizer.post_features`)
    tf: sparse.csr_matrix | None
    svd: np.ndarray
    cues: np.ndarray
    # Bodies only: sentence rows and the body each belongs to.
    sent_tfidf: sparse.csr_matrix | None = None
    sent_cues: np.ndarray | None = None
    sent_stems: list[set[str]] = field(default_factory=list)
    sent_offsets: np.ndarray | None = None  # body i owns sentences sent_offsets[i]:sent_offsets[i+1]


def _sentences(
    items: Sequence[str], sentences: Sequence[Sequence[tuple[int, int]]]
) -> tuple[list[str], list[list[str]], np.ndarray]:
    """Sentence texts and tokens of every body (a body without ranges is one sentence), and offsets."""
    sent_tokens: list[list[str]] = []
    sent_text: list[str] = []
    offsets = [0]
    for text, ranges in zip(items, sentences, strict=True):
        ranges = list(ranges) or [(0, len(text))]
        for s, e in ranges:
            sent_text.append(text[s:e])
            sent_tokens.append(words(text[s:e]))
        offsets.append(len(sent_tokens))
    return sent_text, sent_tokens, np.asarray(offsets)


def _pair_context(heads: Texts, bodies: Texts, idf: np.ndarray, index: dict[str, int]) -> dict[str, Any]:
    """What :meth:`StanceFeaturizer._body_features` reads besides the texts."""
    return {
        "idf": idf, "index": index, "head_sets": (head_sets := [set(s) for s in heads.stems]),
        # IDF weight of each headline stem (12 when out of vocabulary) and their sum (1 if none).
        "head_weights": [
            (weights := {t: float(idf[index[t]]) if t in index else 12.0 for t in hs}, sum(weights.values()) or 1.0)
            for hs in head_sets
        ],
        "body_sets": [set(s) for s in bodies.stems],
        "head_ngrams": (grams := [(_ngrams(t, 2), _ngrams(t, 3)) for t in heads.tokens]),
        "head_ngram_needs": [(_ngram_needs(bi), _ngram_needs(tri)) for bi, tri in grams],
        "svd_h": heads.svd / np.maximum(np.linalg.norm(heads.svd, axis=1, keepdims=True), 1e-9),
        "svd_b": bodies.svd / np.maximum(np.linalg.norm(bodies.svd, axis=1, keepdims=True), 1e-9),
    }


def _row_dots(
    indices: np.ndarray, indptr: np.ndarray, cols: np.ndarray, pairs: Sequence[tuple[np.ndarray, np.ndarray]]
) -> list[np.ndarray]:
    """Dot products of every CSR row with one sparse vector of sorted columns ``cols``, float32.

    ``pairs`` holds (row data, vector values) couples sharing the rows' ``indices`` / ``indptr``
    and ``cols``; one result per couple. Sums in float32 in the rows' entry order, as scipy's
    sparse product does, so the results are bit-identical to the batch path's.
    """
    n = len(indptr) - 1
    if not len(cols) or not len(indices):
        return [np.zeros(n, dtype=np.float32) for _ in pairs]
    pos = np.minimum(np.searchsorted(cols, indices), len(cols) - 1)
    hit = cols[pos] == indices
    rows = np.repeat(np.arange(n), np.diff(indptr))[hit]
    pos = pos[hit]
    out = []
    for data, values in pairs:
        dots = np.zeros(n, dtype=np.float32)
        np.add.at(dots, rows, data[hit] * values[pos])
        out.append(dots)
    return out


FEATURE_NAMES: list[str] = [
    "cos_tfidf", "cos_tf", "cos_svd", "sent_max", "sent_top3", "sent_mean", "sent_best_pos", "sent_share_01",
    "sent_share_03", "sent_first", "sent_lead_max", "n_sent_log", "cover_body", "cover_lead", "cover_best",
    "jaccard", "bigram_hits", "trigram_hits", "head_len", "body_len_log", "head_terms", "polarity_same",
]


class StanceFeaturizer:
    """Turns (headline, body) pairs into the feature matrix of the stance model."""

    def __init__(self, svd_dims: int = 50, seed: int = 0) -> None:
        self.svd_dims = svd_dims
        self.seed = seed
        self.vectorizer: Vectorizer | None = None
        self.components: np.ndarray | None = None

    # ------------------------------------------------------------------ fitting
    def fit(self, headlines: Sequence[str], bodies: Sequence[str]) -> StanceFeaturizer:
        """Fit the vocabulary, IDF and SVD on unique training headlines and bodies."""
        from sklearn.decomposition import TruncatedSVD

        docs = [content_stems(words(t)) for t in [*headlines, *bodies]]
        self.vectorizer = Vectorizer.fit(docs)
        m = self.vectorizer.tfidf(self.vectorizer.counts(docs))[:, : len(self.vectorizer.index)]
        self.svd_dims = max(1, min(self.svd_dims, m.shape[1] - 1, m.shape[0] - 1))
        svd = TruncatedSVD(n_components=self.svd_dims, random_state=self.seed, algorithm="randomized", n_iter=5)
        svd.fit(m)
        self.components = svd.components_.astype(np.float32)
        return self

    @property
    def names(self) -> list[str]:
        """Column names of :meth:`features`."""
        cue = [f"{where}_{c}" for where in ("head", "body", "lead", "best", "top3") for c in CUE_COLUMNS]
        groups = [*CUE_GROUPS, "question"]
        cue += [f"attn_{g}" for g in groups] + [f"maxsim_{g}" for g in groups] + [f"relevant_{g}" for g in groups]
        svd = [f"head_svd{i}" for i in range(self.svd_dims)] + [f"body_svd{i}" for i in range(self.svd_dims)]
        return FEATURE_NAMES + cue + svd

    # ------------------------------------------------------------------ texts
    def texts(self, items: Sequence[str], sentences: Sequence[Sequence[tuple[int, int]]] | None = None) -> Texts:
        """Featurize unique texts; pass ``sentences`` (ranges per text) for bodies."""
        assert self.vectorizer is not None and self.components is not None, "fit first"
        vec = self.vectorizer
        tokens = [words(t) for t in items]
        stems = [content_stems(t) for t in tokens]
        counts = vec.counts(stems)
        tfidf = vec.tfidf(counts)
        tf = _l2(counts)
        known = _restrict(tfidf, np.arange(len(vec.index))) if vec.buckets else tfidf
        svd = np.asarray(known @ self.components.T, dtype=np.float32)
        cues = _cue_matrix(tokens, items)
        out = Texts(tokens, stems, tfidf, tf, svd, cues)
        if sentences is None:
            return out
        sent_text, sent_tokens, offsets = _sentences(items, sentences)
        sent_stems = [content_stems(t) for t in sent_tokens]
        out.sent_tfidf = vec.tfidf(vec.counts(sent_stems))
        out.sent_cues = _cue_matrix(sent_tokens, sent_text)
        out.sent_stems = [set(s) for s in sent_stems]
        out.sent_offsets = offsets
        return out

    # ------------------------------------------------------------------ one post
    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the caches (the transposed components and the width; rebuilt on first use)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_components_t_cache", "_width_cache")}

    def _width(self) -> int:
        """``len(self.names)``, computed once per featurizer (the names are built on each call)."""
        width: int | None = self.__dict__.get("_width_cache")
        if width is None:
            width = self.__dict__["_width_cache"] = len(self.names)
        return width

    def _components_t(self) -> np.ndarray:
        """The SVD components transposed, contiguous (computed once per featurizer)."""
        assert self.components is not None
        cached: np.ndarray | None = self.__dict__.get("_components_t_cache")
        if cached is None:
            cached = np.ascontiguousarray(self.components.T)
            self.__dict__["_components_t_cache"] = cached
        return cached

    def post_features(
        self, headline: str, bodies: Sequence[str], sentences: Sequence[Sequence[tuple[int, int]]],
        first_tokens: list[str] | None = None,
    ) -> np.ndarray:
        """Feature rows of one headline against each of ``bodies``: the single-post path.

        Gives the same matrix as ``features(texts([headline]), texts(bodies, sentences), ...)``
        bit for bit, without scipy sparse matrices (their per-call overhead dominates for one
        post): the headline, the bodies and all sentences are counted in one set of CSR arrays,
        similarities are summed in float32 in entry order as scipy does, a body that is one
        sentence is tokenized once (and not at all when it is a sentence of an earlier body), and a
        body's stems are its sentences' when its tokens are.

        Args:
            headline: the headline.
            bodies: texts read as bodies.
            sentences: sentence ranges of each body.
            first_tokens: ``words(bodies[0])`` when the caller already has them.
        """
        assert self.vectorizer is not None
        vec = self.vectorizer
        h_tokens = words(headline)
        b_tokens: list[list[str]] = []
        b_stems: list[list[str]] = []
        s_texts: list[str] = []
        s_tokens: list[list[str]] = []
        s_stems: list[list[str]] = []
        offsets = [0]
        seen: dict[str, tuple[list[str], list[str]]] = {}  # sentence text -> tokens, stems
        for k, (text, ranges) in enumerate(zip(bodies, sentences, strict=True)):
            ranges = list(ranges) or [(0, len(text))]
            if len(ranges) == 1 and ranges[0] == (0, len(text)):
                tokens, stems = seen[text] if text in seen else (words(text), None)
                stems = content_stems(tokens) if stems is None else stems
                s_texts.append(text)
                s_tokens.append(tokens)
                s_stems.append(stems)
            else:
                tokens = first_tokens if k == 0 and first_tokens is not None else words(text)
                parts = [text[s:e] for s, e in ranges]
                p_tokens = [words(p) for p in parts]
                p_stems = [content_stems(t) for t in p_tokens]
                seen.update(zip(parts, zip(p_tokens, p_stems, strict=True), strict=True))
                same = tokens == [t for pt in p_tokens for t in pt]
                stems = [s for ps in p_stems for s in ps] if same else content_stems(tokens)
                s_texts += parts
                s_tokens += p_tokens
                s_stems += p_stems
            b_tokens.append(tokens)
            b_stems.append(stems)
            offsets.append(len(s_tokens))
        h_stems = content_stems(h_tokens)
        n_b = len(bodies)
        # Rows: headline, bodies, sentences.
        cues = _cue_matrix([h_tokens, *b_tokens, *s_tokens], [headline, *bodies, *s_texts])
        data, indices, indptr = vec.count_rows([h_stems, *b_stems, *s_stems])
        tfidf = _l2_data(vec.tfidf_data(data, indices), indptr)
        tf = _l2_data(data, indptr)
        # SVD of the known columns of headline and bodies, summed in float32 in entry order.
        known = np.flatnonzero(indices[: indptr[n_b + 1]] < len(vec.index))
        terms = tfidf[known, None] * self._components_t()[indices[known]]
        bounds = np.searchsorted(known, indptr[: n_b + 2])
        svd = np.zeros((n_b + 1, self.svd_dims), dtype=np.float32)
        for i in range(n_b + 1):
            if bounds[i + 1] > bounds[i]:
                svd[i] = np.cumsum(terms[bounds[i] : bounds[i + 1]], axis=0)[-1]
        heads = Texts([h_tokens], [h_stems], None, None, svd[:1], cues[:1])
        body_texts = Texts(
            b_tokens, b_stems, None, None, svd[1:], cues[1 : n_b + 1],
            sent_cues=cues[n_b + 1 :], sent_stems=[set(s) for s in s_stems], sent_offsets=np.asarray(offsets),
        )
        h_end = int(indptr[1])
        order = np.argsort(indices[:h_end])
        sims, tf_sims = _row_dots(
            indices[h_end:], indptr[1:] - h_end, indices[:h_end][order],
            [(tfidf[h_end:], tfidf[:h_end][order]), (tf[h_end:], tf[:h_end][order])],
        )
        pairs = [(0, i) for i in range(n_b)]
        out = np.zeros((n_b, self._width()), dtype=np.float32)
        out[:, 0] = sims[:n_b]
        out[:, 1] = tf_sims[:n_b]
        block = sims[n_b:, None]
        ctx = _pair_context(heads, body_texts, vec.idf, vec.index)
        single = [b for b in range(n_b) if offsets[b + 1] - offsets[b] == 1]
        for b in range(n_b):
            if b not in single:
                self._body_features(out, b, [b], pairs, block, 0, heads, body_texts, ctx)
        if single:
            self._one_sentence_features(out, single, block[np.asarray(offsets)[single], 0], heads, body_texts, ctx)
        return out

    # ------------------------------------------------------------------ pairs
    def features(self, heads: Texts, bodies: Texts, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
        """Feature matrix for ``pairs`` of (headline index, body index) into ``heads`` and ``bodies``."""
        assert self.vectorizer is not None
        assert bodies.sent_tfidf is not None and bodies.sent_cues is not None and bodies.sent_offsets is not None
        assert heads.tfidf is not None and heads.tf is not None and bodies.tfidf is not None and bodies.tf is not None
        idf = self.vectorizer.idf
        index = self.vectorizer.index
        out = np.zeros((len(pairs), len(self.names)), dtype=np.float32)
        by_body: dict[int, list[int]] = {}
        for row, (_, b) in enumerate(pairs):
            by_body.setdefault(b, []).append(row)
        ctx = _pair_context(heads, bodies, idf, index)
        all_h = np.array([p[0] for p in pairs], dtype=np.int64)
        all_b = np.array([p[1] for p in pairs], dtype=np.int64)
        # Only the headlines' columns matter for similarities: work in that small space
        # (transposing the full vocabulary-plus-buckets width costs more than the products).
        cols = np.unique(heads.tfidf.indices)
        if len(pairs):
            for j, (b_m, h_m) in enumerate(((bodies.tfidf, heads.tfidf), (bodies.tf, heads.tf))):
                block = (_restrict(b_m, cols) @ _restrict(h_m, cols).T.tocsr()).toarray()
                out[:, j] = block[all_b, all_h]
        heads_t = _restrict(heads.tfidf, cols).T.tocsr()
        sent_c = _restrict(bodies.sent_tfidf, cols)
        offsets = bodies.sent_offsets
        for chunk in _chunks(sorted(by_body), offsets):
            # Sentence-headline similarities of a run of consecutive bodies in one sparse product.
            c_lo = offsets[chunk[0]]
            block = (sent_c[c_lo : offsets[chunk[-1] + 1]] @ heads_t).toarray()
            for b in chunk:
                self._body_features(out, b, by_body[b], pairs, block, c_lo, heads, bodies, ctx)
        return out

    def _body_features(
        self, out: np.ndarray, b: int, rows: list[int], pairs: Sequence[tuple[int, int]], block: np.ndarray,
        c_lo: int, heads: Texts, bodies: Texts, ctx: dict[str, Any],
    ) -> None:
        assert bodies.sent_cues is not None and bodies.sent_offsets is not None
        n_cue, base = len(CUE_COLUMNS), len(FEATURE_NAMES)
        svd_h, svd_b = ctx["svd_h"], ctx["svd_b"]
        h_idx = np.array([pairs[r][0] for r in rows])
        lo, hi = bodies.sent_offsets[b], bodies.sent_offsets[b + 1]
        n_s = hi - lo
        sims = block[lo - c_lo : hi - c_lo][:, h_idx]  # (n_s, k)
        cues = bodies.sent_cues[lo:hi]
        order = np.argsort(-sims, axis=0, kind="stable")
        best = order[0]
        top3 = order[:3]
        sorted_sims = np.take_along_axis(sims, order, axis=0)
        r = np.array(rows)
        out[r, 2] = svd_h[h_idx] @ svd_b[b]
        out[r, 3] = sorted_sims[0]
        # Means as sum / count: np.mean's own sums and divisions, without its Python-level overhead.
        out[r, 4] = np.add.reduce(sorted_sims[:3], axis=0) / min(3, n_s)
        out[r, 5] = np.add.reduce(sims, axis=0) / n_s
        out[r, 6] = best / max(1, n_s - 1)
        out[r, 7] = np.count_nonzero(sims > 0.1, axis=0) / n_s
        out[r, 8] = np.count_nonzero(sims > 0.3, axis=0) / n_s
        out[r, 9] = sims[0]
        out[r, 10] = sims[:3].max(axis=0)
        out[r, 11] = math.log1p(n_s)
        lead_stems = set().union(*bodies.sent_stems[lo : lo + 3]) if n_s else set()
        b_tokens = bodies.tokens[b]
        # Several headlines: the body's n-gram sets once; one headline: scan for its n-grams.
        b_ngrams = (_ngrams(b_tokens, 2), _ngrams(b_tokens, 3)) if len(rows) > 1 else None
        body_cues = bodies.cues[b] / max(1, len(b_tokens)) * 100.0
        lead_cues = cues[:3].sum(axis=0)
        for k, row in enumerate(rows):
            best_set = bodies.sent_stems[lo + best[k]] if n_s else set()
            best_neg = cues[best[k], 2] % 2 if n_s else 0
            self._overlap_features(
                out, row, pairs[row][0], b, lead_stems, best_set, best_neg, b_ngrams, heads, bodies, ctx
            )
        c = base
        out[r, c : c + n_cue] = heads.cues[h_idx]
        c += n_cue
        out[r, c : c + n_cue] = body_cues
        c += n_cue
        out[r, c : c + n_cue] = lead_cues
        c += n_cue
        out[r, c : c + n_cue] = cues[best]
        c += n_cue
        out[r, c : c + n_cue] = cues[top3].sum(axis=0)
        c += n_cue
        # Cues weighted by each sentence's similarity to the headline (soft attention), the best
        # similarity of a sentence that carries the cue, and cue rates in the relevant sentences.
        g = N_GROUPS
        group_cues = cues[:, :g]  # (n_s, g)
        weights = sims / np.maximum(sims.sum(axis=0, keepdims=True), 1e-9)  # (n_s, k)
        out[r, c : c + g] = weights.T @ group_cues
        c += g
        has = (group_cues > 0).astype(np.float32)
        out[r, c : c + g] = (sims[:, :, None] * has[:, None, :]).max(axis=0) if n_s else 0.0
        c += g
        relevant = (sims >= 0.15).astype(np.float32)
        out[r, c : c + g] = (relevant.T @ group_cues) / np.maximum(relevant.sum(axis=0), 1.0)[:, None]
        c += g
        out[r, c : c + self.svd_dims] = heads.svd[h_idx]
        c += self.svd_dims
        out[r, c : c + self.svd_dims] = bodies.svd[b]


    @staticmethod
    def _overlap_features(
        out: np.ndarray, row: int, h: int, b: int, lead_stems: set[str], best_set: set[str], best_neg: float,
        b_ngrams: tuple[set[tuple[str, ...]], set[tuple[str, ...]]] | None, heads: Texts, bodies: Texts,
        ctx: dict[str, Any],
    ) -> None:
        """Columns 12-21 (coverage, overlap, lengths, polarity) of one (headline ``h``, body ``b``) row."""
        body_set = ctx["body_sets"][b]
        hs = ctx["head_sets"][h]
        b_tokens = bodies.tokens[b]
        weights, total = ctx["head_weights"][h]
        common = len(hs & body_set)
        union = len(hs) + len(body_set) - common
        bi, tri = ctx["head_ngrams"][h]
        if b_ngrams is None:
            joined = f" {' '.join(b_tokens)} "
            bi_needs, tri_needs = ctx["head_ngram_needs"][h]
            bi_hits, tri_hits = _ngram_hits(bi_needs, joined, body_set), _ngram_hits(tri_needs, joined, body_set)
        else:
            bi_hits, tri_hits = len(bi & b_ngrams[0]), len(tri & b_ngrams[1])
        out[row, 12:22] = (  # one assignment (each value becomes float32 as it would alone)
            sum(w for t, w in weights.items() if t in body_set) / total,
            sum(w for t, w in weights.items() if t in lead_stems) / total,
            sum(w for t, w in weights.items() if t in best_set) / total,
            common / union if union else 0.0,
            bi_hits / max(1, len(bi)),
            tri_hits / max(1, len(tri)),
            len(heads.tokens[h]),
            math.log1p(len(b_tokens)),
            len(hs),
            1.0 if heads.cues[h, 2] % 2 == best_neg else 0.0,
        )

    def _one_sentence_features(
        self, out: np.ndarray, bs: list[int], sims: np.ndarray, heads: Texts, bodies: Texts, ctx: dict[str, Any]
    ) -> None:
        """Rows ``bs`` for bodies of one sentence each against headline 0, vectorized over the bodies.

        The same values as :meth:`_body_features` (its sorting, means and attention reduce to the
        one sentence's similarity ``sims`` and cues), without its per-body array work.
        """
        assert bodies.sent_cues is not None and bodies.sent_offsets is not None
        n_cue, base, g = len(CUE_COLUMNS), len(FEATURE_NAMES), N_GROUPS
        r = np.asarray(bs)
        lo = bodies.sent_offsets[r]
        cues = bodies.sent_cues[lo]  # (n, n_cue): each body's one sentence
        svd_h, svd_b = ctx["svd_h"], ctx["svd_b"]
        for b in bs:
            out[b, 2] = (svd_h[[0]] @ svd_b[b])[0]
        for j in (3, 4, 5, 9, 10):
            out[r, j] = sims
        out[r, 6] = 0.0
        out[r, 7] = sims > 0.1
        out[r, 8] = sims > 0.3
        out[r, 11] = math.log1p(1)
        for k, (b, i) in enumerate(zip(bs, lo, strict=True)):
            # The lead is read as in _body_features: the three sentences from the body's first on.
            lead = set().union(*bodies.sent_stems[i : i + 3])
            self._overlap_features(out, b, 0, b, lead, bodies.sent_stems[i], cues[k, 2] % 2, None, heads, bodies, ctx)
            out[b, base + n_cue : base + 2 * n_cue] = bodies.cues[b] / max(1, len(bodies.tokens[b])) * 100.0
        c = base
        out[r, c : c + n_cue] = heads.cues[0]
        c += 2 * n_cue
        for _ in range(3):  # lead, best and top-3 sentences: the one sentence
            out[r, c : c + n_cue] = cues
            c += n_cue
        group_cues = cues[:, :g]
        weights = sims / np.maximum(sims, np.float32(1e-9))
        out[r, c : c + g] = weights[:, None] * group_cues
        c += g
        out[r, c : c + g] = sims[:, None] * (group_cues > 0).astype(np.float32)
        c += g
        out[r, c : c + g] = (sims >= 0.15).astype(np.float32)[:, None] * group_cues
        c += g
        out[r, c : c + self.svd_dims] = heads.svd[0]
        c += self.svd_dims
        out[r, c : c + self.svd_dims] = bodies.svd[r]


# ---------------------------------------------------------------------- data -> features
def split_ranges(text: str) -> list[tuple[int, int]]:
    """Sentence ranges of a body, as the pipeline's segment stage finds them."""
    from overclaim.stages.segment import split_sentences

    return split_sentences(text)


def featurize(featurizer: StanceFeaturizer, headlines: Sequence[str], bodies: Sequence[str]) -> np.ndarray:
    """Feature matrix for parallel lists of headlines and bodies (unique texts featurized once)."""
    h_index: dict[str, int] = {}
    b_index: dict[str, int] = {}
    pairs = [
        (h_index.setdefault(h, len(h_index)), b_index.setdefault(b, len(b_index)))
        for h, b in zip(headlines, bodies, strict=True)
    ]
    u_bodies = list(b_index)
    heads = featurizer.texts(list(h_index))
    body_texts = featurizer.texts(u_bodies, [split_ranges(b) for b in u_bodies])
    return featurizer.features(heads, body_texts, pairs)
