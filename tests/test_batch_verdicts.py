"""Batch summaries count every verdict, cannot_judge included."""

from __future__ import annotations

import json

from rich.console import Console

from overclaim.batch import BatchSummary, Result, run_batch
from overclaim.cli.batch import print_summary
from overclaim.report import VERDICT_LABELS

LABELS = ["cannot_judge", "cannot_judge", "supported", "error:empty_field", "unrelated", "cannot_judge"]


def _summary() -> BatchSummary:
    summary = BatchSummary(input="in.jsonl", output="out.jsonl", workers=1)
    summary.add([Result(label, {}) for label in LABELS[:3]])
    summary.add([Result(label, {}) for label in LABELS[3:]])
    return summary


def test_summary_counts_cannot_judge_and_lists_every_verdict():
    summary = _summary()
    data = summary.to_dict()
    assert set(data["verdicts"]) == set(VERDICT_LABELS)
    for label in VERDICT_LABELS:
        assert data["verdicts"][label] == LABELS.count(label)
    assert data["ok"] == sum(data["verdicts"].values()) == len(LABELS) - 1
    assert data["errors"] == 1 and data["records"] == len(LABELS)


def test_cli_summary_table_shows_cannot_judge():
    console = Console(width=100, record=True, color_system=None)
    print_summary(_summary(), console)
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip()
            for line in console.export_text().splitlines() if line.count("│") >= 3}
    assert rows["cannot_judge"] == str(LABELS.count("cannot_judge"))
    assert rows["overstated"] == "0"


def test_a_real_run_counts_each_record_once_under_its_verdict(tmp_path):
    posts = [
        {"headline": "City council approves budget for road repairs",
         "body": "The city council approved a new budget for road repairs on Tuesday, voting 7-2 to fund the work."},
        {"headline": "Bitcoin price surges past record high",
         "body": "Heavy rain flooded several streets in the town centre on Saturday. More storms are expected."},
    ]
    src = tmp_path / "posts.jsonl"
    src.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    summary = run_batch(src, tmp_path / "out.jsonl", workers=1)
    assert set(summary.verdicts) == set(VERDICT_LABELS)
    assert sum(summary.verdicts.values()) == summary.ok == len(posts)
    assert summary.verdicts["unrelated"] >= 1  # the flooding body is about something else
