"""The verdict model's refutation cues (the verdict labels are tested on whole posts in test_pipeline)."""

import pytest


@pytest.mark.parametrize(
    "text",
    [
        "The claim was DEBUNKED by officials, who said it never  happened.",
        "Police Denied the report; it is NOT TRUE and the story was Fabricated.",
        "Officials said the strikes are being evaluated.",
        "The ministry’s spokesman dismissed the report as “baseless”.",
        "",
    ],
)
def test_refutation_matches_are_those_of_the_case_insensitive_regex(text: str) -> None:
    from overclaim.models.verdict import _refutation_re, refutation_matches

    expected = [(m.start(), m.end()) for m in _refutation_re().finditer(text)]
    assert [(m.start(), m.end()) for m in refutation_matches(text)] == expected
    assert expected or "evaluated" in text or not text


def test_a_body_sharing_no_key_term_with_the_headline_is_unrelated() -> None:
    import overclaim

    report = overclaim.check("Bitcoin soars", "The city library opened a new reading room for children on Monday.")
    assert report.evidence == []  # no sentence shares a headline term: a fact about the input
    assert report.verdict.label == "unrelated"
    assert report.verdict.reasons[0].code == "unrelated"
