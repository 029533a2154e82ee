"""Claim matching accuracy and speed on CLEF CheckThat! 2020 Task 2 (dev split).

Runs the shipped re-ranker exactly as ``overclaim eval claim-matching`` does (claims
imported into a fresh SQLite store, FTS5 retrieval, re-ranking, calibration) on dev,
and prints MAP@1/3/5, recall@5, calibration of the shown matches and queries/s, next to
the published CLEF 2020 test-set figures (best team about 0.93 MAP@5, second 0.91).

    python benchmarks/claim_matching.py [--data ../shared/data/claim_matching] [--split dev]

Target (issue 7): MAP@5 >= 0.93 on dev. Writes benchmarks/results/claim_matching.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "claim_matching.json"
DATA = ROOT.parent / "shared" / "data" / "claim_matching"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--split", default="dev", choices=["train", "dev"])
    args = parser.parse_args()
    from overclaim.resources import model_card
    from overclaim.training.claim_matching import evaluate_files

    folder = args.data / args.split
    result = evaluate_files(folder / "tweets.queries.tsv", folder / "tweet-vclaim-pairs.qrels",
                            args.data / "verified_claims.docs.tsv")
    card = model_card("claim_matching")
    out = {
        "split": args.split,
        **result,
        "train_cv": card.get("figures", {}).get("train_cv"),
        "reference_test_map@5": {"best_2020": 0.93, "second_2020": 0.91},
        "target_map@5": 0.93,
        "target_met": result["map@5"] >= 0.93,
        "note": "queries/s measured on a shared 2-core machine under load",
    }
    print(
        f"CLEF 2020 Task 2 {args.split}: {result['queries']} queries, {result['claims']} claims\n"
        f"  MAP@1 {result['map@1']:.4f}  MAP@3 {result['map@3']:.4f}  MAP@5 {result['map@5']:.4f}  "
        f"recall@5 {result['recall@5']:.4f}\n"
        f"  shown matches (p >= 0.5): precision {result['calibration_top5']['precision_at_0.5']:.3f}, "
        f"recall {result['calibration_top5']['recall_at_0.5']:.3f}; ECE {result['calibration_top5']['ece']:.4f}\n"
        f"  {result['queries_per_second']} queries/s ({result['ms_per_query']} ms a query)\n"
        f"  target MAP@5 >= 0.93: {'met' if out['target_met'] else 'NOT met'}"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
