"""Certainty: how firmly the headline states its claim against how firmly the evidence does.

Headline: the ``headline_certainty`` model (Emergent: does a headline assert its claim
(``for``), report it without asserting (``observing``) or deny it (``against``)) gives
``probabilities``; the cue lexicons then move the score: hedges, attributions ("X says")
and conditionals lower it, a question caps it, boosters ("will soon", "confirmed") raise it.

Body: each evidence sentence gets ``P(uncertain)`` from the ``hedging`` model (one batch
call per post) and the same cue adjustments; the body score is the relevance-weighted
mean over the evidence sentences. ``gap = headline - body``: a confident headline over
hedged evidence gives a clear positive gap, which the verdict reads as a certainty jump.

Scores are in [0, 1], 1 = asserted as fact. Cues are reported as spans into the
original text, of kinds hedge, booster, negation, question, conditional, attribution.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from overclaim.config import Config
from overclaim.context import Context
from overclaim.report import Certainty, CertaintyScore, Cue, EvidenceSentence
from overclaim.resources import lexicon
from overclaim.stages.base import Stage
from overclaim.text import TextView
from overclaim.tokens import APOSTROPHE_WORD_RE, Sentence

# Lexicon per cue kind, in priority order: where two kinds match the same words, the first wins.
CUE_LEXICONS: tuple[tuple[str, str], ...] = (
    ("conditional", "conditionals"),
    ("negation", "negations"),
    ("attribution", "reporting_verbs"),
    ("hedge", "hedges"),
    ("booster", "boosters"),
)
# Weak cues count half: vague quantifiers and planning nouns hedge less than "may" or "unlikely".
WEAK_CUES = frozenset(
    "some many several various numerous often usually generally widely commonly somewhat options plans planning "
    "proposal proposed believe believed believes think thinks thought claim claims consider considers now finally "
    "must always breaking shocking estimate estimated".split()
)
# Hand-set so that, on the seed post and the verdict fixtures, a hedge-free asserting headline
# scores ~0.9, "may"/"reportedly"/"X says" headlines score under 0.5 and a question under 0.3.
HEDGE_FACTOR = 0.35  # each hedge multiplies the score by 1 - HEDGE_FACTOR * weight (headline)
BODY_HEDGE_FACTOR = 0.3  # the same for body sentences
ATTRIBUTION_FACTOR = {"headline": 0.6, "body": 0.85}
CONDITIONAL_FACTOR = 0.7
QUESTION_CAP = 0.3
BOOSTER_GAIN = 0.25  # each booster closes this share of the distance to 1 (at most two count)
# P(observing) and P(against) count this much toward a headline's certainty.
OBSERVING_CERTAINTY = 0.35
# With no hedge, attribution, conditional or question cue in sight, "observing" is mostly
# Emergent's label noise (plain statements labelled observing), so it counts more.
OBSERVING_CERTAINTY_NO_CUE = 0.6
LOWERING_KINDS = frozenset({"hedge", "attribution", "conditional", "question"})
AGAINST_CERTAINTY = 0.5
# A body sentence is "hedged" at P(uncertain) >= the hedging model's threshold, or with a strong cue.


@dataclass
class _Match:
    start: int
    end: int
    kind: str
    weight: float


@lru_cache(maxsize=1)
def cue_index() -> dict[str, list[tuple[int, tuple[str, ...], str]]]:
    """First word -> [(priority, words, kind)] of every lexicon cue, best (priority, longest) first."""
    index: dict[str, list[tuple[int, tuple[str, ...], str]]] = {}
    boosters = {e.lower() for e in lexicon("boosters")}
    for priority, (kind, name) in enumerate(CUE_LEXICONS):
        for entry in lexicon(name):
            if kind == "attribution" and entry.lower() in boosters:
                continue  # "scientists confirm ...": reported, but as settled fact
            words = tuple(entry.lower().replace("’", "'").split())
            index.setdefault(words[0], []).append((priority, words, kind))
    for options in index.values():
        options.sort(key=lambda o: (o[0], -len(o[1])))
    return index


def find_cues(text: str, proper_nouns: bool = False) -> list[_Match]:
    """Certainty cues in ``text`` (offsets into it), without overlaps, in text order.

    Word-based lookup (one dict probe a word), so a sentence costs tens of microseconds.
    Where cues of two kinds start at the same word, the kind earlier in
    :data:`CUE_LEXICONS` wins, then the longer cue. With ``proper_nouns`` (body
    sentences), capitalized words after the first are taken as names ("United
    States", "in May") and not as cues.
    """
    index = cue_index()
    tokens = [(m.start(), m.end(), m.group()) for m in APOSTROPHE_WORD_RE.finditer(text)]
    lowered = [t[2].lower().replace("’", "'") for t in tokens]
    found: list[_Match] = []
    i = 0
    while i < len(tokens):
        options = index.get(lowered[i])
        if options and not (proper_nouns and i > 0 and tokens[i][2][0].isupper()):
            for _, words, kind in options:
                n = len(words)
                if tuple(lowered[i : i + n]) == words:
                    weight = 0.5 if " ".join(words) in WEAK_CUES else 1.0
                    found.append(_Match(tokens[i][0], tokens[i + n - 1][1], kind, weight))
                    i += n - 1
                    break
        i += 1
    q = text.rfind("?")
    if q >= 0:
        found.append(_Match(q, q + 1, "question", 1.0))
    return found


def adjust(score: float, cues: list[_Match], where: str) -> float:
    """Move a model score by the cues found: hedges, attributions and conditionals lower it, boosters raise it."""
    hedge = HEDGE_FACTOR if where == "headline" else BODY_HEDGE_FACTOR
    boosters = 0
    for c in cues:
        if c.kind == "hedge":
            score *= 1 - hedge * c.weight
        elif c.kind == "attribution":
            score *= ATTRIBUTION_FACTOR[where]
        elif c.kind == "conditional":
            score *= CONDITIONAL_FACTOR
        elif c.kind == "booster" and boosters < 2:
            boosters += 1
            score += (1 - score) * BOOSTER_GAIN * c.weight
    if any(c.kind == "question" for c in cues):
        score = min(score, QUESTION_CAP)
    return min(1.0, max(0.0, score))


def _cues(view: TextView, matches: list[_Match], offset: int = 0) -> list[Cue]:
    # Built without validation (a report holds dozens of cues): the span is a model already, the
    # kind one of the lexicons' kinds, and the weight is made a float as validation would.
    return [
        Cue.model_construct(span=view.span(m.start + offset, m.end + offset), kind=m.kind, weight=float(m.weight))
        for m in matches
    ]


def _label(cues: list[_Match], probabilities: dict[str, float] | None = None) -> str:
    kinds = {c.kind for c in cues}
    if "question" in kinds:
        return "question"
    if probabilities and max(probabilities, key=probabilities.__getitem__) == "against":
        return "denied"
    if "attribution" in kinds or (probabilities and max(probabilities, key=probabilities.__getitem__) == "observing"):
        return "reported"
    if "hedge" in kinds or "conditional" in kinds:
        return "hedged"
    return "asserted"


class LinearScorer:
    """``predict_proba`` of a fitted TF-IDF/cue-feature logistic regression, one text at a time.

    The shipped models are ``Pipeline([("features", FeatureUnion([...])), ("clf",
    LogisticRegression)])``; scikit-learn spends about 2 ms a call on validation and
    stacking, which is more than the whole budget of this stage. This scorer reads the
    fitted vocabularies, IDF weights and coefficients once and computes the same
    probabilities with dict look-ups (about 0.1 ms for a headline); a test checks it
    against ``predict_proba``.
    """

    def __init__(self, pipeline: Any) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        clf = pipeline.named_steps["clf"]
        coef = clf.coef_
        self.classes: list[str] = [str(c) for c in clf.classes_]
        self.intercept: list[float] = [float(b) for b in clf.intercept_]
        self.blocks: list[tuple[Any, ...]] = []
        offset = 0
        for _, part in pipeline.named_steps["features"].transformer_list:
            if isinstance(part, TfidfVectorizer):
                n = len(part.vocabulary_)
                block = (
                    "tfidf",
                    part.build_analyzer(),
                    part.vocabulary_,
                    bool(part.sublinear_tf),
                    np.asarray(part.idf_, dtype=np.float64),
                    np.ascontiguousarray(coef[:, offset : offset + n].T, dtype=np.float64),
                )
                self.blocks.append(block)
                offset += len(part.vocabulary_)
            else:  # a FunctionTransformer of hand-made features; its module's cue_row() gives one row fast
                import importlib

                width = part.func([""]).shape[1]
                # One column's weights per feature: as a matrix for batches, as tuples for one text.
                matrix = np.ascontiguousarray(coef[:, offset : offset + width].T, dtype=np.float64)
                columns = [tuple(weights) for weights in matrix.tolist()]
                row = getattr(importlib.import_module(part.func.__module__), "cue_row", None)
                self.blocks.append(("func", row or (lambda t, f=part.func: f([t]).toarray()[0]), columns, matrix))
                offset += width
        if offset != coef.shape[1]:
            raise ValueError(f"model has {coef.shape[1]} features, the scorer found {offset}")

    def predict_proba_many(self, texts: list[str]) -> list[list[float]]:
        """Class probabilities of several texts: :meth:`predict_proba` of each, to ~1e-16.

        The texts' TF-IDF entries are weighted, normalised and scored together in a few
        numpy calls, and the hand-made rows in one product, instead of about ten numpy calls
        per text and block (their fixed cost is most of a short sentence's score).
        """
        n = len(texts)
        if n < 2:
            return [self.predict_proba(t) for t in texts]
        k = len(self.intercept)
        z = np.tile(np.asarray(self.intercept, dtype=np.float64), (n, 1))
        for block in self.blocks:
            if block[0] == "tfidf":
                _, analyzer, vocabulary, sublinear, idf, weights = block
                keys: list[int] = []
                values: list[int] = []
                owner: list[int] = []
                for row, text in enumerate(texts):
                    counts = Counter(map(vocabulary.get, analyzer(text)))
                    counts.pop(None, None)
                    keys.extend(counts.keys())
                    values.extend(counts.values())
                    owner.extend([row] * len(counts))
                if not keys:
                    continue
                idx = np.asarray(keys, dtype=np.intp)
                rows = np.asarray(owner, dtype=np.intp)
                tf = np.asarray(values, dtype=np.float64)
                x = ((1.0 + np.log(tf)) if sublinear else tf) * idf[idx]
                norms = np.sqrt(np.bincount(rows, weights=x * x, minlength=n))
                x /= np.where(norms > 0, norms, 1.0)[rows]
                np.add.at(z, rows, x[:, None] * weights[idx])
            else:
                z += np.asarray([block[1](t) for t in texts], dtype=np.float64) @ block[3]
        if k == 1:
            p = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.column_stack([1.0 - p, p]).tolist()  # type: ignore[no-any-return]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return (e / e.sum(axis=1, keepdims=True)).tolist()  # type: ignore[no-any-return]

    def predict_proba(self, text: str) -> list[float]:
        """Class probabilities for one text, in the order of :attr:`classes`."""
        import math

        z = list(self.intercept)
        k = len(z)
        for block in self.blocks:
            if block[0] == "tfidf":
                _, analyzer, vocabulary, sublinear, idf, weights = block
                # Column -> count, in order of first use (Counter counts in C; None: out of vocabulary).
                counts = Counter(map(vocabulary.get, analyzer(text)))
                counts.pop(None, None)
                if not counts:
                    continue
                idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
                tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
                values = ((1.0 + np.log(tf)) if sublinear else tf) * idf[idx]
                values /= float(np.sqrt(values @ values)) or 1.0
                for i, x in enumerate((values @ weights[idx]).tolist()):
                    z[i] += x
            else:
                row = block[1](text)
                for j, x in enumerate(row):
                    if x:
                        for i in range(k):
                            z[i] += float(x) * block[2][j][i]
        if k == 1:
            p = 1.0 / (1.0 + math.exp(-z[0]))
            return [1.0 - p, p]
        top = max(z)
        e = [math.exp(v - top) for v in z]
        total = sum(e)
        return [v / total for v in e]


class CertaintyScorer(Stage):
    """Score headline and evidence certainty with the two models and the cue lexicons."""

    name = "certainty"

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config
        self._headline_model: Any = None
        self._hedging_model: Any = None
        self._threshold = 0.5

    def _models(self) -> tuple[LinearScorer, LinearScorer]:
        if self._headline_model is None:
            from overclaim.resources import load_artifact, model_card

            self._headline_model = LinearScorer(load_artifact("headline_certainty"))
            self._hedging_model = LinearScorer(load_artifact("hedging"))
            self._threshold = float(model_card("hedging").get("threshold", 0.5))
        return self._headline_model, self._hedging_model

    def headline_score(self, text: str, view: TextView | None = None) -> CertaintyScore:
        """Certainty of a headline (clean text); cue spans map through ``view`` when given."""
        headline_model, _ = self._models()
        proba = headline_model.predict_proba(text)
        probabilities = {k: round(p, 4) for k, p in zip(headline_model.classes, proba, strict=True)}
        matches = find_cues(text)
        lowered = any(m.kind in LOWERING_KINDS for m in matches)
        observing = OBSERVING_CERTAINTY if lowered else OBSERVING_CERTAINTY_NO_CUE
        base = (
            probabilities.get("for", 0.0)
            + observing * probabilities.get("observing", 0.0)
            + AGAINST_CERTAINTY * probabilities.get("against", 0.0)
        )
        view = view or TextView("headline", text)
        return CertaintyScore(
            score=round(adjust(base, matches, "headline"), 4),
            label=_label(matches, probabilities),  # type: ignore[arg-type]
            cues=_cues(view, matches),
            probabilities=probabilities,
        )

    def batch(self, contexts: Sequence[Context]) -> None:
        """What :meth:`__call__` does, for several posts.

        Their evidence sentences are scored by the hedging model together
        (:meth:`LinearScorer.predict_proba_many`).
        """
        _, hedging_model = self._models()
        pairs = [self._evidence(ctx) for ctx in contexts]
        flat = hedging_model.predict_proba_many([sentence.text for ps in pairs for _, sentence in ps])
        start = 0
        for ctx, ps in zip(contexts, pairs, strict=True):
            self._score(ctx, ps, [p[1] for p in flat[start : start + len(ps)]])
            start += len(ps)

    @staticmethod
    def _evidence(ctx: Context) -> list[tuple[EvidenceSentence, Sentence]]:
        """The evidence sentences with their body sentences."""
        sentences = {s.index: s for s in ctx.sentences}
        return [(e, sentences[e.index]) for e in ctx.evidence if e.index in sentences]

    def _score(self, ctx: Context, evidence: list[tuple[EvidenceSentence, Sentence]], p_uncertain: list[float]) -> None:
        headline = self.headline_score(ctx.headline.clean, ctx.headline)
        if not evidence:
            body = CertaintyScore(score=0.5, label="asserted")
            ctx.certainty = Certainty(headline=headline, body=body, gap=0.0)
            return
        all_cues: list[Cue] = []
        all_matches: list[_Match] = []
        total = weighted = weighted_p = 0.0
        for (e, sentence), p in zip(evidence, p_uncertain, strict=True):
            matches = find_cues(sentence.text, proper_nouns=True)
            score = adjust(1.0 - 0.6 * float(p), matches, "body")
            e.certainty = round(score, 4)
            e.hedged = bool(p >= self._threshold) or any(
                m.kind in ("conditional", "question") or (m.kind == "hedge" and m.weight >= 1.0) for m in matches
            )
            e.cues = _cues(ctx.body, matches, sentence.start)
            all_cues.extend(e.cues)
            all_matches.extend(matches)
            w = max(e.relevance, 1e-6)
            total += w
            weighted += w * score
            weighted_p += w * float(p)
        body_score = round(weighted / total, 4)
        body = CertaintyScore(
            score=body_score,
            label=_label(all_matches) if body_score < 0.75 else "asserted",  # type: ignore[arg-type]
            cues=all_cues,
            probabilities={"uncertain": round(weighted_p / total, 4)},
        )
        ctx.certainty = Certainty(headline=headline, body=body, gap=round(headline.score - body.score, 4))
