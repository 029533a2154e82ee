"""Making user text safe to show: no terminal control characters, no links but web links.

Posts come from the internet. Printed raw, a post's ``ESC ] 0 ; ... BEL`` sets the
terminal's window title and ``ESC ] 52 ; c ; ...`` writes its clipboard; a
fact-check URL of ``javascript:...`` becomes a live link in Markdown or HTML.
Standard library only, so the CLI's error path can use it without loading rich.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from urllib.parse import urlsplit

__all__ = ["printable", "printable_offsets", "safe_url", "shift"]

# C0 controls but tab and newline, DEL, and the C1 controls (U+0080-U+009F; U+009B is a
# one-character CSI and U+009D an OSC on terminals that read 8-bit controls). Carriage
# return goes too: it lets text overwrite what was printed before it on the line.
CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str, *, newlines: bool = True) -> str:
    """``text`` without control characters (tab and newline kept; with ``newlines=False``, made spaces).

    Args:
        text: user text about to be printed.
        newlines: keep line breaks; False for text that must stay on one line (an error line).
    """
    text = CONTROL_RE.sub("", text)
    return text if newlines else text.replace("\n", " ")


def printable_offsets(text: str) -> tuple[str, list[int]]:
    """``printable(text)`` and the sorted indices of ``text`` it removed (to move spans with it)."""
    removed = [m.start() for m in CONTROL_RE.finditer(text)]
    return (CONTROL_RE.sub("", text) if removed else text), removed


def shift(index: int, removed: list[int]) -> int:
    """Where ``index`` of the original text lands in its printable text (see :func:`printable_offsets`)."""
    return index - bisect_left(removed, index)


# Characters percent-encoded in a link target: ASCII controls, space and the ASCII
# characters RFC 3986 never allows in a URI (quotes, angle brackets, backslash, ...).
# Percent signs stay as they are, so an already-encoded URL is not encoded twice.
_URL_UNSAFE_RE = re.compile('[\x00-\x20\x7f-\x9f"<>\\\\^`{|}]')


def safe_url(url: str | None) -> str | None:
    """``url`` as a link target if it is an http(s) URL with a host, else None.

    The result holds no space, quote, angle bracket or control character (they are
    percent-encoded), so it can sit inside ``<...>`` in Markdown or a quoted HTML
    attribute without ending it; other schemes (``javascript:``, ``data:``) are refused.
    """
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    # urlsplit reads past tabs and newlines in the scheme ("java\tscript:"); the link must be what was checked.
    if url[: len(parts.scheme) + 1].lower() != parts.scheme.lower() + ":":
        return None
    return _URL_UNSAFE_RE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), url)
