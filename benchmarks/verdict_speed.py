"""Verdict stage speed (issue 20): what the learned verdict adds to a post, on one core.

Runs every stage but the verdict over FNC-1 competition test posts (one per body, 904 by default;
untimed), then times the verdict stage alone over their contexts, each profile with its own model:
CPU ms a post (target: the verdict model adds at most 0.2 ms a post). Each figure is the best of
``--repeat`` passes (the machine is shared; the best is the least disturbed).

    python benchmarks/verdict_speed.py [--limit N] [--repeat 5]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

from _common import SHARED_DATA, cpu_probe, fnc_pairs, one_core, write_result

TARGET_MS = 0.2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=904, help="posts (one per FNC-1 test body)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--stances", type=Path, default=SHARED_DATA / "fnc1" / "competition_test_stances.csv")
    parser.add_argument("--bodies", type=Path, default=SHARED_DATA / "fnc1" / "competition_test_bodies.csv")
    args = parser.parse_args(argv)
    one_core()
    from overclaim.config import Config
    from overclaim.pipeline import Checker
    from overclaim.report import Post
    from overclaim.stages.verdict import VerdictMaker

    seen: set[str] = set()
    posts = []
    for headline, body_id, body, _ in fnc_pairs(args.stances, args.bodies):
        if body_id not in seen:
            seen.add(body_id)
            posts.append(Post(headline=headline, body=body))
    posts = posts[: args.limit]
    figures: dict[str, object] = {"posts": len(posts), "cpu_probe": cpu_probe(), "target_ms": TARGET_MS}
    for profile in ("default", "fast"):
        config = Config(profile=profile)
        contexts = Checker(config, skip={"match", "verdict"}).run_stages(posts)
        stage = VerdictMaker(config)
        stage(copy.copy(contexts[0]))  # load the model outside the timing
        best = float("inf")
        for _ in range(args.repeat):
            c0 = time.process_time()
            for ctx in contexts:
                stage(ctx)
            best = min(best, time.process_time() - c0)
        ms = 1000 * best / len(contexts)
        labels: dict[str, int] = {}
        for ctx in contexts:
            assert ctx.verdict is not None
            labels[ctx.verdict.label] = labels.get(ctx.verdict.label, 0) + 1
        figures[profile] = {"cpu_ms_per_post": round(ms, 4), "meets_target": ms <= TARGET_MS, "verdicts": labels}
        print(f"{profile}: verdict stage {ms:.3f} ms CPU a post over {len(contexts)} posts "
              f"(target {TARGET_MS} ms: {'met' if ms <= TARGET_MS else 'not met'}); {labels}")
    write_result("verdict_speed", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
