"""HTML rendering of a report: a standalone file, or a fragment for the web page.

    render_html(report)        # a whole document, CSS inlined, nothing loaded from outside
    render_fragment(report)    # the <section> the web page embeds

The headline and body are shown as the user gave them (the *original* text),
with the report's spans marked: evidence sentences highlighted by stance,
certainty cues (hedges, boosters, negations), sources (anonymous ones stand
out), disguised words and sensational markers. Every piece of user text goes
through :func:`html.escape`; marks that overlap are split so the markup always
nests.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from overclaim.render.safe import printable, safe_url
from overclaim.report import Cue, Report, Span, verdict_name

__all__ = ["Mark", "highlight", "render_fragment", "render_html"]

_STANCE_TITLES = {
    "agree": "backs the headline",
    "disagree": "disputes the headline",
    "discuss": "reports or discusses the claim without backing it",
    "unrelated": "does not address the headline",
    "unscored": "stance not scored",
}
_CUE_TITLES = {
    "hedge": "hedge: softens the claim",
    "booster": "booster: states it more firmly",
    "negation": "negation",
    "question": "question",
    "conditional": "conditional",
    "attribution": "attribution",
    "model": "modal verb",
}


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The report stylesheet shipped with the web page (``overclaim/web/static/overclaim.css``)."""
    return (resources.files("overclaim.web") / "static" / "overclaim.css").read_text(encoding="utf-8")


def _e(value: object) -> str:
    # Control characters are not allowed in HTML text (and would reach a terminal the page is printed on).
    return html.escape(printable(str(value)), quote=True)


@dataclass
class Mark:
    """A highlight over ``text[start:end]``; ``layer`` 0 marks enclose layer 1 marks."""

    start: int
    end: int
    classes: str
    title: str = ""
    tag: str = "span"
    layer: int = 1
    attrs: dict[str, str] = field(default_factory=dict)

    def open(self, first: bool) -> str:
        """The opening tag; attributes such as ``id`` only on the first piece of a split mark."""
        parts = [self.tag, f'class="{_e(self.classes if first else self.classes + " oc-cont")}"']
        if self.title:
            parts.append(f'title="{_e(self.title)}"')
        if first:
            parts.extend(f'{name}="{_e(value)}"' for name, value in self.attrs.items())
        return "<" + " ".join(parts) + ">"


def highlight(text: str, marks: list[Mark]) -> str:
    """Escape ``text`` and wrap each mark's range in its tag, splitting marks so tags nest.

    Marks outside the text or empty are ignored.
    """
    marks = [m for m in marks if 0 <= m.start < m.end <= len(text)]
    if not marks:
        return _e(text)
    order = {id(m): i for i, m in enumerate(sorted(marks, key=lambda m: (m.layer, m.start, -m.end)))}
    points = sorted({0, len(text)} | {m.start for m in marks} | {m.end for m in marks})
    out: list[str] = []
    stack: list[Mark] = []
    opened: set[int] = set()
    for p, q in zip(points, points[1:], strict=False):
        active = sorted((m for m in marks if m.start <= p and m.end >= q), key=lambda m: order[id(m)])
        keep = 0
        while keep < len(stack) and keep < len(active) and stack[keep] is active[keep]:
            keep += 1
        for m in reversed(stack[keep:]):
            out.append(f"</{m.tag}>")
        for m in active[keep:]:
            out.append(m.open(first=id(m) not in opened))
            opened.add(id(m))
        stack = active
        out.append(_e(text[p:q]))
    out.extend(f"</{m.tag}>" for m in reversed(stack))
    return "".join(out)


def _in(span: Span, field_: str) -> bool:
    return span.field == field_


def _cue_marks(cues: list[Cue], field_: str, seen: set[tuple[int, int, str]]) -> list[Mark]:
    out = []
    for cue in cues:
        key = (cue.span.start, cue.span.end, cue.kind)
        if _in(cue.span, field_) and key not in seen:
            seen.add(key)
            title = _CUE_TITLES.get(cue.kind, cue.kind)
            out.append(Mark(cue.span.start, cue.span.end, f"oc-cue oc-cue-{cue.kind}", title))
    return out


def headline_marks(report: Report) -> list[Mark]:
    """Marks over the original headline: disguised words, sensational markers, certainty cues."""
    marks = [
        Mark(
            d.span.start,
            d.span.end,
            "oc-disguised",
            f"disguised word: written “{d.original}”, read as “{d.clean}” ({', '.join(d.kinds) or 'obfuscated'})",
        )
        for d in report.normalization.disguised_words
        if _in(d.span, "headline")
    ]
    marks += [
        Mark(m.span.start, m.span.end, f"oc-marker oc-marker-{m.kind}", f"sensational marker: {m.name}")
        for m in report.sensational.markers
        if _in(m.span, "headline")
    ]
    marks += _cue_marks(report.certainty.headline.cues, "headline", set())
    return marks


def _stance_label(ev_stance: object) -> str:
    label = getattr(ev_stance, "label", None)
    return str(label()) if callable(label) else "unscored"


def body_marks(report: Report) -> list[Mark]:
    """Marks over the original body: evidence by stance, cues, sources, disguised words."""
    marks: list[Mark] = []
    seen: set[tuple[int, int, str]] = set()
    for rank, ev in enumerate(report.evidence, start=1):
        if not _in(ev.span, "body"):
            continue
        stance = _stance_label(ev.stance)
        classes = f"oc-ev oc-stance-{stance}"
        notes = [f"evidence #{rank}", _STANCE_TITLES.get(stance, stance), f"relevance {ev.relevance:.2f}"]
        if ev.hedged:
            classes += " oc-hedged"
            notes.append("hedged")
        if ev.anonymous_source:
            classes += " oc-anon-src"
            notes.append("rests on an anonymous source")
        if ev.certainty is not None:
            notes.append(f"certainty {ev.certainty:.2f}")
        marks.append(
            Mark(ev.span.start, ev.span.end, classes, "; ".join(notes), tag="mark", layer=0,
                 attrs={"id": f"ev-{ev.index}", "data-rank": str(rank), "data-stance": stance})
        )
        marks += _cue_marks(ev.cues, "body", seen)
    marks += _cue_marks(report.certainty.body.cues, "body", seen)
    for att in report.sourcing.attributions:
        if _in(att.speaker, "body"):
            title = "anonymous source" if att.kind == "anonymous" else f"source: {att.kind.replace('_', ' ')}"
            marks.append(Mark(att.speaker.start, att.speaker.end, f"oc-source oc-source-{att.kind}", title))
    marks += [
        Mark(d.span.start, d.span.end, "oc-disguised", f"disguised word, read as “{d.clean}”")
        for d in report.normalization.disguised_words
        if _in(d.span, "body")
    ]
    return marks


def _pct(p: float | None) -> str:
    return "–" if p is None else f"{round(100 * p)}%"


def _bar(p: float) -> str:
    return f'<meter class="oc-bar" min="0" max="1" value="{max(0.0, min(1.0, p)):.3f}" aria-hidden="true"></meter>'


def _quote_spans(spans: list[Span], evidence_ids: dict[tuple[int, int], int]) -> str:
    quotes = []
    for s in spans[:3]:
        text = " ".join(s.text.split())
        if len(text) > 160:
            text = text[:157] + "…"
        index = evidence_ids.get((s.start, s.end)) if s.field == "body" else None
        q = f"<q>{_e(text)}</q>"
        quotes.append(f'<a href="#ev-{index}">{q}</a>' if index is not None else q)
    return " ".join(quotes)


def _verdict_section(report: Report) -> str:
    v = report.verdict
    evidence_ids = {(ev.span.start, ev.span.end): ev.index for ev in report.evidence}
    reasons = "".join(
        f'<li data-code="{_e(r.code)}">{_e(r.text)} {_quote_spans(r.spans, evidence_ids)}</li>' for r in v.reasons
    )
    borderline = (
        f' <span class="oc-borderline">borderline (margin {v.margin:.2f})</span>'
        if v.borderline and v.margin is not None else ""
    )
    return (
        f'<div class="oc-verdict oc-verdict-{_e(v.label)}" role="status">'
        f'<span class="oc-verdict-label" data-verdict="{_e(v.label)}">{_e(verdict_name(v.label))}</span>'
        f'<span>overclaim score <strong class="oc-score">{v.score:.2f}</strong> '
        f'<span class="oc-muted">(0 = fully backed, 1 = not backed)</span>{borderline}</span></div>'
        f'<p class="oc-definition">{_e(v.definition)}</p>'
        + (f'<h2>Why</h2><ol class="oc-reasons">{reasons}</ol>' if reasons else "")
    )


def _facts_section(report: Report) -> str:
    s, c, src = report.stance, report.certainty, report.sourcing
    probs = s.probabilities.model_dump()
    stance_rows = " ".join(f'<span class="oc-prob">{_e(k)} {_pct(p)}{_bar(p)}</span>' for k, p in probs.items())
    rows = [
        ("Stance of the body", f"<strong>{_e(s.label)}</strong> — {stance_rows} <span class='oc-muted'>"
                               f"({_e(s.model)})</span>"),
        ("Headline certainty", f"{c.headline.score:.2f} ({_e(c.headline.label)})"),
        ("Body certainty", f"{c.body.score:.2f} ({_e(c.body.label)})"),
        ("Certainty gap", f"{c.gap:+.2f} <span class='oc-muted'>(positive: the headline is surer)</span>"),
        ("Sources", f"{_e(src.count_line())} ({_pct(src.anonymous_share)} anonymous; "
                    f"{_pct(src.evidence_anonymous_share)} of the key evidence)"
                    + ("<ul class='oc-sources'>" + "".join(f"<li>{_e(x)}</li>" for x in src.speaker_lines()) + "</ul>"
                       if src.attributions else "")),
        ("Clickbait probability", _pct(report.sensational.clickbait_probability)),
    ]
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    disguised = "".join(
        f"<li><code>{_e(d.original)}</code> → <code>{_e(d.clean)}</code> "
        f"<span class='oc-muted'>({_e(', '.join(d.kinds))}, confidence {d.confidence:.2f})</span></li>"
        for d in report.normalization.disguised_words
    )
    markers = "".join(
        f"<li><code>{_e(m.span.text)}</code> {_e(m.name)} <span class='oc-muted'>({_e(m.kind)})</span></li>"
        for m in report.sensational.markers
    )
    extra = ""
    if disguised:
        extra += f'<h3>Disguised words</h3><ul class="oc-disguised-list">{disguised}</ul>'
    if markers:
        extra += f'<h3>Sensational markers</h3><ul class="oc-marker-list">{markers}</ul>'
    return f'<h2>Signals</h2><dl class="oc-facts">{dl}</dl>{extra}'


def _legend() -> str:
    items = [
        '<mark class="oc-ev oc-stance-agree">backs</mark>',
        '<mark class="oc-ev oc-stance-discuss">discusses</mark>',
        '<mark class="oc-ev oc-stance-disagree">disputes</mark>',
        '<mark class="oc-ev oc-stance-unrelated">unrelated</mark>',
        '<mark class="oc-ev oc-stance-unscored">evidence (stance not scored)</mark>',
        '<span class="oc-cue oc-cue-hedge">hedge</span>',
        '<span class="oc-cue oc-cue-booster">booster</span>',
        '<span class="oc-source oc-source-anonymous">anonymous source</span>',
        '<span class="oc-source oc-source-named_person">named source</span>',
        '<span class="oc-disguised">disguised word</span>',
        '<span class="oc-marker">sensational marker</span>',
    ]
    return '<p class="oc-legend" aria-label="legend">' + "".join(f"<span>{i}</span>" for i in items) + "</p>"


_EVIDENCE_COLUMNS = ("#", "Stance", "Relevance", "Certainty", "Flags", "Sentence")


def _evidence_table(report: Report) -> str:
    """The evidence table; each cell names its column (``data-label``), which narrow screens show as cards."""
    if not report.evidence:
        return '<p class="oc-muted">No body sentence carries the headline\'s key terms.</p>'
    rows = []
    for rank, ev in enumerate(report.evidence, start=1):
        stance = _stance_label(ev.stance)
        flags = [f for f, on in (("hedged", ev.hedged), ("anonymous source", ev.anonymous_source)) if on]
        cells = (
            str(rank),
            f"<span class='oc-stance-{stance}'>{_e(stance)}</span>",
            f"{ev.relevance:.2f}",
            "–" if ev.certainty is None else f"{ev.certainty:.2f}",
            _e(", ".join(flags)),
            f"<a href='#ev-{ev.index}'>{_e(' '.join(ev.span.text.split()))}</a>",
        )
        rows.append("<tr>" + "".join(
            f'<td data-label="{label}">{cell}</td>'
            for label, cell in zip(_EVIDENCE_COLUMNS, cells, strict=True)
        ) + "</tr>")
    head = "<thead><tr>" + "".join(f"<th>{label}</th>" for label in _EVIDENCE_COLUMNS) + "</tr></thead>"
    return f'<table class="oc-table oc-evidence">{head}<tbody>{"".join(rows)}</tbody></table>'


def _matches_section(report: Report) -> str:
    if not report.matches:
        return '<h2>Fact-checks</h2><p class="oc-muted">No stored fact-check matches this claim.</p>'
    items = []
    for m in report.matches:
        href = safe_url(m.url)
        claim = f'<a href="{_e(href)}" rel="noopener noreferrer nofollow">{_e(m.claim)}</a>' if href else _e(m.claim)
        rating = f" — rated <strong>{_e(m.rating)}</strong>" if m.rating else ""
        provenance = f"<br><span class='oc-muted'>{_e(m.provenance())}</span>" if m.provenance() else ""
        items.append(f"<li>{claim}{rating} <span class='oc-muted'>(same claim: {_pct(m.probability)})"
                     f"</span>{provenance}</li>")
    return f'<h2>Fact-checks</h2><ul class="oc-matches">{"".join(items)}</ul>'


def _provenance(report: Report) -> str:
    """When the check ran and what it read: check date, source address, outlet, publication date, post id."""
    post = report.post
    items = []
    if report.checked_at is not None:
        at = report.checked_at
        items.append(f'Checked <time class="oc-checked" datetime="{_e(at.isoformat())}">'
                     f'{_e(at.strftime("%Y-%m-%d %H:%M UTC"))}</time>')
    source = safe_url(post.url)
    if source:
        items.append(f'Source <a class="oc-source-url" href="{_e(source)}" rel="noopener noreferrer nofollow">'
                     f"{_e(source)}</a>")
    elif post.url:
        items.append('Source <span class="oc-source-url oc-muted">not shown (not an http(s) address)</span>')
    else:
        items.append('Source <span class="oc-source-url oc-muted">not given</span>')
    items += [f"{label} {_e(value)}" for label, value in
              (("Outlet", post.outlet), ("Published", post.published), ("Post", post.id)) if value]
    return '<p class="oc-provenance">' + " · ".join(items) + "</p>"


def _permalink(page_url: str, json_url: str | None) -> str:
    """The visible link to a stored report (its address as the link text, to copy)."""
    json_link = f' (<a href="{_e(json_url)}">JSON</a>)' if json_url else ""
    return (f'<p class="oc-permalink">Link to this report: <a class="oc-permalink-url" href="{_e(page_url)}">'
            f"{_e(page_url)}</a>{json_link}</p>")


def render_fragment(
    report: Report, *, report_id: str | None = None, page_url: str | None = None, json_url: str | None = None
) -> str:
    """The report as an HTML ``<section>`` (escaped, no scripts) for embedding in a page.

    Args:
        report: the report to show.
        report_id: its id in the report store, when stored.
        page_url: the link that opens the stored report as a page (shown, to copy); defaults to
            ``/v1/reports/<id>?format=html`` when ``report_id`` is given.
        json_url: the link to the stored report as JSON; defaults to ``/v1/reports/<id>``.
    """
    post = report.post
    if report_id:
        page_url = page_url or f"/v1/reports/{report_id}?format=html"
        json_url = json_url or f"/v1/reports/{report_id}"
    notes = "".join(f"<li>{_e(n)}</li>" for n in report.notes)
    edits = len(report.normalization.edits)
    footer = [f"overclaim {_e(report.overclaim_version)}", f"schema {_e(report.schema_version)}"]
    if report.elapsed_ms is not None:
        footer.append(f"{report.elapsed_ms:.0f} ms")
    if edits:
        footer.append(f"{edits} normalization edit{'s' if edits != 1 else ''}")
    if report_id:
        footer.append(f"report {_e(report_id)}")
    return (
        '<section class="oc-report" id="report" aria-label="overclaim report">'
        + _verdict_section(report)
        + (_permalink(page_url, json_url) if page_url else "")
        + "<h2>Headline</h2>"
        + f'<p class="oc-headline">{highlight(post.headline, headline_marks(report))}</p>'
        + _provenance(report)
        + _facts_section(report)
        + "<h2>Evidence</h2>"
        + _evidence_table(report)
        + "<h2>Article</h2>"
        + _legend()
        + f'<div class="oc-body">{highlight(post.body, body_marks(report))}</div>'
        + _matches_section(report)
        + (f'<h2>Notes</h2><ul class="oc-notes">{notes}</ul>' if notes else "")
        + f'<p class="oc-footer">{" · ".join(footer)}</p>'
        + "</section>"
    )


def render_html(report: Report, *, title: str | None = None) -> str:
    """The report as a standalone HTML document (CSS inlined; loads nothing, runs no script).

    Args:
        report: the report to show.
        title: the page title; defaults to the verdict and the start of the headline.

    Returns:
        The whole document as text.
    """
    headline = " ".join(report.post.headline.split())
    title = title or f"{verdict_name(report.verdict.label)}: {headline[:80]}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{_e(title)} — overclaim</title><style>{stylesheet()}</style></head>"
        f'<body class="oc-page"><h1>overclaim report</h1>{render_fragment(report)}</body></html>\n'
    )
