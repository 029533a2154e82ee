"""Sensational stage: markers on a hand-written fixture set, spans, quotes, the clickbait probability."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# ---------------------------------------------------------------------------- issue 19: linear time
# The code before the fix, copied verbatim: the reference the linear versions must agree with.
_OLD_SENTENCE_END_RE = re.compile(r"[.!?！？…]+[\"”’')\]]*\s+")
_OLD_POSSESSIVE_BEFORE_RE = re.compile(r"\w['’]s\s+$")
_OLD_OF_NAME_AFTER_RE = re.compile(r"^\s+of\s+(?:the\s+)?[A-Z]")
_OLD_PAIRS = {"“": "”", "«": "»", "„": "“", "‘": "’", '"': '"', "'": "'"}


def _old_quoted_ranges(text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        closer = _OLD_PAIRS.get(c)
        if closer is None:
            i += 1
            continue
        single = c in "‘'"
        if single and not (i == 0 or text[i - 1].isspace() or text[i - 1] in "([{—–-:\"“"):
            i += 1
            continue
        if i + 1 >= n or text[i + 1].isspace():
            i += 1
            continue
        j = i + 1
        found = -1
        while j < n:
            d = text[j]
            if d == closer or (closer == "’" and d == "'") or (closer == "'" and d == "’"):
                if not single:
                    found = j
                    break
                after_ok = j + 1 >= n or not text[j + 1].isalnum()
                if after_ok and not text[j - 1].isspace():
                    found = j
                    break
            j += 1
        if found < 0:
            i += 1
            continue
        out.append((i, found + 1))
        i = found + 1
    return out


def _old_inside(ranges, start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in ranges)


def _old_literal_invasion(text: str, start: int, end: int) -> bool:
    return bool(_OLD_OF_NAME_AFTER_RE.match(text[end:]) or _OLD_POSSESSIVE_BEFORE_RE.search(text[:start]))


def _old_find_markers(text: str) -> list:
    from overclaim.stages import sensational as s

    prefixes = s.find_prefixes(text)
    unprefixed = text
    for p in prefixes:
        unprefixed = unprefixed[: p.start] + " " * (p.end - p.start) + unprefixed[p.end :]
    found = prefixes + s.find_alarm_emoji(text) + s.find_teasers(text) + s.find_loaded_labels(text)
    found += s.find_superlatives(text) + s.find_all_caps(unprefixed) + s.find_punctuation(text)
    quotes = _old_quoted_ranges(text)
    out: list = []
    seen: set = set()
    for f in found:
        if f.kind != "prefix" and _old_inside(quotes, f.start, f.end):
            continue
        if f.kind in ("all_caps", "superlative", "punctuation") and any(
            p.start <= f.start and f.end <= p.end for p in prefixes
        ):
            continue
        key = (f.start, f.end, f.kind)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return sorted(out, key=lambda f: (f.start, s.KINDS.index(f.kind)))


def _agree_with_old(text: str) -> None:
    from unittest import mock

    from overclaim.stages import sensational as s

    assert quoted_ranges(text) == _old_quoted_ranges(text), text
    for m in re.finditer(r"(?i)invasion", text):
        for start, end in ((m.start(), m.end()), (m.start(), m.start()), (m.end(), m.end())):
            assert s._literal_invasion(text, start, end) == _old_literal_invasion(text, start, end), text
    new_markers, new_last = find_markers(text), s.last_sentence(text)
    with mock.patch.object(s, "_literal_invasion", _old_literal_invasion), \
            mock.patch.object(s, "_SENTENCE_END_RE", _OLD_SENTENCE_END_RE):  # fmt: skip
        assert new_markers == _old_find_markers(text), text
        assert new_last == s.last_sentence(text), text


def test_linear_markers_agree_with_the_old_code_on_real_text() -> None:
    """Emergent, clickbait and FNC-1 headlines and 2,000 FNC-1 body sentences: the same markers and last sentence."""
    from tests.training.test_headline_certainty import real_texts

    texts = real_texts()
    if len(texts) < 10_000:
        pytest.skip("needs the shared Emergent, clickbait and FNC-1 data")
    for text in texts:
        _agree_with_old(text)


_MARKER_WORDS = [
    "invasion", "Invasion", "Russia's", "Russia’s", "it's", "of", "the", "Ukraine", "BREAKING", "Update",
    "WOW", "SHOCKING", "JUST IN", "worst", "ever", "regime", "Terr0rist", "you won't believe", "this is why",
    "17 things", "a*", "a.", "NOT", "FBI", "🚨", "‼️",
]  # fmt: skip
_MARKER_MARKS = list("“”«»„‘’'\"!?！？….:-–—|([{ \t\n\u00a0") + ["", " ", "  ", "!!", "?!"]
_marker_text = st.lists(st.one_of(st.sampled_from(_MARKER_WORDS), st.sampled_from(_MARKER_MARKS)), max_size=30)


@settings(max_examples=700, deadline=None)
@given(st.one_of(_marker_text.map("".join), _marker_text.map(" ".join), st.text(max_size=40)))
def test_linear_markers_agree_with_the_old_code_on_generated_text(text: str) -> None:
    _agree_with_old(text)


class _TooSlow(Exception):
    pass


# Shapes that were quadratic in the headline's length: an unclosed quote mark repeated (quoted_ranges
# scanned to the end from each), "invasion" repeated (the possessive check searched the text before
# each), a long run of "." (the sentence-end regex backtracked from each mark), quotes and markers
# interleaved (each marker was checked against each quote). At 200k characters, well past the 2,000
# a headline is cut to, the old code took minutes; the guard is a hang detector with a wide margin,
# not a speed target (those are in benchmarks/adversarial.py).
HANG_SECONDS = 20


@pytest.mark.parametrize(
    ("text", "marker_kinds"),
    [
        pytest.param("“a" * 100_000, set(), id="unclosed-curly-quotes"),
        pytest.param(" 'a" * 66_000, set(), id="unclosed-single-quotes"),
        pytest.param("invasion " * 22_000, {"loaded_label"}, id="invasion-run"),
        pytest.param("Russia's invasion " * 11_000, set(), id="possessive-invasion"),
        pytest.param("." * 200_000 + "a", set(), id="dot-run"),
        pytest.param('"a" !' * 40_000, {"punctuation"}, id="quotes-and-markers"),
    ],
)
def test_adversarial_headlines_pass_the_marker_finders(text: str, marker_kinds: set[str]) -> None:
    import signal

    from overclaim.stages.sensational import last_sentence

    def stop(*_: object) -> None:
        raise _TooSlow(f"the marker finders took over {HANG_SECONDS} s on {len(text):,} characters")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(HANG_SECONDS)
    try:
        markers = find_markers(text)
        last = last_sentence(text)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert {m.kind for m in markers} == marker_kinds
    assert last is None or last[1] == len(text.rstrip())


@pytest.mark.parametrize(
    "headline", ["Mexico confirms troops deployed to northern border", "Mexico confirms troops deployed to border. "]
)
def test_a_plain_headline_is_never_quoted_whole_as_a_marker(headline: str) -> None:
    ctx = _context(headline)
    ctx.stance = _stance(0.1, 0.8, 0.05, 0.05)  # the body only discusses it
    ctx.certainty = Certainty(
        headline=CertaintyScore(score=0.9, label="asserted"), body=CertaintyScore(score=0.3), gap=0.6
    )
    SensationalDetector(DEFAULT_CONFIG)(ctx)
    assert ctx.sensational.markers == []
