"""Batch runs never destroy their input, read their own output, lose stored reports or stop on one bad file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from overclaim.batch import read_output, run_batch
from overclaim.errors import InputError, StoreError
from tests.conftest import load_jsonl, run_overclaim


def _posts(n: int) -> list[dict]:
    base = load_jsonl("verdict_posts.jsonl")
    return [{"id": f"p{i}", "headline": base[i % len(base)]["headline"], "body": base[i % len(base)]["body"]}
            for i in range(n)]


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """``overclaim batch ARGS`` in this process: exit code, stdout, stderr."""
    return run_overclaim(monkeypatch, capsys, "batch", *args, "--no-progress")


def _no_more_than(n: int):
    """An on_progress guard: a run that reads its own output would check more records than the input has."""

    def check(summary) -> None:
        assert summary.records <= n, f"checked {summary.records} records from an input of {n}"

    return check


# ---------------------------------------------------------------- 13: output is the input


def _same_name(src: Path) -> Path:
    return src


def _symlink(src: Path) -> Path:
    link = src.parent / "link.jsonl"
    link.symlink_to(src)
    return link


def _hard_link(src: Path) -> Path:
    link = src.parent / "hard.jsonl"
    os.link(src, link)
    return link


def _dotted(src: Path) -> Path:
    return src.parent / "." / ".." / src.parent.name / src.name


@pytest.mark.parametrize("make_out", [_same_name, _symlink, _hard_link, _dotted])
@pytest.mark.parametrize("flag", ["--overwrite", "--resume"])
def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path, monkeypatch, capsys, make_out, flag):
    src = _write_jsonl(tmp_path / "in" / "same.jsonl", _posts(3))
    before = src.read_bytes()
    out = make_out(src)
    with pytest.raises(InputError, match="choose another --out"):
        run_batch(src, out, workers=1, overwrite=flag == "--overwrite", resume=flag == "--resume")
    code, stdout, stderr = _cli(monkeypatch, capsys, str(src), "--out", str(out), flag)
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("overclaim: error: ") and "same.jsonl" in stderr
    assert src.read_bytes() == before


def test_a_link_in_the_input_folder_to_another_input_is_refused(tmp_path):
    folder = tmp_path / "crawl"
    src = _write_jsonl(folder / "a.jsonl", _posts(2))
    before = src.read_bytes()
    (folder / "z_out.jsonl").symlink_to(src)
    with pytest.raises(InputError, match="a.jsonl"):
        run_batch(folder, folder / "z_out.jsonl", workers=1, overwrite=True)
    assert src.read_bytes() == before


@pytest.mark.parametrize("where", ["same", "inside"])
def test_a_parquet_output_folder_holding_the_input_is_refused(tmp_path, where):
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "reports.parquet"
    out.mkdir()
    src = out / "part-00000.parquet"
    pq.write_table(pa.Table.from_pylist(_posts(2)), src)
    before = src.read_bytes()
    with pytest.raises(InputError, match="inside the output folder"):
        run_batch(out if where == "same" else src, out, workers=1, overwrite=True)
    assert src.read_bytes() == before


# ---------------------------------------------------------------- 14: output inside the input folder


@pytest.mark.parametrize("flag", ["resume", "overwrite"])
@pytest.mark.parametrize("out_name", ["z_out.jsonl", "sub/z_out.jsonl", "out.parquet"])
def test_an_output_inside_the_input_folder_is_not_read_as_input(tmp_path, flag, out_name):
    folder = tmp_path / "crawl"
    posts = _posts(3)
    _write_jsonl(folder / "a.jsonl", posts)
    out = folder / out_name
    first = run_batch(folder, out, workers=1, on_progress=_no_more_than(3))
    assert first.records == 3 and first.errors == 0
    (folder / "sub").mkdir(exist_ok=True)
    (folder / "sub" / ".z_out.jsonl.tmp").write_text("{}\n", encoding="utf-8")  # a temporary file beside it
    # A chunk a record: the output gets lines before the reader reaches it in name order.
    again = run_batch(folder, out, workers=1, chunk_size=1, on_progress=_no_more_than(3), **{flag: True})
    records = read_output(out)
    assert [r["id"] for r in records] == [p["id"] for p in posts]
    assert {r["source"] for r in records} == {"a.jsonl"} and again.errors == 0
    assert (again.skipped, again.records) == ((3, 0) if flag == "resume" else (0, 3))


def test_a_folder_holding_only_the_output_has_no_input(tmp_path):
    folder = tmp_path / "crawl"
    out = _write_jsonl(folder / "out.jsonl", [{"source": "a.jsonl", "line": 1}])
    with pytest.raises(InputError, match="besides the output"):
        run_batch(folder, out, workers=1, resume=True)


# ---------------------------------------------------------------- 15: a store that fails


@pytest.mark.parametrize("out_name", ["o.jsonl", "o.parquet"])
def test_a_store_that_fails_once_loses_no_report_on_resume(tmp_path, monkeypatch, out_name):
    import overclaim.batch.writers as batch
    from overclaim.store.reports import ReportStore

    monkeypatch.setattr(batch, "PARQUET_PART_ROWS", 2)  # a part file per chunk
    real = ReportStore.add_many
    calls = {"n": 0}

    def fails_on_the_second_call(self, reports, texts=None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise StoreError("cannot store reports: OperationalError", source=self.target)
        return real(self, reports, texts)

    monkeypatch.setattr(ReportStore, "add_many", fails_on_the_second_call)
    posts = _posts(6)
    src = _write_jsonl(tmp_path / "posts.jsonl", posts)
    db, out = str(tmp_path / "reports.sqlite"), tmp_path / out_name
    with pytest.raises(StoreError):
        run_batch(src, out, workers=1, chunk_size=2, store=db)
    # What the output holds is stored, and nothing else: the failed chunk is still to do.
    written = read_output(out)
    assert len(ReportStore(db)) == len(written) < len(posts)

    summary = run_batch(src, out, workers=1, chunk_size=2, store=db, resume=True)
    records = read_output(out)
    assert sorted(r["line"] for r in records) == list(range(1, len(posts) + 1))
    assert summary.skipped == len(written) and summary.stored == len(posts) - len(written)
    assert len(ReportStore(db)) == len(posts)


# ---------------------------------------------------------------- 16: a broken Parquet file


def _damaged_parquet(path: Path, rows: list[dict], group_rows: int) -> None:
    """A Parquet file whose footer reads but whose second row group's 'body' pages are garbage."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=group_rows, compression="zstd")
    column = pq.ParquetFile(path).metadata.row_group(1).column(2)
    assert column.path_in_schema == "body"
    start = column.dictionary_page_offset or column.data_page_offset
    data = bytearray(path.read_bytes())
    data[start + 20:start + column.total_compressed_size - 5] = b"\xab" * (column.total_compressed_size - 25)
    path.write_bytes(bytes(data))
    with pytest.raises(OSError):
        pq.ParquetFile(path).read_row_group(1)


def test_broken_parquet_files_give_error_records_and_resume_skips_them(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "crawl"
    posts = _posts(7)
    _write_jsonl(folder / "a.jsonl", posts[:2])
    (folder / "b.parquet").write_bytes(b"PAR1 this is not a Parquet file at all")
    rows = [{"id": f"r{i}", "headline": f"Council number {i} approves a budget",
             "body": f"The council number {i} said on Monday it approved the budget after a long debate."}
            for i in range(8)]
    _damaged_parquet(folder / "c.parquet", rows, group_rows=4)
    _write_jsonl(folder / "d.jsonl", posts[2:3])
    out = tmp_path / "o.jsonl"

    code, stdout, stderr = _cli(monkeypatch, capsys, str(folder), "--out", str(out), "--json")
    assert code == 0, stderr
    records = read_output(out)
    assert [(r["source"], r["line"]) for r in records] == (
        [("a.jsonl", 1), ("a.jsonl", 2), ("b.parquet", 1)] + [("c.parquet", n) for n in range(1, 9)]
        + [("d.jsonl", 1)])
    errors = [r for r in records if r["status"] == "error"]
    assert [(r["source"], r["line"]) for r in errors] == [("b.parquet", 1)] + [("c.parquet", n) for n in range(5, 9)]
    assert {r["error"]["code"] for r in errors} == {"malformed"}
    assert errors[0]["error"]["message"].startswith("b.parquet, line 1: cannot read Parquet file")
    assert "row group 1 (rows 5-8)" in errors[1]["error"]["message"]
    assert [r["id"] for r in records if r["source"] == "c.parquet" and r["status"] == "ok"] == ["r0", "r1", "r2", "r3"]
    assert json.loads(stdout)["errors"] == 5

    code, stdout, stderr = _cli(monkeypatch, capsys, str(folder), "--out", str(out), "--resume", "--json")
    assert code == 0, stderr
    summary = json.loads(stdout)
    assert (summary["skipped"], summary["records"]) == (len(records), 0)
    assert read_output(out) == records
