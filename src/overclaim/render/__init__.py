"""Renderers: the same report as JSON, a terminal view, Markdown, HTML, or a ClaimReview draft."""

from __future__ import annotations

from overclaim.report import Report

RENDER_FORMATS = ("terminal", "json", "markdown", "html", "claimreview")


def render(report: Report, fmt: str) -> str:
    """The report as text in ``fmt`` (json, markdown, html, claimreview; terminal renders as plain text)."""
    if fmt == "json":
        return report.to_json()
    if fmt == "markdown":
        from overclaim.render.markdown import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from overclaim.render.html import render_html

        return render_html(report)
    if fmt == "claimreview":
        from overclaim.render.claimreview import render_claimreview

        return render_claimreview(report)
    if fmt == "terminal":
        from overclaim.render.terminal import render_terminal_text

        return render_terminal_text(report)
    raise ValueError(f"unknown format {fmt!r}")
