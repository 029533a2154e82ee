"""Matches carry the fact-check's claimant, dates, language and publisher, and filter on them."""

from __future__ import annotations

import datetime
import json

import pytest

from overclaim import Checker
from overclaim.config import Config
from overclaim.errors import EmptyFieldError, InputError
from overclaim.pipeline import STAGES
from overclaim.stages.match import NO_MATCH_NOTE, ClaimMatcher
from overclaim.store.factchecks import FactCheck, FactCheckFilter, FactCheckStore
from tests.conftest import FIXTURES

OTHERS = frozenset(name for name, _ in STAGES) - {"normalize", "segment", "match"}
SENATOR = "Senator voted against the climate bill 40 times!"
API = json.loads((FIXTURES / "claimreview" / "api_response.json").read_text(encoding="utf-8"))
[POLITIFACT, FACTCHECK_ORG] = API["claims"][0]["claimReview"]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("fc") / "store.sqlite")
    store = FactCheckStore(path)
    for name in ("rich.jsonld", "api_response.json", "datafeed.json", "factcheck_page.html"):
        store.import_file(FIXTURES / "claimreview" / name)
    return path


@pytest.fixture(scope="module")
def matcher(store_path):
    return ClaimMatcher(store_path)


def test_a_match_carries_claimant_dates_language_and_publisher(matcher):
    [best, *_] = matcher.match(SENATOR)
    claim = API["claims"][0]
    assert best.url == POLITIFACT["url"]
    assert (best.claimant, best.claim_date) == (claim["claimant"], claim["claimDate"])
    assert (best.review_date, best.language) == (POLITIFACT["reviewDate"], POLITIFACT["languageCode"])
    assert best.reviewer == POLITIFACT["publisher"]["name"]
    assert best.provenance() == "checked by PolitiFact, 2024-02-03; claimed by Viral image, 2024-02-01; language en"


def test_a_rating_with_only_a_number_is_shown_on_its_scale(matcher):
    [best, *_] = matcher.match("Green tea cures diabetes, three cups a day")
    assert best.rating == "2 of 6"  # the fixture's reviewRating: ratingValue 2, bestRating 6, no name


@pytest.mark.parametrize(
    "where, reviewers",
    [
        (FactCheckFilter.of(publishers=["factcheck.org"]), ["FactCheck.org"]),  # by site
        (FactCheckFilter.of(publishers=["POLITIFACT"]), ["PolitiFact"]),  # by name, any case
        (FactCheckFilter.of(languages=["fr"]), []),
        (FactCheckFilter.of(languages=["EN"]), ["PolitiFact", "FactCheck.org"]),  # both reviews are in English
        # PolitiFact reviewed it on Feb 3, FactCheck.org on Feb 5.
        (FactCheckFilter.of(max_age_days=3, today=datetime.date(2024, 2, 8)), ["FactCheck.org"]),
        (FactCheckFilter.of(max_age_days=1, today=datetime.date(2024, 2, 8)), []),
    ],
)
def test_filters_choose_among_the_reviews(matcher, where, reviewers):
    assert [m.reviewer for m in matcher.match(SENATOR, where=where)] == reviewers


def test_a_second_publisher_of_the_same_claim_is_found_with_its_filter(matcher):
    # Two publishers reviewed the same claim: unfiltered, both reviews are shown (the abstaining
    # calibrator reads each candidate against the post, not only against the runner-up, which hid
    # the second review at 0.04); with --publisher the search runs as in a store of that publisher only.
    threshold = Config().match_min_probability
    unfiltered = {c.factcheck.reviewer: c.probability for c in matcher.rank(SENATOR)}
    assert unfiltered["FactCheck.org"] >= threshold and unfiltered["PolitiFact"] >= threshold
    [only] = matcher.match(SENATOR, where=FactCheckFilter.of(publishers=["factcheck.org"]))
    assert only.url == FACTCHECK_ORG["url"] and only.probability >= threshold


@pytest.mark.parametrize(
    "fc, where, accepted",
    [
        (FactCheck("a", "c", language="en-GB"), FactCheckFilter.of(languages=["en"]), True),
        (FactCheck("a", "c", language="en_US"), FactCheckFilter.of(languages=["en-us"]), True),
        (FactCheck("a", "c", language="eng"), FactCheckFilter.of(languages=["en"]), False),
        (FactCheck("a", "c"), FactCheckFilter.of(languages=["en"]), False),
        (FactCheck("a", "c", claim_date="2024-01-01"), FactCheckFilter.of(max_age_days=10,
                                                                          today=datetime.date(2024, 1, 11)), True),
        (FactCheck("a", "c", review_date="March 2024"), FactCheckFilter.of(max_age_days=10000), False),
        (FactCheck("a", "c", reviewer_url="https://www.afp.com"), FactCheckFilter.of(publishers=["afp.com"]), True),
        (FactCheck("a", "c", url="https://factuel.afp.com/x"), FactCheckFilter.of(publishers=["afp.com"]), True),
        (FactCheck("a", "c", url="https://notafp.com/x"), FactCheckFilter.of(publishers=["afp.com"]), False),
        (FactCheck("a", "c"), FactCheckFilter(), True),
    ],
)
def test_filter_accepts(fc, where, accepted):
    assert where.accepts(fc) is accepted


@pytest.mark.parametrize(
    "kwargs, error, field",
    [({"languages": [" "]}, EmptyFieldError, "language"), ({"publishers": [""]}, EmptyFieldError, "publisher"),
     ({"max_age_days": -1}, InputError, "max_age_days")],
)
def test_bad_filters_are_refused_naming_the_field(kwargs, error, field):
    with pytest.raises(error) as err:
        FactCheckFilter.of(**kwargs)
    assert err.value.field == field


def test_the_check_stage_applies_the_config_filters(store_path):
    body = "The article says the image circulated on social media last week."
    plain = Checker(factchecks=store_path, skip=OTHERS).check(SENATOR, body)
    assert sorted(m.reviewer for m in plain.matches) == ["FactCheck.org", "PolitiFact"]
    french = Checker(Config(match_languages=("fr",)), factchecks=store_path, skip=OTHERS).check(SENATOR, body)
    assert french.matches == []
    assert any(n.startswith(NO_MATCH_NOTE) and "language fr" in n for n in french.notes)
    other = Checker(Config(match_publishers=("factcheck.org",)), factchecks=store_path, skip=OTHERS)
    assert [m.reviewer for m in other.check(SENATOR, body).matches] == ["FactCheck.org"]
