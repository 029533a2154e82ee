"""The verdict model: a calibrated multinomial logistic regression over what the stages found.

Inference only (training: :mod:`overclaim.training.verdict`). :func:`features` reads one post's
stage results (a pipeline :class:`~overclaim.pipeline.Context`) into the named columns of
:data:`FEATURES`; :class:`VerdictModel` turns a row into calibrated probabilities of the four
model-decided verdicts and into each feature's contribution to the chosen one, which the verdict
stage writes as reasons.

A logistic regression, not a boosted model: its log-odds are a sum over features, so "why" is
exact (a reason's contribution is its features' share of that sum) and it costs a few
microseconds a post.

Contributions: with standardized features ``z`` and weights ``W`` (one row per label), the
contribution of feature ``j`` to label ``L`` is ``(W[L, j] - W[R, j]) * z[j]``: how much that
feature moved the log-odds of ``L`` against a reference label ``R``. For a call that the headline
is not backed (overstated, contradicted) ``R`` is ``supported``, so the reasons say why it is not
backed; for supported and unrelated it is the runner-up, the call it beat.
Each feature names the reason code its high values and its low values argue for
(:data:`FEATURE_CODES`); a contribution only becomes a reason when its code may argue for the
label (:data:`overclaim.stages.verdict.REASON_LABELS`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from overclaim.resources import lexicon

if TYPE_CHECKING:
    from overclaim.context import Context

MODEL_NAME = "verdict"
# Labels the model decides; cannot_judge is decided by rules (too short, not English) and by the
# model's own doubt (verdict stage).
LABELS: tuple[str, ...] = ("supported", "overstated", "contradicted", "unrelated")

# Feature columns, in order. "ent_*" come from the entailment cross-encoder and are 0 in the
# profiles that skip it; "cs_*" and "num_*" are 0 in the fast profile. One model is trained per
# profile, each on the features that profile computes.
FEATURES: tuple[str, ...] = (
    "p_agree",
    "p_disagree",
    "p_discuss",
    "p_unrelated",
    "rel_max",
    "rel_top3",
    "sent_max_agree",
    "sent_max_disagree",
    "ent_max_entails",
    "ent_max_contradicts",
    "ent_top_entails",
    "ent_top_contradicts",
    "ent_entails_x_rel",
    "ent_contradicts_x_rel",
    "h_certainty",
    "b_certainty",
    "certainty_gap",
    "h_hedged",
    "h_question",
    "h_denied",
    "cs_headline",
    "cs_gap",
    "num_mismatch",
    "num_match",
    "anon_evidence",
    "anon_share",
    "named_sources",
    "refutation",
    "discuss_x_h_certainty",
    "agree_x_h_certainty",
    "log_sentences",
)

# Reason code each feature argues for when its value is above the training mean ("high") and when
# it is below ("low"); None: no reason (the feature still counts in the decision).
FEATURE_CODES: dict[str, tuple[str | None, str | None]] = {
    "p_agree": ("backs", "discusses"),
    "p_disagree": ("contradicted", None),
    "p_discuss": ("discusses", None),
    "p_unrelated": ("unrelated", None),
    "rel_max": (None, "unrelated"),
    "rel_top3": (None, "unrelated"),
    "sent_max_agree": ("backs", None),
    "sent_max_disagree": ("contradicted", None),
    "ent_max_entails": ("backs", "discusses"),
    "ent_max_contradicts": ("contradicted", None),
    "ent_top_entails": ("backs", None),
    "ent_top_contradicts": ("contradicted", None),
    "ent_entails_x_rel": ("backs", None),
    "ent_contradicts_x_rel": ("contradicted", None),
    "h_certainty": ("asserted_headline", "hedged_headline"),
    "b_certainty": (None, "hedged_body"),
    "certainty_gap": ("certainty_gap", None),
    "h_hedged": ("hedged_headline", None),
    "h_question": ("hedged_headline", None),
    "h_denied": (None, None),
    "cs_headline": (None, None),
    "cs_gap": ("stronger_relation", None),
    "num_mismatch": ("number_mismatch", None),
    "num_match": ("numbers_match", None),
    "anon_evidence": ("anonymous_sources", None),
    "anon_share": ("anonymous_sources", None),
    "named_sources": ("named_sources", None),
    "refutation": ("refutation_cue", None),
    "discuss_x_h_certainty": ("discusses", None),
    "agree_x_h_certainty": ("backs", None),
    "log_sentences": (None, None),
}


@lru_cache(maxsize=1)
def _refutation_re() -> re.Pattern[str]:
    words = sorted(lexicon("refutations"), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words) + r")\b", re.I)


@lru_cache(maxsize=1)
def _refutation_lower_re() -> re.Pattern[str]:
    """:func:`_refutation_re` without ``re.I``, for lower-cased ASCII text.

    The lexicon is lower case, so it gives the same matches there, and sre runs it about 3.5
    times faster.
    """
    return re.compile(_refutation_re().pattern)


def refutation_matches(text: str) -> Iterator[re.Match[str]]:
    """Refutation cues ("hoax", "denied", "not true" ...: ``lexicons/refutations.txt``) in ``text``."""
    if text.isascii():
        return _refutation_lower_re().finditer(text.lower())
    return _refutation_re().finditer(text)


def features(ctx: Context) -> np.ndarray:
    """The post's feature row (:data:`FEATURES`) from the stage results in ``ctx``."""
    row = dict.fromkeys(FEATURES, 0.0)
    if ctx.stance is not None:
        p = ctx.stance.probabilities
        row.update(p_agree=p.agree, p_disagree=p.disagree, p_discuss=p.discuss, p_unrelated=p.unrelated)
    else:
        row["p_unrelated"] = 1.0
    rel = sorted((e.relevance for e in ctx.evidence), reverse=True)
    if rel:
        row["rel_max"] = rel[0]
        row["rel_top3"] = sum(rel[:3]) / 3
    stances = [e.stance for e in ctx.evidence if e.stance is not None and e.entailment is None]
    if stances:
        row["sent_max_agree"] = max(s.agree for s in stances)
        row["sent_max_disagree"] = max(s.disagree for s in stances)
    agg = ctx.extras.get("entailment_features")
    if agg is not None and len(agg) and float(agg[7]) > 0:  # ent_read > 0 (stages.entailment.AGGREGATE_NAMES)
        row.update(
            ent_max_entails=float(agg[0]),
            ent_max_contradicts=float(agg[1]),
            ent_top_entails=float(agg[3]),
            ent_top_contradicts=float(agg[4]),
            ent_entails_x_rel=float(agg[8]),
            ent_contradicts_x_rel=float(agg[9]),
        )
    if ctx.certainty is not None:
        c = ctx.certainty
        row.update(h_certainty=c.headline.score, b_certainty=c.body.score, certainty_gap=max(0.0, c.gap))
        row["h_hedged"] = float(c.headline.label in ("hedged", "reported"))
        row["h_question"] = float(c.headline.label == "question")
        row["h_denied"] = float(c.headline.label == "denied")
    else:
        row["h_certainty"] = row["b_certainty"] = 0.5
    cs = ctx.claim_strength
    if cs is not None:
        # Expected strengths (probability-weighted, 0-1), not labels: the headline model is often
        # torn between none and direct causal ("Scientists confirm coffee causes cancer": 0.55/0.37).
        row["cs_headline"] = cs.headline.score
        if cs.body is not None:
            row["cs_gap"] = max(0.0, cs.headline.score - cs.body.score)
    kinds = [n.kind for n in ctx.numbers]
    row["num_mismatch"] = float(min(2, sum(k in ("mismatch", "inflated", "deflated") for k in kinds)))
    row["num_match"] = float(min(2, sum(k == "match" for k in kinds)))
    src = ctx.sourcing
    row["anon_evidence"] = src.evidence_anonymous_share
    row["anon_share"] = src.anonymous_share
    # on-record speakers: the model was trained when documents were counted among the named (report 1.2)
    row["named_sources"] = math.log1p(src.named + src.documents)
    cues = 0
    for e in ctx.evidence:
        cues += sum(1 for _ in refutation_matches(e.span.text))
    row["refutation"] = float(min(3, cues))
    row["discuss_x_h_certainty"] = row["p_discuss"] * row["h_certainty"]
    row["agree_x_h_certainty"] = row["p_agree"] * row["h_certainty"]
    row["log_sentences"] = math.log1p(len(ctx.sentences))
    return np.fromiter((row[name] for name in FEATURES), dtype=np.float64, count=len(FEATURES))


@dataclass(frozen=True)
class Decision:
    """The model's reading of one post."""

    probabilities: dict[str, float]
    label: str
    margin: float
    reference: str  # the label the contributions are measured against
    contributions: dict[str, float]  # feature name -> push toward ``label`` over ``reference`` (log-odds)
    z: dict[str, float]  # feature name -> standardized value (sign says high or low)


class VerdictModel:
    """Calibrated probabilities and per-feature contributions from the shipped coefficients.

    Args:
        params: the artifact's ``model.json``: ``labels``, ``features``, ``mean``, ``scale``,
            ``coef`` (labels x features), ``intercept``, ``temperature`` (calibration) and
            ``decision_weights`` (per-label multipliers chosen on validation data).
    """

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.labels: tuple[str, ...] = tuple(params["labels"])
        self.features: tuple[str, ...] = tuple(params["features"])
        self.mean = np.asarray(params["mean"], dtype=np.float64)
        self.scale = np.asarray(params["scale"], dtype=np.float64)
        self.coef = np.asarray(params["coef"], dtype=np.float64)
        self.intercept = np.asarray(params["intercept"], dtype=np.float64)
        self.temperature = float(params.get("temperature", 1.0))
        self.weights = np.asarray(params.get("decision_weights", [1.0] * len(self.labels)), dtype=np.float64)
        self.version = str(params.get("version", "?"))
        self.profile = str(params.get("profile", "default"))
        if self.features != FEATURES:
            missing = sorted(set(self.features) ^ set(FEATURES))
            raise ValueError(f"verdict model features differ from the code's: {missing}")

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (rows of ``x``: feature rows), columns in :attr:`labels` order.

        The decision weights are part of the model: they shift each label's log-odds by
        ``log(weight)`` (a prior chosen on validation data), so the label is the most probable one
        and the score, the margin and the doubt threshold all read the probabilities it was
        decided on.
        """
        z = (np.atleast_2d(x) - self.mean) / self.scale
        logits = (z @ self.coef.T + self.intercept) / self.temperature + np.log(self.weights)
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        out: np.ndarray = e / e.sum(axis=1, keepdims=True)
        return out

    def decide(self, probs: np.ndarray) -> np.ndarray:
        """Label indices: the most probable label of each row."""
        out: np.ndarray = np.atleast_2d(probs).argmax(axis=1)
        return out

    def reference(self, k: int, probs: np.ndarray) -> int:
        """The label a call of label ``k`` is explained against.

        ``supported`` for a call that the headline is not backed (overstated, contradicted: "why
        not backed"), else the runner-up.
        """
        if self.labels[k] in ("overstated", "contradicted") and "supported" in self.labels:
            return self.labels.index("supported")
        order = np.argsort(-probs)
        return int(order[1]) if order[0] == k else int(order[0])

    def explain(self, x: np.ndarray) -> Decision:
        """Probabilities, label, margin and each feature's contribution to the label, for one row."""
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)  # a broken reading counts as none
        probs = self.probabilities(x)[0]
        k = int(self.decide(probs)[0])
        z = (x - self.mean) / self.scale
        terms = self.coef * z[None, :] / self.temperature  # labels x features
        reference = self.reference(k, probs)
        push = terms[k] - terms[reference]
        ranked = np.sort(probs)[::-1]
        return Decision(
            probabilities={lab: round(float(p), 4) for lab, p in zip(self.labels, probs, strict=True)},
            label=self.labels[k],
            margin=round(float(ranked[0] - ranked[1]), 4),
            reference=self.labels[reference],
            contributions={f: float(c) for f, c in zip(self.features, push, strict=True)},
            z={f: float(v) for f, v in zip(self.features, z, strict=True)},
        )


def load_verdict_model(profile: str) -> VerdictModel:
    """The shipped model for ``profile`` (``artifacts/verdict/<profile>.json``), loaded once per process.

    Raises:
        ModelError: the artifact is missing or unreadable.
    """
    return _load(profile)


@lru_cache(maxsize=4)
def _load(profile: str) -> VerdictModel:
    from overclaim.errors import ModelError
    from overclaim.resources import artifact_dir

    path = Path(artifact_dir(MODEL_NAME)) / f"{profile}.json"
    try:
        return VerdictModel(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(
            f"verdict model {path} cannot be read: {exc}; rebuild it with `overclaim train verdict`"
        ) from exc
