"""Throughput of the whole `check` pipeline on one core.

Runs every stage over FNC-1 competition test bodies with their headlines: by
default the 904 bodies, each with the first headline paired with it (904 posts);
``--all-pairs`` runs all 25,413 pairs. Targets: the ``fast`` profile at least 200 posts/s
(issue 2), the ``default`` profile (with the cross-encoder) at least 60 (issue 25); model load
under 2 s. Every profile is measured in the same run, each mode in a fresh process pinned to one
core, with the process's peak resident memory. Each figure is given per wall-clock second and per
CPU second of the process: on a machine shared with other jobs the wall clock counts the time the
process waited for the core, the CPU figure does not (on a quiet machine they agree).

Two ways of calling the library are measured, each in a fresh process (so one
does not warm the other's caches):

- ``one_by_one``: ``Checker.check`` post after post (the API's single-post call,
  what an interactive user or a service without load sees);
- ``check_many``: ``Checker.check_many`` over all the posts (groups of
  ``Config.batch_posts``), what ``overclaim check`` on a file, batch runs and the
  service under load use. Both give the same reports.

    python benchmarks/check_throughput.py [--limit N] [--all-pairs] [--mode both|one_by_one|check_many]
        [--profile both|default|fast]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import SHARED_DATA, cpu_probe, fnc_pairs, one_core, write_result

MODES = ("one_by_one", "check_many")


PROFILES = ("default", "fast")


def measure(pairs: list[tuple[str, str, str, str]], mode: str, profile: str = "default") -> dict[str, object]:
    """Check ``pairs`` with a new Checker in ``mode``; figures of that run."""
    import resource

    from overclaim import Checker
    from overclaim.config import Config
    from overclaim.report import Post

    checker = Checker(Config(profile=profile))
    t0, c0 = time.perf_counter(), time.process_time()
    checker.warm_up()
    load_s, load_cpu = time.perf_counter() - t0, time.process_time() - c0
    per_post: list[float] = []
    t0, c0 = time.perf_counter(), time.process_time()
    if mode == "one_by_one":
        reports = []
        for headline, _, body, _ in pairs:
            s = time.perf_counter()
            reports.append(checker.check(headline, body))
            per_post.append(time.perf_counter() - s)
    else:
        reports = checker.check_many([Post(headline=h, body=b) for h, _, b, _ in pairs])
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    verdicts: dict[str, int] = {}
    for report in reports:
        verdicts[report.verdict.label] = verdicts.get(report.verdict.label, 0) + 1
    figures: dict[str, object] = {
        "posts": len(pairs),
        "seconds": round(elapsed, 3),
        "posts_per_second": round(len(pairs) / elapsed, 1),
        "model_load_seconds": round(load_s, 3),
        # CPU time of this process (one thread does the work): what the posts cost a core whatever
        # else the machine runs; equal to the wall-clock figures on a quiet machine.
        "cpu_seconds": round(cpu, 3),
        "posts_per_cpu_second": round(len(pairs) / cpu, 1),
        "model_load_cpu_seconds": round(load_cpu, 3),
        "verdicts": verdicts,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if per_post:
        per_post.sort()
        figures["latency_ms_p50"] = round(1000 * per_post[len(per_post) // 2], 2)
        figures["latency_ms_p99"] = round(1000 * per_post[int(len(per_post) * 0.99)], 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stances", type=Path, default=SHARED_DATA / "fnc1" / "competition_test_stances.csv")
    parser.add_argument("--bodies", type=Path, default=SHARED_DATA / "fnc1" / "competition_test_bodies.csv")
    parser.add_argument("--all-pairs", action="store_true", help="every headline-body pair, not one per body")
    parser.add_argument("--limit", type=int, default=0, help="check only the first N posts")
    parser.add_argument("--mode", choices=("both", *MODES), default="both")
    parser.add_argument("--profile", choices=("both", *PROFILES), default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    one_core()
    if args.mode == "both" or args.profile == "both":
        figures: dict[str, object] = {"cpu_probe_before": cpu_probe()}
        modes = MODES if args.mode == "both" else (args.mode,)
        profiles = PROFILES if args.profile == "both" else (args.profile,)
        for profile in profiles:
            for mode in modes:
                cmd = [sys.executable, __file__, "--mode", mode, "--profile", profile, "--child",
                       "--stances", str(args.stances), "--bodies", str(args.bodies), "--limit", str(args.limit)]
                cmd += ["--all-pairs"] if args.all_pairs else []
                run = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
                figures[f"{profile}_{mode}"] = run
                print(f"{profile:>8} {mode:>10}: {run['posts_per_second']} posts/s "
                      f"({run['posts_per_cpu_second']} per CPU second), load {run['model_load_seconds']} s "
                      f"({run['model_load_cpu_seconds']} s CPU), peak RSS {run['peak_rss_mb']} MB", flush=True)
        figures["cpu_probe_after"] = cpu_probe()
        figures["target_posts_per_second"] = {"fast": 200, "default": 60}
        write_result("check_throughput", figures)
        return
    pairs = fnc_pairs(args.stances, args.bodies)
    if not args.all_pairs:
        seen: set[str] = set()
        pairs = [p for p in pairs if not (p[1] in seen or seen.add(p[1]))]  # type: ignore[func-returns-value]
    if args.limit:
        pairs = pairs[: args.limit]
    if hasattr(os, "sched_setaffinity"):  # one core, as the targets are stated
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    figures = measure(pairs, args.mode, args.profile)
    if args.child:
        print(json.dumps(figures))
    else:
        write_result(f"check_throughput_{args.mode}", figures)


if __name__ == "__main__":
    main()
