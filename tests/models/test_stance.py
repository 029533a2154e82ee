"""The stance model lives in overclaim.models; pickles naming its old home still load."""

from __future__ import annotations

import pickle
import zlib
from pathlib import Path

import numpy as np

from overclaim.models.stance import StanceModel
from overclaim.resources import MODEL_FILE, artifact_dir, load_artifact, load_model

OLD_HOME = b"overclaim.training.stance"
NEW_HOMES = (b"overclaim.models.stance_features", b"overclaim.models.stance_text", b"overclaim.models.stance")

HEADLINES = ["Apple to buy Tesla for $75 billion", "Apple to buy Tesla for $75 billion"]
BODIES = [
    "Apple denied on Monday a report that it will buy Tesla. The report is false, a spokesman said.",
    "Scientists found a new species of frog in the rain forests of Peru, a study said.",
]


def test_the_shipped_stance_artifact_names_only_the_models_package() -> None:
    data = zlib.decompress((artifact_dir("stance") / MODEL_FILE).read_bytes())
    assert b"overclaim.models.stance" in data
    assert b"overclaim.training" not in data
    model = load_artifact("stance")
    assert type(model) is StanceModel
    assert type(model.featurizer).__module__ == "overclaim.models.stance_features"
    assert type(model.featurizer.vectorizer).__module__ == "overclaim.models.stance_text"


def test_the_old_import_path_gives_the_same_objects() -> None:
    from overclaim.models import stance_features, stance_text
    from overclaim.training import stance as old

    assert old.StanceModel is StanceModel
    assert old.StanceFeaturizer is stance_features.StanceFeaturizer
    assert old.Vectorizer is stance_text.Vectorizer
    assert old.words is stance_text.words and old.STOP is stance_text.STOP


def test_a_pickle_naming_overclaim_training_stance_still_loads(tmp_path: Path) -> None:
    shipped = load_artifact("stance")
    # Protocol 2 names classes in newline-ended GLOBAL opcodes, so the module can be swapped in the
    # bytes: the result is what a build from before the move (classes in training.stance) wrote.
    data = pickle.dumps(shipped, protocol=2)
    for home in NEW_HOMES:
        data = data.replace(home + b"\n", OLD_HOME + b"\n")
    assert OLD_HOME + b"\nStanceModel\n" in data
    assert not any(home + b"\n" in data for home in NEW_HOMES)
    (tmp_path / MODEL_FILE).write_bytes(zlib.compress(data, 1))

    old = load_model(tmp_path, "stance")

    assert type(old) is StanceModel
    labels, proba = old.predict(HEADLINES, BODIES)
    want_labels, want_proba = shipped.predict(HEADLINES, BODIES)
    assert labels == want_labels
    np.testing.assert_array_equal(proba, want_proba)
    assert labels[1] == "unrelated"  # a frog story does not speak to a takeover
