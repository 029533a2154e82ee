"""Headline certainty features: the linear form-group matchers agree with the regexes they replace.

Issue 19: ``trailing_report`` and ``question_end`` end in ``$`` and were searched forwards, which
is quadratic on a long token or a long run of "?" (``'a*' * 999 + 'a/b'`` as a headline). They now
run mirrored (:class:`overclaim.training.headline_certainty._AtEnd`). ``cue_row`` reads only
whether a group matches, so the features, and the model's outputs, are unchanged exactly when the
old and new matchers agree on whether they match: checked here on real headlines and body
sentences and on generated strings.
"""

from __future__ import annotations

import csv
import gzip
import re
import sys
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from overclaim.training import headline_certainty as hc
from tests.conftest import SHARED_DATA

# The regexes as they were before the fix (copied verbatim): the reference.
_REPORTERS = (
    r"says?|said|claims?|claimed|reports?|reported|reportedly|official|officials|source|sources|insiders?|media"
    r"|suggests?|believes?|thinks?|warns?|alleges?|admits?|insists?|confirms?|denies|tells|told|according"
)
OLD = {
    "trailing_report": re.compile(r"(?i)(?:[,:;\-–—|(]\s*|\b)(?:\S+\s+){0,4}?(?:" + _REPORTERS + r")\W*$"),
    "question_end": re.compile(r"\?\W*$"),
}
FNC_BODY_SENTENCES = 2000
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")


@cache
def real_texts() -> tuple[str, ...]:
    """Emergent train headlines, clickbait and news headlines, FNC-1 test headlines and body sentences.

    Empty when the shared data is absent (the tests using it skip then).
    """
    texts: list[str] = []
    emergent = SHARED_DATA / "emergent" / "emergent_train.csv"
    if emergent.exists():
        with emergent.open(encoding="utf-8", newline="") as f:
            texts += [row["articleHeadline"] for row in csv.DictReader(f)]
    for name in ("clickbait_data.gz", "non_clickbait_data.gz"):
        path = SHARED_DATA / "clickbait" / name
        if path.exists():
            with gzip.open(path, "rt", encoding="utf-8") as f:
                texts += [line.rstrip("\n") for line in f if line.strip()]
    stances = SHARED_DATA / "fnc1" / "competition_test_stances.csv"
    if stances.exists():
        with stances.open(encoding="utf-8", newline="") as f:
            texts += sorted({row["Headline"] for row in csv.DictReader(f)})
    bodies = SHARED_DATA / "fnc1" / "competition_test_bodies.csv"
    if bodies.exists():
        csv.field_size_limit(sys.maxsize)
        sentences: list[str] = []
        with bodies.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                sentences += [s for s in _SENTENCE_SPLIT.split(row["articleBody"]) if s.strip()]
                if len(sentences) >= FNC_BODY_SENTENCES:
                    break
        texts += sentences[:FNC_BODY_SENTENCES]
    return tuple(texts)


def _agree(text: str) -> None:
    for name, old in OLD.items():
        assert bool(hc.FORM_GROUPS[name].search(text)) == bool(old.search(text)), (name, text)


def test_form_groups_agree_with_the_old_regexes_on_real_text() -> None:
    texts = real_texts()
    if len(texts) < 10_000:
        pytest.skip("needs the shared Emergent, clickbait and FNC-1 data")
    hits = {name: 0 for name in OLD}
    for text in texts:
        _agree(text)
        for name, old in OLD.items():
            hits[name] += bool(old.search(text))
    # The comparison means something only if both outcomes occur often enough.
    assert all(100 <= n <= len(texts) - 100 for n in hits.values()), hits


# Generated text: the characters and words the patterns turn on (reporters, the lead punctuation,
# spaces of several kinds, "?", non-word marks, letters that fold to ASCII under IGNORECASE:
# U+017F long s, U+212A Kelvin sign), in random order and amounts.
_WORDS = [
    "say", "says", "said", "officials", "official", "Sources", "REPORT", "reportedly", "told", "according",
    "insider", "unsaid", "ſays", "thinKs", "media", "a*", "1+", "a.", "ab\u00ad", "x", "Plan",
]  # fmt: skip
_MARKS = list(",:;-–—|()?!.\"'’*/ \t\n\u00a0\u2003") + ["", " ", "  "]
_pieces = st.lists(st.one_of(st.sampled_from(_WORDS), st.sampled_from(_MARKS)), max_size=30).map("".join)
_chars = st.text(alphabet=st.sampled_from(list("sayidofclA:,-|(?! \t\n.\u017f\u212a_1é")), max_size=60)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(_pieces, _chars, st.text(max_size=40)))
def test_form_groups_agree_with_the_old_regexes_on_generated_text(text: str) -> None:
    _agree(text)


@pytest.mark.parametrize(
    ("text", "trailing_report", "question_end"),
    [
        ("Axl Rose not dead, officials say", True, False),
        ("Axl Rose not dead - report", True, False),
        ("Officials say Axl Rose is not dead", False, False),
        ("Is Axl Rose dead? Officials say no", False, False),
        ("Is Axl Rose dead?", False, True),
        ("Is Axl Rose dead?!\n", False, True),
        ("Apple to launch iPhone, according to five well placed insider sources said", True, False),
        ("one two three four five six said", True, False),  # \b before a word always opens a lead
        ('" " " " " said', True, False),  # the word boundary before "said"
        ("? a", False, False),
        ("Some things are best left unsaid", False, False),  # no word boundary before "said"
        ("Plan fails, -- said", True, False),
        ("Plan fails (officials)", True, False),
    ],
)
def test_form_groups_on_examples(text: str, trailing_report: bool, question_end: bool) -> None:
    assert bool(hc.FORM_GROUPS["trailing_report"].search(text)) is trailing_report
    assert bool(hc.FORM_GROUPS["question_end"].search(text)) is question_end
    _agree(text)


def test_mirror_words() -> None:
    assert hc._mirror_words("says?|said|insiders?") == "s?yas|dias|s?redisni"
    with pytest.raises(ValueError):
        hc._mirror_words(r"debunk\w*")
