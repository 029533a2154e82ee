"""Claim strength: how strong a relation the headline states against the sentences that carry its claim.

Each text gets a label on the scale of Yu et al. (2019): ``none`` < ``correlational``
("linked to") < ``conditional_causal`` ("may cause") < ``direct_causal`` ("causes"), from
the ``claim_strength`` model (:mod:`overclaim.models.claim_strength`), with the cue spans.
The headline is scored, and every evidence sentence (``EvidenceSentence.claim_strength``);
the body's strength is the strongest among the evidence sentences that carry the claim
(relevance at least :data:`CARRIES_CLAIM_SHARE` of the best one's). ``gap = headline -
body``; a positive gap ("Coffee causes cancer" over "coffee was associated with cancer")
sets ``exaggerates``.

Writes ``ctx.claim_strength`` (:class:`~overclaim.report.ClaimStrengthComparison`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from overclaim.config import Config
from overclaim.context import Context
from overclaim.models.claim_strength import ClaimStrengthModel, StrengthResult
from overclaim.report import ClaimStrength, ClaimStrengthComparison, EvidenceSentence, StrengthCue
from overclaim.stages.base import Stage
from overclaim.text import TextView

# An evidence sentence carries the claim when its relevance is at least this share of the most
# relevant sentence's. Hand-set: on the seed post and the FNC-1 train posts read by hand, the
# sentences under half the top relevance were background ("The study of 500 adults ...") whose
# relation is not the headline's.
CARRIES_CLAIM_SHARE = 0.5


def to_report(
    result: StrengthResult, view: TextView, offset: int = 0, sentence_index: int | None = None
) -> ClaimStrength:
    """A :class:`ClaimStrength` with cue spans in the original text of ``view``.

    Args:
        result: the model's output for one text.
        view: the text view the text is in (spans map to its original text).
        offset: the text's start in ``view.clean`` (a body sentence's start).
        sentence_index: the body sentence number, for body sentences.
    """
    probabilities = result.probabilities
    expected = sum(i * p for i, p in enumerate(probabilities.values()))
    cues = [
        StrengthCue.model_construct(span=view.span(c.start + offset, c.end + offset), kind=c.kind)
        for c in result.cues
    ]
    return ClaimStrength.model_construct(
        label=result.label,
        strength=result.strength,
        score=round(min(1.0, max(0.0, expected / 3)), 4),
        probabilities=probabilities,
        cues=cues,
        sentence_index=sentence_index,
    )


class ClaimStrengthScorer(Stage):
    """Score the headline's and the evidence sentences' claim strength."""

    name = "claim_strength"

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config
        self.model = ClaimStrengthModel()

    def batch(self, contexts: Sequence[Context]) -> None:
        """What :meth:`__call__` does, for several posts, with one model call for all their texts."""
        texts: list[str] = []
        plans: list[list[tuple[EvidenceSentence, int]]] = []
        for ctx in contexts:
            texts.append(ctx.headline.clean)
            starts = {s.index: s for s in ctx.sentences}
            plan = []
            for e in ctx.evidence:
                sentence = starts.get(e.index)
                if sentence is not None:
                    plan.append((e, sentence.start))
                    texts.append(sentence.text)
            plans.append(plan)
        results = self.model.score_many(texts)
        i = 0
        for ctx, plan in zip(contexts, plans, strict=True):
            headline = to_report(results[i], ctx.headline)
            i += 1
            best: ClaimStrength | None = None
            top = max((e.relevance for e, _ in plan), default=0.0)
            for e, start in plan:
                strength = to_report(results[i], ctx.body, start, e.index)
                i += 1
                e.claim_strength = strength
                if e.relevance >= CARRIES_CLAIM_SHARE * top and (best is None or strength.strength > best.strength):
                    best = strength
            gap = headline.strength - best.strength if best is not None else 0
            ctx.claim_strength = ClaimStrengthComparison.model_construct(
                headline=headline, body=best, gap=gap, exaggerates=gap > 0
            )

