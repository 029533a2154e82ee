"""The verdict on posts written for issue 20 before the learned verdict existed: labels and reason codes.

``tests/fixtures/verdict_cases.jsonl`` holds posts in named styles (correlation sold as causation, an
inflated number, a debunk, a hedged headline over a hedged body, a named official's quote, a paraphrase,
a plan sold as a decision, unnamed sources only, a long article with the decisive sentence deep inside,
an unrelated body, a too-short body, a non-English body). Each carries its gold verdict, the reason codes
a correct decision must rest on, and one sentence (``why``) on how the label follows from
``VERDICT_DEFINITIONS``. The labels were written from the definitions alone, not from the checker's
output, so the accuracy test measures the verdict rather than repeating it. Two styles carry one more
key: ``long_deep`` posts have ``decisive_sentence``, the 0-based index (in :func:`sentences`' split) of
the sentence that confirms or denies the claim; ``number_inflated`` posts have ``numbers``, the
headline's figure and the body's figure for the same thing.

The schema tests check the fixture itself (they hold whatever the verdict does). The other tests run
the whole pipeline (default profile) over every case.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from tests.conftest import SHARED_DATA, load_jsonl

CASES: list[dict[str, Any]] = load_jsonl("verdict_cases.jsonl")
BY_ID = {c["id"]: c for c in CASES}

VERDICTS = ("supported", "overstated", "contradicted", "unrelated", "cannot_judge")

# The reason codes a case may require, by the gold label they argue for (issue 20's catalogue).
REASONS_BY_LABEL: dict[str, frozenset[str]] = {
    "supported": frozenset({"backs", "hedged_headline", "numbers_match", "named_sources"}),
    "overstated": frozenset(
        {"discusses", "certainty_gap", "hedged_body", "stronger_relation", "number_mismatch", "anonymous_sources",
         "asserted_headline"}
    ),
    "contradicted": frozenset({"contradicted", "refutation_cue"}),
    "unrelated": frozenset({"unrelated"}),
    "cannot_judge": frozenset({"too_short", "not_english", "not_confident"}),
}
# Codes that inform but never decide: they may come with any label.
INFORMATIONAL = frozenset({"sensational", "disguised_words", "fact_checked"})
CATALOGUE = frozenset().union(*REASONS_BY_LABEL.values()) | INFORMATIONAL

STYLES = (
    "correlation_as_causation",
    "number_inflated",
    "debunk",
    "hedged_over_hedged",
    "named_quote_backs",
    "paraphrase",
    "considering_as_will",
    "anonymous_only",
    "long_deep",
    "unrelated",
    "too_short",
    "not_english",
)
MIN_POSTS_PER_STYLE = 6
KEYS = {"id", "style", "gold", "reasons", "headline", "body", "why"}

# Styles the verdict must decide by rule, before any model: a body too short to judge or not in English
# is `cannot_judge`.
RULE_DECIDED_STYLES = ("too_short", "not_english")
RULE_DECIDED = [c for c in CASES if c["style"] in RULE_DECIDED_STYLES]

# Issue 20's bar for the verdict on these cases (the formula verdict of 403aa11, which had no
# cannot_judge, scored 0.57 here; the learned verdict 0.72 when this was written).
MIN_ACCURACY = 0.70

# A too-short body has fewer words than this (the fixtures' too_short bodies have 1 to 6).
SHORT_BODY_WORDS = 8
# The deep decisive sentence of a long_deep post comes at this 0-based sentence index or later.
DEEP_SENTENCE_INDEX = 20

# English function words that are not also common words in Spanish, French, German or Portuguese
# (so no "a", "in", "die", "will", "so", "no", "de"): a body in those languages has almost none of them.
ENGLISH_STOP_WORDS = frozenset(
    "the and of to is was that with for this are were have has from by which said they their been would "
    "after about it its on at be who what there".split()
)
# At most this share of a non-English body's words may be English stop words (the fixture's have none);
# every English body of the fixture has at least MIN_ENGLISH_STOP_SHARE (the lowest measured is 21%).
MAX_FOREIGN_STOP_SHARE = 0.03
MIN_ENGLISH_STOP_SHARE = 0.15

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"”])\s+")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def sentences(text: str) -> list[str]:
    """Split on sentence-final punctuation (optionally closing a quote) followed by space."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def stop_share(text: str) -> float:
    words = [w.lower() for w in _WORD.findall(text)]
    return sum(w in ENGLISH_STOP_WORDS for w in words) / max(1, len(words))


def case_ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for c in cases]


# ------------------------------------------------------------------ the fixture itself
def test_cases_have_the_keys_unique_ids_and_a_gold_verdict() -> None:
    assert len(CASES) >= 72
    assert len(BY_ID) == len(CASES), [i for i, n in Counter(case_ids(CASES)).items() if n > 1]
    for c in CASES:
        assert KEYS <= set(c), (c.get("id"), KEYS - set(c))
        assert c["gold"] in VERDICTS, c["id"]
        assert c["style"] in STYLES, c["id"]
        assert c["headline"].strip() and c["body"].strip() and c["why"].strip(), c["id"]
        assert len(sentences(c["why"])) == 1, c["id"]


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_required_reasons_are_catalogued_and_argue_for_the_gold_label(case: dict[str, Any]) -> None:
    codes = case["reasons"]
    assert codes and len(codes) == len(set(codes)), codes
    assert set(codes) <= CATALOGUE, set(codes) - CATALOGUE
    assert set(codes) <= REASONS_BY_LABEL[case["gold"]] | INFORMATIONAL, (case["gold"], codes)
    assert set(codes) - INFORMATIONAL, "a case must require at least one deciding code"


def test_every_style_has_enough_cases_and_every_label_is_covered() -> None:
    per_style = Counter(c["style"] for c in CASES)
    assert {s: n for s, n in per_style.items() if n < MIN_POSTS_PER_STYLE} == {}
    assert set(per_style) == set(STYLES)
    per_label = Counter(c["gold"] for c in CASES)
    # Roughly balanced: no label under 10% or over 35% of the cases.
    assert all(0.10 <= per_label[v] / len(CASES) <= 0.35 for v in VERDICTS), per_label


# Each style's gold label(s), from issue 20's list of styles.
STYLE_LABELS = {
    "correlation_as_causation": {"overstated"},
    "number_inflated": {"overstated"},
    "debunk": {"contradicted"},
    "hedged_over_hedged": {"supported"},
    "named_quote_backs": {"supported"},
    "paraphrase": {"supported"},
    "considering_as_will": {"overstated"},
    "anonymous_only": {"overstated"},
    "long_deep": {"supported", "contradicted"},
    "unrelated": {"unrelated"},
    "too_short": {"cannot_judge"},
    "not_english": {"cannot_judge"},
}


@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
def test_each_case_is_written_in_its_style(case: dict[str, Any]) -> None:
    style, body, headline = case["style"], case["body"], case["headline"]
    assert case["gold"] in STYLE_LABELS[style]
    n = len(sentences(body))
    if style == "too_short":
        assert len(body.split()) < SHORT_BODY_WORDS
        return
    if style == "long_deep":
        k = case["decisive_sentence"]
        assert isinstance(k, int) and k >= DEEP_SENTENCE_INDEX
        assert 25 <= n <= 40 and n > k, n
    else:
        assert "decisive_sentence" not in case
        assert 4 <= n <= 12, n
    if style == "not_english":
        assert stop_share(body) <= MAX_FOREIGN_STOP_SHARE, stop_share(body)
    else:
        assert stop_share(body) >= MIN_ENGLISH_STOP_SHARE, stop_share(body)
    if style == "correlation_as_causation":
        assert re.search(r"\b(causes?|CAUSE|prevents?|cures?|cuts|lowers|makes you)\b", headline), headline
        assert re.search(r"\b(associat\w+|linked|link|correlation)\b", body), body
    if style == "number_inflated":
        claimed, reported = case["numbers"]
        assert claimed in headline and claimed not in body
        assert reported in body and reported not in headline


def test_long_deep_decisive_sentences_carry_the_decision_words() -> None:
    """The sentence named decisive is the confirmation or denial: it holds a deciding word ("upheld",
    "false", "negative" ...), and no sentence before it holds that word."""
    decisive_words = re.compile(r"\b(upheld|voted|recovered|false|negative|no plan|centuries after)\b")
    for c in (c for c in CASES if c["style"] == "long_deep"):
        parts = sentences(c["body"])
        found = decisive_words.findall(parts[c["decisive_sentence"]])
        assert found, (c["id"], parts[c["decisive_sentence"]])
        earlier = " ".join(parts[: c["decisive_sentence"]])
        assert not any(re.search(rf"\b{re.escape(w)}\b", earlier) for w in found), c["id"]


# ------------------------------------------------------------------ the pipeline on the cases
@pytest.fixture(scope="module")
def case_reports(checker) -> dict[str, Any]:
    """One report per case, from the shared default Checker (the same as ``overclaim.check``)."""
    return {c["id"]: checker.check(c["headline"], c["body"], id=c["id"]) for c in CASES}


@pytest.mark.parametrize("case", RULE_DECIDED, ids=case_ids(RULE_DECIDED))
def test_rule_decided_cases(checker, case: dict[str, Any]) -> None:
    report = checker.check(case["headline"], case["body"])
    codes = [r.code for r in report.verdict.reasons]
    assert report.verdict.label == "cannot_judge", (report.verdict.label, codes)
    assert set(case["reasons"]) <= set(codes), codes


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows)


def test_verdict_accuracy_on_the_cases(case_reports) -> None:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    gold = [c["gold"] for c in CASES]
    pred = [case_reports[c["id"]].verdict.label for c in CASES]
    accuracy = accuracy_score(gold, pred)
    macro_f1 = f1_score(gold, pred, labels=list(VERDICTS), average="macro", zero_division=0)

    rows = [["style", "n", "right", "accuracy", "predicted"]]
    for style in STYLES:
        idx = [i for i, c in enumerate(CASES) if c["style"] == style]
        right = sum(gold[i] == pred[i] for i in idx)
        got = Counter(pred[i] for i in idx)
        rows.append([style, str(len(idx)), str(right), f"{right / len(idx):.2f}",
                     ", ".join(f"{k} {v}" for k, v in got.most_common())])
    matrix = confusion_matrix(gold, pred, labels=list(VERDICTS))
    confusion = [["gold \\ predicted", *VERDICTS]] + [
        [g, *(str(n) for n in row)] for g, row in zip(VERDICTS, matrix, strict=True)
    ]
    wrong = [f"{c['id']}: gold {g}, got {p}" for c, g, p in zip(CASES, gold, pred, strict=True) if g != p]
    summary = (
        f"accuracy {accuracy:.3f}, macro-F1 {macro_f1:.3f} on {len(CASES)} cases\n\n"
        f"{_table(rows)}\n\n{_table(confusion)}\n\nwrong:\n" + "\n".join(wrong)
    )
    print(summary)
    assert accuracy >= MIN_ACCURACY, summary


@pytest.mark.xfail(
    reason="not met: of the 58 cases called right, 12 lack a required code, because the claim-strength and "
    "numbers stages miss the finding (a causal headline read as correlational, 10,000 vs 9,600 read as a match) "
    "or the verdict model learned little from it (hedged headlines); see CHANGELOG, issue 20",
    strict=False,
    raises=AssertionError,
)
def test_required_reasons_appear_when_the_label_is_right(case_reports) -> None:
    failures = []
    for c in CASES:
        verdict = case_reports[c["id"]].verdict
        if verdict.label != c["gold"]:
            continue
        codes = [r.code for r in verdict.reasons]
        missing = [code for code in c["reasons"] if code not in codes]
        if missing:
            failures.append(f"{c['id']} ({c['gold']}): missing {missing}, reasons {codes}")
    print("\n".join(failures))
    assert failures == []


def test_no_reason_argues_against_its_label(case_reports) -> None:
    try:
        from overclaim.stages.verdict import REASON_LABELS
    except ImportError:
        pytest.skip("overclaim.stages.verdict.REASON_LABELS (reason code -> labels it may support) "
                    "does not exist yet: issue 20 adds it")
    assert set(REASON_LABELS) >= CATALOGUE, f"codes missing from REASON_LABELS: {CATALOGUE - set(REASON_LABELS)}"
    for code in INFORMATIONAL:
        assert REASON_LABELS[code] == frozenset(VERDICTS), code
    for label, codes in REASONS_BY_LABEL.items():
        for code in codes:
            assert label in REASON_LABELS[code], (code, label)
    failures = []
    for c in CASES:
        verdict = case_reports[c["id"]].verdict
        for r in verdict.reasons:
            if r.code not in CATALOGUE or r.code not in REASON_LABELS:
                failures.append(f"{c['id']}: {r.code!r} is not a catalogued reason code")
            elif verdict.label not in REASON_LABELS[r.code] or r.code not in (
                REASONS_BY_LABEL[verdict.label] | INFORMATIONAL
            ):
                failures.append(f"{c['id']}: {r.code!r} argues against {verdict.label}: {r.text}")
            elif _text_argues_against(r.code, r.text):
                failures.append(f"{c['id']}: {r.code!r}'s figures argue against it: {r.text}")
    print("\n".join(failures))
    assert failures == []


def _text_argues_against(code: str, text: str) -> bool:
    """Whether a reason's own figures contradict what its code says (\"confirms it (entails 9%)\")."""
    import re as _re

    figures = _re.finditer(r"\b(entails|contradicts|agree|discuss|disagree) (\d+)%", text)
    pct = {m.group(1): int(m.group(2)) for m in figures}
    if code == "backs":
        return pct.get("entails", 100) < 50 or pct.get("agree", 100) < pct.get("discuss", 0)
    if code == "contradicted":
        return pct.get("contradicts", 100) < 50 or (
            "disagree" in pct and pct["disagree"] < max(pct.get("agree", 0), pct.get("discuss", 0))
        )
    if code == "discusses":
        return "discuss" in pct and pct["discuss"] < pct.get("agree", 0)
    if code == "stronger_relation":
        order = ["none", "correlational", "conditional causal", "direct causal"]
        found = _re.findall(r"\((none|correlational|conditional causal|direct causal)", text)
        return len(found) == 2 and order.index(found[0]) <= order.index(found[1])
    return False


FNC_TEST = SHARED_DATA / "fnc1" / "competition_test_stances.csv"


@pytest.mark.skipif(not FNC_TEST.exists(), reason="needs ../shared/data/fnc1")
def test_no_reason_argues_against_its_label_on_fnc_test_posts(checker) -> None:
    """The same property over 400 FNC-1 competition test posts (every 60th pair), news the cases do not cover."""
    from overclaim.report import Post
    from overclaim.stages.verdict import REASON_LABELS
    from overclaim.training import fnc

    data = fnc.load(FNC_TEST, SHARED_DATA / "fnc1" / "competition_test_bodies.csv")
    pairs = data.pairs[::60][:400]
    reports = checker.check_many([Post(headline=p.headline, body=data.bodies[p.body_id]) for p in pairs])
    labels = Counter(r.verdict.label for r in reports)
    assert len(labels) >= 3, labels  # the property is tested across several verdicts, not one
    failures = [
        f"{p.line}: {r.code!r} argues against {rep.verdict.label}: {r.text}"
        for p, rep in zip(pairs, reports, strict=True)
        for r in rep.verdict.reasons
        if rep.verdict.label not in REASON_LABELS.get(r.code, frozenset())
        or r.code not in REASONS_BY_LABEL[rep.verdict.label] | INFORMATIONAL
        or _text_argues_against(r.code, r.text)
    ]
    assert failures == [], "\n".join(failures[:20])
    assert all(rep.verdict.reasons for rep in reports)
