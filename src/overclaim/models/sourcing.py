"""The sourcing stage's learned attribution tagger: a fast Viterbi decoder and the tagger.

Inference-time model code of :mod:`overclaim.stages.sourcing` (trained by
:mod:`overclaim.training.sourcing`; ``artifacts/sourcing/MODEL_CARD.md``): :class:`FastViterbi`
(numpy decoding of crfsuite's weights over the features of
:mod:`overclaim.models.sourcing_features`) and :class:`AttributionTagger` (cues, sources and
contents of a post's sentences).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from overclaim.models.sourcing_features import (  # noqa: F401  (re-exported: the tagger's features)
    _BUCKET_NAMES,
    _PAD,
    _PREFIXES,
    FIELDS,
    STRONG_CUE_P,
    VIEWS,
    WINDOW,
    Featurizer,
    WordInfo,
    _dist,
    crf_weights,
)
from overclaim.stages.speakers import _strip, _valid_speaker, classify
from overclaim.tokens import TOKEN_RE

ARTIFACT = "sourcing"
# A token with P(cue | token) at least this opens a sentence to the tagger. 0.05 keeps 99.8% of
# the train split's cue spans in tagged sentences (0.1: 98.1%, 0.2: 93.2%), measured by
# learn_cue_lexicon on train; the stage's speed is set by how many sentences pass it.
TRIGGER_P = 0.05
# The stage tags a sentence only when a token reaches this (stricter than TRIGGER_P, which picks
# the training sentences). On PolNeAR dev with the shipped tagger (CUE_MIN 0.1, fallback on): 0.05 and
# 0.1 give the same source / cue F1 (0.722 / 0.762); 0.3: 0.721 / 0.752 ("believes", "think", "want"
# fall below it).
STAGE_TRIGGER_P = 0.1
# A cue with no tagged source in its sentence takes the token whose source score beats O by the most
# (its emission margin, in the CRF's weight units), when that margin reaches this (FALLBACK_OFF: off).
# On PolNeAR dev (STAGE_TRIGGER_P 0.1, CUE_MIN 0.25): on, source F1 0.725, cue F1 0.762; off: 0.737 /
# 0.745 (CUE_MIN 0.1). The perceptron's margins are large: cuts from -20 to 100 change F1 by < 0.001.
SOURCE_FALLBACK_MIN = 0.0
FALLBACK_OFF = 1e9
# Tokens each side of the first cue that the fallback reads: 30 holds MAX_SPEAKER_WORDS and the
# words between a speaker and its cue ("X, who ..., said") in news sentences.
FALLBACK_WINDOW = 30
# A tagged cue is kept when one of its words has P(cue | word) at least this in the learned lexicon
# ("is evaluating plans", "mafia-style" are not cues). On PolNeAR dev with the shipped tagger (source /
# cue F1, cue precision; STAGE_TRIGGER_P 0.05-0.1, fallback on): 0 (off): 0.717 / 0.752 / 0.735; 0.1:
# 0.722 / 0.762 / 0.763; 0.25: 0.725 / 0.762 / 0.818.
CUE_MIN = 0.25
# A cue that is a finding ("findings suggest", "results show"): the finding is not a speaker.
FINDING_CUE = re.compile(r"^(?:findings?|results?|evidence|numbers|data)\b", re.I)
QUOTES = frozenset("\"“”")

class FastViterbi:
    """The CRF's best tag path (crfsuite's Viterbi) for many sentences at once, with numpy.

    A token's score for each label is the sum of its features' weights. The word-level features
    (:data:`VIEWS`) depend on one word each: their sums are cached per word and offset, so a token
    costs one array look-up per offset; the shape trigram, the distances to the nearest strong cue
    and quote mark, the quote flag and the position in the sentence are computed with numpy over
    all tokens at once. Sentences of similar length are decoded together (lengths bucketed by powers
    of two, so padding at most doubles the work). The caches belong to one instance: use one per thread.
    """

    def __init__(self, weights: dict[str, Any], featurize: Featurizer) -> None:
        import numpy as np

        self.np = np
        self.labels: list[str] = weights["labels"]
        self.attrs: dict[str, int] = weights["attrs"]
        self.state = weights["state"]
        self.trans = weights["trans"]
        self.unknown = self.state.shape[0] - 1
        self.featurize = featurize
        a = self.attrs.get
        u = self.unknown
        dist_names = [_dist(d) for d in range(11)]
        self._dist_rows = {side: np.array([a(f"{side}={d}", u) for d in dist_names])
                           for side in ("r", "l", "qr", "ql")}
        self._q_rows = np.array([a("q=0", u), a("q=1", u)])
        self._b_rows = np.array([a(f"b={p}", u) for p in ("0", "1", "m", "e")])
        self._offsets = np.array([o for o, _ in VIEWS], dtype=np.int64)
        self._view_index = np.arange(len(VIEWS))
        self._two = np.arange(2)
        self._reset()

    def _reset(self) -> None:
        np = self.np
        self._ids: dict[str, int] = {}
        self._table = np.zeros((64, len(VIEWS), len(self.labels)))
        # per word id: the weights of "wc+1=" / "wc-1=" for each cue bucket of the neighbour
        self._conj = np.zeros((64, 2, len(_BUCKET_NAMES), len(self.labels)))
        self._shape_ids: dict[str, int] = {}
        # per shape id: the weights of "sr=" / "sl=" for each capped distance to a strong cue
        self._shape_dist = np.zeros((16, 2, 11, len(self.labels)))
        # per word id: shape id, strong cue (0/1), quote mark (0: none, 1: '"' toggles, 2: '“' opens, 3: '”' closes),
        # cue bucket index
        self._word_info = np.zeros((64, 4), dtype=np.int64)
        self._tri: dict[int, int] = {}
        self._add(_PAD, "<s>")

    def _add(self, info: WordInfo, text: str) -> int:
        np = self.np
        i = len(self._ids)
        if i >= self._table.shape[0]:
            self._table = np.concatenate([self._table, np.zeros_like(self._table)])
            self._conj = np.concatenate([self._conj, np.zeros_like(self._conj)])
            self._word_info = np.concatenate([self._word_info, np.zeros_like(self._word_info)])
        get = self.attrs.get
        text_fields = info[:5]
        for v, ((_, fields), names) in enumerate(zip(VIEWS, _PREFIXES, strict=True)):
            rows = [r for r in (get(name + text_fields[f]) for f, name in zip(fields, names, strict=True))
                    if r is not None]
            if rows:
                self._table[i, v] = self.state[rows].sum(axis=0)
        for side, name in enumerate(("wc+1=", "wc-1=")):
            for b, bucket in enumerate(_BUCKET_NAMES):
                r = get(name + info[0] + "|" + bucket)
                if r is not None:
                    self._conj[i, side, b] = self.state[r]
        shape = self._shape_ids.get(info[1])
        if shape is None:
            shape = self._shape_ids[info[1]] = len(self._shape_ids)
            if shape >= self._shape_dist.shape[0]:
                self._shape_dist = np.concatenate([self._shape_dist, np.zeros_like(self._shape_dist)])
            for side, name in enumerate(("sr=", "sl=")):
                for d in range(11):
                    r = get(name + info[1] + "|" + _dist(d))
                    if r is not None:
                        self._shape_dist[shape, side, d] = self.state[r]
        self._ids[text] = i
        self._word_info[i] = (shape, info[5], info[6], _BUCKET_NAMES.index(info[3]))
        return i

    def ids(self, words: Sequence[str]) -> list[int]:
        """Word ids (cached), adding the words not seen yet."""
        got = self._ids.get
        out = []
        for w in words:
            i = got(w)
            if i is None:
                if len(self._ids) > 100_000:  # bounded: arbitrary input must not grow it without limit
                    self._reset()
                    return self.ids(words)
                i = self._add(self.featurize.word(w), w)
            out.append(i)
        return out

    def _distances(self, flag: Any, idx: Any, starts: Any, ends: Any) -> tuple[Any, Any]:
        """Tokens to the nearest flagged token on the left and on the right, within the sentence, capped at 10."""
        np = self.np
        n_tok = len(flag)
        last = np.maximum.accumulate(np.where(flag, idx, -1))
        prev = np.concatenate([[-1], last[:-1]])
        dl = np.where(prev >= starts, idx - prev - 1, 10)
        nxt = np.minimum.accumulate(np.where(flag, idx, n_tok)[::-1])[::-1]
        following = np.concatenate([nxt[1:], [n_tok]])
        dr = np.where(following < ends, following - idx - 1, 10)
        return np.minimum(dl, 10), np.minimum(dr, 10)

    def _emissions(self, sents: Sequence[list[int]]) -> Any:
        """Label scores of every token of ``sents`` (word ids), one (tokens, labels) array, sentences joined.

        Few numpy calls whatever the number of sentences: one gather for the word-level views, one for
        the position features' state rows, one each for the two conjunction tables.
        """
        np = self.np
        lens = np.fromiter((len(x) for x in sents), dtype=np.int64, count=len(sents))
        n_tok = int(lens.sum())
        pad = [0] * WINDOW  # pad words (id 0) around each sentence
        flat: list[int] = []
        for x in sents:
            flat += pad
            flat += x
            flat += pad
        padded = np.array(flat, dtype=np.int64)
        idx = np.arange(n_tok)
        sent = np.repeat(np.arange(len(sents)), lens)
        starts = np.repeat(np.cumsum(lens) - lens, lens)
        ends = starts + np.repeat(lens, lens)
        pos = idx + WINDOW * (2 * sent + 1)
        ids = padded[pos]
        views = padded[pos[:, None] + self._offsets]  # (tokens, views): the word at each offset
        e = self._table[views, self._view_index].sum(axis=1)
        info = self._word_info
        shape = info[padded, 0]
        # shape trigram of (previous, this, next) token; a fixed base (shape ids stay below 2**20: the word
        # cache, which numbers them, is reset at 100,000)
        code = (shape[pos - 1] << 40) | (shape[pos] << 20) | shape[pos + 1]
        names = {v: k for k, v in self._shape_ids.items()}
        uniq, inv = np.unique(code, return_inverse=True)
        tri = []
        for c in uniq.tolist():
            r = self._tri.get(c)
            if r is None or len(self._tri) > 100_000:
                a, b, d = c >> 40, (c >> 20) & 0xFFFFF, c & 0xFFFFF
                r = self.attrs.get("ss=" + names[a] + names[b] + names[d], self.unknown)
                self._tri[c] = r
            tri.append(r)
        # distances (tokens) to the nearest strong cue and quote mark before / after, capped as in Featurizer
        dl, dr = self._distances(info[ids, 1].astype(bool), idx, starts, ends)
        quote_kind = info[ids, 2]
        ql, qr = self._distances(quote_kind > 0, idx, starts, ends)
        # position in the sentence: first, second, last, elsewhere (a one-token sentence's token is first)
        p = np.full(n_tok, 2, dtype=np.int64)
        p[idx == ends - 1] = 3
        p[idx == starts + 1] = 1
        p[idx == starts] = 0
        # inside-quote flag: '"' toggles, '“' opens, '”' closes (the mark itself takes the new state)
        q = np.zeros(n_tok, dtype=np.int64)
        if quote_kind.any():
            marks = np.flatnonzero(quote_kind).tolist()
            inside = False
            sent_end = -1
            for i, mark in enumerate(marks):
                if mark >= sent_end:
                    inside, sent_end = False, int(ends[mark])
                kind = quote_kind[mark]
                inside = (not inside) if kind == 1 else kind == 2
                stop = marks[i + 1] if i + 1 < len(marks) and marks[i + 1] < sent_end else sent_end
                if inside:
                    q[mark:stop] = 1
        d = self._dist_rows
        rows = np.stack([np.asarray(tri, dtype=np.int64)[inv.reshape(-1)], d["l"][dl], d["r"][dr],
                         d["ql"][ql], d["qr"][qr], self._b_rows[p], self._q_rows[q]], axis=1)
        e += self.state[rows].sum(axis=1)
        # conjunctions: word x the neighbours' cue buckets, shape x the distances to a strong cue
        bucket = info[padded, 3]
        e += self._conj[ids[:, None], self._two, np.stack([bucket[pos + 1], bucket[pos - 1]], axis=1)].sum(axis=1)
        e += self._shape_dist[shape[pos][:, None], self._two, np.stack([dr, dl], axis=1)].sum(axis=1)
        return e

    def tag(self, sents: Sequence[Sequence[str]], margins: list[Any] | None = None) -> list[list[str]]:
        """The best tag sequence of each sentence (token texts), as crfsuite's ``Tagger.tag`` gives it.

        Args:
            sents: token texts of each sentence.
            margins: when given, filled with each sentence's source margins (one array a sentence: per
                token, its best source label's emission score minus the O label's).
        """
        np = self.np
        word_ids = [self.ids(w) for w in sents]
        out: list[list[str]] = [[] for _ in sents]
        todo = [i for i, x in enumerate(word_ids) if x]
        if margins is not None:
            margins[:] = [np.zeros(0)] * len(sents)
        if not todo:
            return out
        e = self._emissions([word_ids[i] for i in todo])
        offsets = np.cumsum([0] + [len(word_ids[i]) for i in todo])
        if margins is not None:
            lab = {x: i for i, x in enumerate(self.labels)}
            margin = np.maximum(e[:, lab["B-S"]], e[:, lab["I-S"]]) - e[:, lab["O"]]
            for k, i in enumerate(todo):
                margins[i] = margin[offsets[k] : offsets[k + 1]]
        lengths = [len(word_ids[i]) for i in todo]
        buckets: dict[int, list[int]] = {}
        if max(lengths) * len(todo) <= 4 * sum(lengths):
            buckets[0] = list(range(len(todo)))  # one batch: fewest numpy steps
        else:  # lengths by powers of two: padding at most doubles the work (long adversarial sentences)
            for k, n in enumerate(lengths):
                buckets.setdefault(n.bit_length(), []).append(k)
        trans = self.trans
        n_lab = len(self.labels)
        maximum = np.maximum.reduce
        for group in buckets.values():
            lens = np.array([lengths[k] for k in group])
            width = int(lens.max())
            em = np.zeros((width, len(group), n_lab))
            for r, k in enumerate(group):
                em[: lens[r], r] = e[offsets[k] : offsets[k + 1]]
            # step t: scores[t, j] = max_i(scores[t-1, i] + trans[i, j] + em[t, j]); the emission is added to
            # the transitions once for all steps, so a step is two numpy calls (the loop's cost is their overhead)
            te = em[:, :, None, :] + trans
            scores = np.empty((width, len(group), n_lab))
            scores[0] = em[0]
            prev = scores[:, :, :, None]
            cand = np.empty((len(group), n_lab, n_lab))
            add = np.add
            for t in range(1, width):
                add(prev[t - 1], te[t], out=cand)
                maximum(cand, axis=1, out=scores[t])
            # back pointers of every step at once: the best previous label for each label
            back = np.zeros((width, len(group), n_lab), dtype=np.int64)
            if width > 1:
                back[1:] = (prev[:-1] + te[1:]).argmax(axis=2)
            ends = scores[lens - 1, np.arange(len(group))].argmax(axis=1).tolist()
            labels = self.labels
            for r, k in enumerate(group):
                n = int(lens[r])
                cur = ends[r]
                path = [cur] * n
                back_r = back[:n, r].tolist()  # this sentence's pointers only (not the padding)
                for t in range(n - 1, 0, -1):
                    cur = back_r[t][cur]
                    path[t - 1] = cur
                out[todo[k]] = [labels[y] for y in path]
        return out


@dataclass
class Found:
    """An attribution in sentence coordinates."""

    speaker: tuple[int, int]
    cue: tuple[int, int]
    content: tuple[int, int] | None
    kind: str


class AttributionTagger:
    """The shipped CRF and cue lexicon: the attributions of a post's sentences."""

    def __init__(self, model: dict[str, Any]) -> None:
        import pycrfsuite

        self.cue_p: dict[str, float] = model["cue_p"]
        cut = model.get("stage_trigger_p", STAGE_TRIGGER_P)
        self.triggers = frozenset(w for w, p in self.cue_p.items() if p >= cut)
        self.featurize = Featurizer(self.cue_p)
        self.source_fallback_min: float = model.get("source_fallback_min", SOURCE_FALLBACK_MIN)
        self.cue_min: float = model.get("cue_min", CUE_MIN)
        self._model_bytes: bytes = model["crf"]
        self._local = threading.local()  # a crfsuite Tagger is stateful (set, tag, marginal): one per thread
        self._new_tagger = pycrfsuite.Tagger
        _ = self._crf  # open it now, so a broken model fails at load
        self._weights = model.get("weights") or crf_weights(self._model_bytes)

    @property
    def _viterbi(self) -> FastViterbi:
        fast = getattr(self._local, "fast", None)
        if fast is None:
            fast = self._local.fast = FastViterbi(self._weights, self.featurize)
        return fast

    @property
    def _crf(self) -> Any:
        crf = getattr(self._local, "crf", None)
        if crf is None:
            crf = self._new_tagger()
            crf.open_inmemory(self._model_bytes)
            self._local.crf = crf
        return crf

    def _tag_many(self, texts: Sequence[str]) -> list[tuple[list[tuple[int, int, str]], list[str], Any]]:
        """Tokens ``(start, end, text)``, tags and source margins of each sentence, decoded together."""
        toks = [[(m.start(), m.end(), m.group()) for m in TOKEN_RE.finditer(text)] for text in texts]
        margins: list[Any] = []
        tags = self._viterbi.tag([[t[2] for t in x] for x in toks], margins)
        return list(zip(toks, tags, margins, strict=True))

    def _tag(self, text: str) -> tuple[list[tuple[int, int, str]], list[str]]:
        """Tokens ``(start, end, text)`` of one sentence and their tags."""
        toks, tags, _ = self._tag_many([text])[0]
        return toks, tags

    @staticmethod
    def _merge(text: str, toks: Sequence[tuple[int, int, str]], tags: Sequence[str]) -> list[tuple[str, int, int]]:
        out: list[tuple[str, int, int]] = []
        prev = "O"
        for (s, e, _), tag in zip(toks, tags, strict=True):
            if tag == "O":
                prev = tag
                continue
            role = tag[2:]
            # "B-S B-S": a source split in two ("the" + "campaign") is one speaker; cues and contents keep B
            glued = tag[0] == "I" or (role == "S" and prev[2:] == "S")
            if glued and out and out[-1][0] == role and _joined(text, out[-1][2], s):
                out[-1] = (role, out[-1][1], e)
            else:
                out.append((role, s, e))
            prev = tag
        return out

    def spans(self, text: str) -> list[tuple[str, int, int]]:
        """The tagged (role, start, end) spans of one sentence, roles S (source), C (cue), K (content)."""
        toks, tags = self._tag(text)
        return self._merge(text, toks, tags)

    def _fallback_source(self, text: str, toks: Sequence[tuple[int, int, str]], tags: Sequence[str],
                         margins: Any) -> tuple[int, int] | None:
        """The likeliest source span by the CRF's token scores, for a sentence whose cue has no tagged source.

        The token whose best source label beats O by the most (its emission margin; the Viterbi pass
        computed it) outside the tagged cues, grown over its neighbours while theirs is at least
        :attr:`source_fallback_min` less one; None when the best is below :attr:`source_fallback_min`.
        Only the tokens within :data:`FALLBACK_WINDOW` of the first cue are read (a speaker is near its
        cue), so a giant sentence costs no more than a normal one.
        """
        first = next(i for i, t in enumerate(tags) if t.endswith("-C"))
        start = max(0, first - FALLBACK_WINDOW)
        stop = min(len(toks), first + FALLBACK_WINDOW + 1)
        scores = [-1e9 if tags[i].endswith("-C") else float(margins[i]) for i in range(start, stop)]
        best = max(range(len(scores)), key=scores.__getitem__)
        if scores[best] < self.source_fallback_min:
            return None
        lo = hi = best
        grow = self.source_fallback_min - 1.0
        while lo > 0 and scores[lo - 1] >= grow and _joined(text, toks[start + lo - 1][1], toks[start + lo][0]):
            lo -= 1
        while hi + 1 < len(scores) and scores[hi + 1] >= grow and _joined(text, toks[start + hi][1],
                                                                           toks[start + hi + 1][0]):
            hi += 1
        return _strip(text, toks[start + lo][0], toks[start + hi][1])

    def find(self, text: str) -> list[Found]:
        """Every attribution in one sentence, in text order (offsets into ``text``)."""
        return self.find_many([text])[0]

    def _cue_like(self, cue: str) -> bool:
        """A tagged cue has a word the lexicon knows as a cue (``CUE_MIN``) and is not a finding ("findings show")."""
        if FINDING_CUE.match(cue):
            return False
        if self.cue_min <= 0.0:
            return True
        p = self.cue_p.get
        # by token, as the lexicon was learned: "said:" is "said" and ":"
        return any(p(m.group().lower(), 0.0) >= self.cue_min for m in TOKEN_RE.finditer(cue))

    def find_many(self, texts: Sequence[str]) -> list[list[Found]]:
        """Every attribution in each sentence, in text order (offsets into that sentence's text)."""
        return [self._found(text, toks, tags, margins)
                for text, (toks, tags, margins) in zip(texts, self._tag_many(texts), strict=True)]

    def _found(self, text: str, toks: Sequence[tuple[int, int, str]], tags: Sequence[str], margins: Any
               ) -> list[Found]:
        if "B-C" not in tags and "I-C" not in tags:
            return []
        spans = self._merge(text, toks, tags)
        # Invalid sources ("63 percent of teens", "Discussions") stay for linking, so their cue is dropped
        # with them rather than handed to another speaker.
        sources = [_strip(text, s, e) for r, s, e in spans if r == "S"]
        valid = {(s, e) for s, e in sources if e > s and _valid_speaker(text[s:e], s == 0)}
        cues = [(s, e) for r, s, e in spans if r == "C" and self._cue_like(text[s:e])]
        contents = [(s, e) for r, s, e in spans if r == "K"]
        if cues and not sources and self.source_fallback_min < FALLBACK_OFF:
            fb = self._fallback_source(text, toks, tags, margins)
            if fb is not None and fb[1] > fb[0] and _valid_speaker(text[fb[0] : fb[1]], fb[0] == 0):
                sources, valid = [fb], {fb}
        out: list[Found] = []
        for cue in cues:
            speaker = _nearest(cue, sources)
            if speaker is None or speaker not in valid:
                continue
            content = _nearest(cue, contents)
            out.append(Found(speaker, cue, content, classify(text[speaker[0] : speaker[1]])))
        return out


def _joined(text: str, end: int, start: int) -> bool:
    """Whether two tokens belong to one span: nothing but spaces between them (no line break)."""
    gap = text[end:start]
    return "\n" not in gap


def _nearest(cue: tuple[int, int], spans: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """The span closest to ``cue`` in characters (ties: the earlier one, a speaker before its verb)."""
    best: tuple[int, int] | None = None
    best_gap = 1 << 60
    for s, e in spans:
        gap = cue[0] - e if e <= cue[0] else s - cue[1]
        if gap < best_gap:
            best, best_gap = (s, e), gap
    return best
