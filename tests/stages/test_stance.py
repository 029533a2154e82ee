"""The stance stage on real posts, odd inputs, and a missing artifact."""

from __future__ import annotations

from pathlib import Path

import pytest

from overclaim import resources
from overclaim.config import DEFAULT_CONFIG
from overclaim.errors import ModelError
from overclaim.pipeline import Checker, Context
from overclaim.report import Post
from overclaim.stages.evidence import EvidenceRanker
from overclaim.stages.normalize import Normalizer
from overclaim.stages.segment import Segmenter
from overclaim.stages.stance import StanceDetector
from overclaim.text import TextView

pytestmark = pytest.mark.skipif(
    not (resources.artifact_dir("stance") / "model.pkl.zlib").exists(), reason="stance model not built"
)

SEED = Path(__file__).resolve().parents[2] / "examples" / "seed_post.txt"

SPIDER_BODY = (
    "A story claiming that a spider burrowed into a tourist's stomach and crawled up into his chest has been "
    "exposed as a hoax. Doctors at the hospital said no such patient was treated. The report first appeared on "
    "a satirical website and is completely fake, police said."
)
MEXICO_BODY = (
    "Officials are evaluating plans for possible air strikes against drug cartels in Mexico, according to two "
    "people familiar with the discussions. The plans are potentially unlikely to get approval, one official said. "
    "No decision has been made, the sources said."
)
FOOTBALL_BODY = (
    "The home side won the cup final 3-1 on Saturday after two late goals from their captain. The manager "
    "praised the defence and said the squad would celebrate with fans on Sunday."
)


@pytest.fixture(scope="module")
def detector() -> StanceDetector:
    return StanceDetector(DEFAULT_CONFIG)


def _context(headline: str, body: str) -> Context:
    ctx = Context(
        post=Post(headline=headline, body=body),
        config=DEFAULT_CONFIG,
        headline=TextView("headline", headline[: DEFAULT_CONFIG.max_headline_chars]),
        body=TextView("body", body[: DEFAULT_CONFIG.max_body_chars]),
    )
    for stage in (Normalizer(DEFAULT_CONFIG), Segmenter(DEFAULT_CONFIG), EvidenceRanker(DEFAULT_CONFIG)):
        stage(ctx)
    return ctx


def _run(detector: StanceDetector, headline: str, body: str) -> Context:
    ctx = _context(headline, body)
    detector(ctx)
    return ctx


def test_probabilities_sum_to_one_and_label_is_argmax(detector: StanceDetector) -> None:
    ctx = _run(detector, "Air strikes will soon begin against Mexican cartels", MEXICO_BODY)
    assert ctx.stance is not None
    p = ctx.stance.probabilities
    assert p.agree + p.disagree + p.discuss + p.unrelated == pytest.approx(1.0, abs=1e-3)
    assert ctx.stance.label == p.label()
    assert ctx.stance.model.startswith("stance-")


@pytest.mark.parametrize(
    ("headline", "body", "related"),
    [
        ("Air strikes will soon begin against Mexican cartels", MEXICO_BODY, True),
        ("Spider burrowed through tourist's stomach and up into his chest", SPIDER_BODY, True),
        ("Spider burrowed through tourist's stomach and up into his chest", FOOTBALL_BODY, False),
        ("Air strikes will soon begin against Mexican cartels", FOOTBALL_BODY, False),
    ],
)
def test_related_or_unrelated(detector: StanceDetector, headline: str, body: str, related: bool) -> None:
    ctx = _run(detector, headline, body)
    assert ctx.stance is not None
    assert (ctx.stance.label != "unrelated") is related


def test_hoax_body_leans_to_disagree(detector: StanceDetector) -> None:
    ctx = _run(detector, "Spider burrowed through tourist's stomach and up into his chest", SPIDER_BODY)
    assert ctx.stance is not None
    p = ctx.stance.probabilities
    assert p.disagree > p.agree


def test_every_evidence_sentence_gets_a_stance(detector: StanceDetector) -> None:
    ctx = _run(detector, "Spider burrowed through tourist's stomach and up into his chest", SPIDER_BODY)
    assert ctx.evidence
    for item in ctx.evidence:
        assert item.stance is not None
        total = item.stance.agree + item.stance.disagree + item.stance.discuss + item.stance.unrelated
        assert total == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(
    "body",
    [
        "...",
        "Yes.",
        "Die Regierung prüft Pläne für Luftangriffe, eine Entscheidung gibt es noch nicht. " * 20,
        "Air strikes Mexico cartels evaluating plans officials. " * 20_000,  # about 1 MB
    ],
    ids=["dots", "one-word", "german", "1MB"],
)
def test_odd_bodies_do_not_crash(detector: StanceDetector, body: str) -> None:
    ctx = _run(detector, "Air strikes will soon begin against Mexican cartels", body)
    assert ctx.stance is not None
    if len(body) < 10:
        assert ctx.stance.label == "unrelated" or ctx.too_short


GERMAN_BODY = "Die Regierung prüft Pläne für Luftangriffe gegen die Kartelle, eine Entscheidung gibt es nicht. " * 3


@pytest.mark.parametrize(
    "headline",
    ["Air strikes will soon begin against Mexican cartels", "Die Regierung prüft Pläne für Luftangriffe"],
)
def test_other_language_body_is_unrelated_with_a_note(detector: StanceDetector, headline: str) -> None:
    ctx = _run(detector, headline, GERMAN_BODY)
    assert ctx.stance is not None and ctx.stance.label == "unrelated"
    assert any("does not read as English" in note for note in ctx.notes)


def test_english_body_passes_the_language_guard(detector: StanceDetector) -> None:
    ctx = _run(detector, "Air strikes will soon begin against Mexican cartels", MEXICO_BODY)
    assert not any("English" in note for note in ctx.notes)


def test_headline_without_words_is_too_short(detector: StanceDetector) -> None:
    ctx = _run(detector, "🚨🚨!!", MEXICO_BODY)
    assert ctx.stance is not None and ctx.stance.label == "unrelated"
    assert any("too short" in note for note in ctx.notes)


def test_seed_post_through_the_pipeline_is_related() -> None:
    lines = SEED.read_text(encoding="utf-8").split("\n", 1)
    report = Checker(skip={"match"}).check(lines[0], lines[1])
    assert report.stance.label != "unrelated"
    assert report.stance.model.startswith("stance-")


def test_missing_artifact_raises_model_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(resources, "ARTIFACT_DIR", tmp_path)
    resources.load_artifact.cache_clear()
    try:
        with pytest.raises(ModelError):
            _run(StanceDetector(DEFAULT_CONFIG), "Air strikes will soon begin", MEXICO_BODY)
    finally:
        monkeypatch.undo()
        resources.load_artifact.cache_clear()
