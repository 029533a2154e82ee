"""Clickbait model: data reading, errors, training on a small set, CLI, shipped artifact."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest

from overclaim.errors import DataError
from overclaim.resources import load_artifact, model_card
from overclaim.training.clickbait import evaluate, load_data, train

BAIT = [
    "You Won't Believe What This {} Did Next",
    "{} Things Only Cat Owners Will Understand",
    "This Is Why You Should Never Trust A {}",
    "Which {} Are You Based On Your Star Sign",
]
NEWS = [
    "Government announces new {} policy after review",
    "Court rejects appeal in {} case",
    "Parliament debates {} budget amid protests",
    "Central bank holds rates as {} slows",
]
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "clickbait"
FILLERS = ["dog", "teacher", "banker", "pilot", "farmer", "doctor"]


def _write(folder: Path, name: str, lines: list[str], *, compress: bool = True) -> None:
    data = ("\n\n".join(lines) + "\n").encode("utf-8")
    if compress:
        (folder / f"{name}.gz").write_bytes(gzip.compress(data))
    else:
        (folder / name).write_bytes(data)


@pytest.fixture()
def small_data(tmp_path: Path) -> Path:
    _write(tmp_path, "clickbait_data", [t.format(f) for t in BAIT for f in FILLERS])
    _write(tmp_path, "non_clickbait_data", [t.format(f) for t in NEWS for f in FILLERS], compress=False)
    return tmp_path


def test_load_data_reads_gzipped_and_plain_and_skips_blank_lines(small_data: Path) -> None:
    headlines, labels = load_data(small_data)
    assert len(headlines) == len(labels) == 48
    assert int(labels.sum()) == 24
    assert all(h.strip() for h in headlines)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing_folder", "is not a folder"),
        ("missing_file", "missing non_clickbait_data.gz"),
        ("bad_gzip", "not a readable gzip file"),
        ("bad_utf8", "line 2: not valid UTF-8"),
        ("too_few", "at least 10 are needed"),
    ],
)
def test_load_data_errors_name_the_file(tmp_path: Path, setup: str, message: str) -> None:
    good = [f"Headline number {i}" for i in range(12)]
    folder = tmp_path / "data"
    if setup != "missing_folder":
        folder.mkdir()
        _write(folder, "clickbait_data", good)
    if setup == "bad_gzip":
        (folder / "non_clickbait_data.gz").write_bytes(b"not gzip at all")
    elif setup == "bad_utf8":
        (folder / "non_clickbait_data.gz").write_bytes(gzip.compress(b"fine\n\xff\xfe broken\n"))
    elif setup == "too_few":
        _write(folder, "non_clickbait_data", good[:3])
    with pytest.raises(DataError) as info:
        load_data(folder)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_train_writes_artifact_and_card(small_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "artifact"
    card = train(small_data, out_dir=out, folds=3)
    assert {p.name for p in out.iterdir()} == {"model.pkl.zlib", "card.json", "MODEL_CARD.md"}
    written = json.loads((out / "card.json").read_text(encoding="utf-8"))
    assert written == card
    assert written["seed"] == 13 and written["data"]["headlines"] == 48
    for key in ("accuracy", "f1", "roc_auc", "headlines_per_second"):
        assert key in written["figures"]
    assert written["figures"]["accuracy"] > 0.9
    assert "accuracy" in (out / "MODEL_CARD.md").read_text(encoding="utf-8")


def test_eval_cli_prints_json(small_data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from overclaim.cli import main

    monkeypatch.setattr(
        sys, "argv", ["overclaim", "eval", "clickbait", "--data", str(small_data), "--folds", "3", "--json"]
    )
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code in (0, None)
    figures = json.loads(capsys.readouterr().out)
    assert figures["folds"] == 3 and figures["headlines"] == 48
    assert 0.0 <= figures["f1"] <= 1.0 and figures["headlines_per_second"] > 0


def test_eval_cli_bad_data_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from overclaim.cli import main

    monkeypatch.setattr(sys, "argv", ["overclaim", "eval", "clickbait", "--data", str(tmp_path / "nope")])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "nope" in err and len(err.splitlines()) == 1


def test_shipped_artifact_and_card() -> None:
    model = load_artifact("clickbait")
    assert model.predict_proba(["Which Pizza Topping Are You"]).shape == (1, 2)
    card = model_card("clickbait")
    assert card["seed"] == 13 and card["data"]["headlines"] == 32000
    assert card["figures"]["accuracy"] >= 0.98 and card["figures"]["f1"] >= 0.98


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/clickbait")
def test_cross_validated_accuracy_on_the_shared_data() -> None:
    figures = evaluate(SHARED, folds=3)
    assert figures["accuracy"] >= 0.98 and figures["f1"] >= 0.98
