"""Sourcing: who the body says its statements come from, grouped by speaker, and whether they are named.

Learned from PolNeAR (political news, 22,501 annotated attributions in its train split; see
:mod:`overclaim.training.sourcing` and ``artifacts/sourcing/MODEL_CARD.md``):

- a **cue lexicon** learned from the train cue spans (``P(token is part of a cue | token)``): a
  sentence is tagged only when one of its tokens reaches :data:`STAGE_TRIGGER_P`, so a sentence
  without one costs one set test;
- a **CRF token tagger** (python-crfsuite, averaged perceptron; BIO tags for source, cue and
  content) over the tokens of those sentences, with word, shape, suffix, stem and cue-lexicon
  features of a three-token window (:data:`VIEWS`), distances to the nearest strong cue and quote
  mark, the position in the sentence and a few conjunctions. The stage decodes it with
  :class:`FastViterbi` (numpy; crfsuite's best paths, with per-word feature sums cached and a post's
  sentences decoded together): linear in the body's length;
- each tagged cue becomes an attribution, linked to the nearest tagged source in its sentence and
  the nearest content span; a cue with no tagged source takes the token whose source score beats
  "no role" by the most (from the same Viterbi pass) when it reaches :data:`SOURCE_FALLBACK_MIN`,
  else it is dropped (the report needs a speaker). A speaker made of function words only ("the",
  "but") or a number ("about 40 percent of patients") is not one.

Speaker classes (rules over the speaker phrase, :func:`classify`): ``named_person``,
``named_organization``, ``outlet``, ``document`` (statement, report, filing, study),
``anonymous`` ("officials", "people familiar with the matter", "a spokesperson" without a name)
and ``pronoun`` ("he", "they", "the researchers"). A pronoun is resolved to the nearest earlier
compatible named speaker or name (:func:`resolve`) and shown with it (``antecedent``); it is
never counted as named on its own. Mentions of one speaker ("Jerome Powell", "Powell", a "he"
resolved to him) are one source (``Sourcing.sources``); ``named`` (people, organisations, outlets) /
``documents`` / ``anonymous`` / ``unresolved`` / ``anonymous_share`` count sources, not attributions.

An evidence sentence rests on anonymous sources when it has an anonymous attribution and no
other; ``evidence_anonymous_share`` weighs those by relevance.
"""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from overclaim.config import Config
from overclaim.context import Context
from overclaim.report import Attribution, Source, Sourcing, Span
from overclaim.resources import lexicon, stem
from overclaim.stages.base import Stage
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
# A "strong" cue token (for the distance-to-cue features): P(cue | token) at least this.
STRONG_CUE_P = 0.3
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
# Longest speaker phrase kept, in words: PolNeAR sources are at most a clause ("a senior official
# who spoke on condition of anonymity because he was not authorized to discuss the matter" is 16).
MAX_SPEAKER_WORDS = 20

OUTLET_RE = re.compile(
    r"^(?:the\s+)?(?:Reuters|AP|AFP|Associated Press|Agence France-Presse|Bloomberg(?: News)?|CNN|BBC(?: News)?|"
    r"NBC(?: News)?|CBS(?: News)?|ABC(?: News)?|Fox News|NPR|Axios|Politico|Post|Times|Journal|Guardian|"
    r"(?:Washington|New York|Jerusalem|Denver) Post|New York Times|Financial Times|Los Angeles Times|"
    r"Wall Street Journal|Daily Mail|Telegraph|Economist|Al Jazeera|newspaper|paper|outlet|network|broadcaster|"
    r"magazine|news agency|wire service)$",
    re.I,
)
DOCUMENT_HEADS = frozenset(
    "statement statements report reports filing filings document documents memo memos study survey letter "
    "release records data papers complaint indictment poll analysis transcript email emails post tweet "
    "website announcement notice order ruling lawsuit affidavit assessment estimates figures".split()
)
ORG_WORDS = frozenset(
    "company firm ministry government department agency office commission council committee bureau institute "
    "university police administration military army navy embassy group board club team court party association "
    "foundation bank corporation organization organisation union authority authorities regime campaign "
    "inc inc. corp corp. co co. ltd ltd. llc plc intelligence house pentagon kremlin congress senate parliament "
    "state network agencies prosecutors prosecution international clinic center centre fund institution "
    "coalition alliance federation society ngo".split()
)
PREPOSITION = re.compile(r"\s+(?:of|for|at|with|from|in|on|to|by|close|familiar|briefed|who|inside|within)\s", re.I)
MEDIA_RE = re.compile(r"^(?:the\s+)?(?:[A-Z][\w.-]+\s+)?(?:state\s+)?(?:media|television|TV|radio|news agency)$", re.I)
SPOKES = frozenset({"spokesman", "spokeswoman", "spokesperson", "representative", "spokespeople"})


# ---- learned attribution tagger (CRF over tokens) ----
# Tags: B-/I- for S (source), C (cue), K (content), and O.


def _shape(word: str) -> str:
    """A short word shape: X (capitalised), XX (all caps), x (lower), d (digits), or the symbol itself."""
    c = word[0]
    if c.isalpha():
        if c.isupper():
            return "XX" if len(word) > 1 and word.isupper() else "X"
        return "x"
    if c.isdigit():
        return "d"
    return c if len(word) == 1 else "p"


_BUCKETS = (0.6, 0.3, 0.1, 0.02)
_BUCKET_NAMES = ("0", "1", "2", "3", "n")


def _bucket(p: float) -> str:
    for i, cut in enumerate(_BUCKETS):
        if p >= cut:
            return str(i)
    return "n"


_DIST = ("1", "2", "3", "4", "5", "6", "6", "9", "9", "9")
# A word's fields, in this order: lower-cased text, shape, 3-letter suffix, P(cue | word) bucket, Snowball
# stem. Each feature names its field and the offset of the word it describes ("w-1=said": the previous
# word is "said").
FIELDS = ("w", "s", "x", "c", "t")
# (offset, fields) of the word-level features of a token: three words each side.
VIEWS: tuple[tuple[int, tuple[int, ...]], ...] = (
    (0, (0, 1, 2, 3, 4)),
    (-1, (0, 1, 3, 4)),
    (1, (0, 1, 3, 4)),
    (-2, (0, 3)),
    (2, (0, 3)),
    (-3, (3,)),
    (3, (3,)),
)
WINDOW = max(abs(o) for o, _ in VIEWS)
_PREFIXES = tuple(tuple(f"{FIELDS[f]}{o}=" for f in fields) for o, fields in VIEWS)
# Word info: the five fields, then strong cue (bool) and quote mark (0 none, 1 '"' toggles, 2 '“' opens, 3 '”' closes)
WordInfo = tuple[str, str, str, str, str, bool, int]
_PAD: WordInfo = ("<s>", "<s>", "", "n", "<s>", False, 0)
_QUOTE_KIND = {'"': 1, "“": 2, "”": 3}


def _distances(flags: Sequence[bool]) -> tuple[list[int], list[int]]:
    """Tokens to the nearest flagged token on the left and on the right of each token (99: none)."""
    n = len(flags)
    left = [99] * n
    prv = 99
    for i in range(n):
        left[i] = prv
        prv = 0 if flags[i] else prv + 1
    right = [99] * n
    nxt = 99
    for i in range(n - 1, -1, -1):
        right[i] = nxt
        nxt = 0 if flags[i] else nxt + 1
    return left, right


def _dist(d: int) -> str:
    return _DIST[d] if d < 10 else "f"


def _position(i: int, n: int) -> str:
    """Where a token sits in its sentence: first, second, last, or elsewhere."""
    return "0" if i == 0 else "e" if i == n - 1 else "1" if i == 1 else "m"


class Featurizer:
    """Token features for the attribution CRF, from a learned cue lexicon (P(cue | word))."""

    def __init__(self, cue_p: dict[str, float]) -> None:
        self.cue_p = cue_p
        self._cache: dict[str, WordInfo] = {}

    def word(self, text: str) -> WordInfo:
        """The fields of one token (see :data:`FIELDS`), its strong-cue flag and quote kind, cached by its text."""
        got = self._cache.get(text)
        if got is None:
            if len(self._cache) > 100_000:  # bounded: arbitrary input must not grow it without limit
                self._cache.clear()
            low = text.lower()
            p = self.cue_p.get(low, 0.0)
            got = (low, _shape(text), low[-3:], _bucket(p), stem(low), p >= STRONG_CUE_P, _QUOTE_KIND.get(text, 0))
            self._cache[text] = got
        return got

    def __call__(self, words: Sequence[str]) -> list[list[str]]:
        """Feature strings for each token of one sentence (linear in its length)."""
        info = [self.word(w) for w in words]
        n = len(info)
        left, right = _distances([x[5] for x in info])
        qleft, qright = _distances([x[6] > 0 for x in info])
        pad = _PAD[:5]
        padded = [pad] * WINDOW + [x[:5] for x in info] + [pad] * WINDOW
        out: list[list[str]] = []
        quote = False
        for i in range(n):
            kind = info[i][6]
            if kind:
                quote = (not quote) if kind == 1 else kind == 2
            feats = []
            for (o, fields), names in zip(VIEWS, _PREFIXES, strict=True):
                x = padded[i + WINDOW + o]
                feats += [name + x[f] for f, name in zip(fields, names, strict=True)]
            feats += [
                "ss=" + padded[i + WINDOW - 1][1] + info[i][1] + padded[i + WINDOW + 1][1],
                "r=" + _dist(right[i]), "l=" + _dist(left[i]),
                "qr=" + _dist(qright[i]), "ql=" + _dist(qleft[i]),
                "q=" + ("1" if quote else "0"),
                "b=" + _position(i, n),
                # conjunctions: the word with its neighbours' cue buckets ("he" before "said"), the shape
                # with the distance to a strong cue (a capitalised word right before one)
                "wc+1=" + info[i][0] + "|" + padded[i + WINDOW + 1][3],
                "wc-1=" + info[i][0] + "|" + padded[i + WINDOW - 1][3],
                "sr=" + info[i][1] + "|" + _dist(right[i]), "sl=" + info[i][1] + "|" + _dist(left[i]),
            ]
            out.append(feats)
        return out


def crf_weights(model_bytes: bytes) -> dict[str, Any]:
    """The CRF's weights as arrays, for :class:`FastViterbi`: labels, attribute index, state and transition weights.

    Stored in the artifact by ``overclaim train sourcing`` (reading them from crfsuite takes about a second).
    """
    import numpy as np
    import pycrfsuite

    crf = pycrfsuite.Tagger()
    crf.open_inmemory(model_bytes)
    info = crf.info()
    labels = list(crf.labels())
    lab = {x: i for i, x in enumerate(labels)}
    attrs: dict[str, int] = {}
    for a, _ in info.state_features:
        attrs.setdefault(a, len(attrs))
    state = np.zeros((len(attrs) + 1, len(labels)))  # the last row: an attribute the model does not know
    for (a, y), w in info.state_features.items():
        state[attrs[a], lab[y]] = w
    trans = np.zeros((len(labels), len(labels)))
    for (y1, y2), w in info.transitions.items():
        trans[lab[y1], lab[y2]] = w
    return {"labels": labels, "attrs": attrs, "state": state, "trans": trans}


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


_LETTER = re.compile(r"[^\W\d_]")


# Not sources even when the tagger marks them: quantities ("63 percent of teens") and findings
# ("Our findings suggest", "The results show"), which PolNeAR-style tagging picks up from "suggest"/"show".
NOT_SOURCE = re.compile(r"^(?:(?:(?:about|around|nearly|almost|roughly|over|under|only|just|some|(?:more|less|fewer)"
                        r"\s+than)\s+)?\W*\d[\d.,%]*\s*(?:%|percent|per cent)?\b|"
                        r"(?:our|the|these|its|their|his|her)\s+(?:findings?|results?|evidence|numbers)$)", re.I)


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` without spaces and punctuation at its ends ("a White House statement in March,")."""
    while start < end and text[start] in " \t\n,;:—–-“”\"'‘’(":
        start += 1
    while end > start and text[end - 1] in " \t\n,;:—–-“”\"'‘’)":
        end -= 1
    return start, end


def _common_plural(word: str) -> bool:
    """A capitalised plural common noun opening a sentence ("Discussions have ranged"), not a surname."""
    from overclaim.resources import zipf

    low = word.lower()
    # zipf 4: the singular is an everyday word ("discussion" 4.5); surnames' singulars are rare
    # ("sander" 2.0, "jone" 1.6); "Williams"/"Adams" are the price.
    return low.endswith("s") and not low.endswith("ss") and zipf(low[:-1]) >= 4.0


# Words that cannot make a speaker alone ("the", "but", "in"): articles, conjunctions, prepositions.
# Pronouns, relative ones included ("who", "which": PolNeAR's sources), are not among them.
FUNCTION_WORDS = frozenset("the a an and but or nor so yet in on at for of to with from by as if when while because "
                           "about after before than then also not into over under".split())


def _valid_speaker(text: str, opens_sentence: bool = False) -> bool:
    """A speaker has a letter and a word other than a function word, is no bare title, and is not a clause.

    A clause: more than MAX_SPEAKER_WORDS words.
    """
    words = text.split()
    if not words or len(words) > MAX_SPEAKER_WORDS or not _LETTER.search(text) or NOT_SOURCE.match(text):
        return False
    if all(w.lower().strip(".,") in FUNCTION_WORDS for w in words):
        return False
    low = words[0].lower()
    if (opens_sentence and len(words) == 1 and low not in patterns()[0] and _singular(low) not in DOCUMENT_HEADS
            and _common_plural(words[0])):
        return False  # "Discussions have ranged"; "Officials said", "Polls suggest" are sources
    return not (len(words) == 1 and words[0].lower().strip(".") in TITLES)


@lru_cache(maxsize=1)
def tagger() -> AttributionTagger:
    """The shipped tagger (loaded once per process)."""
    from overclaim.resources import load_artifact

    return AttributionTagger(load_artifact(ARTIFACT))


def find_attributions(text: str) -> list[Found]:
    """Every attribution in one sentence, in text order (offsets into ``text``)."""
    return tagger().find(text)


# ---- speaker classes ----

PRONOUN_WORDS = frozenset(
    "he she i we they it you him her them us me this that these those who one someone".split()
)
# Person pronouns resolve to a named person, group pronouns to an organisation or a person.
PERSON_PRONOUNS = frozenset({"he", "she", "him", "her", "i", "me"})
# Definite back-references: "the researchers" names nobody by itself; resolved like "they".
BACKREF_HEADS = frozenset(
    "researchers scientists authors investigators team company firm group organization organisation agency "
    "campaign candidate senator congressman congresswoman governor mayor lawmaker nominee president "
    "researcher scientist author".split()
    # the common noun of a kind of organisation names none by itself ("the bank", "the ministry")
    + "bank ministry department office commission council committee bureau institute university board "
    "foundation corporation union association fund institution coalition alliance federation society".split()
)
PERSON_BACKREF = frozenset("candidate senator congressman congresswoman governor mayor lawmaker nominee president "
                           "researcher scientist author".split())
# Experts of a named institution are that institution speaking ("Mayo Clinic researchers"); unnamed
# officials of one are still unnamed ("Defense officials", "White House aides").
EXPERT_HEADS = frozenset("researchers scientists doctors physicians economists experts analysts investigators "
                         "team authors".split())
TITLES = frozenset("dr mr mrs ms prof sen rep gov gen lt col sgt capt st president senator".split())
DETERMINERS = frozenset("the a an this that these those its his her their our my".split())


@lru_cache(maxsize=1)
def patterns() -> tuple[frozenset[str], re.Pattern[str]]:
    """(anonymous head nouns, anonymous phrases regex) from ``lexicons/anonymous_sources.txt``."""
    anon = list(lexicon("anonymous_sources"))
    heads = frozenset(e for e in anon if " " not in e and e not in ("familiar",))
    phrases = re.compile(
        r"(?i)\b(?:" + "|".join(r"\s+".join(map(re.escape, e.split())) for e in anon if " " in e) + r")\b"
    )
    return heads, phrases


# A participle after the head starts a modifier: "a study published in The Lancet", "a poll released Monday".
PARTICIPLE = re.compile(r"\s+(?:published|released|issued|obtained|filed|seen|reviewed|conducted|led|posted|"
                        r"sent|made|shared|cited|commissioned|funded)\b", re.I)
QUANTIFIERS = frozenset("some many most several few other two three four five a an all both".split())


def _head(phrase: str) -> str:
    """The head word of a noun phrase: the last word before its first preposition, participle or clause."""
    cut = PARTICIPLE.search(phrase)
    if cut:
        phrase = phrase[: cut.start()]
    m = PREPOSITION.search(phrase + " ")
    core = phrase[: m.start()] if m else phrase
    words = core.split()
    return re.sub(r"['’]s?$", "", words[-1].strip(".,")) if words else ""


def classify(speaker: str) -> str:
    """The kind of a speaker phrase: pronoun, outlet, document, anonymous, named_organization or named_person."""
    anon_heads, anon_phrases = patterns()
    text = re.sub(r",\s*\d{1,3}$", "", " ".join(speaker.split()))  # "Brown, 34": the age is not the head
    if "," in text:  # an apposition: "Jane Doe, chief executive of Acme" is Jane Doe
        name = text.split(",", 1)[0].strip()
        if name and classify(name) == "named_person":
            return "named_person"
    lower = text.lower()
    words = lower.split()
    if lower in PRONOUN_WORDS:
        return "pronoun"
    if len(words) == 2 and words[0] == "the" and words[1] in BACKREF_HEADS:
        return "pronoun"
    if OUTLET_RE.match(text) or MEDIA_RE.match(text):
        return "outlet"
    if anon_phrases.search(text):
        return "anonymous"
    head = _head(text)
    hl = head.lower()
    if hl in DOCUMENT_HEADS or _singular(hl) in DOCUMENT_HEADS:
        return "document"
    m = PREPOSITION.search(text + " ")
    core_words = (text[: m.start()] if m else text).split()
    first = core_words[0] if core_words else text.split()[0]
    # proper-noun words before the head ("Mayo Clinic researchers", "U.S. officials"); a capitalised
    # quantifier opening a sentence ("Some doctors") names nothing
    named_mods = [w for w in core_words[:-1] if w[:1].isupper() and w.lower() not in DETERMINERS | QUANTIFIERS]
    # experts of a named institution, before or after the head ("researchers at the University of Tokyo")
    named_after = m is not None and any(w[:1].isupper() for w in text[m.end() :].split())
    if hl in EXPERT_HEADS and (named_mods or named_after):
        return "named_organization"
    if hl in anon_heads and (not head[:1].isupper() or head == first or first.lower() in QUANTIFIERS):
        return "anonymous"
    if hl in SPOKES and not (len(core_words) >= 2 and core_words[-1][:1].isupper()):
        return "anonymous"  # "a spokesperson", "a Boeing spokesman": nobody named
    core = {w.strip(".,’'").lower() for w in core_words}
    if first.lower() == "the" and head[:1].isupper():
        return "named_organization"
    if len(core_words) >= 2 and all(w[:1].isupper() and w.lower() not in ORG_WORDS for w in core_words[-2:]):
        return "named_person"  # a title and a name: "Senate Majority Leader Chuck Schumer"
    if core & ORG_WORDS or (head.isupper() and len(head) > 1):
        return "named_organization"
    if head[:1].isupper():
        return "named_organization" if first.lower() == "the" else "named_person"
    return "named_organization" if lower.startswith(("the ", "its ")) else "anonymous"


def _singular(word: str) -> str:
    """A plural noun's singular by its ending ("polls" -> "poll", "studies" -> "study"); other words as they are."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _name_key(text: str) -> str:
    """What identifies a named speaker: a person's surname, an organisation's name without article."""
    words = [w.strip(".,’'\"") for w in text.split()]
    words = [w for w in words if w]
    while words and words[0].lower() in DETERMINERS:
        words = words[1:]
    return " ".join(words).lower()


# A personal name in running text: two capitalised words, after an optional title ("Dr. Jane Smith").
NAME_RE = re.compile(r"\b(?:[A-Z][a-z]{1,3}\. )?[A-Z][a-z'’-]+ [A-Z][a-z'’-]+\b")
# How far back a person pronoun looks for a name (characters; about three news sentences).
NAME_WINDOW = 400
# How many earlier named speakers a pronoun looks back over (bounds the cost on long bodies).
MAX_ANTECEDENTS = 50


def _compatible(pronoun: str, kind: str) -> bool:
    words = pronoun.lower().split()
    person = words[-1] in PERSON_PRONOUNS or (len(words) == 2 and words[1] in PERSON_BACKREF)
    if person:
        return kind == "named_person"
    if words[-1] in ("it", "this", "that"):
        return kind in ("named_organization", "outlet", "document")
    return kind in ("named_organization", "named_person", "outlet")


def resolve(
    pronoun: str, before: Sequence[tuple[str, str, int, int]], text: str, end: int
) -> tuple[int, int] | None:
    """The antecedent of ``pronoun``: ``(index into before, -1)`` or ``(start, end)`` of a name in ``text[:end]``.

    The nearest compatible candidate wins: an earlier named speaker (he/she need a person, it an
    organisation or document, they/we/the researchers either), or for a person pronoun a personal
    name ("Jane Smith", "Dr. Jane Smith") in the last :data:`NAME_WINDOW` characters before it.

    Args:
        pronoun: the pronoun speaker phrase ("he", "the researchers").
        before: earlier named speakers as (text, kind, source index, clean end offset), in text order.
        text: the body's clean text.
        end: where the pronoun starts in ``text`` (only a window before it is read).
    """
    best: tuple[int, int] | None = None
    best_pos = -1
    for i in range(len(before) - 1, max(-1, len(before) - 1 - MAX_ANTECEDENTS), -1):
        if _compatible(pronoun, before[i][1]):
            best, best_pos = (i, -1), before[i][3]
            break
    if _compatible(pronoun, "named_person") and not _compatible(pronoun, "named_organization"):
        for m in NAME_RE.finditer(text, max(0, end - NAME_WINDOW), end):
            words = m.group().split()
            if m.end() > best_pos and words[0].lower().strip(".") not in DETERMINERS and not (
                {w.lower() for w in words} & ORG_WORDS
            ) and classify(m.group()) == "named_person":
                best, best_pos = (m.start(), m.end()), m.end()
    return best


# "Microsoft said it would", "Apple said on Monday that it": an organisation speaks of itself as "it".
IT_AFTER = re.compile(r"^(?:\s+(?:on|in|last|this)\s+\w+)?(?:\s+that)?\s+(?:it|its)\s")
ORG_AFTER = "(?:'s)?\\s+(?:spokes\\w+|officials?|executives?|shares|stock|employees|Inc|Corp|Co|Ltd)\\b"
# How much of the body is searched for "Boeing spokesman"-style evidence (characters each way).
ORG_EVIDENCE_WINDOW = 3000


def _single_name_kind(name: str, after_cue: str, body: str) -> str:
    """named_organization or named_person for a one-word name no earlier person has ("Microsoft", "Trump")."""
    if IT_AFTER.match(after_cue):
        return "named_organization"
    pos = body.find(name)
    lo, hi = max(0, pos - ORG_EVIDENCE_WINDOW), pos + ORG_EVIDENCE_WINDOW
    if re.compile(re.escape(name) + ORG_AFTER).search(body, lo, hi):
        return "named_organization"
    return "named_person"


class SourceFinder(Stage):
    """Extract attributions from the body, group them by speaker and count named and anonymous sources."""

    name = "sourcing"

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config
        self._tagger: AttributionTagger | None = None

    def __call__(self, ctx: Context) -> None:
        """Set ``ctx.sourcing`` and each evidence sentence's ``anonymous_source``."""
        # The stage builds thousands of small objects on a long body and none of them form cycles: the
        # cyclic collector, left on, rescans the heap as they pile up and made "he said. " * 7,000 grow
        # 2.4-3.7x per doubling (2.1x with it paused; benchmarks/sourcing_speed.py). Paused, then restored.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._run(ctx)
        finally:
            if was_enabled:
                gc.enable()

    def _run(self, ctx: Context) -> None:
        if self._tagger is None:
            self._tagger = tagger()
        triggers = self._tagger.triggers
        attributions: list[Attribution] = []
        kinds_by_sentence: dict[int, set[str]] = {}
        sources: list[dict[str, Any]] = []
        keys: dict[tuple[str, str], int] = {}  # (kind group, key) -> source index
        surnames: dict[str, int] = {}  # a named person's last name -> source index
        named_before: list[tuple[str, str, int, int]] = []  # (text, kind, source index, end) of named speakers
        tagged = [sentence for sentence in ctx.sentences if not triggers.isdisjoint(sentence.words)]
        per_sentence = self._tagger.find_many([sentence.text for sentence in tagged]) if tagged else []
        for sentence, in_sentence in zip(tagged, per_sentence, strict=True):
            for f in in_sentence:
                base = sentence.start
                phrase = sentence.text[f.speaker[0] : f.speaker[1]]
                antecedent: Span | None = None
                kind = f.kind
                if kind == "pronoun":
                    idx = None
                    found = resolve(phrase, named_before, ctx.body.clean, base + f.speaker[0])
                    if found is None and phrase.lower() == "it" and named_before \
                            and sources[named_before[-1][2]].get("guessed"):
                        # "Apple said ... It said ...": the one-word name taken for a person without evidence
                        # is what "it" refers to, an organisation
                        prior = named_before[-1]
                        named_before[-1] = (prior[0], "named_organization", prior[2], prior[3])
                        sources[prior[2]]["kind"] = "named_organization"
                        sources[prior[2]]["guessed"] = False
                        for j in sources[prior[2]]["attributions"]:
                            attributions[j].kind = "named_organization"
                        found = (len(named_before) - 1, -1)
                    if found is not None and found[1] == -1:
                        idx = named_before[found[0]][2]
                        antecedent = sources[idx]["span"]
                    elif found is not None:
                        # a name the body gives before the pronoun, not itself a speaker yet: it becomes one
                        antecedent = ctx.body.span(*found)
                        name = ctx.body.clean[found[0] : found[1]]
                        key = _name_key(name)
                        idx = keys.get(("named", key), surnames.get(key.split()[-1]))
                        if idx is None:
                            idx = len(sources)
                            sources.append({"name": name, "kind": "named_person", "span": antecedent,
                                            "attributions": []})
                            keys[("named", key)] = idx
                            surnames.setdefault(key.split()[-1], idx)
                else:
                    idx = None
                    key = _name_key(phrase)
                    if kind == "named_person":
                        last = key.split()[-1] if key else key
                        idx = keys.get(("named", key))
                        if idx is None:
                            idx = surnames.get(last)
                        if idx is None:
                            idx = keys.get(("named", last))
                    elif kind != "anonymous":
                        idx = keys.get(("named", key))
                    else:
                        idx = keys.get(("anonymous", key))
                guessed = False
                if kind == "named_person" and idx is None and " " not in phrase.strip():
                    kind = _single_name_kind(phrase.strip(), sentence.text[f.cue[1] :], ctx.body.clean)
                    guessed = kind == "named_person"  # no evidence either way: a later "it" may say otherwise
                speaker = ctx.body.span(base + f.speaker[0], base + f.speaker[1])
                if idx is None:
                    idx = len(sources)
                    group = "anonymous" if kind == "anonymous" else "pronoun" if kind == "pronoun" else "named"
                    sources.append({"name": phrase, "kind": kind, "span": speaker, "attributions": [],
                                    "guessed": guessed})
                    key = _name_key(phrase)
                    keys.setdefault((group, key), idx)
                    if kind == "named_person" and key:
                        surnames.setdefault(key.split()[-1], idx)
                elif kind not in ("pronoun", "anonymous") and len(phrase) > len(sources[idx]["name"]):
                    sources[idx]["name"] = phrase  # show the fullest form: "Jerome Powell", not "Powell"
                    sources[idx]["span"] = speaker
                if kind not in ("pronoun", "anonymous"):
                    named_before.append((phrase, kind, idx, base + f.speaker[1]))
                sources[idx]["attributions"].append(len(attributions))
                attributions.append(
                    # Built without re-validation: the spans are already models, the kind one of classify()'s.
                    Attribution.model_construct(
                        speaker=speaker,
                        cue=ctx.body.span(base + f.cue[0], base + f.cue[1]),
                        content=ctx.body.span(base + f.content[0], base + f.content[1]) if f.content else None,
                        kind=kind,  # type: ignore[arg-type]
                        sentence_index=sentence.index,
                        source=idx,
                        antecedent=antecedent,
                    )
                )
                kinds_by_sentence.setdefault(sentence.index, set()).add(sources[idx]["kind"])
        out_sources = [
            Source.model_construct(name=s["name"], kind=s["kind"], count=len(s["attributions"]),
                                   attributions=s["attributions"])
            for s in sources
        ]
        anonymous = sum(1 for s in out_sources if s.kind == "anonymous")
        unresolved = sum(1 for s in out_sources if s.kind == "pronoun")
        documents = sum(1 for s in out_sources if s.kind == "document")
        named = len(out_sources) - anonymous - unresolved - documents
        total = weight_anon = 0.0
        for e in ctx.evidence:
            kinds = kinds_by_sentence.get(e.index, set())
            e.anonymous_source = kinds == {"anonymous"}
            w = max(e.relevance, 1e-6)
            total += w
            weight_anon += w if e.anonymous_source else 0.0
        ctx.sourcing = Sourcing.model_construct(
            attributions=attributions,
            sources=out_sources,
            named=named,
            documents=documents,
            anonymous=anonymous,
            unresolved=unresolved,
            anonymous_share=round(anonymous / len(out_sources), 4) if out_sources else 0.0,
            evidence_anonymous_share=round(weight_anon / total, 4) if total else 0.0,
        )


def score_attributions(cases: list[dict[str, Any]]) -> dict[str, float]:
    """Speaker precision/recall and named/anonymous precision/recall of :func:`find_attributions`.

    Args:
        cases: ``{"text": ..., "attributions": [{"speaker": ..., "kind": ...}]}`` records
            (the format of ``tests/fixtures/attributions.jsonl``). A speaker counts as found
            when a predicted speaker overlaps its first occurrence (PolNeAR-style spans are often
            longer or shorter than the hand-written ones); the class is compared on found speakers,
            a pronoun counting as not anonymous.
    """
    hits = {"tp": 0, "fp": 0, "fn": 0, "anon_tp": 0, "anon_fp": 0, "anon_fn": 0, "named_tp": 0}
    gold_total = 0
    for case in cases:
        text = case["text"]
        pred = [((f.speaker[0], f.speaker[1]), f.kind) for f in find_attributions(text)]
        pred = list(dict.fromkeys(pred))
        gold_total += len(case["attributions"])
        used: set[int] = set()
        for g in case["attributions"]:
            s = text.find(g["speaker"])
            e = s + len(g["speaker"])
            hit = next((i for i, (sp, _) in enumerate(pred) if i not in used and sp[0] < e and s < sp[1]), None)
            if hit is None:
                hits["fn"] += 1
                continue
            used.add(hit)
            hits["tp"] += 1
            p, gl = pred[hit][1] == "anonymous", g["kind"] == "anonymous"
            hits["anon_tp"] += p and gl
            hits["anon_fp"] += p and not gl
            hits["anon_fn"] += gl and not p
            hits["named_tp"] += not p and not gl
        hits["fp"] += len(pred) - len(used)

    def ratio(a: int, b: int) -> float:
        return round(a / b, 4) if b else 1.0

    return {
        "attributions": gold_total,
        "speaker_precision": ratio(hits["tp"], hits["tp"] + hits["fp"]),
        "speaker_recall": ratio(hits["tp"], hits["tp"] + hits["fn"]),
        "anonymous_precision": ratio(hits["anon_tp"], hits["anon_tp"] + hits["anon_fp"]),
        "anonymous_recall": ratio(hits["anon_tp"], hits["anon_tp"] + hits["anon_fn"]),
        "named_precision": ratio(hits["named_tp"], hits["named_tp"] + hits["anon_fn"]),
        "named_recall": ratio(hits["named_tp"], hits["named_tp"] + hits["anon_fp"]),
    }
