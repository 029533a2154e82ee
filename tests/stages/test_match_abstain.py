"""Matches that abstain: different claims on the same topic, and posts that state no claim, are not shown.

The failures users met (issue 22): in a five-record store, "tea" matched a coffee claim, Obama a
Biden claim and a senator's climate vote a claim about air strikes on cartels at 91-95% "same
claim" (and the last was a reason in the verdict); one-word posts ("video", "lol") matched at
0.87-0.94. Each case here is run with the shipped default re-ranker and, when the ``embeddings``
extra is installed, with the embedding one, at the shown threshold (``Config.match_min_probability``).
"""

import pytest

from overclaim import Checker
from overclaim.config import DEFAULT_CONFIG
from overclaim.pipeline import STAGES
from overclaim.stages.match import ClaimMatcher, embeddings_available
from overclaim.store.factchecks import FactCheck, FactCheckStore

STORE = [
    ("coffee", "Drinking coffee every day lowers the risk of heart disease.",
     "Does Drinking Coffee Lower the Risk of Heart Disease?", "Mixture"),
    ("biden", "Joe Biden said he would ban gas-powered cars by 2030.",
     "Did Joe Biden Say He Would Ban Gas Cars by 2030?", "False"),
    ("cartels", "The U.S. military will begin air strikes against Mexican drug cartels this week.",
     "Are US Air Strikes on Mexican Cartels About to Begin?", "Unproven"),
    ("shark", "A photograph shows a shark swimming on a flooded highway in Houston after Hurricane Harvey.",
     "Shark Swimming on Houston Freeway?", "False"),
    ("baby", "A video shows a man catching a falling baby from a balcony.",
     "Video of Man Catching Falling Baby?", "True"),
]
# A different claim, and the stored claim it shares its topic and most of its words with.
DIFFERENT_CLAIMS = [
    ("Drinking tea every day lowers the risk of heart disease.", "coffee"),
    ("Barack Obama said he would ban gas-powered cars by 2030.", "biden"),
    ("Senator Ted Cruz voted against the climate bill this week.", "cartels"),
]
CONTENT_FREE = ["video", "lol", "wow", "breaking news", "omg!!"]
PARAPHRASES = [
    ("US to launch air strikes on Mexican cartels this week", "cartels"),
    ("Photo shows a shark swimming on a flooded Houston highway after Hurricane Harvey", "shark"),
    ("Man catches a baby falling from a balcony, caught on video", "baby"),
    ("Joe Biden says he will ban gas-powered cars by 2030", "biden"),
    # A word put for its synonym reads like a swapped word to the lexical calibrator (default
    # re-ranker: 0.18 in this store), so this paraphrase is not shown: abstention's price.
    pytest.param("Look at this shark swimming on the freeway in Houston #HurricaneHarvey", "shark",
                 marks=pytest.mark.xfail(reason="a synonym (freeway/highway) reads as a swapped word")),
]
PROFILES = [
    False,
    pytest.param(True, marks=pytest.mark.skipif(not embeddings_available(), reason="embeddings extra not installed")),
]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("five") / "store.sqlite")
    FactCheckStore(path).add(FactCheck(claim_id=i, claim=c, title=t, rating=r, reviewer="Snopes")
                             for i, c, t, r in STORE)
    return path


@pytest.fixture(scope="module", params=PROFILES, ids=["default", "embeddings"])
def matcher(request, store_path):
    return ClaimMatcher(store_path, embeddings=request.param)


def shown(matcher, text):
    return matcher.match(text, top_k=DEFAULT_CONFIG.match_top_k, min_probability=DEFAULT_CONFIG.match_min_probability)


def test_the_store_holds_the_near_miss_of_each_different_claim(matcher):
    # The near miss is a candidate among the top ones: only its probability keeps it from being shown.
    for text, near_miss in DIFFERENT_CLAIMS:
        ranked = [c.factcheck.claim_id for c in matcher.rank(text)]
        assert near_miss in ranked[: DEFAULT_CONFIG.match_top_k], text


@pytest.mark.parametrize("text,near_miss", DIFFERENT_CLAIMS)
def test_a_different_claim_on_the_same_topic_is_not_shown(matcher, text, near_miss):
    assert shown(matcher, text) == []
    miss = next(c for c in matcher.rank(text) if c.factcheck.claim_id == near_miss)
    assert miss.probability < DEFAULT_CONFIG.match_min_probability


@pytest.mark.parametrize("text", CONTENT_FREE)
def test_a_post_that_states_no_claim_gets_no_match(matcher, text):
    assert shown(matcher, text) == []


@pytest.mark.parametrize("text,claim_id", PARAPHRASES)
def test_a_paraphrase_of_a_stored_claim_is_still_shown(request, matcher, text, claim_id):
    if matcher.embeddings and claim_id == "cartels":
        # Measured: 0.17 under the embedding re-ranker in this store (0.46 under the default one).
        request.applymarker(pytest.mark.xfail(strict=True, reason="loose paraphrase under the shown threshold"))
    matches = shown(matcher, text)
    assert matches and matches[0].claim_id == claim_id


# The verdict needs the whole pipeline but the match stage is what differs between these posts.
BODY = ("Senators voted on the climate bill on Tuesday. The bill failed by two votes, "
        "and its sponsors said they would bring it back next year.")


def test_a_near_miss_is_not_a_verdict_reason(store_path):
    report = Checker(factchecks=store_path).check("Senator Ted Cruz voted against the climate bill this week.", BODY)
    assert report.matches == []
    assert "fact_checked" not in {r.code for r in report.verdict.reasons}


MATCH_AND_VERDICT = frozenset(n for n, _ in STAGES) - {"normalize", "segment", "match", "verdict"}
STRIKES = ("US to launch air strikes on Mexican cartels this week",
           "The Pentagon said no strikes on Mexican cartels were planned this week.")


def test_a_shown_match_is_a_verdict_reason(store_path):
    report = Checker(factchecks=store_path, skip=MATCH_AND_VERDICT).check(*STRIKES)
    assert [m.claim_id for m in report.matches][:1] == ["cartels"]
    reasons = [r for r in report.verdict.reasons if r.code == "fact_checked"]
    assert len(reasons) == 1 and "air strikes" in reasons[0].text


def test_a_match_under_the_shown_threshold_is_never_a_verdict_reason(store_path, monkeypatch):
    from overclaim.report import FactCheckMatch

    under = DEFAULT_CONFIG.match_min_probability - 0.01
    low = FactCheckMatch(claim_id="cartels", claim=STORE[2][1], rating="Unproven", score=1.0, probability=under)
    monkeypatch.setattr(ClaimMatcher, "match", lambda self, text, **kw: [low])
    report = Checker(factchecks=store_path, skip=MATCH_AND_VERDICT).check(*STRIKES)
    assert report.matches == [low]
    assert "fact_checked" not in {r.code for r in report.verdict.reasons}
