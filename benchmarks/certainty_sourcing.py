"""Certainty and sourcing (issue 5): stage cost per post, whole-check throughput, model and rule figures.

- per-stage time of ``certainty`` and ``sourcing`` over FNC-1 competition test posts
  (one headline per body, 904 posts by default), target about 1 ms a post together;
- whole ``check`` throughput on the same posts (target: at least 200 posts/s on one core);
- the attribution sets (tests/fixtures/attributions*.jsonl): speaker precision/recall and
  named/anonymous precision/recall (targets 0.90 and 0.95);
- the seed post: speakers, headline and body certainty;
- with ``--cv``: the claim-grouped 5-fold CV of the headline certainty model on Emergent
  (targets: accuracy 0.80, macro-F1 0.75) and the 5-fold CV of the hedging model on the
  weasel file (target: F1 of the uncertain class 0.62). Takes about two minutes.

    python benchmarks/certainty_sourcing.py [--limit N] [--cv]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from _common import ROOT, SHARED_DATA, fnc_pairs, one_core, write_result


def attribution_scores(path: Path) -> dict[str, float]:
    """Speaker and named/anonymous precision/recall on an attribution JSONL file."""
    from overclaim.stages.sourcing import score_attributions

    lines = path.read_text(encoding="utf-8").splitlines()
    return score_attributions([json.loads(line) for line in lines if line.strip()])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stances", type=Path, default=SHARED_DATA / "fnc1" / "competition_test_stances.csv")
    parser.add_argument("--bodies", type=Path, default=SHARED_DATA / "fnc1" / "competition_test_bodies.csv")
    parser.add_argument("--limit", type=int, default=0, help="only the first N posts")
    parser.add_argument("--cv", action="store_true", help="also cross-validate both models (about two minutes)")
    args = parser.parse_args()
    one_core()
    from overclaim import Checker

    pairs = fnc_pairs(args.stances, args.bodies)
    seen: set[str] = set()
    pairs = [p for p in pairs if not (p[1] in seen or seen.add(p[1]))]  # type: ignore[func-returns-value]
    if args.limit:
        pairs = pairs[: args.limit]
    checker = Checker()
    checker.warm_up()
    stage_seconds: dict[str, float] = {}
    checker._stages = [_Timed(stage, stage_seconds) for stage in checker.stages]  # type: ignore[misc]
    started = time.perf_counter()
    for headline, _, body, _ in pairs:
        checker.check(headline, body)
    elapsed = time.perf_counter() - started
    n = len(pairs)

    headline, body = (ROOT / "examples" / "seed_post.txt").read_text(encoding="utf-8").split("\n", 1)
    seed = checker.check(headline, body)
    figures: dict[str, object] = {
        "posts": n,
        "posts_per_second_whole_check": round(n / elapsed, 1),
        "certainty_ms_per_post": round(1000 * stage_seconds.get("certainty", 0.0) / n, 3),
        "sourcing_ms_per_post": round(1000 * stage_seconds.get("sourcing", 0.0) / n, 3),
        "certainty_cpu_ms_per_post": round(1000 * stage_seconds.get("certainty_cpu", 0.0) / n, 3),
        "sourcing_cpu_ms_per_post": round(1000 * stage_seconds.get("sourcing_cpu", 0.0) / n, 3),
        "stage_ms_per_post": {k: round(1000 * v / n, 3) for k, v in stage_seconds.items() if "_cpu" not in k},
        "attributions": attribution_scores(ROOT / "tests" / "fixtures" / "attributions.jsonl"),
        "attributions_holdout": attribution_scores(ROOT / "tests" / "fixtures" / "attributions_holdout.jsonl"),
        "seed_post": {
            "headline_certainty": seed.certainty.headline.score,
            "body_certainty": seed.certainty.body.score,
            "gap": seed.certainty.gap,
            "anonymous": [a.speaker.text for a in seed.sourcing.attributions if a.kind == "anonymous"],
            "named": [a.speaker.text for a in seed.sourcing.attributions if a.kind != "anonymous"],
            "evidence_anonymous_share": seed.sourcing.evidence_anonymous_share,
            "verdict": seed.verdict.label,
        },
        "targets": {
            "posts_per_second_whole_check": 200,
            "certainty_plus_sourcing_ms_per_post": 1.0,
            "speaker_precision_recall": 0.90,
            "named_anonymous_precision_recall": 0.95,
            "headline_certainty_accuracy": 0.80,
            "headline_certainty_macro_f1": 0.75,
            "hedging_f1": 0.62,
        },
        "note": "measured on a machine shared with other developers' jobs (2 cores, several processes); "
        "*_ms_per_post are wall clock, *_cpu_ms_per_post CPU time of this process",
    }
    if args.cv:
        from overclaim.training import headline_certainty, hedging

        h = headline_certainty.evaluate(SHARED_DATA / "emergent" / "emergent_train.csv", cv=True)
        w = hedging.evaluate(SHARED_DATA / "hedging" / "wiki_weasel_train.csv", cv=True)
        figures["headline_certainty_cv"] = {k: h[k] for k in ("accuracy", "macro_f1", "f1", "evaluation")}
        figures["hedging_cv"] = {k: w[k] for k in ("precision", "recall", "f1", "threshold", "evaluation")}
    write_result("certainty_sourcing", figures)


class _Timed:
    """A stage wrapper that adds the stage's run time to ``seconds[name]``."""

    def __init__(self, stage: Any, seconds: dict[str, float]) -> None:
        self.stage = stage
        self.name: str = stage.name
        self.seconds = seconds

    def __call__(self, ctx: Any) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        self.stage(ctx)
        self.seconds[self.name] = self.seconds.get(self.name, 0.0) + time.perf_counter() - started
        cpu_name = self.name + "_cpu"
        self.seconds[cpu_name] = self.seconds.get(cpu_name, 0.0) + time.process_time() - cpu


if __name__ == "__main__":
    sys.exit(main())
