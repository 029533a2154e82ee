"""Stance model benchmark: accuracy and speed on the FNC-1 competition test set, and per-post cost.

Prints the figures and writes them to benchmarks/results/stance.json.

    python benchmarks/stance.py [--data ../shared/data/fnc1] [--posts 300] [--out FILE]

Targets (issue 3): FNC score >= 83.1, macro-F1 >= 0.62, disagree F1 >= 0.30, the full test set
(load, featurize, predict) in <= 60 s on 2 cores; the stance stage <= 2 ms CPU per post on single-post
calls (issues 2, 3, 5: `overclaim check` at 200 posts/s on one core). The stage figure is taken on the
first pass over the posts (words not seen before, as in real use); ``single_post_path`` checks that the
single-post featurizer gives the batch featurizer's matrix bit for bit on those posts.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from overclaim.config import DEFAULT_CONFIG
from overclaim.pipeline import Context
from overclaim.report import Post
from overclaim.resources import load_artifact
from overclaim.stages.evidence import EvidenceRanker
from overclaim.stages.normalize import Normalizer
from overclaim.stages.segment import Segmenter
from overclaim.stages.stance import StanceDetector
from overclaim.text import TextView
from overclaim.training import fnc
from overclaim.training.stance import evaluate_files

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"fnc_score": 83.1, "macro_f1": 0.62, "disagree_f1": 0.30, "test_seconds": 60.0, "stage_cpu_ms": 2.0}


def per_post_ms(data_dir: Path, n: int) -> dict[str, Any]:
    """CPU and wall milliseconds per post of the stance stage alone (after normalize/segment/evidence)."""
    data = fnc.load_split(data_dir, "competition_test")
    pairs = data.pairs[:: max(1, len(data.pairs) // n)][:n]
    ctxs = []
    for p in pairs:
        body = data.bodies[p.body_id]
        ctx = Context(post=Post(headline=p.headline, body=body), config=DEFAULT_CONFIG,
                      headline=TextView("headline", p.headline), body=TextView("body", body))
        for stage in (Normalizer(DEFAULT_CONFIG), Segmenter(DEFAULT_CONFIG), EvidenceRanker(DEFAULT_CONFIG)):
            stage(ctx)
        ctxs.append(ctx)
    detector = StanceDetector(DEFAULT_CONFIG)
    detector(ctxs[0])  # load the model
    started, cpu = time.perf_counter(), time.process_time()
    for ctx in ctxs:
        detector(ctx)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "posts": len(ctxs),
        "ms_per_post": round(1000 * elapsed / len(ctxs), 3),
        "cpu_ms_per_post": round(1000 * cpu / len(ctxs), 3),
        "single_post_path": single_post_check(detector, ctxs),
    }


def single_post_check(detector: StanceDetector, ctxs: list[Context]) -> dict[str, Any]:
    """Largest difference between single-post and batch features (and probabilities) over ``ctxs``."""
    import numpy as np

    feat = detector.model.featurizer
    if not hasattr(feat, "post_features"):
        return {"checked": False}
    feature_diff = 0.0
    proba_diff = 0.0
    rows = 0
    for ctx in ctxs:
        texts = [ctx.body.clean] + [ctx.sentences[e.index].text for e in ctx.evidence]
        ranges = [[(s.start, s.end) for s in ctx.sentences]] + [[(0, len(t))] for t in texts[1:]]
        batch = feat.features(feat.texts([ctx.headline.clean]), feat.texts(texts, ranges),
                              [(0, i) for i in range(len(texts))])
        post = feat.post_features(ctx.headline.clean, texts, ranges)
        feature_diff = max(feature_diff, float(np.abs(batch.astype(np.float64) - post).max()))
        # Probabilities: the merged boosters against each booster on its own, averaged.
        reference = np.mean([b.predict(post[:1], num_threads=1) for b in detector.model.boosters], axis=0)
        proba_diff = max(proba_diff, float(np.abs(detector.model.predict_proba(post[:1]) - reference).max()))
        rows += len(texts)
    return {"checked": True, "rows": rows, "max_abs_feature_diff": feature_diff, "max_abs_proba_diff": proba_diff}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fnc1"))
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "stance.json")
    args = parser.parse_args()
    data_dir = Path(args.data)
    load_artifact.cache_clear()
    result = evaluate_files(data_dir / "competition_test_stances.csv", data_dir / "competition_test_bodies.csv")
    stage = per_post_ms(data_dir, args.posts)
    out = {
        "benchmark": "stance",
        "data": str(data_dir / "competition_test_*"),
        "model": result["model"],
        "pairs": result["pairs"],
        "fnc_score": result["fnc_score"],
        "macro_f1": result["macro_f1"],
        "f1": result["f1"],
        "calibration_error": result["calibration_error"],
        "confusion": result["confusion"],
        "test_seconds": result["seconds"],
        "load_seconds": result["load_seconds"],
        "pairs_per_second": result["pairs_per_second"],
        "stage": stage,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "targets": TARGETS,
        "met": {
            "fnc_score": result["fnc_score"] >= TARGETS["fnc_score"],
            "macro_f1": result["macro_f1"] >= TARGETS["macro_f1"],
            "disagree_f1": result["f1"]["disagree"] >= TARGETS["disagree_f1"],
            "test_seconds": result["seconds"] <= TARGETS["test_seconds"],
            "stage_cpu_ms": stage["cpu_ms_per_post"] <= TARGETS["stage_cpu_ms"],
        },
    }
    print(json.dumps(out, indent=2))
    path = args.out
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
