"""Reference reports: the check a refactor must pass (its reports byte-identical before and after).

Writes the reports of a fixed sample of FNC-1 competition test posts (every ``--every``-th pair,
908 posts at the default 28), in both profiles, one JSON line each, without the fields that
change from run to run (``elapsed_ms``, ``checked_at``); ``--against`` compares them with a
file written before the change and lists the posts whose reports differ.

    python benchmarks/reference_reports.py --out /tmp/before.jsonl          # before the change
    python benchmarks/reference_reports.py --out /tmp/after.jsonl --against /tmp/before.jsonl

A change that means to alter reports (a retrained model, a new report field) is checked on
the reports it should leave alone, or its differences read one by one.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from _common import SHARED_DATA, fnc_pairs, write_result

# Fields that differ between two runs of the same code.
VOLATILE = ("elapsed_ms", "checked_at")


def reports(every: int) -> list[str]:
    """The sample's reports as canonical JSON lines: default profile first, then fast."""
    from overclaim import Checker
    from overclaim.config import Config
    from overclaim.report import Post

    pairs = fnc_pairs(SHARED_DATA / "fnc1" / "competition_test_stances.csv",
                      SHARED_DATA / "fnc1" / "competition_test_bodies.csv")
    posts = [Post(headline=h, body=b, id=f"fnc-{i}") for i, (h, _, b, _) in enumerate(pairs) if i % every == 0]
    lines = []
    for profile in ("default", "fast"):
        for report in Checker(Config(profile=profile)).check_many(posts):
            data = report.model_dump(mode="json")
            for name in VOLATILE:
                data.pop(name, None)
            lines.append(json.dumps({"profile": profile, **data}, sort_keys=True, ensure_ascii=False))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="where to write the reports (JSON lines)")
    parser.add_argument("--against", type=Path, help="reports written before the change, to compare with")
    parser.add_argument("--every", type=int, default=28, help="take every N-th FNC-1 test pair (default 28: 908 posts)")
    args = parser.parse_args()
    lines = reports(args.every)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    figures: dict[str, object] = {"reports": len(lines), "posts": len(lines) // 2, "out": str(args.out)}
    if args.against:
        before = args.against.read_text(encoding="utf-8").splitlines()
        differ = [json.loads(new).get("post", {}).get("id") for old, new in zip(before, lines, strict=False)
                  if old != new]
        figures.update({"against": str(args.against), "same_count": len(before) == len(lines),
                        "differ": len(differ) + abs(len(before) - len(lines)), "first_differing_ids": differ[:10]})
    write_result("reference_reports", figures)
    if args.against and figures["differ"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
