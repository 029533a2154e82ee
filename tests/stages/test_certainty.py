"""Certainty: headline vs evidence certainty, cues as spans, and the seed post's gap."""

from __future__ import annotations

import pytest

from overclaim.config import DEFAULT_CONFIG
from overclaim.stages.certainty import CertaintyScorer, find_cues


@pytest.fixture(scope="module")
def scorer() -> CertaintyScorer:
    return CertaintyScorer(DEFAULT_CONFIG)


ASSERTED = "Air strikes will soon begin against Mexican cartels"


@pytest.mark.parametrize(
    "hedged",
    [
        "Air strikes may begin against Mexican cartels",
        "Air strikes reportedly to begin against Mexican cartels",
        "Will air strikes begin against Mexican cartels?",
        "Pentagon says air strikes could begin against Mexican cartels",
        "If talks fail, the US could strike Mexican cartels",
    ],
)
def test_hedged_headline_scores_low(scorer: CertaintyScorer, hedged: str) -> None:
    asserted = scorer.headline_score(ASSERTED)
    score = scorer.headline_score(hedged)
    assert score.score < 0.5
    assert asserted.score - score.score >= 0.25
    assert score.label in ("hedged", "reported", "question")


def test_asserted_headline_scores_high_with_booster_cue(scorer: CertaintyScorer) -> None:
    score = scorer.headline_score(ASSERTED)
    assert score.score >= 0.7
    assert score.label == "asserted"
    assert [c.span.text for c in score.cues if c.kind == "booster"] == ["will soon"]
    assert set(score.probabilities) == {"for", "observing", "against"}
    assert abs(sum(score.probabilities.values()) - 1) < 1e-3


@pytest.mark.parametrize(
    ("text", "kind", "cue"),
    [
        ("Officials are evaluating plans to act.", "hedge", "evaluating"),
        ("The strikes would potentially fail.", "hedge", "potentially"),
        ("The firm denied the report.", "negation", "denied"),
        ("Troops will move if the talks fail.", "conditional", "if"),
        ("Is this the end?", "question", "?"),
        ("The minister said the plan was dead.", "attribution", "said"),
        ("The result was clearly rigged.", "booster", "clearly"),
    ],
)
def test_find_cues(text: str, kind: str, cue: str) -> None:
    found = [(c.kind, text[c.start : c.end]) for c in find_cues(text)]
    assert (kind, cue) in found


def test_capitalized_names_are_not_cues_in_body() -> None:
    text = "The plan was approved by the United States in May."
    assert [c.kind for c in find_cues(text, proper_nouns=True)] == []


def test_seed_post_certainty_gap(seed_report) -> None:
    c = seed_report.certainty
    assert c.headline.score - c.body.score >= DEFAULT_CONFIG.certainty_gap_threshold
    assert c.gap == pytest.approx(c.headline.score - c.body.score, abs=1e-3)
    body_hedges = {q.span.text for q in c.body.cues if q.kind == "hedge"}
    assert {"evaluating", "potentially", "unlikely"} <= body_hedges
    for cue in c.body.cues:
        assert seed_report.post.body[cue.span.start : cue.span.end] == cue.span.text
    for cue in c.headline.cues:
        assert seed_report.post.headline[cue.span.start : cue.span.end] == cue.span.text
    assert any(e.hedged for e in seed_report.evidence)
    assert all(e.certainty is not None for e in seed_report.evidence)
    assert seed_report.verdict.label == "overstated"
    assert "certainty_gap" in [r.code for r in seed_report.verdict.reasons]


@pytest.mark.parametrize("name", ["headline_certainty", "hedging"])
@pytest.mark.parametrize(
    "text",
    [
        "Air strikes will soon begin against Mexican cartels",
        "Is Kim Jong-un's sister now the power behind the throne?",
        "REPORT: Axl Rose NOT dead, death hoax debunked - officials say",
        "Many critics believe it is widely considered the best album of the decade.",
        "",
    ],
)
def test_linear_scorer_matches_sklearn(name: str, text: str) -> None:
    from overclaim.resources import load_artifact
    from overclaim.stages.certainty import LinearScorer

    model = load_artifact(name)
    expected = model.predict_proba([text])[0]
    assert LinearScorer(model).predict_proba(text) == pytest.approx(list(expected), abs=1e-9)


@pytest.mark.parametrize("name", ["headline_certainty", "hedging"])
def test_linear_scorer_scores_many_texts_as_one_by_one(name: str) -> None:
    from overclaim.resources import load_artifact
    from overclaim.stages.certainty import LinearScorer

    scorer = LinearScorer(load_artifact(name))
    texts = [
        "Air strikes will soon begin against Mexican cartels",
        "",
        "Officials said the plan is potentially unlikely to get approval.",
        "REPORT: Axl Rose NOT dead, death hoax debunked - officials say",
        "Many critics believe it is widely considered the best album of the decade.",
        "Ünïcode héadline with “quotes”?",
    ]
    many = scorer.predict_proba_many(texts)
    assert len(many) == len(texts)
    for text, row in zip(texts, many, strict=True):
        assert row == pytest.approx(scorer.predict_proba(text), abs=1e-12)


def test_certainty_batch_gives_each_post_its_own_scores() -> None:
    from overclaim import Checker
    from overclaim.report import Post

    posts = [
        Post(headline="Air strikes will soon begin", body="Officials may be evaluating plans. Strikes could begin."),
        Post(headline="Council approves budget", body="The council approved the budget on Monday, its chair said."),
        Post(headline="Star reportedly dead", body="No evidence supports the rumour. The star is alive."),
    ]
    checker = Checker(factchecks=None)
    one_by_one = [checker.check_post(p) for p in posts]
    together = checker.check_many(posts)
    for a, b in zip(one_by_one, together, strict=True):
        assert a.certainty.model_dump() == b.certainty.model_dump()
        assert [e.model_dump() for e in a.evidence] == [e.model_dump() for e in b.evidence]
    assert len({r.certainty.body.score for r in together}) > 1


class _TooSlow(Exception):
    pass


# Issue 19: shapes on which the headline features were quadratic (the "ends with a reporting word"
# and "ends with a question mark" groups searched forwards from every position to the end). At 100k
# characters, far past the 2,000 a headline is cut to, the code before the fix took minutes; the
# guard is a hang detector with a wide margin, not a speed target (see benchmarks/adversarial.py).
HANG_SECONDS = 20
LONG_SHAPES = [
    pytest.param("a*" * 50_000 + "a/b", id="star-separated"),
    pytest.param("1+" * 50_000 + "2/b", id="plus-separated"),
    pytest.param("a." * 50_000 + "a@", id="dotted-at"),
    pytest.param("ab\u00ad" * 33_000, id="soft-hyphens"),
    pytest.param("“a" * 50_000, id="unclosed-quotes"),
    pytest.param("?" * 100_000 + "a", id="question-marks"),
    pytest.param("? " * 50_000 + "a", id="spaced-question-marks"),
    pytest.param("said " * 20_000, id="said"),
    pytest.param("may " * 25_000, id="may"),
    pytest.param("officials" * 11_000, id="one-long-word"),
    pytest.param("!" * 100_000, id="punctuation-run"),
]


def _within_hang_limit(run, what: str):
    import signal

    def stop(*_: object) -> None:
        raise _TooSlow(f"{what} took over {HANG_SECONDS} s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(HANG_SECONDS)
    try:
        return run()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("text", LONG_SHAPES)
def test_adversarial_headline_shapes_pass_the_headline_score(scorer: CertaintyScorer, text: str) -> None:
    score = _within_hang_limit(lambda: scorer.headline_score(text), f"headline_score on {len(text):,} characters")
    assert 0.0 <= score.score <= 1.0
    assert all(text[c.span.start : c.span.end] == c.span.text for c in score.cues)
    # A "?" in the text is a question cue (the last one), whatever the shape.
    assert ("question" in {c.kind for c in score.cues}) == ("?" in text)


@pytest.mark.parametrize("text", LONG_SHAPES)
def test_adversarial_shapes_pass_the_body_sentence_scorer(scorer: CertaintyScorer, text: str) -> None:
    """A long body sentence of each shape through the hedging model and the cue lexicons."""
    _, hedging = scorer._models()

    def run() -> tuple[list[float], list]:
        return hedging.predict_proba_many([text, "Officials may be evaluating plans."]), find_cues(text, True)

    probabilities, cues = _within_hang_limit(run, f"the body sentence scorer on {len(text):,} characters")
    assert all(abs(sum(p) - 1) < 1e-9 for p in probabilities)
    assert all(text[c.start : c.end].strip() for c in cues)
