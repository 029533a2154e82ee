"""Model files: written once one way, read back the same, older joblib builds still read."""

from __future__ import annotations

import pickle
import zlib
from pathlib import Path

import joblib
import numpy as np
import pytest

from overclaim.errors import ModelError
from overclaim.resources import (
    ARTIFACT_DIR,
    LEGACY_MODEL_FILE,
    MODEL_FILE,
    load_artifact,
    load_model,
    save_model,
)


def _model() -> dict[str, object]:
    return {"weights": np.arange(12, dtype=np.float32).reshape(3, 4), "names": ["a", "b"], "bias": 0.25}


def _same(a: dict[str, object], b: dict[str, object]) -> None:
    assert a.keys() == b.keys()
    np.testing.assert_array_equal(a["weights"], b["weights"])  # type: ignore[arg-type]
    assert b["weights"].dtype == np.float32  # type: ignore[union-attr]
    assert a["names"] == b["names"] and a["bias"] == b["bias"]


def test_a_saved_model_reads_back_equal_from_a_zlib_pickle(tmp_path: Path) -> None:
    model = _model()
    path = save_model(model, tmp_path / "m")
    assert path.name == MODEL_FILE
    _same(model, pickle.loads(zlib.decompress(path.read_bytes())))
    _same(model, load_model(tmp_path / "m"))
    assert [p.name for p in (tmp_path / "m").iterdir()] == [MODEL_FILE]  # no partial file left behind


def test_an_older_joblib_build_is_still_read_and_replaced_on_save(tmp_path: Path) -> None:
    model = _model()
    joblib.dump(model, tmp_path / LEGACY_MODEL_FILE, compress=3)
    _same(model, load_model(tmp_path))
    save_model(model, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MODEL_FILE]


def test_a_missing_or_broken_model_is_a_model_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="'stance' is not built"):
        load_model(tmp_path, "stance")
    (tmp_path / MODEL_FILE).write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot be loaded from .*" + MODEL_FILE):
        load_model(tmp_path, "stance")


def test_every_shipped_artifact_is_in_the_one_format_and_loads() -> None:
    folders = [p for p in ARTIFACT_DIR.iterdir() if p.is_dir() and (p / "card.json").exists()]
    pickled = [p for p in folders if (p / MODEL_FILE).exists()]
    assert len(pickled) >= 8
    assert not list(ARTIFACT_DIR.glob(f"*/{LEGACY_MODEL_FILE}"))
    for folder in pickled:
        assert load_artifact(folder.name) is load_artifact(folder.name)  # loaded once per process
