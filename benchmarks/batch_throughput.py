"""Batch throughput and memory: posts/s with 1 and 2 local workers, on a Dask LocalCluster, peak RSS.

    python benchmarks/batch_throughput.py                 # 100,000 posts (and 10,000 for the memory check)
    python benchmarks/batch_throughput.py --n 2000 --small-n 500   # a quick version for CI

Posts are built from FNC-1 (train + competition test): every headline with its
paired body, then (past the 75k real pairs) headlines paired with random other
bodies, so the input is real news text of realistic length. Each run is the
real command line (``overclaim batch IN --out OUT.jsonl --json``) in its own
process; memory is the peak resident set of that process and all its
children (worker processes, forkserver), sampled every 0.2 s with psutil.
Targets (issue 8): 2 workers >= 1.8x 1 worker; peak memory < 1 GB and not
growing from 10k to 100k posts. Writes benchmarks/results/batch_throughput.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "fnc1"
RESULTS = ROOT / "benchmarks" / "results" / "batch_throughput.json"


def build_posts(path: Path, n: int, data: Path, seed: int = 8) -> int:
    """Write ``n`` FNC-1 posts as JSONL; returns how many are real (headline, paired body) pairs."""
    bodies: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for split in ("train", "competition_test"):
        with open(data / f"{split}_bodies.csv", encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                bodies[f"{split}:{row['Body ID']}"] = row["articleBody"]
        with open(data / f"{split}_stances.csv", encoding="utf-8", newline="") as f:
            pairs += [(row["Headline"], f"{split}:{row['Body ID']}") for row in csv.DictReader(f)]
    rng = random.Random(seed)
    body_ids = sorted(bodies)
    real = min(n, len(pairs))
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            headline, body_id = pairs[i] if i < len(pairs) else (pairs[i % len(pairs)][0], rng.choice(body_ids))
            f.write(json.dumps({"id": f"fnc-{i}", "headline": headline, "body": bodies[body_id]}) + "\n")
    return real


class PeakMemory:
    """Peak summed RSS and CPU time of a process tree (plus extra processes), sampled in a thread.

    CPU seconds are the last sampled user+system time of each process; with the
    machine shared, CPU seconds per post say more about cost than wall time does.
    """

    def __init__(self, pid: int, extra: list[psutil.Process] | None = None, every: float = 0.2) -> None:
        self.root = psutil.Process(pid)
        self.extra = extra or []
        self.every = every
        self.peak_total = 0
        self.peak_main = 0
        self.peak_child = 0
        self.cpu: dict[int, float] = {}
        already = [q for p in self.extra for q in (p, *p.children(recursive=True))]
        self.cpu_start = {p.pid: sum(p.cpu_times()[:2]) for p in already}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
                for p in self.extra:
                    procs += [p, *p.children(recursive=True)]
                rss = {}
                for p in procs:
                    try:
                        rss[p.pid] = p.memory_info().rss
                        self.cpu[p.pid] = sum(p.cpu_times()[:2]) - self.cpu_start.get(p.pid, 0.0)
                    except psutil.Error:
                        pass
            except psutil.Error:
                break
            self.peak_total = max(self.peak_total, sum(rss.values()))
            self.peak_main = max(self.peak_main, rss.get(self.root.pid, 0))
            self.peak_child = max([self.peak_child, *(v for k, v in rss.items() if k != self.root.pid)])
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run(name: str, src: Path, out: Path, args: list[str], extra: list[psutil.Process] | None = None) -> dict:
    """One ``overclaim batch`` run as a subprocess, with its summary, wall time and peak memory."""
    if out.exists():
        out.unlink()
    cmd = [sys.executable, "-m", "overclaim", "batch", str(src), "--out", str(out), "--json", "--no-progress", *args]
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with PeakMemory(proc.pid, extra) as mem:
        stdout, stderr = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed ({proc.returncode}): {stderr.strip()[-2000:]}")
    summary = json.loads(stdout)
    out_lines = sum(1 for _ in open(out, "rb"))
    out.unlink()
    mb = 1024 * 1024
    result = {
        "name": name,
        "posts": summary["records"],
        "output_records": out_lines,
        "errors": summary["errors"],
        "workers": summary["workers"],
        "scheduler": summary["scheduler"],
        "seconds": summary["seconds"],
        "wall_seconds_with_startup": round(wall, 2),
        "posts_per_second": summary["records_per_second"],
        "cpu_seconds_per_post_ms": round(1000 * sum(mem.cpu.values()) / max(1, summary["records"]), 2),
        "cpu_seconds_main": round(mem.cpu.get(proc.pid, 0.0), 1),
        "peak_rss_total_mb": round(mem.peak_total / mb, 1),
        "peak_rss_main_mb": round(mem.peak_main / mb, 1),
        "peak_rss_largest_child_mb": round(mem.peak_child / mb, 1),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
    }
    print(f"{name:<28} {result['posts']:>7} posts {result['seconds']:>8.1f} s "
          f"{result['posts_per_second']:>8.1f} posts/s  CPU {result['cpu_seconds_per_post_ms']:.1f} ms/post  "
          f"peak RSS {result['peak_rss_total_mb']:>7.1f} MB (main {result['peak_rss_main_mb']:.0f}, "
          f"largest child {result['peak_rss_largest_child_mb']:.0f})  load {load_before:.1f}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="posts in the big run")
    parser.add_argument("--small-n", type=int, default=10_000, help="posts in the small run (memory growth)")
    parser.add_argument("--data", type=Path, default=DATA, help="FNC-1 folder")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster run")
    parser.add_argument("--runs", default="small1,small2,big1,big2,dask",
                        help="comma-separated subset of runs: small1, small2, big1, big2, dask")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the results")
    opts = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="overclaim-batch-bench-") as tmp:
        tmpdir = Path(tmp)
        big, small = tmpdir / "posts_big.jsonl", tmpdir / "posts_small.jsonl"
        real = build_posts(big, opts.n, opts.data)
        build_posts(small, opts.small_n, opts.data)
        print(f"{opts.n} posts ({real} real FNC-1 pairs), {big.stat().st_size / 1e6:.0f} MB of JSONL; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
        out = tmpdir / "out.jsonl"
        chosen = set(opts.runs.split(","))
        plan: list[tuple[str, str, Path, list[str]]] = [
            ("small1", "small, 1 worker", small, ["--workers", "1"]),
            ("small2", "small, 2 workers", small, ["--workers", "2"]),
            ("big1", "big, 1 worker", big, ["--workers", "1"]),
            ("big2", "big, 2 workers", big, ["--workers", "2"]),
        ]
        runs: list[dict] = []
        for key, name, src, args in plan:
            if key in chosen:
                runs.append(run(name, src, out, args))
                report(opts, real, runs)  # results so far survive an interrupted benchmark
        if "dask" in chosen and not opts.no_dask:
            from distributed import LocalCluster

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                              memory_limit="2GiB") as cluster:
                children = psutil.Process().children(recursive=False)
                runs.append(run("big, Dask LocalCluster 2x1", big, out, ["--scheduler", cluster.scheduler_address],
                                extra=children))
        result = report(opts, real, runs)
    print(json.dumps(result["figures"], indent=2))
    print(f"wrote {opts.json}")


def _commit() -> str | None:
    """The git commit measured (None outside a checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    return out.stdout.strip() or None


def report(opts: argparse.Namespace, real: int, runs: list[dict]) -> dict:
    """Figures from the runs so far, written to the results JSON."""
    by = {r["name"]: r for r in runs}
    figures: dict[str, object] = {"peak_rss_target_mb": 1024, "speedup_target": 1.8}
    one, two = by.get("big, 1 worker"), by.get("big, 2 workers")
    if one and two:
        figures["speedup_2_vs_1_workers"] = round(two["posts_per_second"] / one["posts_per_second"], 2)
        figures["cpu_ms_per_post_1_vs_2_workers"] = [one["cpu_seconds_per_post_ms"], two["cpu_seconds_per_post_ms"]]
    for workers in ("1 worker", "2 workers"):
        small, big = by.get(f"small, {workers}"), by.get(f"big, {workers}")
        if small and big:
            figures[f"peak_rss_mb_small_vs_big_{workers.replace(' ', '_')}"] = [
                small["peak_rss_total_mb"], big["peak_rss_total_mb"]]
            figures[f"peak_rss_growth_small_to_big_{workers.replace(' ', '_')}"] = round(
                big["peak_rss_total_mb"] / small["peak_rss_total_mb"], 3)
    dask = by.get("big, Dask LocalCluster 2x1")
    if dask and two:
        figures["dask_vs_local_2_workers"] = round(dask["posts_per_second"] / two["posts_per_second"], 2)
    figures["one_output_record_per_input_record"] = all(r["output_records"] == r["posts"] for r in runs)
    result = {
        "benchmark": "batch_throughput",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "n": opts.n,
        "small_n": opts.small_n,
        "real_fnc1_pairs": real,
        "complete": len(runs) == 5 and not opts.no_dask,
        "commit": _commit(),
        "figures": figures,
        "runs": runs,
        "note": "measured on a shared machine; see load_average_* per run",
    }
    opts.json.parent.mkdir(parents=True, exist_ok=True)
    opts.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
