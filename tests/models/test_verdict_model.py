"""The verdict model: features read the facts of a post, contributions add up to the decision."""

from __future__ import annotations

import math

import numpy as np
import pytest

from overclaim.config import Config
from overclaim.models.verdict import FEATURE_CODES, FEATURES, LABELS, features, load_verdict_model
from overclaim.pipeline import PROFILES, Checker
from overclaim.report import Post
from overclaim.stages.verdict import REASON_LABELS


def _context(headline: str, body: str, profile: str = "default"):
    checker = Checker(Config(profile=profile), skip={"match", "verdict"})
    return checker.run_stages([Post(headline=headline, body=body)])[0]


def _row(headline: str, body: str) -> dict[str, float]:
    return dict(zip(FEATURES, features(_context(headline, body)).tolist(), strict=True))


def test_every_feature_names_codes_of_the_catalogue() -> None:
    assert set(FEATURE_CODES) == set(FEATURES)
    for high, low in FEATURE_CODES.values():
        for code in (high, low):
            assert code is None or code in REASON_LABELS


def test_features_read_refutations_numbers_and_hedges() -> None:
    debunk = _row(
        "Actor dies in car crash",
        "Reports that the actor died in a car crash are a hoax, his agent said. The story is false and he is alive.",
    )
    assert debunk["refutation"] >= 1  # "hoax" (evidence sentences only: the second shares no headline term)
    plain = _row("Actor dies in car crash", "The actor died in a car crash on Sunday, police said.")
    assert plain["refutation"] == 0
    inflated = _row(
        "Study: 90% of teens are addicted to TikTok",
        "A survey found that 19 percent of teens say they use TikTok almost constantly. The rest use it less.",
    )
    assert inflated["num_mismatch"] >= 1
    hedged = _row("Officials may consider a new tax", "Officials could consider a new tax, a report said.")
    assert hedged["h_certainty"] < plain["h_certainty"]


@pytest.mark.parametrize("profile", PROFILES)
def test_contributions_add_up_to_the_log_odds_against_the_reference_label(profile: str) -> None:
    model = load_verdict_model(profile)
    ctx = _context(
        "Scientists confirm coffee causes cancer",
        "A new study found coffee drinking was associated with a higher risk of one cancer. "
        "The researchers said the study cannot show cause and effect, and more work is needed.",
        profile,
    )
    x = features(ctx)
    d = model.explain(x)
    probs = d.probabilities
    label = d.label
    assert label == max(probs, key=probs.__getitem__)  # the call is the most probable label
    runner_up = sorted(probs, key=lambda k: -probs[k])[1]
    expected = "supported" if label in ("overstated", "contradicted") else runner_up
    assert d.reference == expected
    k, r = LABELS.index(label), LABELS.index(d.reference)
    # Each feature's push, plus the intercepts' and the decision weights' differences, is the
    # log-odds of the label over the reference (the rounding of the reported probabilities aside).
    bias = (model.intercept[k] - model.intercept[r]) / model.temperature + math.log(model.weights[k] / model.weights[r])
    total = sum(d.contributions.values()) + bias
    exact = model.probabilities(x)[0]
    assert math.isclose(total, math.log(exact[k] / exact[r]), rel_tol=1e-6, abs_tol=1e-6)
    assert abs(sum(probs.values()) - 1) < 1e-3
    assert d.margin == pytest.approx(sorted(probs.values())[-1] - sorted(probs.values())[-2], abs=2e-4)


def test_the_model_matches_the_code_s_features() -> None:
    for profile in PROFILES:
        model = load_verdict_model(profile)
        assert model.features == FEATURES
        assert np.all(model.scale > 0)


def test_a_broken_feature_is_no_crash() -> None:
    model = load_verdict_model("default")
    x = np.full(len(FEATURES), np.nan)
    d = model.explain(x)
    assert abs(sum(d.probabilities.values()) - 1) < 1e-3 and d.label in LABELS
