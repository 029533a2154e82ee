"""Claim-strength training and evaluation: the CV figures on the card, the eval CLI, bad files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from overclaim.errors import DataError
from overclaim.models.claim_strength import LABELS
from overclaim.resources import model_card
from overclaim.training.claim_strength import load_data, scores
from tests.conftest import run_overclaim

ROWS = [
    ("Coffee intake was associated with lower mortality.", 1),
    ("Smoking was correlated with lung function decline.", 1),
    ("Obesity is linked to diabetes in adults.", 1),
    ("Exercise may reduce the risk of depression.", 2),
    ("Statins could improve outcomes after stroke.", 2),
    ("Aspirin might prevent colorectal cancer.", 2),
    ("The drug reduced blood pressure in patients.", 3),
    ("Smoking causes lung cancer.", 3),
    ("The intervention improved quality of life.", 3),
    ("Patients were recruited from three clinics.", 0),
    ("There was no significant difference between groups.", 0),
    ("The survey was conducted in 2019.", 0),
]


def _csv(path: Path, rows: list[tuple[str, object]], header: tuple[str, str] = ("sentence", "label")) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run_overclaim(monkeypatch, capsys, *args)


def test_card_holds_the_5_fold_cv_figures() -> None:
    card = model_card("claim_strength")
    fig = card["figures"]
    assert "5-fold" in card["evaluation"] and fig["folds"] == 5
    assert len(fig["fold_macro_f1"]) == 5
    assert 0.0 < fig["macro_f1"] <= 1.0
    assert abs(fig["mean_fold_macro_f1"] - sum(fig["fold_macro_f1"]) / 5) < 1e-3
    assert set(fig["f1"]) == set(LABELS)
    matrix = fig["confusion"]["matrix"]
    assert sum(map(sum, matrix)) == card["data"]["sentences"]
    # Row sums are the class counts of the training data.
    assert [sum(r) for r in matrix] == [card["data"]["counts"][label] for label in LABELS]
    assert card["seed"] == 13
    assert card["insciout"] is None or 0.0 <= card["insciout"]["exaggerates_f1"] <= 1.0


def test_eval_cli_json_on_any_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = _csv(tmp_path / "mine.csv", ROWS)
    code, out, _ = run_cli(monkeypatch, capsys, "eval", "claim-strength", "--data", str(data), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["sentences"] == len(ROWS)
    assert result["evaluation"] == "shipped model scored on the file"
    assert set(result["f1"]) == set(LABELS)
    assert sum(map(sum, result["confusion"]["matrix"])) == len(ROWS)
    assert 0.0 <= result["accuracy"] <= 1.0 and 0.0 <= result["macro_f1"] <= 1.0


def test_eval_cli_plain_prints_confusion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    data = _csv(tmp_path / "mine.csv", ROWS, header=("text", "label"))
    code, out, _ = run_cli(monkeypatch, capsys, "eval", "claim-strength", "--data", str(data))
    assert code == 0
    assert "macro_f1:" in out and "confusion (rows gold, columns predicted):" in out


@pytest.mark.parametrize(
    ("rows", "header", "message"),
    [
        (ROWS, ("sentence", "gold"), "missing column(s) label"),
        ([*ROWS, ("Bad label here.", 7)], ("sentence", "label"), "line 14, field 'label'"),
        ([*ROWS, ("", 1)], ("sentence", "label"), "line 14, field 'sentence'"),
        (ROWS[:3], ("sentence", "label"), "at least 10 rows"),
    ],
)
def test_eval_cli_bad_file_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                   rows: list[tuple[str, object]], header: tuple[str, str], message: str) -> None:
    data = _csv(tmp_path / "bad.csv", rows, header)
    code, _, err = run_cli(monkeypatch, capsys, "eval", "claim-strength", "--data", str(data), "--json")
    assert code == 2
    assert message in err and str(data) in err
    assert len(err.strip().splitlines()) == 1


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_data(tmp_path / "nope.csv")


def test_scores_are_computed_from_the_labels() -> None:
    out = scores([0, 1, 2, 3, 3], [0, 1, 2, 3, 1])
    assert out["accuracy"] == 0.8
    assert out["f1"]["direct_causal"] == round(2 / 3, 4)
    assert out["confusion"]["matrix"][3] == [0, 1, 0, 1]
