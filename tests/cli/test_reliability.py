"""Issue 19 at the command line: hostile inputs and unwritable outputs are one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEED_POST

POST = "Plan fails\nOfficials said the plan was discussed at length. The minister said nothing was decided.\n"


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def read_only_place(tmp_path: Path) -> Path:
    """A file path this process cannot create: in a folder without write permission, or (as root,
    whom permissions do not stop) in /sys."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    for candidate in (folder / "out.json", Path("/sys/overclaim-out.json")):
        try:
            candidate.open("w").close()
        except OSError:
            return candidate
        candidate.unlink()
    pytest.skip("no read-only place to write to")


@pytest.fixture
def post_file(tmp_path) -> Path:
    path = tmp_path / "post.txt"
    path.write_text(POST, encoding="utf-8")
    return path


def _targets(tmp_path: Path) -> dict[str, Path]:
    return {
        "full disk": Path("/dev/full"),
        "read-only place": read_only_place(tmp_path),
        "missing folder": tmp_path / "no" / "such" / "out.json",
        "a folder": tmp_path,
    }


@pytest.mark.parametrize("kind", ["full disk", "read-only place", "missing folder", "a folder"])
def test_check_out_that_cannot_be_written_is_one_line_exit_2(run_cli, tmp_path, post_file, kind):
    target = _targets(tmp_path)[kind]
    code, _, err = run_cli("check", str(post_file), "-f", "json", "--out", str(target))
    assert code == 2
    assert str(target) in one_line(err)


@pytest.mark.parametrize("kind", ["full disk", "read-only place", "a folder"])
def test_batch_out_that_cannot_be_written_is_one_line_exit_2(run_cli, tmp_path, kind):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"headline": "Plan fails", "body": "Officials said so."}) + "\n", encoding="utf-8")
    target = _targets(tmp_path)[kind]
    if kind == "read-only place":
        target = target.with_suffix(".jsonl")
    code, _, err = run_cli("batch", str(src), "--out", str(target), "--workers", "1", "--no-progress", "--overwrite")
    assert code == 2
    assert str(target) in one_line(err)


@pytest.mark.parametrize("kind", ["full disk", "missing folder", "a folder"])
def test_factchecks_export_out_that_cannot_be_written_is_one_line_exit_2(run_cli, tmp_path, kind):
    db = tmp_path / "fc.sqlite"
    claims = tmp_path / "fc.jsonl"
    claims.write_text(json.dumps({"claim_id": "c1", "claim": "The plan failed."}) + "\n", encoding="utf-8")
    assert run_cli("factchecks", "import", str(claims), "--factchecks", str(db))[0] == 0
    target = _targets(tmp_path)[kind]
    code, _, err = run_cli("factchecks", "export", "--factchecks", str(db), "--out", str(target))
    assert code == 2
    assert str(target) in one_line(err)


@pytest.mark.parametrize("fmt", ["json", "terminal"])
def test_check_to_a_full_stdout_is_one_line_exit_2(post_file, fmt):
    import overclaim

    env = {**os.environ, "PYTHONPATH": str(Path(overclaim.__file__).resolve().parents[1])}  # the code under test
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "overclaim", "check", str(post_file), "-f", fmt],
                              stdout=full, stderr=subprocess.PIPE, text=True, env=env, timeout=300)
    assert proc.returncode == 2
    assert "No space left" in one_line(proc.stderr)


@pytest.mark.parametrize(
    "name, data, needle",
    [
        ("deep.json", b"[" * 100_000, "nested too deeply"),
        ("num.json", b'{"headline": "a", "body": "b", "n": ' + b"9" * 5000 + b"}", "digits"),
        ("surrogate.json", b'{"headline": "Plan \\udfff fails", "body": "Officials said so."}', "surrogate"),
        ("utf16.txt", POST.encode("utf-16"), "UTF-16"),
        ("nul.txt", POST.encode() * 400 + b"\x00", "binary"),
        ("extra.csv", b"headline,body\nPlan fails,Officials said so.,extra\n", "row has 3 fields"),
        ("dup.csv", b"headline,body,body\nPlan fails,Officials said so.,x\n", "twice"),
    ],
)
def test_hostile_inputs_are_one_line_exit_2(run_cli, tmp_path, name, data, needle):
    path = tmp_path / name
    path.write_bytes(data)
    code, _, err = run_cli("check", str(path), "-f", "json")
    assert code == 2
    assert needle in one_line(err)


def test_a_csv_body_over_128_kb_is_checked(run_cli, tmp_path):
    body = "Officials said the plan was discussed at length. " * 3000
    path = tmp_path / "big.csv"
    path.write_text(f'headline,body\nPlan fails,"{body}"\n', encoding="utf-8")
    code, out, err = run_cli("check", str(path), "-f", "json")
    assert code == 0, err
    assert json.loads(out)["post"]["body"] == body


@pytest.mark.parametrize("command", ["check", "batch"])
def test_an_unknown_map_field_is_an_error(run_cli, tmp_path, command):
    path = tmp_path / "p.csv"
    path.write_text("headline,body\nPlan fails,Officials said so.\n", encoding="utf-8")
    extra = ["--out", str(tmp_path / "o.jsonl"), "--workers", "1", "--no-progress"] if command == "batch" else []
    code, _, err = run_cli(command, str(path), "--map", "foo=bar", *extra)
    assert code == 2
    assert "unknown field 'foo'" in one_line(err)


def test_the_sentencex_trigger_post_is_checked(run_cli, tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("Plan B fails\nThe government said it would adopt Plan B\u00a0. Officials said it failed.\n",
                    encoding="utf-8")
    code, out, err = run_cli("check", str(path), "-f", "json")
    assert code == 0, err
    assert json.loads(out)["verdict"]["label"]


def test_a_library_panic_in_check_is_one_line_exit_2(run_cli, tmp_path, monkeypatch):
    import overclaim.stages.segment as segment
    from tests.test_reliability_inputs import _real_panic_type

    panic = _real_panic_type()

    def crash(language: str, text: str):
        raise panic("byte index 42 is not a char boundary")

    monkeypatch.setattr(segment.sentencex, "segment", crash)
    code, _, err = run_cli("check", str(SEED_POST), "-f", "json")
    assert code == 2
    assert "library crashed" in one_line(err)


@pytest.mark.parametrize("name", ["out.tsv", "out.json", "out.xlsx"])
def test_batch_refuses_an_output_name_of_a_format_it_does_not_write(run_cli, tmp_path, name):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"headline": "Plan fails", "body": "Officials said so."}) + "\n", encoding="utf-8")
    target = tmp_path / name
    code, _, err = run_cli("batch", str(src), "--out", str(target), "--workers", "1", "--no-progress")
    assert code == 2
    line = one_line(err)
    assert str(target) in line and "--out" in line and ".jsonl" in line and ".csv" in line
    assert not target.exists()  # nothing was written under the wrong name
