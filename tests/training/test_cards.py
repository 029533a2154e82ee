import json
from pathlib import Path

from overclaim.resources import MODEL_FILE, load_model
from overclaim.training.cards import write_artifact


def test_the_trio_is_written_with_the_model_file_size_in_card_and_markdown(tmp_path: Path) -> None:
    card = {"model": "toy", "artifact_bytes": 0, "figures": {"f1": 0.5}}
    path = write_artifact({"weights": [1, 2, 3]}, card, tmp_path, lambda c: f"# toy\n{c['artifact_bytes']} bytes\n")
    assert path == tmp_path / MODEL_FILE
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MODEL_FILE, "card.json", "MODEL_CARD.md"])
    size = path.stat().st_size
    assert json.loads((tmp_path / "card.json").read_text(encoding="utf-8"))["artifact_bytes"] == size > 0
    assert (tmp_path / "MODEL_CARD.md").read_text(encoding="utf-8") == f"# toy\n{size} bytes\n"
    assert load_model(tmp_path) == {"weights": [1, 2, 3]}


def test_a_card_without_a_size_gets_none_added(tmp_path: Path) -> None:
    write_artifact([1], {"model": "toy", "note": "é"}, tmp_path, lambda c: "card\n")
    assert json.loads((tmp_path / "card.json").read_text(encoding="utf-8")) == {"model": "toy", "note": "é"}
    assert "é" in (tmp_path / "card.json").read_text(encoding="utf-8")  # UTF-8, not \\u escapes
