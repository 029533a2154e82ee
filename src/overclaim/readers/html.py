"""Web pages: an article page read into a post (trafilatura), a fetched URL, JSON-LD blocks.

Part of :mod:`overclaim.readers`, which re-exports every name.
"""

from __future__ import annotations

import html as html_lib
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from overclaim.errors import (
    EmptyFieldError,
)
from overclaim.readers.records import _checked, parse_text
from overclaim.report import Post

if TYPE_CHECKING:
    from overclaim.fetch import AddressPolicy, FetchedPage

class _JsonLdBlocks(HTMLParser):
    """Collects the text of each ``<script type="application/ld+json">`` element, with its first line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.blocks: list[tuple[int, str]] = []
        self._open: tuple[int, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            kind = (dict(attrs).get("type") or "").split(";")[0].strip().lower()
            self._open = (self.getpos()[0], []) if kind == "application/ld+json" else None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._open is not None:
            self.blocks.append((self._open[0], "".join(self._open[1])))
            self._open = None


def json_ld_blocks(html: str) -> list[tuple[int, str]]:
    """Every ``<script type="application/ld+json">`` block of an HTML page: (line of its tag, its text)."""
    parser = _JsonLdBlocks()
    parser.feed(html)
    parser.close()
    return parser.blocks


MAX_HTML_DEPTH = 200
# Elements with no content (never pushed on the nesting stack).
_VOID_TAGS = frozenset(
    "area base br col embed hr img input keygen link meta param source track wbr".split()
)


def _parse_tree(html: str) -> tuple[Any, bool]:
    """``html`` parsed as trafilatura parses it (lxml), and whether libxml2 gave up on its nesting depth.

    The tree is None when lxml cannot read the page at all (then trafilatura refuses it).
    """
    from lxml.html import HTMLParser as LxmlHTMLParser
    from lxml.html import fromstring

    parser = LxmlHTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True,
                            remove_pis=True)
    try:
        tree = fromstring(html.encode("utf-8", "replace"), parser=parser)
    except Exception:  # noqa: BLE001 - an unparsable page is trafilatura's to refuse
        return None, False
    return tree, any("Excessive depth" in e.message for e in parser.error_log)


class _Flattener(HTMLParser):
    """Re-writes HTML with elements nested at most ``MAX_HTML_DEPTH`` deep; deeper tags are dropped, text kept."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, written)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_TAGS:
            self.out.append(self.get_starttag_text() or "")
            return
        if self.stack and self.stack[-1][0] == tag and tag in ("p", "li", "option", "tr", "td", "th", "dt", "dd"):
            self.handle_endtag(tag)  # an implied end tag: <p>a<p>b
        written = len(self.stack) < MAX_HTML_DEPTH
        if written:
            self.out.append(self.get_starttag_text() or "")
        self.stack.append((tag, written))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if len(self.stack) < MAX_HTML_DEPTH:
            self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        if not any(t == tag for t, _ in self.stack):
            return
        while self.stack:
            open_tag, written = self.stack.pop()
            if written:
                self.out.append(f"</{open_tag}>")
            if open_tag == tag:
                return

    def handle_data(self, data: str) -> None:
        self.out.append(html_lib.escape(data, quote=False))

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")


def flatten_html(html: str) -> str:
    """``html`` with its elements nested at most :data:`MAX_HTML_DEPTH` deep (deeper tags dropped, text kept)."""
    flattener = _Flattener()
    flattener.feed(html)
    flattener.close()
    return "".join(flattener.out)


# Quote and dash forms told apart by a headline's <title>/og:title and its <h1> copy.
_SAME_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                              "\u2014": "-", "\u00a0": " "})
# What separates a headline from the outlet's name in a page title ("Storm hits | The Post").
_TITLE_SEPARATORS = ("|", "-", "\u2013", "\u2014", ":", "\u00b7", "\u2022", "/")


def _comparable(text: str) -> str:
    """``text`` as two copies of one headline compare: NFKC, case-folded, quotes and spaces unified."""
    import unicodedata

    return " ".join(unicodedata.normalize("NFKC", text).translate(_SAME_QUOTES).casefold().split())


def _is_headline_copy(line: str, headline: str) -> bool:
    """Whether ``line`` (the body's first line) is ``headline`` again, as an article's ``<h1>`` repeats it.

    The same text (up to case, quote forms and spacing), or the headline less a trailing
    outlet name ("Storm hits the coast" under the title "Storm hits the coast | The Post").
    """
    a, b = _comparable(line), _comparable(headline)
    if not a or not b:
        return False
    if a == b:
        return True
    # The line is the title less a suffix after a separator; at least half the title, so a
    # one-word kicker ("Storm") under "Storm: what we know" is not taken for the headline.
    rest = b[len(a):].strip() if b.startswith(a) else ""
    return bool(rest) and rest[:1] in _TITLE_SEPARATORS and len(a) * 2 >= len(b)


def strip_leading_headline(body: str, *headlines: str | None) -> str:
    """``body`` less its first line when that line is one of ``headlines`` again (an article's ``<h1>``).

    Only a leading copy goes: a headline quoted later in the article, or a first paragraph
    that merely starts with the headline's words, stays.
    """
    first, sep, rest = body.lstrip().partition("\n")
    if any(h and _is_headline_copy(first, h) for h in headlines):
        return rest.strip() if sep else ""
    return body


def _first_h1(tree: Any) -> str | None:
    """The text of the page's first ``<h1>`` (the article headline on an article page), or None."""
    h1 = tree.find(".//h1") if tree is not None else None
    if h1 is None:
        return None
    return " ".join(h1.text_content().split()) or None


def _meta_property(tree: Any, name: str) -> str | None:
    """The first non-blank ``<meta property=name content=...>`` of the page, spaces collapsed."""
    for meta in tree.iterfind(f".//meta[@property='{name}']"):
        value = " ".join((meta.get("content") or "").split())
        if value:
            return value
    return None


def _social_caption(tree: Any, title: str, outlet: str | None) -> str | None:
    """A social post's caption: the ``og:description`` of a page with no article headline, or None.

    A page has no article headline when it has no ``<h1>`` (other than the site's name, a logo)
    and either does not call itself an article (``og:type``) or its title is only the site's
    name ("Instagram").
    """
    if tree is None:
        return None
    site = _comparable(outlet or "")
    for h1 in tree.iterfind(".//h1"):
        text = _comparable(h1.text_content())
        if text and text != site:
            return None
    caption = _meta_property(tree, "og:description")
    if caption is None:
        return None
    title_is_site = not title or (outlet is not None and _comparable(title) == _comparable(outlet))
    if title_is_site or (_meta_property(tree, "og:type") or "").lower() != "article":
        return caption
    return None


def _http_url(value: object) -> str | None:
    """``value`` when it is an absolute http(s) URL (a page's canonical link), else None."""
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def parse_html(html: str, source: str = "<input>", url: str | None = None) -> Post:
    """A post from an HTML page: its headline, its main text (trafilatura) as body, and its metadata.

    The headline is the page's title (``og:title``, JSON-LD ``headline``, ``<title>``, ``<h1>``,
    as trafilatura finds it); a social post's page (no ``<h1>``, and not an ``og:type`` article
    or titled only with the site's name) has its ``og:description`` caption as its headline.
    The body is the main text less a leading copy of the headline or of the ``<h1>`` (which
    trafilatura keeps), so a page and the same post as plain text read alike. ``outlet`` is
    the site name (``og:site_name``, the JSON-LD publisher, else the host name), ``published``
    the page's date, ``url`` the ``url`` given (where the page was fetched from) else the
    page's canonical URL.

    A page nested too deeply for the HTML parser is read whole, through :func:`flatten_html`.
    """
    import trafilatura

    tree, too_deep = _parse_tree(html)
    if too_deep:
        html = flatten_html(html)
    extracted = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    if extracted is None:
        raise EmptyFieldError("no article text found in the HTML page", source=source, field="body")
    data = extracted.as_dict() if hasattr(extracted, "as_dict") else dict(extracted)
    outlet = (data.get("sitename") or "").strip() or None
    if outlet is not None and _http_url(outlet):
        outlet = None  # an article:publisher link (a Facebook page), not a name
    title = (data.get("title") or "").strip()
    headline = _social_caption(tree, title, outlet) or title
    body = (data.get("text") or "").strip()
    if not headline:
        raise EmptyFieldError("no title found in the HTML page", source=source, field="headline")
    body = strip_leading_headline(body, headline, _first_h1(tree))
    if not body:
        raise EmptyFieldError("no article text found in the HTML page", source=source, field="body")
    post = Post(
        headline=headline,
        body=body,
        url=url or _http_url(data.get("url")),
        outlet=outlet,
        published=data.get("date") or None,
    )
    return _checked(post, source)


def post_from_page(page: FetchedPage) -> Post:
    """A post from a fetched page: an HTML page read by :func:`parse_html`, plain text by :func:`parse_text`.

    The CLI (``overclaim check URL``) and the service (``{"url": ...}``) read fetched pages here.
    """
    if page.content_type == "text/plain":
        return parse_text(page.text, source=page.url).model_copy(update={"url": page.url})
    return parse_html(page.text, source=page.url, url=page.url)


def is_url(value: str | Path) -> bool:
    """Whether an input argument is an http(s) URL rather than a file name."""
    return str(value).strip().lower().startswith(("http://", "https://"))


def read_url(url: str, *, policy: AddressPolicy | None = None) -> Post:
    """The post on the page at ``url``, fetched with the SSRF-guarded fetcher (:mod:`overclaim.fetch`).

    Args:
        url: an http(s) URL.
        policy: which addresses may be reached; None (always, outside tests): public ones only.
            Size and time limits: :data:`overclaim.fetch.FETCH_MAX_BYTES`, ``FETCH_TIMEOUT_S``.

    Raises:
        FetchError: the URL is refused or cannot be fetched in the limits (address, size, time,
            not a web page).
        InputError: the page has no title or no article text.
    """
    from overclaim import fetch

    # The limits are read when called (tests lower them to reach them quickly).
    page = fetch.fetch_url(url, max_bytes=fetch.FETCH_MAX_BYTES, timeout=fetch.FETCH_TIMEOUT_S,
                           policy=policy or fetch.public_only)
    return post_from_page(page)
