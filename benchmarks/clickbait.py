"""Clickbait model and sensational markers: accuracy, speed, marker precision/recall.

    python benchmarks/clickbait.py               # 10-fold CV on ../shared/data/clickbait
    python benchmarks/clickbait.py --folds 3     # quicker

Figures (issue 6 targets in brackets):
- 10-fold CV accuracy, F1, ROC-AUC of the clickbait model on the Chakraborty data [acc >= 0.98, F1 >= 0.98];
- headlines/s of the model alone (vectorize + predict_proba, batch of all 32,000 headlines, one process
  pinned to one core, BLAS at one thread), per wall-clock second and per CPU second [>= 20,000];
- headlines/s of the whole sensational stage, one post at a time (markers + model on one headline);
- marker precision and recall on tests/fixtures/markers.jsonl, overall and per split [>= 0.95];
- share of headlines with markers in each half of the clickbait data (the newspaper half: a false-alarm proxy).

Writes benchmarks/results/clickbait.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter

from _common import ROOT, SHARED_DATA, one_core, write_result

one_core()


def marker_scores() -> dict[str, dict[str, float]]:
    from overclaim.stages.sensational import find_markers

    fixture = ROOT / "tests" / "fixtures" / "markers.jsonl"
    rows = [json.loads(line) for line in fixture.read_text("utf-8").splitlines() if line.strip()]
    counts: dict[str, list[int]] = {}
    for row in rows:
        text = row["headline"]
        expected = Counter((t, k) for t, k in row["markers"])
        found = Counter((text[f.start : f.end], f.kind) for f in find_markers(text))
        for split in ("all", row.get("split", "dev")):
            c = counts.setdefault(split, [0, 0, 0, 0])
            c[0] += sum((expected & found).values())
            c[1] += sum((found - expected).values())
            c[2] += sum((expected - found).values())
            c[3] += 1
    return {
        split: {
            "headlines": n,
            "markers_expected": tp + fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        }
        for split, (tp, fp, fn, n) in counts.items()
    }


def marker_rates(headlines: list[str], labels: list[int]) -> dict[str, dict[str, object]]:
    """Share of headlines with any marker, and markers by kind, in each half of the clickbait data.

    The newspaper half is a proxy for false alarms: straight news headlines should carry few markers.
    """
    from overclaim.stages.sensational import find_markers

    out: dict[str, dict[str, object]] = {}
    for label, name in ((0, "newspaper_headlines"), (1, "clickbait_headlines")):
        rows = [h for h, y in zip(headlines, labels, strict=True) if y == label]
        kinds: Counter[str] = Counter()
        flagged = 0
        for h in rows:
            found = find_markers(h)
            flagged += bool(found)
            kinds.update(f.kind for f in found)
        out[name] = {"headlines": len(rows), "share_with_markers": round(flagged / len(rows), 4), **kinds}
    return out


def stage_speed(headlines: list[str], n: int = 3000) -> float:
    from overclaim.config import DEFAULT_CONFIG
    from overclaim.pipeline import Context
    from overclaim.report import Post
    from overclaim.stages.sensational import SensationalDetector
    from overclaim.text import TextView

    stage = SensationalDetector(DEFAULT_CONFIG)
    sample = headlines[:: max(1, len(headlines) // n)][:n]
    ctxs = [
        Context(post=Post(headline=h, body="b"), config=DEFAULT_CONFIG, headline=TextView("headline", h),
                body=TextView("body", "b"))
        for h in sample
    ]
    for ctx in ctxs[:50]:  # load the model, word frequencies and patterns
        stage(ctx)
    started = time.perf_counter()
    for ctx in ctxs:
        stage(ctx)
    return len(ctxs) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(SHARED_DATA / "clickbait"))
    parser.add_argument("--folds", type=int, default=10)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from overclaim.training.clickbait import build_model, cross_validate, load_data, throughput

    headlines, labels = load_data(args.data)
    figures: dict[str, object] = {"data": args.data, "headlines": len(headlines), "folds": args.folds}
    figures.update(cross_validate(headlines, labels, folds=args.folds))
    model = build_model().fit(headlines, labels)
    wall, cpu = throughput(model, headlines, repeats=5)
    figures["model_headlines_per_second"] = round(wall)
    figures["model_headlines_per_cpu_second"] = round(cpu)
    figures["stage_headlines_per_second_one_at_a_time"] = round(stage_speed(headlines))
    figures["markers"] = marker_scores()
    figures["marker_rates_on_clickbait_data"] = marker_rates(headlines, [int(v) for v in labels])
    figures["targets"] = {"accuracy": 0.98, "f1": 0.98, "model_headlines_per_second": 20000, "marker_p_r": 0.95}
    figures["note"] = "one process pinned to one core; the machine was shared with other jobs when measured"
    write_result("clickbait", figures)


if __name__ == "__main__":
    main()
