"""Claim-strength stage: news-style sentences get the relation strength they state, with cue spans."""

from __future__ import annotations

import pytest

from overclaim.models.claim_strength import LABELS, ClaimStrengthModel, find_cues
from overclaim.pipeline import Checker
from overclaim.report import Report

# (sentence, expected label, a cue that must be found, its kind), written for these tests.
NEWS = [
    ("Coffee linked to lower risk of liver cancer", "correlational", "linked", "correlational"),
    ("Red meat tied to higher rates of diabetes in women", "correlational", "tied to", "correlational"),
    ("Heavy drinking is associated with memory loss in later life", "correlational", "associated", "correlational"),
    ("Screen time correlated with poorer sleep among teenagers", "correlational", "correlated", "correlational"),
    ("Night-shift workers more likely to develop heart disease", "correlational", "more likely", "correlational"),
    ("Obesity is a risk factor for severe flu", "correlational", "risk factor", "correlational"),
    ("Low vitamin D levels associated with depression in older adults", "correlational", "associated",
     "correlational"),
    ("Loneliness linked to early death, study finds", "correlational", "linked", "correlational"),
    ("Sugary drinks may raise the risk of cancer", "conditional_causal", "may", "conditional"),
    ("A daily walk may help prevent dementia", "conditional_causal", "may", "conditional"),
    ("Eating nuts could lower cholesterol, researchers say", "conditional_causal", "could", "conditional"),
    ("Green tea might protect against heart disease", "conditional_causal", "might", "conditional"),
    ("Meditation may reduce anxiety in students", "conditional_causal", "may", "conditional"),
    ("Vaping could cause lung damage", "conditional_causal", "could", "conditional"),
    ("Sleeping pills may increase the risk of falls", "conditional_causal", "may", "conditional"),
    ("Fish oil might improve memory in children", "conditional_causal", "might", "conditional"),
    ("Smoking causes lung cancer", "direct_causal", "causes", "causal"),
    ("Coffee prevents liver cancer", "direct_causal", "prevents", "causal"),
    ("Exercise reduces the risk of depression", "direct_causal", "reduces", "causal"),
    ("Sugar tax cuts childhood obesity", "direct_causal", "cuts", "causal"),
    ("Air pollution raises risk of stroke", "direct_causal", "raises", "causal"),
    ("New drug improves survival in breast cancer patients", "direct_causal", "improves", "causal"),
    ("Daily aspirin increases bleeding in older adults", "direct_causal", "increases", "causal"),
    ("Mediterranean diet lowers blood pressure", "direct_causal", "lowers", "causal"),
    ("Vaccine protects children against measles", "direct_causal", "protects", "causal"),
    ("Sleep loss leads to weight gain", "direct_causal", "leads to", "causal"),
    ("The vaccine is effective in preventing severe illness", "direct_causal", "effective", "causal"),
    ("No link between vaccines and autism, study finds", "none", "No link", "negation"),
    ("The new diet did not reduce blood pressure", "none", "did not", "negation"),
    ("There was no significant difference between the two groups", "none", "no significant", "negation"),
    ("The survey was carried out in 12 hospitals in 2019", "none", "", ""),
    ("Patients were recruited from three clinics in Ohio", "none", "", ""),
    ("Tea drinkers showed no difference in cancer rates", "none", "no difference", "negation"),
]


# Sentences the shipped model gets wrong (a bag of n-grams at CV macro-F1 0.76): kept as strict
# xfails so a better model shows up as XPASS.
MISSES = {
    "The new diet did not reduce blood pressure",
    "There was no significant difference between the two groups",
    "Patients were recruited from three clinics in Ohio",
}
_MISS = pytest.mark.xfail(strict=True, reason="known miss of the n-gram claim-strength model")
NEWS_PARAMS = [pytest.param(*n, marks=_MISS) if n[0] in MISSES else n for n in NEWS]


@pytest.fixture(scope="module")
def model() -> ClaimStrengthModel:
    return ClaimStrengthModel()


@pytest.mark.parametrize(("sentence", "label", "cue", "kind"), NEWS_PARAMS)
def test_news_sentence_strength(model: ClaimStrengthModel, sentence: str, label: str, cue: str, kind: str) -> None:
    result = model.score(sentence)
    assert result.label == label, result.probabilities
    assert result.strength == LABELS.index(label)
    assert abs(sum(result.probabilities.values()) - 1.0) < 1e-3


@pytest.mark.parametrize(("sentence", "label", "cue", "kind"), [n for n in NEWS if n[2]])
def test_cue_spans(sentence: str, label: str, cue: str, kind: str) -> None:
    cues = find_cues(sentence)
    found = {(sentence[c.start : c.end], c.kind) for c in cues}
    assert (cue, kind) in found
    for c in cues:
        assert sentence[c.start : c.end] == c.text


def test_conditional_is_stronger_than_correlational(model: ClaimStrengthModel) -> None:
    assert model.score("Coffee may cause cancer").strength > model.score("Coffee is associated with cancer").strength


def test_longest_cue_wins_and_no_overlap() -> None:
    cues = find_cues("Night work is tied to higher risk of stroke")
    assert [(c.text, c.kind) for c in cues] == [("tied to", "correlational"), ("higher risk", "correlational")]


POST_BODY = (
    "Researchers followed 5,000 adults for ten years. "
    "Coffee drinking was associated with a lower rate of liver cancer. "
    "The authors stress the finding is an association, not cause and effect."
)


def test_stage_reports_headline_body_gap_and_spans() -> None:
    report = Checker(skip={"match"}).check("Coffee prevents liver cancer", POST_BODY)
    cs = report.claim_strength
    assert cs is not None
    assert cs.headline.label == "direct_causal"
    assert cs.body is not None and cs.body.label == "correlational"
    assert cs.gap == 3 - 1 and cs.exaggerates
    for cue in cs.headline.cues:
        assert report.post.headline[cue.span.start : cue.span.end] == cue.span.text
    assert any(e.claim_strength is not None for e in report.evidence)
    for e in report.evidence:
        assert e.claim_strength is not None and e.claim_strength.sentence_index == e.index
        for cue in e.claim_strength.cues:
            assert report.post.body[cue.span.start : cue.span.end] == cue.span.text
    # The report round-trips through its JSON schema model.
    assert Report.model_validate_json(report.to_json()).claim_strength == cs


def test_same_strength_is_not_exaggeration() -> None:
    report = Checker(skip={"match"}).check("Coffee linked to lower liver cancer rates", POST_BODY)
    assert report.claim_strength is not None and not report.claim_strength.exaggerates


def test_old_report_without_new_fields_validates() -> None:
    report = Checker(skip={"match"}).check("Coffee prevents liver cancer", POST_BODY)
    data = report.model_dump()
    data.pop("claim_strength")
    data.pop("numbers")
    for e in data["evidence"]:
        e.pop("claim_strength")
    old = Report.model_validate(data)
    assert old.claim_strength is None and old.numbers == []
