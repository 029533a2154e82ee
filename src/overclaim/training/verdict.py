"""Verdict agreement on FNC-1-format data: how often the pipeline's call matches the gold stance.

FNC-1 labels map onto verdicts: ``unrelated`` -> unrelated, ``disagree`` ->
contradicted, ``agree`` -> supported, ``discuss`` -> overstated (an FNC-1
"discuss" body reports the claim without confirming it; FNC-1 headlines are
mostly assertive, so a discussing body backs them less firmly than they state
it). The mapping is a proxy: a hedged headline over a discussing body is
`supported` by definition, and counts here as an error. It measures the whole
pipeline, evidence and certainty included, not the stance model alone.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from overclaim.report import VerdictLabel

VERDICTS: tuple[VerdictLabel, ...] = ("supported", "overstated", "contradicted", "unrelated", "cannot_judge")
FNC_TO_VERDICT: dict[str, VerdictLabel] = {
    "agree": "supported",
    "discuss": "overstated",
    "disagree": "contradicted",
    "unrelated": "unrelated",
}


def agreement(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-verdict F1 and the confusion matrix (rows gold, columns predicted)."""
    index: dict[str, int] = {v: i for i, v in enumerate(VERDICTS)}
    matrix = [[0] * len(VERDICTS) for _ in VERDICTS]
    for g, p in zip(gold, predicted, strict=True):
        matrix[index[g]][index[p]] += 1
    f1: dict[str, float] = {}
    for i, v in enumerate(VERDICTS):
        tp = matrix[i][i]
        denom = sum(matrix[i]) + sum(row[i] for row in matrix)
        f1[v] = round(2 * tp / denom, 4) if denom else 0.0
    n = len(gold)
    return {
        "posts": n,
        "accuracy": round(sum(matrix[i][i] for i in range(len(VERDICTS))) / n, 4) if n else 0.0,
        "macro_f1": round(sum(f1.values()) / len(f1), 4),
        "f1": f1,
        "labels": list(VERDICTS),
        "confusion": matrix,
    }


def evaluate_files(
    stances: str | Path, bodies: str | Path, *, limit: int = 0, profile: str = "default"
) -> dict[str, Any]:
    """Run the whole pipeline over an FNC-format pair of files and score its verdicts.

    Args:
        stances: CSV with ``Headline``, ``Body ID`` and ``Stance`` columns.
        bodies: CSV with ``Body ID`` and ``articleBody`` columns.
        limit: score only the first ``limit`` pairs (0 = all).
        profile: the pipeline profile (``Config.profile``).

    Raises:
        DataError: a file is missing or not in FNC-1 format.
    """
    from overclaim.config import Config
    from overclaim.pipeline import Checker
    from overclaim.report import Post
    from overclaim.training import fnc

    data = fnc.load(stances, bodies)
    pairs = data.pairs[:limit] if limit else data.pairs
    gold = [FNC_TO_VERDICT[label] for label in data.subset(range(len(pairs))).labels()]
    checker = Checker(Config(profile=profile), skip={"match"})
    checker.warm_up()
    started = time.perf_counter()
    reports = checker.check_many([Post(headline=p.headline, body=data.bodies[p.body_id]) for p in pairs])
    predicted = [r.verdict.label for r in reports]
    seconds = time.perf_counter() - started
    result = agreement(gold, predicted)
    result["seconds"] = round(seconds, 2)
    result["posts_per_second"] = round(len(pairs) / seconds, 1) if seconds else 0.0
    result["mapping"] = dict(FNC_TO_VERDICT)
    result["profile"] = profile
    return result
