"""The HTML renderer: marks nest, user text is escaped, every finding is shown."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from overclaim.render.html import Mark, highlight, render_fragment, render_html
from overclaim.report import Report

HEADLINE = "🚨BREAKING: Air strikes will soon begin against Narco Terr0rists!"
BODY = (
    "Officials are evaluating plans for strikes, a U.S. official familiar with the issue said.\n"
    "Strikes would potentially be unlikely to get approval, Senator Jane Roe said.\n"
    "Unrelated closing line about <b>markup</b> & more."
)


def span(text: str, part: str, field: str, nth: int = 0) -> dict:
    start = -1
    for _ in range(nth + 1):
        start = text.index(part, start + 1)
    return {"field": field, "start": start, "end": start + len(part), "text": part}


def b(part: str, nth: int = 0) -> dict:
    return span(BODY, part, "body", nth)


def h(part: str) -> dict:
    return span(HEADLINE, part, "headline")


def sentence(i: int) -> dict:
    lines = BODY.split("\n")
    return b(lines[i])


def probs(agree=0.0, disagree=0.0, discuss=0.0, unrelated=0.0) -> dict:
    return {"agree": agree, "disagree": disagree, "discuss": discuss, "unrelated": unrelated}


@pytest.fixture(scope="module")
def report() -> Report:
    return Report.model_validate(
        {
            "overclaim_version": "test",
            "post": {"headline": HEADLINE, "body": BODY, "url": "javascript:alert(1)", "outlet": "The <Post>"},
            "verdict": {
                "label": "overstated",
                "score": 0.8,
                "definition": "The body addresses the claim but backs it less firmly.",
                "reasons": [{"code": "certainty_jump", "text": "The headline asserts; the body hedges.",
                             "spans": [h("will soon begin"), sentence(1)]}],
            },
            "stance": {"label": "discuss", "probabilities": probs(0.1, 0.1, 0.7, 0.1), "model": "test"},
            "evidence": [
                {"index": 0, "span": sentence(0), "relevance": 0.6, "stance": probs(discuss=0.8, agree=0.2),
                 "anonymous_source": True, "cues": [{"span": b("evaluating"), "kind": "hedge", "weight": 0.5}]},
                {"index": 1, "span": sentence(1), "relevance": 0.5, "stance": probs(disagree=0.9, agree=0.1),
                 "hedged": True, "certainty": 0.2,
                 "cues": [{"span": b("potentially"), "kind": "hedge", "weight": 0.5},
                          {"span": b("would potentially"), "kind": "model", "weight": 0.3}]},
            ],
            "certainty": {
                "headline": {"score": 0.95, "cues": [{"span": h("will"), "kind": "booster", "weight": 1}]},
                "body": {"score": 0.3, "label": "hedged",
                         "cues": [{"span": b("potentially"), "kind": "hedge", "weight": 0.5}]},
                "gap": 0.65,
            },
            "sourcing": {
                "attributions": [
                    {"speaker": b("a U.S. official familiar with the issue"), "cue": b("said"), "kind": "anonymous",
                     "sentence_index": 0},
                    {"speaker": b("Senator Jane Roe"), "cue": b("said", 1), "kind": "named_person",
                     "sentence_index": 1},
                ],
                "named": 1, "anonymous": 1, "anonymous_share": 0.5, "evidence_anonymous_share": 0.5,
            },
            "sensational": {"clickbait_probability": 0.91, "markers": [
                {"span": h("🚨"), "name": "police light", "kind": "alarm_emoji"},
                {"span": h("BREAKING:"), "name": "BREAKING", "kind": "prefix"},
            ]},
            "normalization": {
                "headline_clean": HEADLINE.replace("Terr0rists", "Terrorists"),
                "body_clean": BODY,
                "disguised_words": [{"span": h("Terr0rists"), "original": "Terr0rists", "clean": "Terrorists",
                                     "kinds": ["leetspeak"], "confidence": 0.9}],
            },
            "matches": [
                {"claim_id": "c1", "claim": "US to bomb cartels <now>", "rating": "False", "reviewer": "Checkers",
                 "url": "https://factcheck.example/c1", "score": 12.0, "probability": 0.8},
                {"claim_id": "c2", "claim": "Evil link", "url": "javascript:alert(2)", "score": 3.0,
                 "probability": 0.6},
            ],
            "notes": ["A note with <i>tags</i>."],
            "elapsed_ms": 12.5,
        }
    )


class Nesting(HTMLParser):
    VOID = {"meta", "link", "br", "input", "img", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(markup: str) -> Nesting:
    p = Nesting()
    p.feed(markup)
    p.close()
    assert p.stack == [], f"unclosed: {p.stack}"
    return p


@pytest.mark.parametrize(
    "text, marks",
    [
        ("abcdef", []),
        ("abcdef", [Mark(1, 4, "x")]),
        ("abcdef", [Mark(0, 6, "outer", layer=0), Mark(2, 3, "inner")]),
        ("abcdef", [Mark(1, 4, "a"), Mark(2, 6, "b")]),  # crossing: split
        ("abcdef", [Mark(0, 3, "s", layer=0), Mark(2, 5, "w"), Mark(3, 6, "s2", layer=0)]),
        ("a<b>&\"c'", [Mark(1, 4, "t", title='"><script>')]),
        ("abc", [Mark(2, 9, "out of range"), Mark(1, 1, "empty"), Mark(-1, 2, "negative")]),
    ],
)
def test_highlight_nests_and_keeps_the_text(text, marks):
    markup = highlight(text, marks)
    parsed = parse(f"<div>{markup}</div>")
    assert "".join(parsed.text) == text
    for m in marks:
        if 0 <= m.start < m.end <= len(text):
            covered = "".join(_texts_with_class(markup, m.classes))
            assert covered == text[m.start:m.end]


def _texts_with_class(markup: str, classes: str) -> list[str]:
    """Text inside elements whose class list starts with ``classes`` (pieces of split marks too)."""

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.depth: list[bool] = []
            self.out: list[str] = []

        def handle_starttag(self, tag, attrs):
            cls = dict(attrs).get("class", "")
            self.depth.append(cls == classes or cls == classes + " oc-cont")

        def handle_endtag(self, tag):
            self.depth.pop()

        def handle_data(self, data):
            if any(self.depth):
                self.out.append(data)

    c = Collect()
    c.feed(markup)
    return c.out


def test_fragment_marks_every_finding(report):
    markup = render_fragment(report, report_id="abc123")
    parse(markup)
    for needle in [
        'data-verdict="overstated"',
        'class="oc-disguised"',
        "oc-marker oc-marker-alarm_emoji",
        "oc-marker oc-marker-prefix",
        "oc-cue oc-cue-booster",
        "oc-cue oc-cue-hedge",
        "oc-source oc-source-anonymous",
        "oc-source oc-source-named_person",
        "oc-ev oc-stance-discuss oc-anon-src",
        "oc-ev oc-stance-disagree oc-hedged",
        "Terr0rists</code> → <code>Terrorists",
        "91%",
        "/v1/reports/abc123",
    ]:
        assert needle in markup, needle
    headline = re.search(r'<p class="oc-headline">(.*?)</p>', markup).group(1)
    body = re.search(r'<div class="oc-body">(.*?)</div>', markup, re.S).group(1)
    assert _texts_with_class(headline, "oc-disguised") == ["Terr0rists"]
    assert _texts_with_class(headline, "oc-marker oc-marker-alarm_emoji") == ["🚨"]
    assert "".join(_texts_with_class(body, "oc-ev oc-stance-discuss oc-anon-src")) == BODY.split("\n")[0]
    anonymous = "".join(_texts_with_class(body, "oc-source oc-source-anonymous"))
    assert anonymous == "a U.S. official familiar with the issue"
    assert "".join(_texts_with_class(body, "oc-cue oc-cue-hedge")) == "evaluatingpotentially"
    # evidence anchors: reasons link to the evidence they quote
    assert 'href="#ev-1"' in markup and 'id="ev-1"' in markup


def test_user_text_is_escaped_and_unsafe_links_dropped(report):
    markup = render_html(report)
    tags = {t for t, _ in parse(markup).tags}
    assert not tags & {"b", "i", "script", "img"}
    assert "&lt;b&gt;markup&lt;/b&gt; &amp; more" in markup
    assert "The &lt;Post&gt;" in markup and "US to bomb cartels &lt;now&gt;" in markup
    assert "javascript:" not in markup
    assert 'href="https://factcheck.example/c1"' in markup
    assert "<li>Evil link <span" in markup  # shown, not linked


def test_standalone_document_loads_nothing(report):
    doc = render_html(report)
    assert doc.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in doc and "<style>" in doc
    assert not re.search(r"(src|href)=\"(https?:)?//", doc.replace('href="https://factcheck.example/c1"', ""))
    assert "<script" not in doc


def test_seed_report_renders_with_evidence_highlighted(seed_report):
    markup = render_fragment(seed_report)
    parse(markup)
    assert f'data-verdict="{seed_report.verdict.label}"' in markup
    assert markup.count('<mark class="oc-ev') >= len(seed_report.evidence) > 0


def test_the_check_date_and_the_source_are_shown(report):
    from datetime import datetime, timezone

    at = datetime(2025, 6, 2, 14, 3, 59, tzinfo=timezone.utc)
    dated = report.model_copy(update={"checked_at": at,
                                      "post": report.post.model_copy(update={"url": "https://news.example/a?b=1"})})
    line = re.search(r'<p class="oc-provenance">(.*?)</p>', render_html(dated)).group(1)
    assert 'Checked <time class="oc-checked" datetime="2025-06-02T14:03:59+00:00">2025-06-02 14:03 UTC</time>' in line
    assert '>https://news.example/a?b=1</a>' in line
    # a report from before schema 1.3 has no check date: none is made up; no address: it says so
    older = report.model_copy(update={"checked_at": None, "post": report.post.model_copy(update={"url": None})})
    line = re.search(r'<p class="oc-provenance">(.*?)</p>', render_fragment(older)).group(1)
    assert "Checked" not in line and "not given" in line


def test_each_evidence_cell_names_its_column_for_narrow_screens(report):
    table = re.search(r'<table class="oc-table oc-evidence">(.*?)</table>', render_fragment(report)).group(1)
    head = re.findall(r"<th>(.*?)</th>", table)
    rows = re.findall(r"<tr>(<td.*?)</tr>", table)
    assert len(rows) == len(report.evidence)
    for row in rows:
        assert re.findall(r'<td data-label="([^"]+)">', row) == head
