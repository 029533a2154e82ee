"""Throughput of the whole `check` pipeline on one core.

Runs every stage over FNC-1 competition test bodies with their headlines: by
default the 904 bodies, each with the first headline paired with it (904 posts);
``--all-pairs`` runs all 25,413 pairs. Target (issue 2): at least 200 posts/s.

    python benchmarks/check_throughput.py [--limit N] [--all-pairs]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from _common import SHARED_DATA, fnc_pairs, one_core, write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stances", type=Path, default=SHARED_DATA / "fnc1" / "competition_test_stances.csv")
    parser.add_argument("--bodies", type=Path, default=SHARED_DATA / "fnc1" / "competition_test_bodies.csv")
    parser.add_argument("--all-pairs", action="store_true", help="every headline-body pair, not one per body")
    parser.add_argument("--limit", type=int, default=0, help="check only the first N posts")
    args = parser.parse_args()
    one_core()
    from overclaim import Checker

    pairs = fnc_pairs(args.stances, args.bodies)
    if not args.all_pairs:
        seen: set[str] = set()
        pairs = [p for p in pairs if not (p[1] in seen or seen.add(p[1]))]  # type: ignore[func-returns-value]
    if args.limit:
        pairs = pairs[: args.limit]
    checker = Checker()
    t0 = time.perf_counter()
    checker.warm_up()
    load_s = time.perf_counter() - t0
    verdicts: dict[str, int] = {}
    t0 = time.perf_counter()
    per_post: list[float] = []
    for headline, _, body, _ in pairs:
        s = time.perf_counter()
        report = checker.check(headline, body)
        per_post.append(time.perf_counter() - s)
        verdicts[report.verdict.label] = verdicts.get(report.verdict.label, 0) + 1
    elapsed = time.perf_counter() - t0
    per_post.sort()
    write_result(
        "check_throughput",
        {
            "posts": len(pairs),
            "seconds": round(elapsed, 3),
            "posts_per_second": round(len(pairs) / elapsed, 1),
            "model_load_seconds": round(load_s, 3),
            "latency_ms_p50": round(1000 * per_post[len(per_post) // 2], 2),
            "latency_ms_p99": round(1000 * per_post[int(len(per_post) * 0.99)], 2),
            "verdicts": verdicts,
            "target_posts_per_second": 200,
        },
    )


if __name__ == "__main__":
    main()
