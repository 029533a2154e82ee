"""Segment: body sentences and tokens with character offsets.

Sentences come from ``sentencex`` (rule-based, no model download, ~40k bodies/s);
its segments concatenate back to the input, so offsets are exact. Offsets are in
the clean (normalized) text; :meth:`~overclaim.text.TextView.span` maps them back.
Tokens come from :func:`overclaim.tokens.tokenize` (``Token``, ``Sentence`` and the shared word
patterns live in :mod:`overclaim.tokens`).

sentencex 1.0 panics (``pyo3_runtime.PanicException``, a BaseException) on a lone capital,
non-ASCII whitespace and a period (``"Plan B\u00a0. Officials ..."``): it slices a UTF-8
string inside a multi-byte space. sentencex is therefore given the text with every non-ASCII
space replaced by an ASCII one (one character for one, so every offset stays the same), and
any other panic it raises becomes this post's error instead of escaping ``except Exception``.
"""

from __future__ import annotations

import re

import sentencex

from overclaim.config import Config
from overclaim.context import Context
from overclaim.errors import panics_as_errors
from overclaim.stages.base import Stage
from overclaim.tokens import (  # noqa: F401 - TOKEN_RE, WORD_RE, tokenize re-exported for older imports
    TOKEN_RE,
    WORD_RE,
    Sentence,
    tokenize,
)

# Every non-ASCII character Python calls whitespace (Rust's char::is_whitespace has the same
# ones; a test checks the list against str.isspace) -> an ASCII space, for sentencex.
NON_ASCII_SPACES = "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
    "\u2028\u2029\u202f\u205f\u3000"
_ASCII_SPACES = str.maketrans(NON_ASCII_SPACES, " " * len(NON_ASCII_SPACES))


def ascii_spaces(text: str) -> str:
    """``text`` with every non-ASCII space replaced by ``" "`` (same length, same offsets)."""
    return text if text.isascii() else text.translate(_ASCII_SPACES)


def _segments(block: str) -> list[str]:
    with panics_as_errors("splitting the sentences of"):
        return list(sentencex.segment("en", block))


# Longest block (text between line breaks) handed to sentencex at once. Its time grows with the
# square of a block's length on some inputs (a run of unclosed quotes: 0.06 s at 16k characters,
# 0.25 s at 32k), so longer blocks are cut first, at the last sentence end (". ", "! ", "? ")
# before the limit, else at the last space. FNC-1's longest block is 9,980 characters, so no
# real article seen so far is cut.
MAX_BLOCK_CHARS = 12_000


def _blocks(block: str) -> list[str]:
    """``block`` in pieces of at most MAX_BLOCK_CHARS, cut after a sentence end or a space."""
    pieces = []
    while len(block) > MAX_BLOCK_CHARS:
        window = block[:MAX_BLOCK_CHARS]
        cut = max(window.rfind(". "), window.rfind("! "), window.rfind("? "))
        cut = cut + 2 if cut > MAX_BLOCK_CHARS // 2 else window.rfind(" ") + 1
        if cut <= 0:
            cut = MAX_BLOCK_CHARS
        pieces.append(block[:cut])
        block = block[cut:]
    pieces.append(block)
    return pieces


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence ranges ``(start, end)`` of ``text``, trimmed of surrounding whitespace.

    Raises:
        InternalCheckError: sentencex crashed (panicked) on the text.
    """
    ranges: list[tuple[int, int]] = []
    pos = 0
    text = ascii_spaces(text)  # the ranges index the caller's text: same length, same offsets
    for block in re.split(r"(\n\s*\n|\n)", text):
        # Paragraph and line breaks always end a sentence (bodies are often one paragraph a line).
        if not block or block.isspace():
            pos += len(block)
            continue
        for seg in (seg for piece in _blocks(block) for seg in _segments(piece)):
            start = text.find(seg, pos) if seg else pos
            if start < 0:  # never expected: sentencex keeps the text whole
                start = pos
            end = start + len(seg)
            pos = end
            s, e = start, end
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                ranges.append((s, e))
    return ranges


class Segmenter(Stage):
    """Split the clean body into sentences and tokenize headline and sentences."""

    name = "segment"

    def __init__(self, config: Config) -> None:
        self.config = config

    def __call__(self, ctx: Context) -> None:
        """Fill ``ctx.headline_tokens`` and ``ctx.sentences``."""
        ctx.headline_tokens = tokenize(ctx.headline.clean)
        body = ctx.body.clean
        ctx.sentences = [
            Sentence(i, s, e, body[s:e]) for i, (s, e) in enumerate(split_sentences(body))
        ]
