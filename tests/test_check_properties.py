"""Property tests of ``overclaim.check`` on generated Unicode text (issue 19).

Whatever the headline and body hold, a check returns a report or raises one of the project's
errors (``overclaim.errors``), and every span in the report indexes the text it names.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from overclaim.errors import OverclaimError
from overclaim.report import Report, Span

# A check of a short post takes a few milliseconds: 150 examples stay near a second or two.
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Known failures outside this test's files, left out of the alphabet until their fixes land
# (then delete them from here):
# - issue 19 item 1: sentencex panics (pyo3_runtime.PanicException, a BaseException) on a
#   lone capital, a non-ASCII space and a period ("Plan B\u00a0."), fixed in stages/segment.py;
# - lone surrogates ("\udc34") in the body raise UnicodeEncodeError in stages/segment.py
#   (issue 19 item 5 asks for bad_encoding everywhere).
KNOWN_CRASHERS = "\u00a0\u0085\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
unicode_chars = st.characters(exclude_categories=["Cs"], exclude_characters=KNOWN_CRASHERS)

# News-like words mixed with arbitrary characters, so the stages past normalize have sentences,
# attributions, hedges and numbers to work on, and the odd characters land inside them.
PIECES = [
    "Officials", "said", "the", "president", "will", "may", "according", "to", "sources", "Plan", "B", ".",
    "!", "?", "\n", "\n\n", '"', "“", "”", "’s", "not", "reportedly", "attack", "100%", "U.S.", "Terr0rist",
    "t e r r o r",
]  # fmt: skip
posts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(unicode_chars, max_size=12)), max_size=30).map(" ".join)


def _spans(node: Any) -> Iterator[Span]:
    """Every :class:`Span` inside a report (models, lists and dicts, at any depth)."""
    if isinstance(node, Span):
        yield node
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _spans(getattr(node, name))
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _spans(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from _spans(item)


def _check(headline: str, body: str) -> Report | None:
    import overclaim

    try:
        return overclaim.check(headline, body)
    except OverclaimError:
        return None  # a one-line error the user can act on: allowed


@FAST
@given(posts, posts)
@example("Plan B fails", "The government said it would adopt Plan B. Officials said it failed.")
@example("ᴛᴇʀʀᴏʀɪsᴛ a t e r r 0 r i s t", "pres\u200dіdent youtu.be terr\u00ad\u00adorist " * 3)
def test_check_returns_a_report_or_a_project_error(headline: str, body: str) -> None:
    report = _check(headline, body)
    if report is None:
        return
    text = {"headline": headline, "body": body}
    for span in _spans(report):
        source = text[span.field]
        assert 0 <= span.start <= span.end <= len(source), span
        assert source[span.start : span.end] == span.text, span


@pytest.mark.parametrize(
    ("headline", "body"),
    [
        pytest.param("Plan B fails", "The government said it would adopt Plan B\u00a0. Officials said it failed.",
                     id="item1-sentencex-panic"),
        pytest.param("Plan B fails", "The government said \udc34 it would.", id="lone-surrogate-in-body"),
    ],
)  # fmt: skip
@pytest.mark.xfail(reason="known crash outside normalize, fixed elsewhere (see KNOWN_CRASHERS)", strict=False)
def test_known_crashers_give_a_report_or_a_project_error(headline: str, body: str) -> None:
    _check(headline, body)
