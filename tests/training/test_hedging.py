"""Hedging and headline-certainty training code: data checks, small fits, eval on files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from overclaim.errors import DataError
from overclaim.training import headline_certainty, hedging

HEDGED = ["Some critics believe the film may be the best of its era.", "It is widely thought to be haunted.",
          "Many experts suggest the plan could fail.", "It is possibly the oldest building in town."]
PLAIN = ["The bridge opened in 1932.", "The album has twelve tracks.", "She was born in Leeds.",
         "The river flows north into the lake."]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def weasel_file(tmp_path: Path) -> Path:
    rows = [[t, "1"] for t in HEDGED] * 3 + [[t, "0"] for t in PLAIN] * 3
    return write_csv(tmp_path / "weasel.csv", ["text", "label"], rows)


@pytest.fixture
def emergent_file(tmp_path: Path) -> Path:
    rows = []
    for i in range(10):
        rows += [
            [str(i), f"claim {i}", f"Man {i} found alive in cave", "for", "a", f"c{i}"],
            [str(i), f"claim {i}", f"Man {i} reportedly found alive?", "observing", "b", f"c{i}"],
            [str(i), f"claim {i}", f"Police deny man {i} found, call it a hoax", "against", "c", f"c{i}"],
        ]
    header = ["id", "claimHeadline", "articleHeadline", "articleHeadlineStance", "articleId", "claimId"]
    return write_csv(tmp_path / "emergent.csv", header, rows)


def test_hedging_cv_on_any_file(weasel_file: Path) -> None:
    result = hedging.evaluate(weasel_file, cv=True, folds=3)
    assert {"precision", "recall", "f1"} <= result.keys()
    assert result["sentences"] == 24
    assert result["f1"] > 0.5


def test_hedging_shipped_model_on_file(weasel_file: Path) -> None:
    result = hedging.evaluate(weasel_file, cv=False)
    assert result["evaluation"] == "shipped model scored on the file"
    assert 0 <= result["f1"] <= 1


def test_headline_certainty_grouped_cv(emergent_file: Path) -> None:
    result = headline_certainty.evaluate(emergent_file, cv=True, folds=5)
    assert result["claims"] == 10
    assert result["accuracy"] > 0.6
    assert set(result["f1"]) == {"for", "observing", "against"}


def test_train_writes_artifact(weasel_file: Path, tmp_path: Path) -> None:
    from overclaim.resources import model_card

    card = hedging.train(weasel_file, out_dir=tmp_path / "art", folds=3)
    assert (tmp_path / "art" / "model.pkl.zlib").exists()
    assert (tmp_path / "art" / "MODEL_CARD.md").read_text().startswith("# Model card: hedging")
    assert card["seed"] == hedging.SEED
    assert model_card("hedging")["model"] == "hedging"  # the shipped card is untouched


@pytest.mark.parametrize(
    ("module", "header", "row", "message"),
    [
        (hedging, ["text", "label"], ["A sentence.", "2"], "line 2, field 'label'"),
        (hedging, ["text"], ["A sentence."], "missing column"),
        (headline_certainty, ["articleHeadline", "articleHeadlineStance", "claimId"], ["H", "maybe", "c"],
         "line 2, field 'articleHeadlineStance'"),
    ],
)
def test_bad_data_names_line_and_field(tmp_path: Path, module, header, row, message: str) -> None:
    path = write_csv(tmp_path / "bad.csv", header, [row] * 12)
    with pytest.raises(DataError, match=message):
        module.load_data(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        hedging.load_data(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    "sentence",
    [
        "Critics said the well-known author was, some believe, the best-known writer of his era.",
        "Rumours and RUMORS spread; it was widely recognised and recognized as significant.",
        "The report_said that 3 people_said nothing.",
        "Many experts think it may possibly be the greatest, most influential album.",
        "The bridge opened in 1932 and carries 40,000 vehicles a day.",
        "Café owners considered the Ｓaid rule; ſome say otherwise.",
        "2said said_x _said SAID Said-so well--known Well-Known RECOGNIZES recogniser rumoUrs",
        "BEST-KNOWN, best_known, bestknown; Considering reconsidered thinks-tank; people's experts' view",
        "May-be maybe MIGHTY mighty might; a-few few-er fewer; critic-critics CRITICISM",
        "",
    ],
)
def test_cue_row_equals_plain_regex_counts(sentence):
    from overclaim.training.hedging import CUE_GROUPS, cue_row

    counts = [min(len(rx.findall(sentence)), 3) / 3 for rx in CUE_GROUPS.values()]
    assert cue_row(sentence) == [*counts, 1.0 if any(counts) else 0.0]
