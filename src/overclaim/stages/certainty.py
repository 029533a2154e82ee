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

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from overclaim.config import Config
from overclaim.pipeline import Context
from overclaim.report import Certainty, CertaintyScore, Cue
from overclaim.resources import lexicon
from overclaim.text import TextView

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
def cue_patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """One compiled regex per cue kind, from the lexicons (longest entries first, whole words)."""
    out = []
    for kind, name in CUE_LEXICONS:
        entries = sorted({e.lower() for e in lexicon(name)}, key=len, reverse=True)
        alts = "|".join(r"\s+".join(re.escape(w) for w in e.split()) for e in entries)
        out.append((kind, re.compile(r"(?<![\w'’])(?:" + alts + r")(?![\w'’])", re.I)))
    return tuple(out)


def find_cues(text: str, proper_nouns: bool = False) -> list[_Match]:
    """Certainty cues in ``text`` (offsets into it), without overlaps, in text order.

    With ``proper_nouns`` (body sentences), capitalized words after the first are taken
    as names ("United States", "in May") and not as cues.
    """
    taken: list[tuple[int, int]] = []
    found: list[_Match] = []
    for kind, rx in cue_patterns():
        for m in rx.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            if proper_nouns and m.start() > 0 and m.group()[0].isupper() and text[: m.start()].strip():
                continue
            taken.append((m.start(), m.end()))
            found.append(_Match(m.start(), m.end(), kind, 0.5 if m.group().lower() in WEAK_CUES else 1.0))
    q = text.rfind("?")
    if q >= 0:
        found.append(_Match(q, q + 1, "question", 1.0))
    return sorted(found, key=lambda c: c.start)


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
    return [
        Cue(span=view.span(m.start + offset, m.end + offset), kind=m.kind, weight=m.weight)  # type: ignore[arg-type]
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


class CertaintyScorer:
    """Score headline and evidence certainty with the two models and the cue lexicons."""

    name = "certainty"

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config
        self._headline_model: Any = None
        self._hedging_model: Any = None
        self._threshold = 0.5

    def _models(self) -> tuple[Any, Any]:
        if self._headline_model is None:
            from overclaim.resources import load_artifact, model_card

            self._headline_model = load_artifact("headline_certainty")
            self._hedging_model = load_artifact("hedging")
            self._threshold = float(model_card("hedging").get("threshold", 0.5))
        return self._headline_model, self._hedging_model

    def headline_score(self, text: str, view: TextView | None = None) -> CertaintyScore:
        """Certainty of a headline (clean text); cue spans map through ``view`` when given."""
        headline_model, _ = self._models()
        proba = headline_model.predict_proba([text])[0]
        probabilities = {str(k): round(float(p), 4) for k, p in zip(headline_model.classes_, proba, strict=True)}
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

    def __call__(self, ctx: Context) -> None:
        """Set ``ctx.certainty`` and each evidence sentence's certainty, hedged flag and cues."""
        _, hedging_model = self._models()
        headline = self.headline_score(ctx.headline.clean, ctx.headline)
        sentences = {s.index: s for s in ctx.sentences}
        evidence = [e for e in ctx.evidence if e.index in sentences]
        if not evidence:
            body = CertaintyScore(score=0.5, label="asserted")
            ctx.certainty = Certainty(headline=headline, body=body, gap=0.0)
            return
        texts = [sentences[e.index].text for e in evidence]
        p_uncertain = hedging_model.predict_proba(texts)[:, 1]
        all_cues: list[Cue] = []
        all_matches: list[_Match] = []
        total = weighted = weighted_p = 0.0
        for e, text, p in zip(evidence, texts, p_uncertain, strict=True):
            matches = find_cues(text, proper_nouns=True)
            score = adjust(1.0 - 0.6 * float(p), matches, "body")
            e.certainty = round(score, 4)
            e.hedged = bool(p >= self._threshold) or any(
                m.kind in ("conditional", "question") or (m.kind == "hedge" and m.weight >= 1.0) for m in matches
            )
            e.cues = _cues(ctx.body, matches, sentences[e.index].start)
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
