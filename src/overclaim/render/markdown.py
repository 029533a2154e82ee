"""The report as Markdown, for pasting into tickets and notes."""

from __future__ import annotations

import re

from overclaim.render.safe import printable, safe_url
from overclaim.report import Report, verdict_name


def _md(text: str) -> str:
    """Escape Markdown control characters in user text (and drop terminal control characters)."""
    text = printable(text)
    for ch in "\\`*_{}[]<>#|":
        text = text.replace(ch, "\\" + ch)
    return " ".join(text.split())


def _code(text: str) -> str:
    """User text as a code span: no escapes work inside one, so the fence outruns every backtick run."""
    text = " ".join(printable(text).split())
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", text)), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _link(url: str | None) -> str:
    """A fact-check URL: an autolink if it is http(s), else plain (escaped) text that no renderer links."""
    if not url:
        return ""
    href = safe_url(url)
    return f" <{href}>" if href else f" (link not shown, not http(s): {_md(url)})"


def render_markdown(report: Report) -> str:
    """Markdown text of ``report``."""
    v = report.verdict
    p = report.stance.probabilities
    c = report.certainty
    lines = [
        f"## {_md(report.post.headline)}",
        "",
        f"**Verdict: {verdict_name(v.label)}** ({v.score_text()}): {v.definition}",
        "",
    ]
    lines += [f"{i}. {_md(r.text)}" for i, r in enumerate(v.reasons, 1)]
    lines += [
        "",
        f"Stance: agree {p.agree:.0%}, disagree {p.disagree:.0%}, discuss {p.discuss:.0%}, "
        f"unrelated {p.unrelated:.0%} ({report.stance.model}). "
        f"Certainty: headline {c.headline.score:.2f}, body {c.body.score:.2f} (gap {c.gap:+.2f}).",
    ]
    if report.sensational.clickbait_probability is not None or report.sensational.markers:
        markers = ", ".join(f"{_code(m.span.text)} ({m.name})" for m in report.sensational.markers) or "none"
        prob = report.sensational.clickbait_probability
        lines.append(f"Sensational markers: {markers}" + (f"; clickbait probability {prob:.0%}." if prob else "."))
    if report.normalization.disguised_words:
        words = ", ".join(f"{_code(d.original)} → {_code(d.clean)}" for d in report.normalization.disguised_words)
        lines.append(f"Disguised words: {words}.")
    if report.evidence:
        lines += ["", "| # | relevance | stance | sentence |", "|---|---|---|---|"]
        for e in report.evidence:
            st = e.stance.label() if e.stance else "-"
            lines.append(f"| {e.index} | {e.relevance:.2f} | {st} | {_md(e.span.text)} |")
    if report.sourcing.attributions:
        lines += ["", f"Sources: {report.sourcing.count_line()}."]
        lines += [f"- {_md(line)}" for line in report.sourcing.speaker_lines()]
    if report.matches:
        lines += ["", "Fact-checks:"]
        for m in report.matches:
            rating = f" **{_md(m.rating)}**" if m.rating else ""
            provenance = f" ({_md(m.provenance())})" if m.provenance() else ""
            lines.append(f"- {m.probability:.0%}{rating}: {_md(m.claim)}{_link(m.url)}{provenance}")
    for note in report.notes:
        lines.append(f"\n_Note: {_md(note)}_")
    return "\n".join(lines) + "\n"
