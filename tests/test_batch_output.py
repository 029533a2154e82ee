"""Batch output formats: CSV and typed Parquet by the --out name, kept input columns, Ctrl-C, totals after resume."""

from __future__ import annotations

import csv
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from overclaim.batch import field_kind, read_output, run_batch
from overclaim.errors import InputError
from overclaim.report import VERDICT_LABELS
from tests.conftest import ROOT, load_jsonl, run_overclaim

FIELDS = ["verdict.label", "verdict.score", "verdict.reasons", "certainty.gap", "post.id"]
# Lines of the input that cannot be checked, and the error code each must get.
BAD = {3: (b'{"id": "nobody", "headline": "No body here", "gold": "agree"}', "empty_field"),
       7: (b"this line is not JSON", "malformed")}
N = 14


def _posts(n: int) -> list[dict]:
    base = load_jsonl("verdict_posts.jsonl")
    return [{"id": f"p{i}", "headline": base[i % len(base)]["headline"], "body": base[i % len(base)]["body"],
             "gold": base[i % len(base)]["expect"], "round": i % 3} for i in range(n)]


def _write_input(path: Path, n: int = N) -> Path:
    """N lines: posts with a gold label and a number column, and the BAD lines at their places."""
    lines = [BAD[i][0] if i in BAD else json.dumps(p).encode() for i, p in enumerate(_posts(n), start=1)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture(scope="module")
def src(tmp_path_factory) -> Path:
    return _write_input(tmp_path_factory.mktemp("in") / "gold.jsonl")


@pytest.fixture(scope="module")
def outputs(src, tmp_path_factory) -> dict[str, Path]:
    """The same input and options written as JSONL, CSV and Parquet."""
    folder = tmp_path_factory.mktemp("out")
    out = {}
    for name in ("o.jsonl", "o.csv", "o.parquet"):
        out[name] = folder / name
        summary = run_batch(src, out[name], workers=1, fields=FIELDS, keep_input_columns=True, profile="fast")
        assert summary.records == N and summary.errors == len(BAD)
    return out


def test_csv_output_has_one_row_per_input_record_with_flattened_fields(outputs, src):
    with open(outputs["o.csv"], encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == N and [int(r["line"]) for r in rows] == list(range(1, N + 1))
    for name in FIELDS:
        assert name in rows[0]  # one column per field, named by its dotted path
    for r in rows:
        n = int(r["line"])
        if n in BAD:
            assert (r["status"], r["error_code"]) == ("error", BAD[n][1])
            assert r["error_message"].startswith(f"gold.jsonl, line {n}") and r["verdict.label"] == ""
        else:
            assert r["status"] == "ok" and r["error_code"] == "" and r["verdict.label"] in VERDICT_LABELS
            assert r["verdict.label"] == r["verdict"] and float(r["verdict.score"]) == float(r["score"])
            reasons = json.loads(r["verdict.reasons"])  # a list field is JSON text
            assert isinstance(reasons, list) and all("code" in x for x in reasons)
            assert r["post.id"] == f"p{n - 1}"


def test_parquet_field_columns_are_typed(outputs):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(outputs["o.parquet"])
    schema = table.schema
    assert schema.field("verdict.label").type == pa.string()
    assert schema.field("verdict.score").type == pa.float64()
    assert schema.field("certainty.gap").type == pa.float64()
    assert schema.field("verdict.reasons").type == pa.string()  # a list: JSON text
    assert schema.field("input.round").type == pa.int64()  # an input number stays a number
    labels = [x for x in table.column("verdict.label").to_pylist() if x is not None]
    assert len(labels) == N - len(BAD) and set(labels) <= set(VERDICT_LABELS)  # plain text, not '"unrelated"'
    assert table.column("verdict.label").to_pylist() == table.column("verdict").to_pylist()
    assert table.column("verdict.score").to_pylist() == table.column("score").to_pylist()


def test_the_three_formats_hold_the_same_records(outputs):
    jsonl, csv_rows, parquet = (read_output(outputs[name]) for name in ("o.jsonl", "o.csv", "o.parquet"))
    assert len(jsonl) == N
    for a, b, c in zip(jsonl, csv_rows, parquet, strict=True):
        for key in ("source", "line", "id", "status", "verdict", "score", *FIELDS):
            assert a.get(key) == b.get(key) == c.get(key), key
        if a["status"] == "error":
            assert a["error"]["code"] == b["error"]["code"] == c["error"]["code"]
        # Kept input columns: JSONL and Parquet keep their types, a CSV cell is text; a table output
        # has a column for every key of any record (null where a record lacks it).
        def given(kept: dict) -> dict:
            return {k: v for k, v in kept.items() if v is not None}

        assert a["input"] == given(c["input"])
        assert {k: str(v) for k, v in a["input"].items()} == given(b["input"])


def test_kept_input_columns_carry_the_gold_label_error_records_included(outputs):
    posts = _posts(N)
    for name in ("o.jsonl", "o.csv", "o.parquet"):
        records = read_output(outputs[name])
        for r in records:
            n = r["line"]
            if n == 7:  # not JSON: nothing to carry
                assert not r.get("input", {}).get("gold")
                continue
            expected = "agree" if n in BAD else posts[n - 1]["gold"]
            assert r["input"]["gold"] == expected, (name, n)
            assert "headline" not in r["input"] and "body" not in r["input"]  # the post's own fields are in the report


def test_kept_input_columns_from_csv_and_parquet_inputs(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    posts = _posts(4)
    folder = tmp_path / "in"
    folder.mkdir()
    with open(folder / "a.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["title", "text", "gold", "round"])
        w.writeheader()
        w.writerows({"title": p["headline"], "text": p["body"], "gold": p["gold"], "round": p["round"]}
                    for p in posts[:2])
    pq.write_table(pa.Table.from_pylist([{"title": p["headline"], "text": p["body"], "gold": p["gold"],
                                          "round": p["round"]} for p in posts[2:]]), folder / "b.parquet")
    out = tmp_path / "o.parquet"
    run_batch(folder, out, workers=1, mapping={"headline": "title", "body": "text"}, fields=["verdict.label"],
              keep_input_columns=True, profile="fast")
    schema = pq.read_schema(next(out.glob("part-*.parquet")))
    assert {"input.gold", "input.round"} <= set(schema.names) and "input.title" not in schema.names
    assert schema.field("input.round").type == pa.string()  # text in the CSV, a number in Parquet: JSON text
    records = read_output(out)
    assert [r["input"]["gold"] for r in records] == [p["gold"] for p in posts]


def test_an_input_column_that_is_not_text_is_an_error_record_naming_it(tmp_path):
    src = tmp_path / "in.jsonl"
    good = _posts(2)
    src.write_bytes(b"".join(json.dumps(p).encode() + b"\n" for p in good)
                    + json.dumps({**good[0], "id": "bad", "note": "x"}).encode().replace(b'"x"', b'"\\ud800"') + b"\n")
    for name in ("o.jsonl", "o.csv", "o.parquet"):
        run_batch(src, tmp_path / name, workers=1, fields=["verdict.label"], keep_input_columns=True, profile="fast")
        records = read_output(tmp_path / name)
        assert [r["status"] for r in records] == ["ok", "ok", "error"], name
        assert records[2]["error"]["code"] == "bad_encoding" and "'note'" in records[2]["error"]["message"]


def test_a_field_named_like_an_envelope_column_is_refused(tmp_path, src):
    with pytest.raises(InputError, match="name of an output column"):
        run_batch(src, tmp_path / "o.csv", workers=1, fields=["verdict"])


@pytest.mark.parametrize(("path", "kind"), [("verdict.label", "string"), ("verdict.score", "float"),
                                            ("claim_strength.headline.strength", "int"),
                                            ("claim_strength.exaggerates", "bool"), ("verdict.reasons", "json"),
                                            ("verdict.probabilities", "json"), ("certainty.gap", "float")])
def test_field_kinds_follow_the_report_model(path, kind):
    assert field_kind(path) == kind


# ---------------------------------------------------------------- resume


@pytest.mark.parametrize("cut", [0.0, 0.3, 0.999, 1.0])
def test_csv_resume_cuts_a_half_written_last_row_and_totals_count_the_whole_output(tmp_path, src, outputs, cut):
    full = outputs["o.csv"].read_bytes()
    rows = full.split(b"\r\n")  # no field of this output spans lines
    k = 6  # rows kept whole (the header and 5 records)
    part = b"\r\n".join(rows[:k]) + b"\r\n"
    part += rows[k][: int(len(rows[k]) * cut)] if cut < 1.0 else rows[k] + b"\r"  # cut inside the row, or its end
    out = tmp_path / "o.csv"
    out.write_bytes(part)
    summary = run_batch(src, out, workers=1, fields=FIELDS, keep_input_columns=True, profile="fast", resume=True)
    assert (summary.skipped, summary.records) == (k - 1, N - (k - 1))
    assert sum(summary.previous.values()) == k - 1
    records = read_output(out)
    assert [r["line"] for r in records] == list(range(1, N + 1))
    whole = read_output(outputs["o.csv"])
    assert [(r["verdict"], r["score"]) for r in records] == [(r["verdict"], r["score"]) for r in whole]
    # The totals count the whole output: the records kept from before and the new ones.
    totals = summary.totals()
    assert totals["records"] == N and totals["errors"] == len(BAD)
    assert totals["verdicts"] == {label: sum(r["verdict"] == label for r in whole) for label in VERDICT_LABELS}
    assert summary.to_dict()["already_in_output"] == k - 1 and summary.to_dict()["new"] == N - (k - 1)


@pytest.mark.parametrize("name", ["o.csv", "o.parquet"])
def test_resume_with_other_columns_is_refused(tmp_path, src, outputs, name):
    import shutil

    out = tmp_path / name
    (shutil.copytree if name.endswith(".parquet") else shutil.copy)(outputs[name], out)
    with pytest.raises(InputError, match="other columns"):
        run_batch(src, out, workers=1, fields=["verdict.label"], resume=True)


def test_cli_summary_after_resume_counts_the_whole_output_and_the_new_records(monkeypatch, capsys, tmp_path, src):
    out = tmp_path / "o.jsonl"
    run_batch(src, out, workers=1, profile="fast")
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:9]))  # as if stopped after 9 records
    code, stdout, err = run_overclaim(monkeypatch, capsys, "batch", str(src), "--out", str(out), "--resume",
                                      "--workers", "1", "--profile", "fast", "--no-progress", "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    assert (summary["new"], summary["already_in_output"], summary["total"]["records"]) == (N - 9, 9, N)
    assert summary["total"]["error_codes"] == {"empty_field": 1, "malformed": 1}
    out.write_bytes(b"".join(lines[:9]))
    code, _, err = run_overclaim(monkeypatch, capsys, "batch", str(src), "--out", str(out), "--resume",
                                 "--workers", "1", "--profile", "fast", "--no-progress")
    assert code == 0
    flat = " ".join(err.split())  # the console wraps long lines
    assert "in output" in flat and "new (this run)" in flat and f"total │ {N} │ {N - 9} │" in flat
    assert f"{N - 9} record(s) checked" in flat and "(9 were already in the output)" in flat


# ---------------------------------------------------------------- Ctrl-C


def _wait_for_records(out: Path, n: int, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= n:
            return
        time.sleep(0.01)


@pytest.mark.parametrize("name", ["o.jsonl", "o.csv", "o.parquet"])
def test_an_interrupted_run_keeps_every_record_it_wrote_whole(tmp_path, src, name):
    from overclaim.batch import BatchInterrupted

    chunks = []

    def stop_after_two(summary) -> None:
        chunks.append(summary.records)
        if len(chunks) == 2:
            raise KeyboardInterrupt  # as Ctrl-C between chunks

    out = tmp_path / name
    with pytest.raises(BatchInterrupted) as caught:
        run_batch(src, out, workers=1, chunk_size=3, fields=FIELDS, profile="fast", on_progress=stop_after_two)
    summary = caught.value.summary
    assert summary.interrupted and summary.records == 6 == summary.totals()["records"]
    records = read_output(out)  # a Parquet output's buffered rows are written too
    assert [r["line"] for r in records] == list(range(1, 7))
    again = run_batch(src, out, workers=1, chunk_size=3, fields=FIELDS, profile="fast", resume=True)
    assert (again.skipped, again.records, again.totals()["records"]) == (6, N - 6, N)
    assert [r["line"] for r in read_output(out)] == list(range(1, N + 1))


@pytest.mark.parametrize(("name", "workers"), [
    ("o.csv", 1),  # two CLI runs: about 15 s on a loaded 2-core machine
    pytest.param("o.jsonl", 2, marks=pytest.mark.slow),  # a worker pool: about 35 s
])
def test_ctrl_c_says_what_was_written_and_how_to_resume(tmp_path, name, workers):
    n = 300
    src = _write_input(tmp_path / "many.jsonl", n)
    out = tmp_path / name
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    args = [str(src), "--out", str(out), "--workers", str(workers), "--chunk-size", "4", "--profile", "fast",
            "--no-progress", "--keep-input-columns", "--fields", "verdict.label,verdict.score"]
    proc = subprocess.Popen([sys.executable, "-m", "overclaim", "batch", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    _wait_for_records(out, 20, proc)
    os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the batch and its workers
    _, stderr_bytes = proc.communicate(timeout=120)
    stderr = stderr_bytes.decode()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert out.read_bytes().endswith(b"\n")  # no half-written record
    written = read_output(out)
    assert 0 < len(written) < n, "the run ended before Ctrl-C"
    assert [r["line"] for r in written] == list(range(1, len(written) + 1))  # whole records, in order
    assert f"interrupted: {len(written):,} record(s) in {out}" in stderr
    command = stderr.split("Resume with:")[1].strip()
    argv = shlex.split(command)
    assert argv[0] == "overclaim" and "--resume" in argv
    resumed = subprocess.run([sys.executable, "-m", "overclaim", *argv[1:], "--json"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["already_in_output"] == len(written) and summary["total"]["records"] == n
    records = read_output(out)
    assert [r["line"] for r in records] == list(range(1, n + 1))  # none lost, none twice
