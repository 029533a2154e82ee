"""The shipped entailment model at inference time: loading, shapes, and what it reads in news sentences."""

from __future__ import annotations

import json

import numpy as np
import pytest

from overclaim.errors import ModelError
from overclaim.models.entailment import LABELS, Entailer, load_entailer
from overclaim.resources import artifact_dir


def test_the_artifact_is_small_and_documented():
    folder = artifact_dir("entailment")
    size = (folder / "model.onnx").stat().st_size
    assert size <= 40 * 1024 * 1024
    card = json.loads((folder / "card.json").read_text())
    assert card["labels"] == list(LABELS)
    assert card["seed"] is not None and card["command"].startswith("overclaim train entailment")
    assert (folder / "MODEL_CARD.md").exists()


def test_loaded_once_per_process():
    assert load_entailer() is load_entailer()


def test_probabilities_are_distributions_in_input_order():
    model = load_entailer()
    pairs = [
        ("The minister confirmed on Tuesday that the bridge will close for repairs in May.", "The bridge will close"),
        ("Officials denied that the bridge would close, calling the reports false.", "The bridge will close"),
        ("The weather was mild across the region on Sunday.", "The bridge will close"),
    ]
    probs = model.predict(pairs)
    assert probs.shape == (3, 3)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    # Batched or one at a time, the same numbers (padding must not change a pair's reading).
    alone = np.vstack([model.predict([p]) for p in pairs])
    assert np.allclose(probs, alone, atol=2e-3)
    assert probs[0].argmax() == 0  # confirmation
    assert probs[2].argmax() == 1  # unrelated: neutral
    assert model.predict([]).shape == (0, 3)


@pytest.mark.xfail(
    reason="the model trained without FNC-1 sentences reads this denial as entails 0.47 / contradicts 0.44: "
    "denials in news words are its weak spot (tests/fixtures/sentence_stance.jsonl: 21 of 33 denials right)",
    strict=False,
)
def test_a_denial_in_news_words_is_read_as_contradicting():
    probs = load_entailer().predict(
        [("Officials denied that the bridge would close, calling the reports false.", "The bridge will close")]
    )
    assert probs[0].argmax() == 2


def test_long_inputs_are_truncated_not_refused():
    model = load_entailer()
    long_premise = "The council met again. " * 2000
    probs = model.predict([(long_premise, "The council met " * 200)])
    assert probs.shape == (1, 3)


def test_a_missing_artifact_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="overclaim train entailment"):
        Entailer(tmp_path)
