"""``overclaim eval|train hedging`` and ``headline-certainty`` on small files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.training.test_hedging import write_csv


@pytest.fixture
def weasel(tmp_path: Path) -> Path:
    rows = [["Some say it may be the best.", "1"], ["It opened in 1932.", "0"]] * 8
    return write_csv(tmp_path / "w.csv", ["text", "label"], rows)


@pytest.fixture
def emergent(tmp_path: Path) -> Path:
    rows = []
    for i in range(6):
        rows += [[f"Dog {i} rescued from well", "for", f"c{i}"], [f"Dog {i} reportedly rescued?", "observing", f"c{i}"],
                 [f"Police deny dog {i} rescue, a hoax", "against", f"c{i}"]]
    return write_csv(tmp_path / "e.csv", ["articleHeadline", "articleHeadlineStance", "claimId"], rows)


@pytest.mark.parametrize(
    ("command", "fixture", "keys"),
    [
        ("hedging", "weasel", {"precision", "recall", "f1"}),
        ("headline-certainty", "emergent", {"accuracy", "macro_f1", "f1"}),
    ],
)
@pytest.mark.parametrize("cv", ["--cv", "--no-cv"])
def test_eval_prints_json(run_cli, request, command: str, fixture: str, keys: set[str], cv: str) -> None:
    path = request.getfixturevalue(fixture)
    code, out, err = run_cli("eval", command, "--data", str(path), cv, "--folds", "3", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert keys <= result.keys()
    assert ("cross-validation" in result["evaluation"]) == (cv == "--cv")


@pytest.mark.parametrize("command", ["hedging", "headline-certainty"])
def test_eval_bad_file_exits_2_with_one_line(run_cli, tmp_path: Path, command: str) -> None:
    bad = write_csv(tmp_path / "bad.csv", ["text", "label"], [["x", "7"]] * 12)
    if command == "headline-certainty":
        header = ["articleHeadline", "articleHeadlineStance", "claimId"]
        bad = write_csv(tmp_path / "bad.csv", header, [["x", "?", "c"]])
    code, _, err = run_cli("eval", command, "--data", str(bad), "--json")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "bad.csv, line 2" in err


def test_train_writes_artifact_to_out(run_cli, weasel: Path, tmp_path: Path) -> None:
    code, out, err = run_cli("train", "hedging", "--data", str(weasel), "--out", str(tmp_path / "a"), "--json")
    assert code == 0, err
    assert json.loads(out)["model"] == "hedging"
    assert (tmp_path / "a" / "card.json").exists()
