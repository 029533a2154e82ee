"""Segment: body sentences and tokens with character offsets.

Sentences come from ``sentencex`` (rule-based, no model download, ~40k bodies/s);
its segments concatenate back to the input, so offsets are exact. Offsets are in
the clean (normalized) text; :meth:`~overclaim.text.TextView.span` maps them back.
"""

from __future__ import annotations

import re

import sentencex

from overclaim.config import Config
from overclaim.pipeline import Context, Sentence, Token

# Words (with inner apostrophes, hyphens, dots as in "U.S."), numbers, then any other
# non-space symbol (emoji, punctuation) as its own token.
TOKEN_RE = re.compile(r"(?:[^\W_]\.){2,}|[^\W_]+(?:['’\-][^\W_]+)*|\S", re.UNICODE)
# Words for cheap bag-of-words use: about twice as fast as TOKEN_RE, which matters
# because every body sentence goes through it (abbreviations split, "u.s." -> "u", "s").
WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*", re.UNICODE)


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """Tokens of ``text`` with offsets shifted by ``offset``."""
    return [Token(m.start() + offset, m.end() + offset, m.group(), m.group().lower()) for m in TOKEN_RE.finditer(text)]


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence ranges ``(start, end)`` of ``text``, trimmed of surrounding whitespace."""
    ranges: list[tuple[int, int]] = []
    pos = 0
    for block in re.split(r"(\n\s*\n|\n)", text):
        # Paragraph and line breaks always end a sentence (bodies are often one paragraph a line).
        if not block or block.isspace():
            pos += len(block)
            continue
        for seg in sentencex.segment("en", block):
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


class Segmenter:
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
