"""Sourcing: the PolNeAR-trained tagger on hand-written news text, speaker classes, grouping, the seed post."""

from __future__ import annotations

import pytest
from conftest import load_jsonl

from overclaim.stages.sourcing import classify, score_attributions
from overclaim.training.sourcing import run_stage, score_speakers

CASES = load_jsonl("attributions.jsonl")
HOLDOUT = load_jsonl("attributions_holdout.jsonl")
# Written for the PolNeAR rebuild (issue 21) before its class rules were last changed; see the
# report of that change for the figures first seen. The second file was written in the styles
# before the stage was run on it (first seen: micro precision and recall 0.79; the rule fixes that
# followed are general ones, listed in that change's report).
SPEAKERS = load_jsonl("speaker_classes.jsonl") + load_jsonl("speaker_classes_2.jsonl")


def test_speaker_fixture_is_varied_and_large() -> None:
    assert sum(len(c["speakers"]) for c in SPEAKERS) >= 60
    styles = {c["style"] for c in SPEAKERS}
    assert {"science", "wire", "press", "quote_before", "quote_after", "pronoun", "repeated"} <= styles
    kinds = {s["kind"] for c in SPEAKERS for s in c["speakers"]}
    assert {"named_person", "named_organization", "document", "anonymous", "pronoun"} <= kinds


def test_speaker_class_precision_and_recall() -> None:
    result = score_speakers(SPEAKERS)
    assert result["precision"] >= 0.90, result["errors"]
    assert result["recall"] >= 0.90, result["errors"]
    for kind in ("named_person", "named_organization", "document", "anonymous", "pronoun"):
        figures = result["per_class"][kind]
        assert figures["precision"] >= 0.90 and figures["recall"] >= 0.90, (kind, figures, result["errors"])


@pytest.mark.parametrize("figure", ["speaker_precision", "speaker_recall", "named_precision", "named_recall",
                                    "anonymous_precision", "anonymous_recall"])
def test_handwritten_attribution_sets(figure: str) -> None:
    # The rule-based stage was built on these and scored 0.90-1.0; the learned tagger was not,
    # and its spans follow PolNeAR's guidelines, so the bar is the 0.80 for spans.
    assert score_attributions(CASES + HOLDOUT)[figure] >= 0.80


@pytest.mark.parametrize(
    ("speaker", "kind"),
    [
        ("a U.S. official familiar with the issue", "anonymous"),
        ("people familiar with the matter", "anonymous"),
        ("Sources", "anonymous"),
        ("the consulting firm Lantia Intelligence", "named_organization"),
        ("a White House statement", "document"),
        ("A study published in The Lancet", "document"),
        ("Reuters", "outlet"),
        ("Defense Secretary Pete Hegseth", "named_person"),
        ("Mayo Clinic researchers", "named_organization"),
        ("he", "pronoun"),
        ("This", "pronoun"),
        ("the researchers", "pronoun"),
        ("Participants", "anonymous"),
        ("a spokesperson", "anonymous"),
        ("Jane Doe, chief executive of Acme", "named_person"),
    ],
)
def test_classify(speaker: str, kind: str) -> None:
    assert classify(speaker) == kind


@pytest.mark.parametrize("text", ["Our findings suggest that sleep matters.", "63 percent of teens reported stress.",
                                  "Financial losses mounted as the year went on."])
def test_findings_and_numbers_are_not_sources(text: str) -> None:
    assert run_stage(text).attributions == []


def test_repeated_name_is_one_source() -> None:
    src = run_stage('"Rates will stay high," Jerome Powell said on Wednesday. Powell told reporters the economy '
                    "was strong.")
    people = [s for s in src.sources if s.kind == "named_person"]
    assert len(people) == 1
    assert people[0].count == len(src.attributions) >= 2
    assert src.named == 1


def test_pronoun_resolved_and_never_named_alone() -> None:
    src = run_stage("Bernie Sanders took the stage in Iowa. He said the system was rigged.")
    (att,) = [a for a in src.attributions if a.speaker.text == "He"]
    assert att.kind == "pronoun"
    assert att.antecedent is not None and att.antecedent.text == "Bernie Sanders"
    assert src.sources[att.source].kind == "named_person"
    alone = run_stage("He said the system was rigged.")
    assert [a.kind for a in alone.attributions] == ["pronoun"]
    assert (alone.named, alone.anonymous, alone.unresolved) == (0, 0, 1)


def test_anonymous_share_is_over_speakers() -> None:
    # one named speaker quoted three times, one anonymous speaker once: half the speakers are anonymous
    src = run_stage("Mayor Ann Lee said the bridge was safe. Lee said it would reopen. Lee said tolls would fall. "
                    "Officials said the repairs were late.")
    assert (src.named, src.anonymous) == (1, 1)
    assert src.anonymous_share == 0.5


@pytest.mark.parametrize("fmt", ["terminal", "json", "markdown", "html"])
def test_every_source_rendered_grouped_with_counts(fmt: str) -> None:
    import json

    from overclaim import check
    from overclaim.render import render

    names = ["Ann Lee", "Bob Stone", "Carla Diaz", "Dan Wu", "Eve Park", "Frank Moss", "Gina Ray", "Hal Ford",
             "Ida Bell", "Jon Cole", "Kim Ames"]
    body = (" ".join(f"{n} said the plan would work." for n in names) + " Ann Lee said it again."
            " Officials said the plan was late. A city report said the costs had doubled.")
    report = check("The plan will work", body)
    lines = report.sourcing.speaker_lines()
    for n in names:
        assert sum(line.startswith(n) for line in lines) == 1, (n, lines)
    assert any(line.startswith("Ann Lee") and "2 attributions" in line for line in lines)
    src = report.sourcing
    assert (src.named, src.documents, src.anonymous) == (len(names), 1, 1)
    text = render(report, fmt)
    if fmt == "json":
        rendered = json.loads(text)["sourcing"]
        assert [s["name"] for s in rendered["sources"]] == [s.name for s in src.sources]
        assert (rendered["named"], rendered["documents"], rendered["anonymous"]) == (len(names), 1, 1)
        return
    flat = " ".join(text.split())  # the terminal wraps lines
    assert all(n in flat for n in names), flat
    assert f"{len(names)} named, 1 document, 1 anonymous" in flat


def test_long_repeated_cue_bodies_finish() -> None:
    # issue 19 item 10: these shapes were quadratic; the CRF path is linear (benchmarks/sourcing_speed.py times them)
    for body in ("said " * 13000, "according to " * 5000):
        run_stage(body)


def _crfsuite_paths(words: list[list[str]]) -> list[list[str]]:
    from overclaim.stages.sourcing import tagger

    tg = tagger()
    return [list(tg._crf.tag(tg.featurize(w))) if w else [] for w in words]


def test_fast_viterbi_gives_crfsuites_paths() -> None:
    # The stage decodes with numpy (FastViterbi, for speed); its tags must be crfsuite's own Viterbi's,
    # on real text with straight, curly and unbalanced quotes, one-token and empty sentences.
    from overclaim.stages.segment import TOKEN_RE
    from overclaim.stages.sourcing import tagger

    texts = [c["text"] for c in CASES + HOLDOUT + SPEAKERS]
    texts += ['"We will not," he said. "Never."', "“Yes,” she said, “and no.", 'He said "so', "said", "", "—"]
    words = [[m.group() for m in TOKEN_RE.finditer(t)] for t in texts]
    assert tagger()._viterbi.tag(words) == _crfsuite_paths(words)


def test_fast_viterbi_mixed_lengths() -> None:
    # One long sentence among short ones takes the length-bucketed path (padding would be quadratic).
    from overclaim.stages.sourcing import tagger

    long = ("Officials said that Reuters reported , according to a statement , " * 40).split()
    words = [long] + [["He", "said", "so", "."]] * 30 + [["“", "No", ",", "”", "Smith", "told", "AP", "."]]
    assert max(map(len, words)) * len(words) > 4 * sum(map(len, words))  # the bucketed path
    assert tagger()._viterbi.tag(words) == _crfsuite_paths(words)


def test_seed_post_speakers(seed_report) -> None:
    src = seed_report.sourcing
    by_kind: dict[str, list[str]] = {}
    for a in src.attributions:
        by_kind.setdefault("anonymous" if a.kind == "anonymous" else "named", []).append(a.speaker.text)
        assert seed_report.post.body[a.speaker.start : a.speaker.end] == a.speaker.text
    anonymous = by_kind["anonymous"]
    assert anonymous[:5] == [
        "current and former U.S. officials",
        "a U.S. official familiar with the issue",
        "Defense officials",
        "two people familiar with the matter",
        "a U.S. official",
    ]
    assert anonymous[5].startswith("Some former U.S. officials")
    # The six anonymous and two named sources of the issue; the White House statement is a document (its
    # own class, not a name), and "Trump has blasted Mexico for ..." is Trump's (PolNeAR annotates
    # criticism as attribution).
    named = {s.name for s in src.sources if s.kind in ("named_person", "named_organization", "outlet")}
    assert named == {"the consulting firm Lantia Intelligence", "Trump"}
    assert [s.name for s in src.sources if s.kind == "document"] == ["a White House statement in March"]
    told = next(a for a in src.attributions if a.cue.text == "told")
    assert told.speaker.text == "a U.S. official"
    assert (src.anonymous, src.named, src.documents, src.unresolved) == (6, 2, 1, 0)
    assert src.anonymous_share == round(6 / 9, 4)
    assert src.evidence_anonymous_share > 0.5
    assert any(e.anonymous_source for e in seed_report.evidence)


def test_stage_restores_the_garbage_collector() -> None:
    # The stage pauses the cyclic GC while it runs (speed on long bodies); the caller's setting comes back.
    import gc

    assert gc.isenabled()
    run_stage("Officials said the plan was dead. “No,” he said.")
    assert gc.isenabled()
    gc.disable()
    try:
        run_stage("Officials said the plan was dead.")
        assert not gc.isenabled()
    finally:
        gc.enable()
