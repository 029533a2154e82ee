"""``--format claimreview``: overclaim's verdict as a ClaimReview draft a fact-checker can edit and publish."""

from __future__ import annotations

import datetime
import json

import pytest

from overclaim.render import render
from overclaim.render.claimreview import BEST_RATING, RATINGS, WORST_RATING, claimreview_draft
from overclaim.report import VERDICT_DEFINITIONS, VERDICT_LABELS, Reason, Verdict
from overclaim.store.factchecks import FactCheckStore

POST_META = {"url": "https://news.example/2025/strikes", "outlet": "Example News", "published": "2025-01-20"}


def as_label(report, label):
    verdict = Verdict(label=label, score=0.5, definition=VERDICT_DEFINITIONS[label],
                      reasons=[Reason(code="r1", text="First reason."), Reason(code="r2", text="Second reason.")])
    return report.model_copy(update={"verdict": verdict})


@pytest.fixture(scope="module")
def seed_with_meta(seed_report):
    return seed_report.model_copy(update={"post": seed_report.post.model_copy(update=POST_META)})


def test_the_draft_reviews_the_headline_as_it_appeared(seed_with_meta):
    draft = claimreview_draft(seed_with_meta, today=datetime.date(2025, 2, 1))
    post = seed_with_meta.post
    assert draft["@type"] == "ClaimReview" and draft["creativeWorkStatus"] == "Draft"
    assert draft["claimReviewed"] == post.headline
    assert draft["itemReviewed"] == {
        "@type": "Claim",
        "author": {"@type": "Organization", "name": POST_META["outlet"]},
        "datePublished": POST_META["published"],
        "appearance": {"@type": "CreativeWork", "url": POST_META["url"], "headline": post.headline},
    }
    assert draft["datePublished"] == "2025-02-01"
    # Left for the fact-checker: who reviews, where it is published.
    assert draft["author"] == {"@type": "Organization", "name": None, "url": None} and draft["url"] is None
    # Every reason of the verdict, in order, in the review's text.
    body = draft["reviewBody"]
    positions = [body.find(r.text) for r in seed_with_meta.verdict.reasons]
    assert len(positions) >= 3 and -1 not in positions and positions == sorted(positions)


def test_a_post_without_url_or_outlet_gives_a_bare_claim(seed_report):
    assert seed_report.post.url is None and seed_report.post.outlet is None
    assert claimreview_draft(seed_report)["itemReviewed"] == {"@type": "Claim"}


@pytest.mark.parametrize("label", VERDICT_LABELS)
def test_every_verdict_is_rated_and_named(seed_report, label):
    rating = claimreview_draft(as_label(seed_report, label))["reviewRating"]
    value, name = RATINGS[label]
    assert rating["alternateName"] == name
    if value is None:  # unrelated, cannot judge: not a point on the scale
        assert label in ("unrelated", "cannot_judge") and set(rating) == {"@type", "alternateName"}
    else:
        assert (rating["worstRating"], rating["bestRating"]) == (WORST_RATING, BEST_RATING)
        assert WORST_RATING <= rating["ratingValue"] == value <= BEST_RATING


def test_the_scale_runs_from_contradicted_to_supported():
    values = [RATINGS[label][0] for label in ("contradicted", "overstated", "supported")]
    assert values == sorted(set(values)) and values[0] == WORST_RATING and values[-1] == BEST_RATING
    assert "article" in RATINGS["supported"][1] and "article" in RATINGS["contradicted"][1]


def test_a_draft_imports_into_the_fact_check_store(tmp_path, seed_with_meta):
    report = as_label(seed_with_meta, "contradicted")
    path = tmp_path / "draft.jsonld"
    path.write_text(render(report, "claimreview"), encoding="utf-8")
    store = FactCheckStore(str(tmp_path / "fc.sqlite"))
    assert store.import_file(path).imported == 1
    [fc] = store.iter_all()
    assert fc.claim == report.post.headline
    assert (fc.rating, fc.rating_value, fc.best_rating) == ("Contradicted by the article", "1", str(BEST_RATING))
    assert (fc.claimant, fc.claim_date) == (POST_META["outlet"], POST_META["published"])
    assert json.loads(fc.appearance)["url"] == POST_META["url"]
