import pytest

from overclaim.text import Replacement, TextView


def test_identity_span_maps_to_same_text():
    view = TextView("body", "Hello brave world")
    span = view.span(6, 11)
    assert (span.start, span.end, span.text) == (6, 11, "brave")


@pytest.mark.parametrize(
    "original, reps, clean, probe, expected_original",
    [
        ("Narco Terr0rist!", [Replacement(10, 11, "o", "leetspeak")], "Narco Terrorist!", "Terrorist", "Terr0rist"),
        ("said previouslythat a", [Replacement(15, 15, " ", "joined_words")], "said previously that a", "that", "that"),
        ("t e r r o r now", [Replacement(0, 11, "terror", "spacing")], "terror now", "terror", "t e r r o r"),
        ("x\u200bylo", [Replacement(1, 2, "", "invisible")], "xylo", "xylo", "x\u200bylo"),
    ],
)
def test_spans_map_back_to_original(original, reps, clean, probe, expected_original):
    view = TextView("headline", original).apply(reps)
    assert view.clean == clean
    start = clean.index(probe)
    span = view.span(start, start + len(probe))
    assert span.text == expected_original
    assert original[span.start : span.end] == expected_original


def test_two_passes_compose_and_log_edits_in_original_coordinates():
    view = TextView("headline", "ＡＢ c0de")
    view = view.apply([Replacement(0, 2, "AB", "width")])
    view = view.apply([Replacement(4, 5, "o", "leetspeak")])
    assert view.clean == "AB code"
    assert [(e.start, e.end, e.original, e.replacement, e.kind) for e in view.edits] == [
        (0, 2, "ＡＢ", "AB", "width"),
        (4, 5, "0", "o", "leetspeak"),
    ]
    assert view.span(3, 7).text == "c0de"


def test_overlapping_replacements_are_refused():
    with pytest.raises(ValueError):
        TextView("body", "abcdef").apply([Replacement(0, 3, "x"), Replacement(2, 4, "y")])
