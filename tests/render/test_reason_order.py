"""Every view shows the verdict's reasons, all of them, in the report's order."""

from __future__ import annotations

import html
import re

import pytest

from overclaim.render import render


def _positions(text: str, needles: list[str]) -> list[int]:
    return [text.find(n) for n in needles]


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "html"])
def test_reasons_appear_in_the_report_order(seed_report, fmt: str) -> None:
    out = render(seed_report, fmt)
    if fmt == "html":
        out = html.unescape(re.sub(r"<[^>]+>", "", out))
    out = " ".join(out.split())
    # A distinctive stretch of each reason's text (the first words, before any quoted cue).
    needles = [" ".join(r.text.split()[:5]) for r in seed_report.verdict.reasons]
    assert len(needles) >= 3
    found = _positions(out, needles)
    assert all(p >= 0 for p in found), list(zip(needles, found, strict=True))
    assert found == sorted(found)
