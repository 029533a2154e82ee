"""Claim strength of a sentence: no relation, correlational, conditional causal, direct causal.

The scale of Yu, Li & Wang (2019, "Detecting Causal Language Use in Science Findings"):

    0 none            no relation stated, or a null finding ("no link", "did not reduce")
    1 correlational   "associated with", "linked to", "tied to", "more likely"
    2 conditional     a hedged causal claim: "may cause", "could improve", "might help"
    3 direct causal   "causes", "prevents", "increases", "raises risk"

"may cause" (2) is stronger than "is associated with" (1): it states a cause, if hedged.

This module holds what inference needs: the cue lexicon (``lexicons/claim_strength.txt``),
the cue matcher with spans, the hand features (:func:`cue_row`, also used in training) and
:class:`ClaimStrengthModel`, which scores sentences with the shipped artifact. No training
code here (see :mod:`overclaim.training.claim_strength`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from overclaim.resources import lexicon
from overclaim.tokens import APOSTROPHE_WORD_RE

MODEL_NAME = "claim_strength"
LABELS = ("none", "correlational", "conditional_causal", "direct_causal")
CUE_KINDS = ("correlational", "causal", "conditional", "negation")
_ENTRY_WORD = re.compile(r"\w+\*?")

# Windows (in words) for the interaction features, set by 5-fold CV on annotated_pubmed.csv:
# a modal up to 4 words before the causal verb ("may significantly improve", "could in part
# explain") and a negation up to 3 words before the relation ("did not significantly reduce").
MODAL_WINDOW = 4
NEGATION_WINDOW = 3
NULL_PHRASES = frozenset(
    {"no significant", "not significant", "no difference", "no evidence", "no link", "no association", "no effect"}
)


@dataclass(frozen=True)
class CueMatch:
    """A claim-strength cue: character offsets into the text it was found in, and word positions."""

    start: int
    end: int
    kind: str
    text: str
    first_word: int
    last_word: int


# One lexicon entry: its words (a trailing "*" marks a prefix) and kind.
_Entry = tuple[tuple[str, ...], str]


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, list[_Entry]], dict[str, list[tuple[str, _Entry]]]]:
    """Entries by exact first word, and prefix entries by their first four letters (longest first)."""
    exact: dict[str, list[_Entry]] = {}
    prefix: dict[str, list[tuple[str, _Entry]]] = {}
    for line in lexicon("claim_strength"):
        kind, _, phrase = line.partition(":")
        kind = kind.strip()
        if kind not in CUE_KINDS:
            raise ValueError(f"claim_strength lexicon: unknown kind {kind!r} in {line!r}")
        words = tuple(_ENTRY_WORD.findall(phrase.lower()))
        if not words:
            continue
        entry: _Entry = (words, kind)
        head = words[0]
        if head.endswith("*"):
            stem = head[:-1]
            if len(stem) < 4:
                raise ValueError(f"claim_strength lexicon: prefix {head!r} is shorter than 4 letters")
            prefix.setdefault(stem[:4], []).append((stem, entry))
        else:
            exact.setdefault(head, []).append(entry)
    for entries in exact.values():
        entries.sort(key=lambda e: -len(e[0]))
    for options in prefix.values():
        options.sort(key=lambda o: (-len(o[1][0]), -len(o[0])))
    return exact, prefix


def _word_matches(pattern: str, word: str) -> bool:
    return word.startswith(pattern[:-1]) if pattern.endswith("*") else word == pattern


def find_cues(text: str) -> list[CueMatch]:
    """Claim-strength cues in ``text``, without overlaps, in text order (longest entry wins).

    One dict probe a word (two for prefix entries), so a sentence costs a few microseconds
    per word; linear in the text's length. Cached: the model's features and the stage's cue
    spans read the same sentence.
    """
    return list(_find_cues(text))


@lru_cache(maxsize=2048)
def _find_cues(text: str) -> tuple[CueMatch, ...]:
    exact, prefix = _index()
    tokens = [(m.start(), m.end()) for m in APOSTROPHE_WORD_RE.finditer(text)]
    lowered = [text[s:e].lower().replace("’", "'") for s, e in tokens]
    found: list[CueMatch] = []
    i = 0
    n_tokens = len(tokens)
    while i < n_tokens:
        word = lowered[i]
        candidates: list[_Entry] = list(exact.get(word, ()))
        for stem, entry in prefix.get(word[:4], ()):
            if word.startswith(stem):
                candidates.append(entry)
        best: _Entry | None = None
        for words, kind in candidates:
            n = len(words)
            if i + n <= n_tokens and all(_word_matches(p, w) for p, w in zip(words, lowered[i : i + n], strict=True)):
                if best is None or n > len(best[0]):
                    best = (words, kind)
        if best is None:
            i += 1
            continue
        n = len(best[0])
        start, end = tokens[i][0], tokens[i + n - 1][1]
        found.append(CueMatch(start, end, best[1], text[start:end], i, i + n - 1))
        i += n
    return tuple(found)


N_FEATURES = 12


def cue_row(sentence: str) -> list[float]:
    """Hand features of one sentence from its cues (see the training module for how they were chosen).

    Counts (capped at 2, scaled to [0, 1]) of each cue kind; a modal shortly before a causal
    cue (conditional causal) and before a correlational one; a negation shortly before a
    relation cue; causal without modal; correlational without causal; no relation cue at
    all; a null-finding phrase ("no significant", "no link"); and a relation cue in the
    first half of the sentence.
    """
    cues = find_cues(sentence)
    counts = dict.fromkeys(CUE_KINDS, 0)
    for c in cues:
        counts[c.kind] += 1
    modal_causal = modal_corr = neg_rel = 0.0
    modals = [c.last_word for c in cues if c.kind == "conditional"]
    negs = [c.last_word for c in cues if c.kind == "negation"]
    relations = [c for c in cues if c.kind in ("causal", "correlational")]
    for r in relations:
        if any(0 < r.first_word - m <= MODAL_WINDOW for m in modals):
            if r.kind == "causal":
                modal_causal = 1.0
            else:
                modal_corr = 1.0
        if any(0 < r.first_word - g <= NEGATION_WINDOW for g in negs):
            neg_rel = 1.0
    null = 1.0 if any(c.kind == "negation" and c.text.lower() in NULL_PHRASES for c in cues) else 0.0
    n_words = max(1, len(APOSTROPHE_WORD_RE.findall(sentence)))
    early = 1.0 if any(r.first_word < n_words / 2 for r in relations) else 0.0
    return [
        *(min(counts[k], 2) / 2 for k in CUE_KINDS),
        modal_causal,
        modal_corr,
        neg_rel,
        1.0 if counts["causal"] and not modals else 0.0,
        1.0 if counts["correlational"] and not counts["causal"] else 0.0,
        0.0 if relations else 1.0,
        null,
        early,
    ]


_TAGS = {"correlational": "CORR", "causal": "CAUS", "conditional": "COND", "negation": "NEG"}


def cue_sequence(sentence: str) -> str:
    """The sentence's cue kinds in order, as tags ("COND CAUS", "NEG CORR"): the text of the tag n-gram block.

    Used as the ``preprocessor`` of a TF-IDF block, so the classifier sees which kinds follow
    which (a modal before a causal verb, a negation before an association).
    """
    return " ".join(_TAGS[c.kind] for c in find_cues(sentence)) or "NOCUE"


def cue_features(sentences: Sequence[str]) -> Any:
    """:func:`cue_row` of each sentence, as a sparse matrix (the training pipeline's cue block)."""
    import scipy.sparse as sp

    rows = [cue_row(s) for s in sentences]
    return sp.csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(rows), N_FEATURES))


@dataclass
class StrengthResult:
    """The strength of one sentence: label, class probabilities and the cues found."""

    label: str
    strength: int
    probabilities: dict[str, float]
    cues: list[CueMatch]


class ClaimStrengthModel:
    """Scores sentences with the shipped ``claim_strength`` artifact (loaded on first use).

    Uses the certainty stage's :class:`~overclaim.stages.certainty.LinearScorer` (dict
    look-ups over the fitted vocabularies, no scikit-learn call per sentence).
    """

    def __init__(self, pipeline: Any | None = None) -> None:
        self._pipeline = pipeline
        self._scorer: Any = None

    def _ready(self) -> Any:
        if self._scorer is None:
            from overclaim.stages.certainty import LinearScorer

            if self._pipeline is None:
                from overclaim.resources import load_artifact

                self._pipeline = load_artifact(MODEL_NAME)
            self._scorer = LinearScorer(self._pipeline)
            if [int(c) for c in self._scorer.classes] != list(range(len(LABELS))):
                from overclaim.errors import ModelError

                raise ModelError(f"model '{MODEL_NAME}' has classes {self._scorer.classes}, expected 0-3")
        return self._scorer

    def score_many(self, texts: Sequence[str]) -> list[StrengthResult]:
        """Strength of each text, in order."""
        scorer = self._ready()
        probas = scorer.predict_proba_many(list(texts))
        out = []
        for text, proba in zip(texts, probas, strict=True):
            best = max(range(len(proba)), key=proba.__getitem__)
            out.append(
                StrengthResult(
                    label=LABELS[best],
                    strength=best,
                    probabilities={label: round(float(p), 4) for label, p in zip(LABELS, proba, strict=True)},
                    cues=find_cues(text),
                )
            )
        return out

    def score(self, text: str) -> StrengthResult:
        """Strength of one text."""
        return self.score_many([text])[0]
