"""Sensational stage: markers on a hand-written fixture set, spans, quotes, the clickbait probability."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from overclaim.config import DEFAULT_CONFIG
from overclaim.pipeline import Checker, Context
from overclaim.report import Certainty, CertaintyScore, Post, Stance, StanceProbabilities
from overclaim.resources import LEXICON_DIR, lexicon, load_artifact
from overclaim.stages.sensational import (
    SensationalDetector,
    clickbait_probabilities,
    find_markers,
    is_shouting,
    quoted_ranges,
)
from overclaim.text import Replacement, TextView

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "markers.jsonl"
ROWS = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
SEED = Path(__file__).resolve().parents[2] / "examples" / "seed_post.txt"
SEED_CAPTION = "🚨Update: Air strikes will soon begin against Mexican Narco Terr0rist!"
BODY = "The administration is evaluating plans for strikes against cartels, officials said."


def _context(headline: str | TextView, body: str = BODY) -> Context:
    view = headline if isinstance(headline, TextView) else TextView("headline", headline)
    return Context(
        post=Post(headline=view.original, body=body),
        config=DEFAULT_CONFIG,
        headline=view,
        body=TextView("body", body),
    )


def _counts(rows: list[dict]) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for row in rows:
        text = row["headline"]
        expected = Counter((t, k) for t, k in row["markers"])
        found = Counter((text[f.start : f.end], f.kind) for f in find_markers(text))
        tp += sum((expected & found).values())
        fp += sum((found - expected).values())
        fn += sum((expected - found).values())
    return tp, fp, fn


def test_fixture_set_is_big_enough_and_mixed() -> None:
    assert len(ROWS) >= 50
    assert sum(1 for r in ROWS if not r["markers"]) >= 15
    kinds = {k for r in ROWS for _, k in r["markers"]}
    assert kinds == {"alarm_emoji", "prefix", "punctuation", "all_caps", "superlative", "loaded_label", "teaser"}


def test_marker_precision_and_recall_on_fixture_set() -> None:
    tp, fp, fn = _counts(ROWS)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.95, (precision, tp, fp)
    assert recall >= 0.95, (recall, tp, fn)


@pytest.mark.parametrize("split", sorted({r.get("split", "dev") for r in ROWS}))
def test_each_split_reaches_the_target(split: str) -> None:
    tp, fp, fn = _counts([r for r in ROWS if r.get("split", "dev") == split])
    assert tp / (tp + fp) >= 0.95 and tp / (tp + fn) >= 0.95


@pytest.mark.parametrize(
    "headline",
    [r["headline"] for r in ROWS if not r["markers"] and "acronym" in r.get("note", "")],
)
def test_acronyms_are_not_shouting(headline: str) -> None:
    assert find_markers(headline) == []


@pytest.mark.parametrize("headline", [r["headline"] for r in ROWS if not r["markers"] and "quot" in r.get("note", "")])
def test_quoted_speech_is_not_flagged(headline: str) -> None:
    assert find_markers(headline) == []


@pytest.mark.parametrize(
    ("word", "shouting"),
    [("NATO", False), ("FBI", False), ("WHO", False), ("II", False), ("LIED", True), ("NOT", True), ("TRUMP", True)],
)
def test_is_shouting(word: str, shouting: bool) -> None:
    assert is_shouting(word) is shouting


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("He said “no way” today", ["“no way”"]),
        ("Senator says probe is a 'witch hunt'", ["'witch hunt'"]),
        ("Don't touch the cartels' money", []),
        ('Crowd: "NO MORE WAR!" now', ['"NO MORE WAR!"']),
    ],
)
def test_quoted_ranges(text: str, quoted: list[str]) -> None:
    assert [text[s:e] for s, e in quoted_ranges(text)] == quoted


def test_every_marker_list_says_where_its_entries_come_from() -> None:
    names = sorted(p.stem for p in LEXICON_DIR.glob("markers_*.txt")) + ["acronyms"]
    assert len(names) >= 6
    for name in names:
        head = (LEXICON_DIR / f"{name}.txt").read_text(encoding="utf-8").splitlines()[:12]
        assert any(line.startswith("#") and "Source" in line for line in head), name
        assert len(lexicon(name)) >= 10


def test_seed_caption_after_deobfuscation_maps_spans_to_the_original() -> None:
    view = TextView("headline", SEED_CAPTION)
    zero = SEED_CAPTION.index("0")
    clean = view.apply([Replacement(zero, zero + 1, "o", "leetspeak", 0.9)])
    assert clean.clean.endswith("Narco Terrorist!")
    ctx = _context(clean)
    SensationalDetector(DEFAULT_CONFIG)(ctx)
    got = {(m.kind, m.span.text) for m in ctx.sensational.markers}
    assert {("alarm_emoji", "🚨"), ("prefix", "Update:"), ("loaded_label", "Narco Terr0rist")} <= got
    for m in ctx.sensational.markers:
        assert SEED_CAPTION[m.span.start : m.span.end] == m.span.text
    prob = ctx.sensational.clickbait_probability
    assert prob is not None and 0.0 <= prob <= 1.0


def test_seed_post_through_the_pipeline() -> None:
    headline, body = SEED.read_text(encoding="utf-8").split("\n", 1)
    # Only normalize, segment and this stage: the seed caption's markers must not depend on other models.
    report = Checker(skip={"evidence", "stance", "certainty", "sourcing", "match", "verdict"}).check(headline, body)
    kinds = {m.kind: m for m in report.sensational.markers}
    assert {"alarm_emoji", "prefix", "loaded_label"} <= set(kinds)
    assert kinds["loaded_label"].name == "narco terrorist"
    assert report.sensational.clickbait_probability is not None


def _stance(agree: float, discuss: float, disagree: float, unrelated: float) -> Stance:
    probs = StanceProbabilities(agree=agree, discuss=discuss, disagree=disagree, unrelated=unrelated)
    return Stance(label=probs.label(), probabilities=probs, model="test")


@pytest.mark.parametrize(
    ("stance", "label", "score", "flagged"),
    [
        (_stance(0.1, 0.8, 0.05, 0.05), "asserted", 0.9, True),
        (_stance(0.8, 0.1, 0.05, 0.05), "asserted", 0.9, False),
        (_stance(0.1, 0.8, 0.05, 0.05), "hedged", 0.3, False),
    ],
)
def test_unsupported_claim(stance: Stance, label: str, score: float, flagged: bool) -> None:
    ctx = _context("🚨Update: Air strikes will soon begin against Mexican Narco Terrorist!")
    ctx.stance = stance
    ctx.certainty = Certainty(
        headline=CertaintyScore(score=score, label=label), body=CertaintyScore(score=0.3), gap=score - 0.3
    )
    SensationalDetector(DEFAULT_CONFIG)(ctx)
    claims = [m for m in ctx.sensational.markers if m.kind == "unsupported_claim"]
    if flagged:
        assert [m.span.text for m in claims] == ["Air strikes will soon begin against Mexican Narco Terrorist!"]
    else:
        assert claims == []


def test_clickbait_probability_orders_obvious_cases() -> None:
    bait, news = clickbait_probabilities(
        ["17 Things Only '90s Kids Will Remember", "Senate Passes Budget Bill After Late-Night Vote"]
    )
    assert bait > 0.5 > news
    assert clickbait_probabilities([]) == []


def test_one_at_a_time_scoring_matches_the_sklearn_pipeline() -> None:
    headlines = [r["headline"] for r in ROWS] + ["", "!!!", "Which Pizza Topping Are You"]
    model = load_artifact("clickbait")
    expected = model.predict_proba(headlines)[:, 1]
    one_by_one = [clickbait_probabilities([h])[0] for h in headlines]
    assert one_by_one == pytest.approx(expected.tolist(), abs=1e-4)
    assert clickbait_probabilities(headlines) == pytest.approx(expected.tolist(), abs=1e-4)
