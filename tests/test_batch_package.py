"""The batch package: each writer owns its encoding, the report is encoded once, input read through readers.py."""

from __future__ import annotations

import ast
import json
import sqlite3
from pathlib import Path

import pytest

import overclaim.batch
from overclaim.batch.job import Job
from overclaim.batch.writers import WRITERS, CsvWriter, JsonlWriter, OutputRecord, ParquetWriter
from tests.conftest import load_jsonl

BATCH = Path(overclaim.batch.__file__).resolve().parent
HEAD = {"source": "in.jsonl", "line": 1, "id": "p1", "status": "ok", "verdict": "supported", "score": 0.5}


def test_each_writer_takes_only_what_its_own_encode_makes(tmp_path):
    record = OutputRecord(dict(HEAD), report_json='{"a": 1}')
    writers = {
        "jsonl": JsonlWriter(tmp_path / "o.jsonl", resume=False),
        "csv": CsvWriter(tmp_path / "o.csv", resume=False, columns=["source", "line", "id", "status", "verdict",
                                                                     "score", "error_code", "error_message",
                                                                     "error_field", "report"]),
        "parquet": ParquetWriter(tmp_path / "o.parquet", resume=False,
                                 columns=[("source", "string"), ("line", "int"), ("id", "string"),
                                          ("status", "string"), ("verdict", "string"), ("score", "float"),
                                          ("error_code", "string"), ("error_message", "string"),
                                          ("error_field", "string"), ("report", "json")]),
    }
    for fmt, writer in writers.items():
        own = WRITERS[fmt].encode(record, Job(output_format=fmt))
        other = next(WRITERS[f].encode(record, Job(output_format=f)) for f in WRITERS
                     if type(WRITERS[f].encode(record, Job(output_format=f))) is not type(own))
        with pytest.raises(TypeError, match=fmt):
            writer.write([own, other])  # a record of another format is refused, never dropped
        writer.write([own])
        writer.close()
    assert json.loads((tmp_path / "o.jsonl").read_text(encoding="utf-8")) == {**HEAD, "report": {"a": 1}}
    assert overclaim.batch.read_output(tmp_path / "o.csv") == [{**HEAD, "report": {"a": 1}}]
    assert overclaim.batch.read_output(tmp_path / "o.parquet") == [{**HEAD, "report": {"a": 1}}]


def test_the_store_keeps_the_report_text_the_output_holds(tmp_path):
    posts = load_jsonl("verdict_posts.jsonl")[:3]
    src = tmp_path / "posts.jsonl"
    src.write_text("".join(json.dumps({"id": f"p{i}", "headline": p["headline"], "body": p["body"]}) + "\n"
                           for i, p in enumerate(posts)), encoding="utf-8")
    db = tmp_path / "reports.sqlite"
    summary = overclaim.batch.run_batch(src, tmp_path / "o.jsonl", workers=1, store=str(db), profile="fast")
    assert summary.stored == len(posts)
    with sqlite3.connect(db) as conn:
        stored = {json.loads(text)["post"]["id"]: text for (text,) in conn.execute("select report from reports")}
    for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines():
        record_id = json.loads(line)["id"]
        assert line.endswith(', "report": ' + stored[record_id] + "}")  # the same text, byte for byte


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}


def test_the_batch_parses_csv_only_in_its_writers_and_reads_input_through_readers():
    modules = sorted(BATCH.glob("*.py"))
    assert {p.stem for p in modules} >= {"__init__", "records", "writers", "run"}
    assert [p.name for p in modules if "csv" in _imports(p)] == ["writers.py"]
    assert "overclaim.readers" in _imports(BATCH / "records.py")


def test_no_batch_module_is_over_600_lines():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in BATCH.glob("*.py")}
    assert max(sizes.values()) <= 600, sizes
