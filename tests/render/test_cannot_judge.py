"""The fifth verdict, cannot_judge, in the schema and every view; the verdict model's margin and contributions.

Until the verdict stage gives cannot_judge itself, the reports are real ones (the seed post)
with their verdict replaced.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from overclaim.render import RENDER_FORMATS, render
from overclaim.render.html import render_fragment, render_html, stylesheet
from overclaim.render.terminal import VERDICT_STYLE, render_terminal_text
from overclaim.report import (
    BORDERLINE_MARGIN,
    SCHEMA_VERSION,
    VERDICT_DEFINITIONS,
    VERDICT_LABELS,
    Reason,
    Report,
    Verdict,
    report_schema,
)

CONTRIBUTION = 0.8125  # a value no view prints (scores and margins are printed with two decimals)


def relabelled(report: Report, label: str = "cannot_judge", margin: float | None = None) -> Report:
    """``report`` with its verdict replaced by ``label`` (with the definition of that label)."""
    probabilities = {}
    if margin is not None:
        top = (1 + margin) / 2
        probabilities = {label: top, "supported": 1 - top}
    verdict = Verdict(
        label=label,
        score=0.5,
        definition=VERDICT_DEFINITIONS[label],
        reasons=[Reason(code="too_short", text="The body is too short to judge.", contribution=CONTRIBUTION)],
        probabilities=probabilities,
        margin=margin,
    )
    return report.model_copy(update={"verdict": verdict})


@pytest.fixture(scope="module")
def cannot_judge(seed_report) -> Report:
    return relabelled(seed_report)


def test_cannot_judge_is_a_defined_verdict_of_schema_1_2_and_later():
    assert VERDICT_LABELS == ("supported", "overstated", "contradicted", "unrelated", "cannot_judge")
    assert set(VERDICT_DEFINITIONS) == set(VERDICT_LABELS)
    assert "too short" in VERDICT_DEFINITIONS["cannot_judge"]
    assert SCHEMA_VERSION >= "1.2"
    schema = report_schema()
    assert schema["$defs"]["Verdict"]["properties"]["label"]["enum"] == list(VERDICT_LABELS)
    assert {"probabilities", "margin"} <= set(schema["$defs"]["Verdict"]["properties"])
    assert "contribution" in schema["$defs"]["Reason"]["properties"]


def test_a_cannot_judge_report_validates_and_round_trips(cannot_judge):
    data = json.loads(cannot_judge.to_json())
    jsonschema.Draft202012Validator(report_schema()).validate(data)
    assert data["verdict"]["label"] == "cannot_judge"
    assert data["verdict"]["reasons"][0]["contribution"] == CONTRIBUTION
    assert Report.model_validate(data) == cannot_judge


def test_older_reports_without_the_new_fields_still_load(seed_report):
    data = json.loads(seed_report.to_json())
    for key in ("probabilities", "margin"):
        data["verdict"].pop(key, None)
    for reason in data["verdict"]["reasons"]:
        reason.pop("contribution", None)
    data["schema_version"] = "1.1"
    report = Report.model_validate(data)
    assert report.verdict.probabilities == {} and report.verdict.margin is None


@pytest.mark.parametrize("label", VERDICT_LABELS)
def test_every_verdict_has_a_terminal_style_and_a_page_colour(label):
    assert label in VERDICT_STYLE
    assert f".oc-verdict-{label} " in stylesheet()


@pytest.mark.parametrize("fmt", RENDER_FORMATS)
def test_every_format_renders_cannot_judge(cannot_judge, fmt):
    text = render(cannot_judge, fmt)
    wanted = {
        "terminal": "CANNOT JUDGE",
        "markdown": "**Verdict: cannot judge**",
        "html": 'data-verdict="cannot_judge">cannot judge</span>',
        "json": '"label": "cannot_judge"',
    }[fmt]
    assert wanted in text
    if fmt != "json":
        # The definition is shown; the reason's contribution is in the JSON only.
        assert "no sentence addresses the claim" in " ".join(text.split())
        assert str(CONTRIBUTION) not in text
        assert "The body is too short to judge." in text


def test_html_uses_the_cannot_judge_class_and_title(cannot_judge):
    fragment = render_fragment(cannot_judge)
    assert 'class="oc-verdict oc-verdict-cannot_judge"' in fragment
    assert "<title>cannot judge: " in render_html(cannot_judge)


@pytest.mark.parametrize(
    "margin, borderline",
    [(None, False), (0.0, True), (BORDERLINE_MARGIN / 2, True), (BORDERLINE_MARGIN, False), (0.6, False)],
)
def test_borderline_is_shown_where_the_score_is(seed_report, margin, borderline):
    report = relabelled(seed_report, "overstated", margin=margin)
    assert report.verdict.borderline is borderline
    for fmt in ("terminal", "markdown", "html"):
        text = render(report, fmt)
        assert ("borderline (margin" in text) is borderline, fmt
        if borderline:
            assert f"margin {margin:.2f}" in text


def test_the_terminal_title_keeps_the_score(cannot_judge):
    first = render_terminal_text(cannot_judge).splitlines()[0]
    assert "CANNOT JUDGE" in first and "overclaim score 0.50" in first


def test_a_cannot_judge_report_is_stored_and_read_back(tmp_path, cannot_judge):
    from overclaim.store.reports import ReportStore

    store = ReportStore(str(tmp_path / "reports.sqlite"))
    report_id = store.add(cannot_judge)
    assert store.get(report_id) == cannot_judge


def test_claimreview_rated_cannot_judge_imports_and_renders(tmp_path, seed_report):
    """A fact-check whose rating is one of our labels (exported by a user as ClaimReview) is only text."""
    from overclaim.report import FactCheckMatch
    from overclaim.store.factchecks import FactCheckStore, from_claimreview

    record = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "claimReviewed": "Coffee makes you live longer",
        "reviewRating": {"@type": "Rating", "alternateName": "Cannot judge"},
        "url": "https://example.org/review/1",
    }
    fact = from_claimreview(record)
    assert fact.rating == "Cannot judge"
    assert fact.to_claimreview()["reviewRating"]["alternateName"] == "Cannot judge"
    path = tmp_path / "reviews.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    store = FactCheckStore(str(tmp_path / "fc.sqlite"))
    assert store.import_file(path).imported == 1
    match = FactCheckMatch(claim_id=fact.claim_id, claim=fact.claim, rating=fact.rating, score=1.0, probability=0.9)
    report = seed_report.model_copy(update={"matches": [match]})
    for fmt in ("terminal", "markdown", "html"):
        assert "Cannot judge" in render(report, fmt), fmt
