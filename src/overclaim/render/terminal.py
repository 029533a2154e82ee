"""A one-screen terminal view of a report (rich).

Every piece of text printed goes through :func:`~overclaim.render.safe.printable`: a
post's control characters (``ESC ] 0 ; ... BEL`` sets the window title, ``ESC ] 52``
writes the clipboard) never reach the terminal. Strings become :class:`rich.text.Text`,
never markup, so a post's ``[bold]`` is shown as written.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from overclaim.render.safe import printable, printable_offsets, safe_url, shift
from overclaim.report import Report, Span, verdict_name

VERDICT_STYLE = {
    "supported": "bold white on green",
    "overstated": "bold black on yellow",
    "contradicted": "bold white on red",
    "unrelated": "bold white on blue",
    "cannot_judge": "bold white on grey42",
}
STANCE_STYLE = {"agree": "green", "disagree": "red", "discuss": "yellow", "unrelated": "dim"}


def _t(text: str, style: str = "") -> Text:
    """User text as a rich Text, control characters removed."""
    return Text(printable(text), style=style)


def _highlight(text: str, offset: int, spans: list[tuple[Span, str]]) -> Text:
    """``text`` (starting at ``offset`` in its field) with ``spans`` styled, control characters removed."""
    clean, removed = printable_offsets(text)
    out = Text(clean)
    for span, style in spans:
        s, e = span.start - offset, span.end - offset
        if e > 0 and s < len(text):
            s, e = shift(max(0, s), removed), shift(min(len(text), e), removed)
            if s < e:
                out.stylize(style, s, e)
    return out


def _key_word_spans(report: Report, sentence: Span) -> list[tuple[Span, str]]:
    """Spans of the words in ``sentence`` that share a stem with a headline content word."""
    from overclaim.stages.evidence import term
    from overclaim.tokens import WORD_RE

    stems = {t[0] for w in WORD_RE.findall(report.normalization.headline_clean.lower()) if (t := term(w))}
    out = []
    for m in WORD_RE.finditer(sentence.text):
        t = term(m.group().lower())
        if t and t[0] in stems:
            start = sentence.start + m.start()
            out.append((Span(field="body", start=start, end=start + len(m.group()), text=m.group()), "underline"))
    return out


def build_view(report: Report) -> Group:
    """The rich renderable for ``report``."""
    v = report.verdict
    parts: list[object] = []
    head_spans: list[tuple[Span, str]] = [(m.span, "bold magenta") for m in report.sensational.markers]
    head_spans += [(d.span, "bold red underline") for d in report.normalization.disguised_words]
    head_spans += [(c.span, "bold cyan") for c in report.certainty.headline.cues]
    title = Text.assemble((f" {verdict_name(v.label).upper()} ", VERDICT_STYLE[v.label]), f"  {v.score_text()}")
    parts.append(Panel(_highlight(report.post.headline, 0, head_spans), title=title, title_align="left"))
    parts.append(_t(v.definition, style="italic dim"))
    for i, r in enumerate(v.reasons, 1):
        parts.append(_t(f"{i}. {r.text}"))
    p = report.stance.probabilities
    stance_line = Text("stance: ")
    for label in ("agree", "disagree", "discuss", "unrelated"):
        stance_line.append(f"{label} {getattr(p, label):.0%}  ", style=STANCE_STYLE[label])
    c = report.certainty
    stance_line.append(f"| certainty headline {c.headline.score:.2f} vs body {c.body.score:.2f}")
    if report.sensational.clickbait_probability is not None:
        stance_line.append(f" | clickbait {report.sensational.clickbait_probability:.0%}")
    parts.append(stance_line)
    if report.evidence:
        table = Table(title="Evidence (body sentences that decide it)", show_lines=False, expand=True)
        table.add_column("#", justify="right", width=3)
        table.add_column("rel", justify="right", width=4)
        table.add_column("stance", width=9)
        table.add_column("sentence", ratio=1)
        body_spans = [(q.span, "bold cyan") for e in report.evidence for q in e.cues]
        body_spans += [(a.speaker, "magenta") for a in report.sourcing.attributions if a.kind == "anonymous"]
        for e in report.evidence:
            st = e.stance.label() if e.stance else "-"
            sent = _highlight(e.span.text, e.span.start, _key_word_spans(report, e.span) + body_spans)
            table.add_row(str(e.index), f"{e.relevance:.2f}", _t(st, style=STANCE_STYLE.get(st, "")), sent)
        parts.append(table)
    src = report.sourcing
    if src.attributions:
        # Every speaker, grouped, with counts (no cut: a silent cut hid sources).
        names = "; ".join(src.speaker_lines())
        parts.append(_t(f"sources: {src.count_line()}: {names}", style="dim"))
    for m in report.matches:
        rating = f" [{m.rating}]" if m.rating else ""
        # Only an http(s) URL is shown as one (a terminal may make it clickable); others as quoted text.
        url = safe_url(m.url) or (f"(link not shown, not http(s): {m.url!r})" if m.url else "")
        parts.append(_t(f"fact-check{rating} {m.probability:.0%}: {m.claim} {url}".rstrip(), style="bold"))
        if m.provenance():
            parts.append(_t(f"  {m.provenance()}", style="dim"))
    if not report.matches and not any(n.startswith("No stored fact-check") for n in report.notes):
        parts.append(Text("fact-checks: not searched (give a store with --factchecks)", style="dim"))
    for note in report.notes:
        parts.append(_t(f"note: {note}", style="dim italic"))
    return Group(*parts)  # type: ignore[arg-type]


def print_report(report: Report, console: Console | None = None) -> None:
    """Print the terminal view."""
    (console or Console()).print(build_view(report))


def render_terminal_text(report: Report, width: int = 100) -> str:
    """The terminal view as plain text (no colour), e.g. for logs and tests."""
    console = Console(width=width, record=True, file=None, force_terminal=False, color_system=None)
    with console.capture() as capture:
        console.print(build_view(report))
    return printable(capture.get())
