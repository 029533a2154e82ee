"""Entailment: does each relevant body sentence confirm, deny, or only mention the headline's claim.

The cross-encoder (:mod:`overclaim.models.entailment`, artifact ``entailment``) reads the
headline (clean text) as the hypothesis and each of the body's most relevant sentences as the
premise: the ``config.entailment_max_sentences`` sentences with the highest coverage of the
headline's content words, among those at or above ``config.entailment_min_relevance``. Its
three probabilities go on each evidence sentence it read (``EvidenceSentence.entailment``, and
the sentence's stance as agree = entails, disagree = contradicts, discuss = neutral).

Evidence is then ranked by relevance plus ``config.evidence_decisive_weight`` times the
sentence's decisiveness (max of P(entails) and P(contradicts)), so a sentence that settles the
claim in other words is shown even when another only repeats the headline's words.

The per-post aggregates (:func:`aggregate_features`, in ``ctx.extras``) are features of the
verdict model (:mod:`overclaim.models.verdict`) and of the experimental ``stance_entail`` model
(``overclaim train stance --entailment``, not shipped). The ``default`` profile runs this stage;
``fast`` leaves it out.

A body that does not read as English (the stance stage's guard) is not read: the model is
English only, and its probabilities on other languages mean nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from overclaim.config import Config
from overclaim.context import Context
from overclaim.report import EntailmentProbabilities, EvidenceSentence, StanceProbabilities
from overclaim.stages.base import Stage

# Names of the per-post aggregate features, in column order (see aggregate_features).
AGGREGATE_NAMES: tuple[str, ...] = (
    "ent_max_entails",
    "ent_max_contradicts",
    "ent_mean_neutral",
    "ent_top_entails",
    "ent_top_contradicts",
    "ent_rank_entails_log",
    "ent_rank_contradicts_log",
    "ent_read",
    "ent_entails_x_relevance",
    "ent_contradicts_x_relevance",
)


def candidates(relevance: Sequence[float], limit: int, floor: float) -> list[int]:
    """Indices of the sentences to read: the ``limit`` most relevant at or above ``floor``, best first."""
    ranked = sorted((i for i, r in enumerate(relevance) if r >= floor), key=lambda i: (-relevance[i], i))
    return ranked[:limit]


def aggregate_features(read: Sequence[int], probs: np.ndarray, relevance: Sequence[float]) -> np.ndarray:
    """The post's aggregate row over the sentences read (``read`` in relevance order, rows of ``probs``).

    Columns (:data:`AGGREGATE_NAMES`): the highest P(entails) and P(contradicts), the mean
    P(neutral), the most relevant sentence's P(entails) and P(contradicts), the log relevance
    rank of the most entailing and most contradicting sentence, the number of sentences read, and
    the highest P(entails) and P(contradicts) each weighted by its sentence's relevance. A post
    with no sentence read gets zeros (and ``ent_read`` 0).
    """
    row = np.zeros(len(AGGREGATE_NAMES), dtype=np.float32)
    if len(read) == 0:
        return row
    ent, neu, con = probs[:, 0], probs[:, 1], probs[:, 2]
    rel = np.asarray([relevance[i] for i in read], dtype=np.float32)
    i_e, i_c = int(ent.argmax()), int(con.argmax())
    row[:] = (
        ent[i_e],
        con[i_c],
        neu.mean(),
        ent[0],
        con[0],
        math.log1p(i_e),
        math.log1p(i_c),
        len(read),
        float((ent * rel).max()),
        float((con * rel).max()),
    )
    return row


class EntailmentScorer(Stage):
    """Fill ``EvidenceSentence.entailment`` and ``ctx.extras['entailment_features']``; re-rank evidence."""

    name = "entailment"

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The :class:`~overclaim.models.entailment.Entailer`, loaded once per process on first use."""
        if self._model is None:
            from overclaim.models.entailment import load_entailer

            self._model = load_entailer()
        return self._model

    def batch(self, contexts: Sequence[Context]) -> None:
        """Score the candidate sentences of several posts in one model call."""
        plan: list[tuple[Context, list[int]]] = []
        pairs: list[tuple[str, str]] = []
        for ctx in contexts:
            read = self._plan(ctx)
            plan.append((ctx, read))
            pairs += [(ctx.sentences[i].text, ctx.headline.clean) for i in read]
        probs = self.model.predict(pairs) if pairs else np.zeros((0, 3), dtype=np.float32)
        start = 0
        for ctx, read in plan:
            rows = probs[start : start + len(read)]
            start += len(read)
            self._apply(ctx, read, rows)

    def _plan(self, ctx: Context) -> list[int]:
        from overclaim.stages.stance import body_language

        relevance: list[float] = ctx.extras.get("relevance", [])
        if ctx.too_short or not relevance:
            return []
        if body_language(ctx) is not None:
            ctx.extras["entailment_skipped"] = "language"
            return []
        limit = max(0, self.config.entailment_max_sentences)
        read = candidates(relevance, limit, self.config.entailment_min_relevance)
        eligible = sum(1 for r in relevance if r >= self.config.entailment_min_relevance)
        if eligible > len(read):
            ctx.notes.append(
                f"The entailment model read the {len(read)} most relevant of {eligible} sentences "
                f"that share the headline's words (config.entailment_max_sentences)."
            )
        return read

    def _apply(self, ctx: Context, read: list[int], rows: np.ndarray) -> None:
        relevance: list[float] = ctx.extras.get("relevance", [])
        ctx.extras["entailment_features"] = aggregate_features(read, rows, relevance)
        ctx.extras["entailment_read"] = read
        if not read:
            return
        by_index = {i: row for i, row in zip(read, rows, strict=True)}
        ctx.extras["entailment"] = by_index
        shown = {e.index: e for e in ctx.evidence}
        for i in read:
            if i not in shown:
                sent = ctx.sentences[i]
                shown[i] = EvidenceSentence.model_construct(
                    index=i,
                    span=ctx.body.span(sent.start, sent.end),
                    relevance=round(float(relevance[i]), 4),
                    cues=[],
                )
        weight = self.config.evidence_decisive_weight

        def key(item: EvidenceSentence) -> tuple[float, int]:
            row = by_index.get(item.index)
            decisive = float(max(row[0], row[2])) if row is not None else 0.0
            return (-(item.relevance + weight * decisive), item.index)

        ranked = sorted(shown.values(), key=key)[: self.config.evidence_top_k]
        for item in ranked:
            row = by_index.get(item.index)
            if row is None:
                continue
            e, n, c = (round(float(x), 4) for x in row)
            item.entailment = EntailmentProbabilities.model_construct(entails=e, neutral=n, contradicts=c)
            item.stance = StanceProbabilities.model_construct(agree=e, disagree=c, discuss=n, unrelated=0.0)
        ctx.evidence = ranked
