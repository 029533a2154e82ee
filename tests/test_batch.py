from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from overclaim.batch import read_output, run_batch, validate_fields
from overclaim.errors import InputError
from overclaim.report import VERDICT_LABELS
from tests.conftest import ROOT, load_jsonl

N_POSTS = 240


def _posts(n: int) -> list[dict]:
    base = [{"headline": p["headline"], "body": p["body"]} for p in load_jsonl("verdict_posts.jsonl")]
    seed = (ROOT / "examples" / "seed_post.txt").read_text(encoding="utf-8").split("\n", 1)
    base.append({"headline": seed[0], "body": seed[1]})
    rng = random.Random(8)
    out = []
    for i in range(n):
        post = dict(base[i % len(base)])
        if i % 3 == 1:  # pair some headlines with other bodies: unrelated posts too
            post["body"] = rng.choice(base)["body"]
        out.append({"id": f"p{i}", **post})
    return out


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _canon(records: list[dict]) -> set[str]:
    """Records as comparable text: the report's timing is the only field that may differ between runs."""
    out = set()
    for r in records:
        r = dict(r)
        report = r.get("report")
        if isinstance(report, str):
            report = json.loads(report)
        if isinstance(report, dict):
            report.pop("elapsed_ms", None)
            report.pop("checked_at", None)  # (the second it ran)
            r["report"] = report
        out.add(json.dumps(r, sort_keys=True))
    return out


@pytest.fixture(scope="module")
def posts_file(tmp_path_factory) -> Path:
    return _write_jsonl(tmp_path_factory.mktemp("in") / "posts.jsonl", _posts(N_POSTS))


@pytest.fixture(scope="module")
def reference(posts_file, tmp_path_factory) -> list[dict]:
    """The uninterrupted, in-process run every other run is compared with."""
    out = tmp_path_factory.mktemp("ref") / "ref.jsonl"
    summary = run_batch(posts_file, out, workers=1)
    assert summary.records == N_POSTS and summary.errors == 0
    return read_output(out)


# ---------------------------------------------------------------- malformed records

# Each bad line and the error code its output record must carry.
BAD_LINES: list[tuple[bytes, str]] = [
    (b'{"id": "x", "headline": "Truncated', "malformed"),
    (b"{'headline': 'single quotes', 'body': 'not JSON'}", "malformed"),
    (b'{"id": "m1", "body": "No headline here, only a body that goes on for a while."}', "empty_field"),
    (b'{"id": "m2", "headline": "No body"}', "empty_field"),
    (b'{"id": "m3", "headline": "   ", "body": "Blank headline above this body text."}', "empty_field"),
    (b'{"id": "m4", "headline": 42, "body": "A number as headline."}', "wrong_type"),
    (b'{"id": "m5", "headline": "A list as body", "body": ["a", "b"]}', "wrong_type"),
    (b'["headline", "body"]', "malformed"),
    (b"\x00\x01\x02\x03binary\xff\xfe\x00junk\x7f\x00", "binary_input"),
    (b'{"id": "m6", "headline": "Latin-1 caf\xe9", "body": "Not UTF-8."}', "bad_encoding"),
    (b'{"id": "m7", "headline": "Lone surrogate \\ud800", "body": "A surrogate escape is not text."}', "bad_encoding"),
    (b"[" * 100_000, "malformed"),
]


@pytest.mark.parametrize("out_name", ["out.jsonl", "out.parquet"])
def test_one_percent_malformed_gives_one_output_record_per_input_record(tmp_path, out_name):
    good = _posts(990)
    rng = random.Random(1)
    bad_at = sorted(rng.sample(range(1000), 10))
    lines: list[bytes] = []
    expected: dict[int, str] = {}
    g = iter(good)
    for n in range(1, 1001):
        if n - 1 in bad_at:
            data, code = BAD_LINES[bad_at.index(n - 1) % len(BAD_LINES)]
            expected[n] = code
            lines.append(data)
        else:
            lines.append(json.dumps(next(g)).encode())
    src = tmp_path / "mixed.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")

    summary = run_batch(src, tmp_path / out_name, workers=1)
    records = read_output(tmp_path / out_name)

    assert len(records) == 1000 == summary.records
    assert sorted(r["line"] for r in records) == list(range(1, 1001))
    assert summary.errors == 10 and summary.ok == 990
    for r in records:
        if r["line"] in expected:
            code, message = r["error"]["code"], r["error"]["message"]
            assert (r["status"], code) == ("error", expected[r["line"]]), message
            assert message.startswith(f"mixed.jsonl, line {r['line']}")
            assert r["verdict"] is None
        else:
            assert r["status"] == "ok"
            assert r["verdict"] in VERDICT_LABELS
            assert 0.0 <= r["score"] <= 1.0


def test_every_malformed_kind_is_caught(tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_bytes(b"\n".join(data for data, _ in BAD_LINES) + b"\n\n   \n")  # blank lines are not records
    records = read_output(run_batch(src, tmp_path / "o.jsonl", workers=1).output)
    assert [r["error"]["code"] for r in records] == [code for _, code in BAD_LINES]
    assert [r["line"] for r in records] == list(range(1, len(BAD_LINES) + 1))
    by_line = {r["line"]: r for r in records}
    assert by_line[3]["id"] == "m1"  # the input id is kept when the record could be parsed
    assert by_line[1]["id"] == "bad.jsonl:1"  # otherwise source:line
    assert by_line[6]["error"]["field"] == "headline"


def test_csv_with_mapping_multiline_bodies_and_broken_rows(tmp_path):
    posts = _posts(12)
    src = tmp_path / "posts.csv"
    with open(src, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["post_id", "title", "text"])
        for i, p in enumerate(posts):
            body = p["body"].replace(". ", ".\n", 1)  # quoted multi-line field
            if i == 4:
                w.writerow([p["id"], p["headline"]])  # a field short
            elif i == 7:
                w.writerow([p["id"], "", body])  # empty headline
            elif i == 9:
                w.writerow([p["id"], "binary\x00junk", body])
            else:
                w.writerow([p["id"], p["headline"], body])
    mapping = {"id": "post_id", "headline": "title", "body": "text"}
    summary = run_batch(src, tmp_path / "o.jsonl", workers=1, mapping=mapping, fields=["verdict.label"])
    records = read_output(tmp_path / "o.jsonl")
    assert len(records) == 12 == summary.records
    assert [r["id"] for r in records] == [p["id"] for p in posts]
    errors = {r["id"]: r["error"]["code"] for r in records if r["status"] == "error"}
    assert errors == {"p4": "malformed", "p7": "empty_field", "p9": "binary_input"}
    # Each record is numbered by its first line; most rows span two lines here.
    starts, line = [], 2
    for i, _ in enumerate(posts):
        starts.append(line)
        line += 1 if i == 4 else 2
    assert [r["line"] for r in records] == starts
    ok = [r for r in records if r["status"] == "ok"]
    assert all(r["verdict.label"] == r["verdict"] and "report" not in r for r in ok)


def test_csv_without_the_mapped_column_is_refused(tmp_path):
    src = tmp_path / "posts.csv"
    src.write_text("title,text\nA,B\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column 'headline'"):
        run_batch(src, tmp_path / "o.jsonl", workers=1)


def test_folder_of_jsonl_csv_and_parquet(tmp_path, reference, posts_file):
    import pyarrow as pa
    import pyarrow.parquet as pq

    posts = _posts(30)
    folder = tmp_path / "crawl"
    (folder / "sub").mkdir(parents=True)
    _write_jsonl(folder / "a.jsonl", posts[:10])
    with open(folder / "b.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["id", "headline", "body"])
        w.writeheader()
        w.writerows(posts[10:20])
    rows = posts[20:30]
    rows[3] = {"id": "p23", "headline": None, "body": "A null headline in a typed column."}
    pq.write_table(pa.Table.from_pylist(rows), folder / "sub" / "c.parquet")
    (folder / "notes.txt").write_text("not an input", encoding="utf-8")

    summary = run_batch(folder, tmp_path / "o.jsonl", workers=1)
    records = read_output(tmp_path / "o.jsonl")
    assert [r["source"] for r in records] == ["a.jsonl"] * 10 + ["b.csv"] * 10 + ["sub/c.parquet"] * 10
    assert [r["id"] for r in records] == [p["id"] for p in posts]
    assert summary.error_codes == {"empty_field": 1}
    assert [r["line"] for r in records if r["source"] == "sub/c.parquet"] == list(range(1, 11))
    # The same post gives the same report whatever file format it came in.
    ref = {r["id"]: r for r in reference}
    for r in records[:20]:
        assert r["verdict"] == ref[r["id"]]["verdict"] and r["score"] == ref[r["id"]]["score"]


# ---------------------------------------------------------------- parallel runs


def test_two_workers_match_the_in_process_run(tmp_path, posts_file, reference):
    summary = run_batch(posts_file, tmp_path / "o.jsonl", workers=2, chunk_size=16)
    records = read_output(tmp_path / "o.jsonl")
    assert summary.workers == 2 and summary.records == N_POSTS
    assert [r["line"] for r in records] == [r["line"] for r in reference]  # input order kept
    assert _canon(records) == _canon(reference)


def test_dask_local_cluster_matches_the_local_run(tmp_path, posts_file, reference):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        summary = run_batch(posts_file, tmp_path / "o.jsonl", scheduler=cluster.scheduler_address, chunk_size=16)
    assert summary.scheduler == cluster.scheduler_address
    records = read_output(tmp_path / "o.jsonl")
    assert [r["line"] for r in records] == [r["line"] for r in reference]
    assert _canon(records) == _canon(reference)


def test_an_unreachable_scheduler_is_a_one_line_input_error(tmp_path, posts_file):
    dask = pytest.importorskip("dask")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}), pytest.raises(
            InputError, match="cannot reach the Dask scheduler"):
        run_batch(posts_file, tmp_path / "o.jsonl", scheduler="tcp://127.0.0.1:1")


# ---------------------------------------------------------------- resume


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "overclaim", "batch", *args, "--no-progress"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def _count_records(out: Path) -> int:
    return out.read_bytes().count(b"\n") if out.exists() else 0


@pytest.mark.slow  # two CLI runs with worker processes: about 20 s on a loaded 2-core machine
@pytest.mark.parametrize("seed", [random.randrange(10**6) for _ in range(2)])
def test_killed_run_resumes_to_the_uninterrupted_output(tmp_path, posts_file, reference, seed):
    rng = random.Random(seed)
    kill_after = rng.randrange(0, N_POSTS // 2)  # records in the output when the batch is killed
    out = tmp_path / "out.jsonl"
    proc = _cli(str(posts_file), "--out", str(out), "--workers", "2", "--chunk-size", "4",
                start_new_session=True)
    deadline = time.monotonic() + 120
    while _count_records(out) < kill_after and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(rng.random() * 0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its worker processes, mid-write or not
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"seed {seed}: the batch ended before it was killed"
    partial = out.read_bytes() if out.exists() else b""

    resumed = _cli(str(posts_file), "--out", str(out), "--workers", "1", "--resume", "--json")
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr.decode()
    summary = json.loads(stdout)
    records = read_output(out)
    assert len(records) == N_POSTS, f"seed {seed}: duplicates or missing records"
    assert _canon(records) == _canon(reference), f"seed {seed}"
    assert summary["skipped"] == partial.count(b"\n") and summary["records"] == N_POSTS - summary["skipped"]


@pytest.mark.parametrize("cut", [0.0, 0.37, 0.5, 0.999])
def test_resume_cuts_a_half_written_last_line(tmp_path, posts_file, reference, cut):
    full = b"".join(json.dumps(r).encode() + b"\n" for r in reference)
    lines = full.splitlines(keepends=True)
    k = len(lines) // 3
    half = lines[k][: max(1, int(len(lines[k]) * cut))]
    out = tmp_path / "o.jsonl"
    out.write_bytes(b"".join(lines[:k]) + half)
    summary = run_batch(posts_file, out, workers=1, resume=True)
    assert summary.skipped == k and summary.records == N_POSTS - k
    records = read_output(out)
    assert len(records) == N_POSTS and _canon(records) == _canon(reference)


def test_parquet_output_resumes_from_complete_parts(tmp_path, posts_file, reference, monkeypatch):
    import pyarrow.parquet as pq

    import overclaim.batch.writers as batch

    monkeypatch.setattr(batch, "PARQUET_PART_ROWS", 50)
    out = tmp_path / "o.parquet"
    run_batch(posts_file, out, workers=1)
    parts = sorted(out.glob("part-*.parquet"))
    assert len(parts) >= 3
    kept = sum(pq.ParquetFile(p).metadata.num_rows for p in parts[:2])
    for p in parts[2:]:  # as if killed after two parts, with one half-written
        p.unlink()
    (out / ".part-00002.tmp").write_bytes(b"PAR1 half a part")
    summary = run_batch(posts_file, out, workers=1, resume=True)
    assert summary.skipped == kept and not list(out.glob("*.tmp"))
    records = read_output(out)
    assert len(records) == N_POSTS and _canon(records) == _canon(reference)


def test_existing_output_needs_resume_or_overwrite(tmp_path, posts_file):
    out = tmp_path / "o.jsonl"
    out.write_text('{"source": "posts.jsonl", "line": 1}\n', encoding="utf-8")
    with pytest.raises(InputError, match="--resume"):
        run_batch(posts_file, out, workers=1)
    runner = CliRunner()
    from overclaim.cli import app

    result = runner.invoke(app, ["batch", str(posts_file), "--out", str(out), "--no-progress"])
    assert result.exit_code != 0 and isinstance(result.exception, InputError)


def test_cli_exits_2_with_one_line_on_bad_input(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "overclaim", "batch", str(tmp_path / "missing.jsonl"),
                           "--out", str(tmp_path / "o.jsonl")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "missing.jsonl" in proc.stderr


# ---------------------------------------------------------------- fields and store


@pytest.mark.parametrize(
    ("fields", "ok"),
    [
        (["verdict.label", "certainty.gap", "stance.probabilities.agree"], True),
        (["post.id", "sensational.clickbait_probability"], True),
        (["verdict.nope"], False),
        (["evidence.span"], False),  # no descending into lists
    ],
)
def test_validate_fields(fields, ok):
    if ok:
        assert validate_fields(fields) == fields
    else:
        with pytest.raises(InputError, match="no report field"):
            validate_fields(fields)


def test_chosen_fields_and_store(tmp_path, posts_file, reference):
    from overclaim.store.reports import ReportStore

    db = tmp_path / "reports.sqlite"
    fields = ["verdict.label", "certainty.gap", "post.headline"]
    summary = run_batch(posts_file, tmp_path / "o.jsonl", workers=1, fields=fields, store=str(db))
    records = read_output(tmp_path / "o.jsonl")
    assert summary.stored == N_POSTS == len(ReportStore(str(db)))
    ref = {r["id"]: r["report"] for r in reference}
    for r in records:
        assert set(r) == {"source", "line", "id", "status", "verdict", "score", *fields}
        assert r["certainty.gap"] == ref[r["id"]]["certainty"]["gap"]
        assert r["post.headline"] == ref[r["id"]]["post"]["headline"]


# ---------------------------------------------------------------- worker crashes


def crashing_chunk(job, chunk):
    """Runs in a worker: dies outright on a record holding CRASH, like a segfault or the OOM killer."""
    from overclaim.batch import check_chunk

    if any(isinstance(raw.payload, bytes) and b"CRASH" in raw.payload for raw in chunk):
        os._exit(1)
    return check_chunk(job, chunk)


@pytest.mark.slow  # three worker pools start one after another: 20-50 s on a loaded 2-core machine
def test_a_record_that_kills_its_worker_costs_only_that_record(tmp_path, posts_file, reference, monkeypatch):
    import overclaim.batch.pool as batch

    monkeypatch.setattr(batch, "_chunk_function", crashing_chunk)
    lines = posts_file.read_bytes().splitlines(keepends=True)
    poison = {31, 32}  # line numbers (from 1) of records that kill their worker; one chunk (8 a chunk)
    for n in poison:
        lines[n - 1] = lines[n - 1].replace(b'"headline": "', b'"headline": "CRASH ')
    src = tmp_path / "posts.jsonl"
    src.write_bytes(b"".join(lines))
    summary = run_batch(src, tmp_path / "o.jsonl", workers=2, chunk_size=8)
    records = read_output(tmp_path / "o.jsonl")
    assert [r["line"] for r in records] == list(range(1, N_POSTS + 1))
    crashed = {r["line"] for r in records if r["status"] == "error"}
    assert crashed == poison and summary.error_codes == {"worker_crash": len(poison)}
    assert {r["error"]["message"] for r in records if r["status"] == "error"} == {
        f"posts.jsonl, line {n}: the worker process died while checking this record" for n in poison}
    assert _canon([r for r in records if r["line"] not in poison]) == _canon(
        [r for r in reference if r["line"] not in poison])


def test_a_missing_model_stops_the_batch_instead_of_failing_every_record(tmp_path, posts_file, monkeypatch):
    import overclaim.batch.pool as batch
    from overclaim.errors import ModelError

    def broken(job):
        raise ModelError("model 'stance' is not built; run `overclaim train stance`")

    monkeypatch.setattr(batch, "worker_checker", broken)
    with pytest.raises(ModelError, match="overclaim train stance"):
        run_batch(posts_file, tmp_path / "o.jsonl", workers=1)
    assert read_output(tmp_path / "o.jsonl") == []


# ---------------------------------------------------------------- posts checked together


def test_a_chunk_is_checked_together_and_matches_one_by_one():
    from overclaim.batch import Job, RawRecord, check_chunk, check_raw

    posts = _posts(20)
    chunk = [RawRecord("in.jsonl", i + 1, json.dumps(p).encode()) for i, p in enumerate(posts)]
    chunk[3] = RawRecord("in.jsonl", 4, b'{"headline": "no body"}')
    together = [json.loads(r.record) for r in check_chunk(Job(), chunk)]
    alone = [json.loads(check_raw(raw, Job()).record) for raw in chunk]
    for r in together + alone:
        if r["status"] == "ok":
            r["report"].pop("elapsed_ms")
            r["report"].pop("checked_at")  # (the second it ran)
    assert together == alone
    assert [r["status"] for r in together].count("error") == 1 and together[3]["error"]["field"] == "body"


def test_an_error_inside_a_checked_chunk_lands_on_its_own_record(monkeypatch):
    from overclaim.batch import Job, RawRecord, check_chunk
    from overclaim.pipeline import Checker

    real = Checker.check_post

    def fragile(self, post):
        if "BOOM" in post.headline:
            raise RuntimeError("stage failed")
        return real(self, post)

    def fragile_many(self, posts):
        return [fragile(self, p) for p in posts]

    monkeypatch.setattr(Checker, "check_post", fragile)
    monkeypatch.setattr(Checker, "check_many", fragile_many)
    posts = _posts(5)
    posts[2]["headline"] = "BOOM " + posts[2]["headline"]
    chunk = [RawRecord("in.jsonl", i + 1, json.dumps(p).encode()) for i, p in enumerate(posts)]
    out = [json.loads(r.record) for r in check_chunk(Job(), chunk)]
    assert [r["status"] for r in out] == ["ok", "ok", "error", "ok", "ok"]
    assert "RuntimeError: stage failed" in out[2]["error"]["message"] and out[2]["line"] == 3
    assert out[2]["id"] == posts[2].get("id", "in.jsonl:3")
