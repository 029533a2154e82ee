"""The FNC-1 stance model at inference time: :class:`StanceModel` and its decision rule.

The shipped artifact ``stance`` is a :class:`StanceModel`: the featurizer
(:mod:`overclaim.models.stance_features`), LightGBM multiclass boosters averaged over seeds,
and per-class decision weights on the predicted probabilities, mapping a (headline, body)
pair to agree / disagree / discuss / unrelated. How it is trained and scored is
:mod:`overclaim.training.stance`; nothing here imports the training package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from overclaim.models.stance_features import StanceFeaturizer, featurize

MODEL_NAME = "stance"
MODEL_VERSION = "2"
# The model's classes, in the order of its probability columns: the FNC-1 stance labels.
LABELS: tuple[str, ...] = ("agree", "disagree", "discuss", "unrelated")
# Rows up to which all boosters are scored through the merged booster (see StanceModel.predict_proba).
MERGED_MAX_ROWS = 16


def decide(probabilities: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Class index per row: argmax of the probabilities times per-class ``weights``."""
    return np.argmax(probabilities * np.asarray(weights)[None, :], axis=1)


def merge_boosters(boosters: Sequence[Any]) -> Any:
    """One LightGBM booster whose raw scores are those of all ``boosters`` side by side.

    Booster ``k``'s class ``c`` becomes class ``k * n_class + c`` of a model with
    ``len(boosters) * n_class`` classes (trees interleaved per iteration), so a single
    ``predict(raw_score=True)`` call walks every tree once; a softmax per group of columns gives
    each booster's probabilities. The boosters must have the same number of iterations.
    """
    import lightgbm as lgb

    n_cls = len(LABELS)
    texts = [b.model_to_string() for b in boosters]
    trees = [re.split(r"(?m)^(?=Tree=\d+$)", s[s.index("Tree=0") : s.index("end of trees")])[1:] for s in texts]
    n_iter = len(trees[0]) // n_cls
    if any(len(t) != n_iter * n_cls for t in trees):
        raise ValueError("boosters differ in their number of trees")
    n = len(boosters) * n_cls
    out = [
        re.sub(r"^Tree=\d+", f"Tree={i * n + k * n_cls + c}", t[i * n_cls + c])
        for i in range(n_iter)
        for k, t in enumerate(trees)
        for c in range(n_cls)
    ]
    head = texts[0][: texts[0].index("Tree=0")]
    head = re.sub(r"(?m)^num_class=\d+$", f"num_class={n}", head)
    head = re.sub(r"(?m)^num_tree_per_iteration=\d+$", f"num_tree_per_iteration={n}", head)
    head = re.sub(r"(?m)^objective=multiclass num_class:\d+$", f"objective=multiclass num_class:{n}", head)
    head = re.sub(r"(?m)^tree_sizes=.*\n", "", head)
    return lgb.Booster(model_str=head + "".join(out) + "end of trees\n")


@dataclass
class StanceModel:
    """The shipped artifact: featurizer, boosters (averaged) and decision weights."""

    featurizer: StanceFeaturizer
    boosters: list[Any]
    weights: list[float]
    version: str = MODEL_VERSION
    # Names of feature columns appended after the featurizer's (none for the fast-profile model;
    # old pickles have no such attribute and read the class default).
    extra_features: tuple[str, ...] = ()

    def predict_proba(self, x: np.ndarray, n_boosters: int | None = None) -> np.ndarray:
        """Class probabilities (columns in :data:`LABELS` order), averaged over the first ``n_boosters``.

        A few rows with every booster (single posts) are scored by the boosters merged into one
        (:func:`merge_boosters`, built on first use): one tree walk per row instead of one LightGBM
        call per booster. Larger batches go booster by booster, which keeps each booster's trees
        in the CPU cache. Both give the same probabilities (to ~1e-16).
        """
        boosters = self.boosters[:n_boosters] if n_boosters else self.boosters
        n_cls = len(LABELS)
        if len(boosters) > 1 and len(x) <= MERGED_MAX_ROWS:
            merged = self.__dict__.get("_merged")
            if merged is None:
                merged = merge_boosters(self.boosters)
                self.__dict__["_merged"] = merged
            raw = merged.predict(x, raw_score=True, num_threads=1)[:, : len(boosters) * n_cls]
        else:
            raw = np.hstack([b.predict(x, raw_score=True, num_threads=1) for b in boosters])
        # Softmax of each booster's raw scores (as LightGBM computes it), summed in booster order.
        r = raw.reshape(len(x), len(boosters), n_cls)
        e = np.exp(r - r.max(axis=2, keepdims=True))
        out: np.ndarray = (e / e.sum(axis=2, keepdims=True)).sum(axis=1) / len(boosters)
        return out

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the merged booster (built again on first use)."""
        return {k: v for k, v in self.__dict__.items() if k != "_merged"}

    def reported_proba(self, x: np.ndarray, n_boosters: int | None = None) -> np.ndarray:
        """Probabilities as reported: re-weighted by the decision weights and renormalised.

        Their argmax is the decided label (:func:`decide`). ``n_boosters`` limits the average to
        the first boosters (a cheaper, noisier estimate).
        """
        proba = self.predict_proba(x, n_boosters) * np.asarray(self.weights)[None, :]
        out: np.ndarray = proba / np.maximum(proba.sum(axis=1, keepdims=True), 1e-12)
        return out

    def predict(
        self, headlines: Sequence[str], bodies: Sequence[str], extra: np.ndarray | None = None
    ) -> tuple[list[str], np.ndarray]:
        """Labels and reported probabilities for parallel lists of headlines and bodies.

        ``extra``: the rows of the extra feature columns (``extra_features``) for a model trained
        with them, such as the entailment aggregates of ``stance_entail``.
        """
        x = featurize(self.featurizer, headlines, bodies)
        if self.extra_features:
            if extra is None or len(extra) != len(x):
                raise ValueError(f"this stance model needs its extra feature columns {self.extra_features}")
            x = np.hstack([x, np.asarray(extra, dtype=x.dtype)])
        proba = self.reported_proba(x)
        return [LABELS[i] for i in proba.argmax(axis=1)], proba


def load_model(model_dir: str | Path | None = None) -> StanceModel:
    """The shipped stance model, or the one in ``model_dir``.

    Raises:
        ModelError: no model there, or not a stance model.
    """
    from overclaim.errors import ModelError
    from overclaim.resources import load_artifact

    if model_dir is None:
        model = load_artifact(MODEL_NAME)
    else:
        from overclaim.resources import load_model

        model = load_model(model_dir, MODEL_NAME)
    if not isinstance(model, StanceModel):
        raise ModelError(f"artifact is a {type(model).__name__}, not a StanceModel")
    return model
