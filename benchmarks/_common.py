"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import csv
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
RESULTS = Path(__file__).resolve().parent / "results"


def one_core() -> None:
    """Pin math libraries to one thread so figures are per core."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def fnc_pairs(stances: Path, bodies: Path) -> list[tuple[str, str, str, str]]:
    """(headline, body id, body, stance) for every pair of an FNC-1-format file pair."""
    csv.field_size_limit(sys.maxsize)
    with bodies.open(encoding="utf-8", newline="") as f:
        body_by_id = {row["Body ID"]: row["articleBody"] for row in csv.DictReader(f)}
    with stances.open(encoding="utf-8", newline="") as f:
        return [
            (row["Headline"], row["Body ID"], body_by_id[row["Body ID"]], row.get("Stance", ""))
            for row in csv.DictReader(f)
        ]


def write_result(name: str, figures: dict[str, Any]) -> Path:
    """Print the figures and write them to benchmarks/results/<name>.json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    figures = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        **figures,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, indent=2))
    return path
