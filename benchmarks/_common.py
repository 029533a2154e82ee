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


def _probe_unit() -> int:
    total = 0
    for i in range(200_000):
        total += i * i
    return total


def cpu_probe(seconds: float = 3.0) -> dict[str, float]:
    """How fast this machine runs a fixed piece of pure-Python work now: ms per unit, best, median, p90.

    The shared 2-core machines these benchmarks run on change speed from minute to minute
    (other tenants): on 2026-12-01 the same unit took 9.7 ms at best and 14.6 ms at the
    median over 15 s on an idle machine. A median well above the best (``slowdown`` over
    about 1.2) means figures from that run are not comparable with a run on a steady machine.
    """
    times: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        started = time.perf_counter()
        _probe_unit()
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    best, median = times[0], times[len(times) // 2]
    return {"unit_ms_best": round(best, 2), "unit_ms_p50": round(median, 2),
            "unit_ms_p90": round(times[int(len(times) * 0.9)], 2), "slowdown": round(median / best, 2)}


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
