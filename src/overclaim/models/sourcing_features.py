"""The token features of the sourcing CRF, shared by the stage's tagger and by training.

:class:`Featurizer` gives each token of a sentence its word, shape, suffix, stem and cue-lexicon
features over the window :data:`VIEWS`; :func:`crf_weights` reads a crfsuite model's weights for
:class:`overclaim.models.sourcing.FastViterbi`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from overclaim.resources import stem

# A "strong" cue token (for the distance-to-cue features): P(cue | token) at least this.
STRONG_CUE_P = 0.3

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
