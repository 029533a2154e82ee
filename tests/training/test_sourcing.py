"""Sourcing evaluation on PolNeAR-format files: loading, span matching, scores, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from overclaim.cli import app
from overclaim.errors import DataError
from overclaim.training import sourcing

TEXT = "Officials said the bridge would reopen in May. The weather was fine."


def article(text: str = TEXT, attributions: list | None = None, **extra) -> dict:
    if attributions is None:
        attributions = [{"id": "E1", "source": {"spans": [[0, 9]], "text": "Officials"},
                         "cue": {"spans": [[10, 14]], "text": "said"},
                         "content": {"spans": [[15, 45]], "text": text[15:45]}}]
    return {"id": "a1", "filename": "a1", "text": text, "attributions": attributions, **extra}


def write(path: Path, records: list) -> Path:
    path.write_text("\n".join(json.dumps(r) if not isinstance(r, str) else r for r in records) + "\n",
                    encoding="utf-8")
    return path


def test_load_keeps_first_annotation_per_article(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", [article(), article(attributions=[])])
    assert len(sourcing.load_data(path)) == 1
    assert len(sourcing.load_data(path, all_annotations=True)) == 2


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ("{not json", None),
        ({"id": "x", "attributions": []}, "text"),
        (article(attributions=[{"source": {"spans": [[0, 999]]}, "cue": None, "content": None}]),
         "attributions[0].source"),
        (article(attributions=[{"source": "Officials", "cue": None, "content": None}]), "attributions[0].source"),
    ],
)
def test_bad_lines_name_line_and_field(tmp_path: Path, record, field) -> None:
    path = write(tmp_path / "bad.jsonl", [article(), record])
    with pytest.raises(DataError) as err:
        sourcing.load_data(path, all_annotations=True)
    assert err.value.line == 2
    assert err.value.field == field


def test_overlap_matching_is_one_to_one_and_exact_trims_punctuation() -> None:
    text = "“Officials,” said the mayor."
    gold = [((1, 10),)]
    # two predictions overlapping one gold span: one match, one false positive
    counts = sourcing.match_counts([((0, 5),), ((5, 11),)], gold, text)
    assert (counts["pred"], counts["gold"], counts["match"]) == (2, 1, 1)
    # exact ignores the quote and comma around the span
    assert sourcing.match_counts([((0, 11),)], gold, text)["exact"] == 1
    assert sourcing.match_counts([((1, 6),)], gold, text)["exact"] == 0


def test_evaluate_scores_the_stage_on_any_file(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", [article()])
    result = sourcing.evaluate(path)
    for key in ("source_f1", "cue_f1", "source_exact_f1", "cue_exact_f1", "content_f1", "attributions_per_second"):
        assert key in result
    assert result["attributions"] == 1
    # "Officials said ..." is the plainest attribution there is: found, exactly
    assert result["source_exact_f1"] == 1.0
    assert result["cue_exact_f1"] == 1.0


def test_cli_eval_sourcing_json_and_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    good = write(tmp_path / "p.jsonl", [article()])
    out = runner.invoke(app, ["eval", "sourcing", "--data", str(good), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["source_f1"] == 1.0
    bad = write(tmp_path / "bad.jsonl", ["{oops"])
    import sys

    from overclaim.cli import main  # the console script maps OverclaimError to exit 2
    argv = sys.argv
    sys.argv = ["overclaim", "eval", "sourcing", "--data", str(bad)]
    try:
        with pytest.raises(SystemExit) as exit_:
            main()
    finally:
        sys.argv = argv
    assert exit_.value.code == 2


def test_train_small_file_writes_artifact(tmp_path: Path) -> None:
    records = []
    for i in range(6):
        text = f"Officials said the bridge {i} would reopen. Mayor Ann Lee said it was safe."

        def role(part: str, after: int = 0, text: str = text) -> dict:
            start = text.index(part, after)
            return {"spans": [[start, start + len(part)]]}

        second = text.index("Mayor")
        records.append(article(text=text, attributions=[
            {"source": role("Officials"), "cue": role("said"), "content": role(f"the bridge {i} would reopen")},
            {"source": role("Mayor Ann Lee"), "cue": role("said", second), "content": role("it was safe")},
        ], filename=f"a{i}"))
    path = write(tmp_path / "train.jsonl", records)
    card = sourcing.train(path, dev=path, out_dir=tmp_path / "art", iterations=20)
    assert (tmp_path / "art" / "model.pkl.zlib").is_file()
    assert (tmp_path / "art" / "MODEL_CARD.md").is_file()
    assert json.loads((tmp_path / "art" / "card.json").read_text())["seed"] == sourcing.SEED
    assert card["figures"]["cue_f1"] > 0.5
