"""Numbers stage: headline quantities against the body's for the same thing, with both spans."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from overclaim.pipeline import Checker
from overclaim.report import NumberFinding
from overclaim.stages.numbers import QuantityReader, find_numbers
from overclaim.text import TextView


def findings(headline: str, body: str) -> list[NumberFinding]:
    return find_numbers(TextView("headline", headline), TextView("body", body))


# (headline, body, headline quantity, body quantity or None, kind), written for these tests.
CASES = [
    ("Study: 90% of teens are addicted to TikTok", "The survey found 19 percent of US teens are addicted to TikTok.",
     "90%", "19 percent", "inflated"),
    ("3 million people lost their jobs", "About 300,000 people lost their jobs in March.", "3 million", "300,000",
     "inflated"),
    ("Cancer cases doubled among young adults", "Cancer cases rose 20% among young adults over the decade.",
     "doubled", "20%", "inflated"),
    ("One in five adults suffers from insomnia", "Researchers found 20 per cent of adults suffer from insomnia.",
     "One in five", "20 per cent", "match"),
    ("Half of voters back the plan", "The poll shows 48% of voters back the plan.", "Half", "48%", "match"),
    ("Unemployment rose 5%", "Unemployment rose 12 percent in the quarter.", "5%", "12 percent", "deflated"),
    ("Firm pays $2bn fine", "The firm agreed to pay a $2 billion fine.", "$2bn", "$2 billion", "match"),
    ("Two-thirds of doctors oppose the law", "A survey found 66% of doctors oppose the law.", "Two-thirds", "66%",
     "match"),
    ("Twenty-five people died in the floods", "The floods killed 25 people, officials said.", "Twenty-five", "25",
     "match"),
    ("Crime fell 10% last year", "Police data show crime fell 30 percent last year.", "10%", "30 percent",
     "deflated"),
    ("Up to 90% of coral bleached", "Scientists said up to 90% of coral was bleached.", "90%", "90%", "match"),
    ("Vaccine uptake tripled", "Vaccine uptake increased by 15% this year.", "tripled", "15%", "inflated"),
    ("Prices up 3.5% in May", "Consumer prices climbed 3.4 percent in May.", "3.5%", "3.4 percent", "match"),
    ("Bridge collapse: 40 dead", "At least 12 people are dead after the bridge collapse.", "40", "12", "inflated"),
    ("Earthquake hit the city in 2015", "The earthquake hit the city in 2011.", "2015", "2011", "mismatch"),
    ("Between 10 and 20 percent of patients relapse", "About 15% of patients relapse within a year.",
     "10 and 20 percent", "15%", "match"),
]


@pytest.mark.parametrize(("headline", "body", "h", "b", "kind"), CASES)
def test_number_findings(headline: str, body: str, h: str, b: str, kind: str) -> None:
    found = [f for f in findings(headline, body) if h in f.headline.text]
    assert found, findings(headline, body)
    f = found[0]
    assert f.kind == kind
    assert f.body is not None and b in f.body.text
    assert headline[f.headline.start : f.headline.end] == f.headline.text
    assert body[f.body.start : f.body.end] == f.body.text
    if kind == "inflated":
        assert f.relative_difference is not None and f.relative_difference > 0
    if kind == "deflated":
        assert f.relative_difference is not None and f.relative_difference < 0


# Tricky non-matches: a headline quantity must not pair with a body quantity of another unit or thing.
NON_MATCHES = [
    ("90% of teens use TikTok", "Teens spend 90 minutes a day on TikTok."),  # percent vs minutes
    ("Population hits 2019 high", "The town had 2019 residents registered."),  # "2019 high" is a year-ish count
    ("5 years in prison for fraud", "He must repay 5% of the fraud."),  # years vs percent
    ("Prices rose 5%", "Prices rose 5 percentage points."),  # percent change vs points
    ("3 million people affected", "The company lost $3 million."),  # count vs money
    ("Storm kills 12 in Texas", "The storm began 12 days ago in Texas."),  # count vs days
]


@pytest.mark.parametrize(("headline", "body"), NON_MATCHES)
def test_no_pairing_across_units(headline: str, body: str) -> None:
    found = findings(headline, body)
    assert found
    assert all(f.kind == "unmatched" and f.body is None for f in found), found


def test_percent_and_minutes_do_not_pair() -> None:
    [f] = findings("90% of teens use TikTok", "Teens spend 90 minutes a day on TikTok.")
    assert f.kind == "unmatched" and f.body is None


def test_up_to_is_kept_as_qualifier() -> None:
    [f] = findings("90% of coral bleached", "Scientists said up to 90% of coral was bleached.")
    assert f.kind == "match" and f.body_qualifier == "up to" and f.headline_qualifier is None


def test_range_in_body_contains_headline_value() -> None:
    [f] = findings("15% of patients relapse", "Between 10 and 20 percent of patients relapse.")
    assert f.kind == "match"


def test_headline_value_outside_body_range_is_inflated() -> None:
    [f] = findings("40% of patients relapse", "Between 10 and 20 percent of patients relapse.")
    assert f.kind == "inflated"


def test_no_shared_context_is_unmatched() -> None:
    [f] = findings("Study: 90% of teens are addicted", "Shares in the company rose 19 percent.")
    assert f.kind == "unmatched"


def test_headline_without_numbers_gives_nothing() -> None:
    assert findings("Coffee is good for you", "About 19 percent of people drink 3 cups a day.") == []


def test_year_is_not_a_count() -> None:
    [q] = QuantityReader().read("The law passed in 2019")
    assert q.unit == "year"
    [q] = QuantityReader().read("Officials counted 2,019 votes")
    assert q.unit == "count"


def test_adversarial_digits_and_punctuation_are_fast() -> None:
    # A guard against quadratic behaviour, not a benchmark: each must finish far under a second.
    for junk in ("9" * 65536, "1," * 32768, "1." * 32768, "1 " * 32768, "one " * 16384, "$1%" * 21845):
        started = time.perf_counter()
        findings("90% rose 3 million " + junk[:1000], junk)
        assert time.perf_counter() - started < 2.0


_PIECES = [*"0123456789 ,.%$-–abcij", "one ", "million ", "percent ", "doubled ", "half ", "in ", "up to ", "of ",
           "\ufeff", "\u200b", "é", "Ｏ", "0O", "ﬁ"]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=60).map("".join)


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(skip={"match"})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_TEXT, _TEXT)
def test_spans_index_the_original_text(checker: Checker, headline: str, body: str) -> None:
    if not headline.strip() or not body.strip():
        return
    # Through the whole pipeline, so normalization's clean-to-original offset map is exercised.
    report = checker.check("90% " + headline, body + " 19 percent")
    assert report.numbers
    for f in report.numbers:
        assert report.post.headline[f.headline.start : f.headline.end] == f.headline.text
        if f.body is not None:
            assert report.post.body[f.body.start : f.body.end] == f.body.text


def test_a_caption_full_of_numbers_compares_only_its_first_quantities():
    """'1+' * 500 as a caption compared each of its 500 quantities with every body quantity (x3 per doubling)."""
    from overclaim.stages.numbers import MAX_HEADLINE_QUANTITIES, find_numbers
    from overclaim.text import TextView

    headline = TextView("headline", "1+" * 500 + "2/b")
    body = TextView("body", " ".join(f"{i} people were counted." for i in range(300)))
    findings = find_numbers(headline, body)
    assert len({(f.headline.start, f.headline.end) for f in findings}) <= MAX_HEADLINE_QUANTITIES
