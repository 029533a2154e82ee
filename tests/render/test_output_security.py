"""Rendered reports are safe to open and to print: no live links but http(s), no terminal control characters."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser

import pytest
from rich.console import Console

from overclaim.render.html import render_html
from overclaim.render.markdown import render_markdown
from overclaim.render.safe import printable, safe_url
from overclaim.render.terminal import _highlight, print_report, render_terminal_text
from overclaim.report import FactCheckMatch, Report, Span
from tests.conftest import run_overclaim

# What a hostile post can carry: OSC 0 (window title, BEL-ended), OSC 52 (clipboard, ST-ended),
# CSI (clear screen), the one-byte C1 CSI, a carriage return that overwrites the line, a bell.
TITLE = "\x1b]0;pwned\x07"
CLIPBOARD = "\x1b]52;c;ZWNobyBoaQ==\x1b\\"
HEADLINE = f"Minister {TITLE}resigns over {CLIPBOARD}expenses scandal"
BODY = ("The minister resigned on Monday over the expenses scandal, officials said.\x1b[2J "
        f"He denied \x9b31mwrongdoing in the {CLIPBOARD} expenses scandal.\r\n"
        "Aides said he would\x07 stay on as an adviser to the government.")
# Controls that may not reach a terminal: C0 but tab and newline, DEL, C1.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

EVIL_URLS = [
    'https://x.example/"><script>alert(4)</script>',
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(3)</script>",
    "https://x.example/a b>c<img src=x onerror=alert(5)>",
    "https:\\\\evil.example",
]


@pytest.fixture(scope="module")
def hostile(checker) -> Report:
    """The real report of a post full of control characters, with fact-checks that carry hostile URLs."""
    report = checker.check(HEADLINE, BODY)
    assert TITLE in report.post.headline  # the report keeps the text as given; the renderers must clean it
    matches = [FactCheckMatch(claim_id=f"c{i}", claim=f"Claim {i} {TITLE}about the minister", rating="False",
                              url=url, score=1.0, probability=0.9) for i, url in enumerate(EVIL_URLS)]
    matches.append(FactCheckMatch(claim_id="ok", claim="The minister resigned", url="https://factcheck.example/ok",
                                  score=1.0, probability=0.8))
    return report.model_copy(update={"matches": matches, "notes": [f"note quoting {CLIPBOARD}the post"]})


# ---------------------------------------------------------------- 18: links


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(markup: str) -> list[tuple[str, dict]]:
    parser = Links()
    parser.feed(markup)
    parser.close()
    return parser.tags


def _assert_only_web_links(markup: str, allowed_tags: set[str]) -> list[str]:
    tags = _tags(markup)
    assert {t for t, _ in tags} <= allowed_tags, {t for t, _ in tags} - allowed_tags
    for _, attrs in tags:
        assert not any(name.startswith("on") for name in attrs), attrs
    hrefs = [attrs["href"] for tag, attrs in tags if tag == "a" and not attrs["href"].startswith("#")]
    for href in hrefs:
        assert re.match(r"https?://[^/\\]", href), href
    return hrefs


def test_markdown_fact_check_links_are_http_only_and_cannot_break_out(hostile):
    from markdown_it import MarkdownIt

    md = render_markdown(hostile)
    html = MarkdownIt("commonmark").render(md)
    hrefs = _assert_only_web_links(html, {"h2", "p", "strong", "ol", "ul", "li", "a", "em", "code", "table",
                                          "thead", "tbody", "tr", "th", "td"})
    # The two http(s) URLs with a host are links, percent-encoded where they held markup; no other scheme is.
    assert hrefs == ["https://x.example/%22%3E%3Cscript%3Ealert(4)%3C/script%3E",
                     "https://x.example/a%20b%3Ec%3Cimg%20src=x%20onerror=alert(5)%3E",
                     "https://factcheck.example/ok"]
    assert md.count("link not shown, not http(s)") == len(EVIL_URLS) - 2
    assert "<script" not in html and "<img" not in html


def test_markdown_code_spans_show_user_text_as_written(checker):
    from markdown_it import MarkdownIt

    report = checker.check("SHOCKING: Narco t_e_r_r_o_r_i_s_t_s <b>strike</b>", "Officials said terrorists struck.")
    html = MarkdownIt("commonmark").render(render_markdown(report))
    assert "<b>" not in html
    # No escapes work inside a code span: the disguised word is shown as written, without backslashes.
    assert "<code>t_e_r_r_o_r_i_s_t_s</code>" in html


@pytest.mark.parametrize("url", EVIL_URLS)
def test_html_links_only_http_urls(hostile, url):
    page = render_html(hostile.model_copy(update={"post": hostile.post.model_copy(update={"url": url})}))
    _assert_only_web_links(page, {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "section",
                                  "div", "span", "strong", "p", "ol", "ul", "li", "a", "q", "dl", "dt", "dd",
                                  "meter", "code", "mark", "table", "thead", "tbody", "tr", "th", "td", "time"})
    assert "<script" not in page


@pytest.mark.parametrize(
    ("url", "href"),
    [
        ("https://factcheck.example/a?b=1#c", "https://factcheck.example/a?b=1#c"),
        ("  http://x.example/already%20encoded ", "http://x.example/already%20encoded"),
        ("HTTPS://X.example/", "HTTPS://X.example/"),
        ("https://x.example/é", "https://x.example/é"),
        ("https://x.example/\x1b]0;t\x07", "https://x.example/%1B]0;t%07"),
        ("https://", None),
        ("http:/x.example", None),
        ("//x.example/path", None),
        ("ftp://x.example/", None),
        ("java\nscript:alert(1)", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url, href):
    assert safe_url(url) == href


# ---------------------------------------------------------------- 19: control characters


def test_terminal_text_has_no_control_characters(hostile):
    text = render_terminal_text(hostile)
    assert not CONTROLS.findall(text)
    assert "Minister ]0;pwnedresigns" in text  # the text around the controls is kept, only they go
    assert "'javascript:alert(1)'" in text and "https://factcheck.example/ok" in text


def test_terminal_view_on_a_real_terminal_sends_only_its_own_styles(hostile):
    buffer = io.StringIO()
    print_report(hostile, Console(file=buffer, force_terminal=True, color_system="truecolor", width=120))
    out = buffer.getvalue()
    assert "\x1b[" in out  # styled: rich's own SGR sequences are there
    assert not CONTROLS.findall(re.sub(r"\x1b\[[0-9;]*m", "", out))  # and nothing else


def test_highlight_keeps_styles_on_their_words_when_controls_go():
    text = f"{TITLE}Shocking {CLIPBOARD}news\x07 today"
    spans = [(Span(field="headline", start=text.index(w), end=text.index(w) + len(w), text=w), "bold")
             for w in ("Shocking", "news", "today")]
    bell = text.index("\x07 today")
    spans.append((Span(field="headline", start=bell, end=bell + 1, text="\x07"), "red"))  # only a control: no style
    spans.append((Span(field="headline", start=0, end=len(TITLE), text=TITLE), "red"))
    out = _highlight(text, 0, spans)
    assert out.plain == "]0;pwnedShocking ]52;c;ZWNobyBoaQ==\\news today"
    assert [(out.plain[s.start:s.end], s.style) for s in out.spans] == [
        ("Shocking", "bold"), ("news", "bold"), ("today", "bold"), ("]0;pwned", "red")]


def _cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    return run_overclaim(monkeypatch, capsys, *args)


def test_cli_check_prints_no_control_characters(tmp_path, monkeypatch, capsys):
    post = tmp_path / "post.json"
    post.write_text(json.dumps({"headline": HEADLINE, "body": BODY}), encoding="utf-8")
    code, out, err = _cli(monkeypatch, capsys, "check", str(post))
    assert code == 0, err
    assert "Minister" in out and not CONTROLS.findall(out + err)
    for fmt in ("markdown", "terminal", "html"):
        code, out, err = _cli(monkeypatch, capsys, "check", str(post), "--format", fmt)
        assert code == 0 and "Minister" in out and not CONTROLS.findall(out), fmt


@pytest.mark.parametrize("bad", ["missing input", "unknown field"])
def test_cli_error_line_quoting_input_has_no_control_characters(tmp_path, monkeypatch, capsys, bad):
    src = tmp_path / f"in{TITLE}.jsonl"
    if bad == "unknown field":
        src.write_text('{"headline": "A", "body": "B"}\n', encoding="utf-8")
    code, out, err = _cli(monkeypatch, capsys, "batch", str(src), "--out", str(tmp_path / "o.jsonl"),
                          "--no-progress", "--fields", f"verdict.{CLIPBOARD}x\nnext line")
    assert code == 2 and err.startswith("overclaim: error: ") and err.count("\n") == 1
    assert ("in]0;pwned.jsonl" if bad == "missing input" else "verdict.]52;c;") in err
    assert not CONTROLS.findall(err[:-1])


def test_batch_summary_prints_paths_as_text(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "a["
    folder.mkdir()
    src = folder / f"b]in{TITLE}.jsonl"  # the path holds "[/b]": rich markup would refuse to print it
    src.write_text(json.dumps({"headline": "Council approves budget",
                               "body": "The council approved the budget on Monday."}) + "\n", encoding="utf-8")
    code, out, err = _cli(monkeypatch, capsys, "batch", str(src), "--out", str(tmp_path / "o.jsonl"),
                          "--no-progress", "--workers", "1")
    assert code == 0, err
    assert "a[/b]in" in err and "]0;pwned" in err and not CONTROLS.findall(err.replace("\n", ""))


def test_printable_keeps_text_and_drops_controls():
    assert printable("tab\there\nnew line é 🚨 \u200b") == "tab\there\nnew line é 🚨 \u200b"
    assert printable(f"a{TITLE}b\x9b1mc\x7fd\re") == "a]0;pwnedb1mcde"
    assert printable("one\ntwo", newlines=False) == "one two"
