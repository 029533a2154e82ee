"""Property tests of the normalize stage: spans map back, normalizing is idempotent, clean English stays.

Texts are generated two ways: characters drawn from an alphabet of disguise material (leet
characters, separators, invisible and format characters, look-alike, styled and small-capital
letters, emoji, CJK, mojibake), and real words glued with disguise material between them.
"""

from __future__ import annotations

from functools import lru_cache

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from overclaim.stages.normalize import normalize_text, normalize_view
from overclaim.text import TextView

# A few hundred examples per property keep each test near a second on the shared machines.
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DISGUISE_ALPHABET = (
    "abcdeiorstnlpATERIOS0134578@$ .-_*|~+·•/#'’,!?\n"
    "\u200b\u200c\u200d\u00ad\u2060\ufeff\u202e\U000e0041\U000e0020\ufe0f\ufe00\U000e0100"  # invisible
    "аеорсіѕΑΒΕΟ"  # Cyrillic and Greek look-alikes
    "ᴛᴇʀᴏɪᴀ"  # small capitals
    "ｔｅｒ𝐛𝐨ﬁ"  # full-width, mathematical, ligature
    "é👨🏴日â€™"  # accents, emoji, CJK, mojibake
)
WORD_PIECES = [
    "the", "president", "terrorist", "attack", "said", "a", "t", "e", "r", "o", "i", "s", "terr", "orist",
    "0", "3", "@", "pres", "ident", "that", "at", "tack", "youtu", "be", "redd", "it", "Officials", "U.S.",
]  # fmt: skip
GLUE = ["", " ", ".", "-", "*", "\u200b", "\u00ad", "\u200d", "\ufe0f", "\U000e0020", "ᴇ", "і", "𝐨", "  ", "\n"]

disguised_texts = st.one_of(
    st.text(alphabet=DISGUISE_ALPHABET, max_size=40),
    st.lists(st.tuples(st.sampled_from(WORD_PIECES), st.sampled_from(GLUE)), max_size=12).map(
        lambda pairs: "".join(word + glue for word, glue in pairs)
    ),
)


@lru_cache(maxsize=1)
def _english_words() -> list[str]:
    """Common English words (wordfreq's top 3,000, letters only): the vocabulary of clean text."""
    from wordfreq import top_n_list

    return [w for w in top_n_list("en", 3000) if w.isascii() and w.isalpha() and (len(w) > 1 or w in "ai")]


@st.composite
def clean_english(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(_english_words()), min_size=1, max_size=25))
    out = []
    for word in words:
        case = draw(st.sampled_from(["lower", "lower", "lower", "title", "upper"]))
        word = word.title() if case == "title" else word.upper() if case == "upper" else word
        out.append(word + draw(st.sampled_from([" ", " ", " ", ", ", ". ", "; ", "’s ", " — ", "! ", "? "])))
    return "".join(out).strip()


@FAST
@given(disguised_texts)
def test_every_span_maps_back_into_the_original(text: str) -> None:
    view, words = normalize_view(TextView("body", text))
    assert view.original == text
    for edit in view.edits:
        assert 0 <= edit.start <= edit.end <= len(text)
        assert text[edit.start : edit.end] == edit.original
    n = len(view.clean)
    previous = 0
    for i in range(n + 1):
        for j in {i, min(i + 1, n), n}:
            span = view.span(i, j)
            assert 0 <= span.start <= span.end <= len(text)
            assert span.text == text[span.start : span.end]
        start = view.original_range(i, i)[0]
        assert start >= previous  # clean order is original order
        previous = start
    for word in words:
        assert text[word.span.start : word.span.end] == word.span.text == word.original


@FAST
@given(disguised_texts)
# Issue 19 item 23: each took a second run to finish (a joiner beside a look-alike letter, spaced
# letters running into dotted ones, a separated word read as two run-together words), and one
# the property found (a joiner beside a styled letter that only the width pass folds).
@example("pres\u200dіdent")
@example("t h a t p.r.e.s.i.d.e.n.t")
@example("at*tackat*tack")
@example("o\u200d𝐛")
def test_normalizing_twice_equals_normalizing_once(text: str) -> None:
    once = normalize_text(text).clean
    assert normalize_text(once).clean == once


@FAST
@given(clean_english())
def test_clean_english_is_unchanged(text: str) -> None:
    view, words = normalize_view(TextView("body", text))
    assert view.clean == text
    assert view.edits == []
    assert words == []
