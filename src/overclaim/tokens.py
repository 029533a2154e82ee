"""Tokens and sentences in clean coordinates, the tokenizer, and the word patterns stages share.

A stage that needs words of a text uses one of the patterns here rather than writing its own,
so two stages that should see the same words do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Words (with inner apostrophes, hyphens, dots as in "U.S."), numbers, then any other
# non-space symbol (emoji, punctuation) as its own token.
TOKEN_RE = re.compile(r"(?:[^\W_]\.){2,}|[^\W_]+(?:['’\-][^\W_]+)*|\S", re.UNICODE)
# Words for cheap bag-of-words use: about twice as fast as TOKEN_RE, which matters
# because every body sentence goes through it (abbreviations split, "u.s." -> "u", "s").
WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*", re.UNICODE)
# Words joined only by inner apostrophes ("don't", "world's"); hyphenated words are split: the
# words cue lexicons are matched on (certainty cues, claim-strength cues).
APOSTROPHE_WORD_RE = re.compile(r"\w+(?:['’]\w+)*")
# The same without underscores (letters and digits only): words as a reader sees them, for
# spans over words (normalization's disguised words).
LETTER_WORD_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


@dataclass
class Token:
    """A word or symbol in clean coordinates of its text view."""

    start: int
    end: int
    text: str
    lower: str


def tokenize(text: str, offset: int = 0) -> list[Token]:
    """Tokens of ``text`` with offsets shifted by ``offset``."""
    return [Token(m.start() + offset, m.end() + offset, m.group(), m.group().lower()) for m in TOKEN_RE.finditer(text)]


@dataclass
class Sentence:
    """A body sentence in clean coordinates; its tokens are computed on first use."""

    index: int
    start: int
    end: int
    text: str
    _tokens: list[Token] | None = field(default=None, repr=False, compare=False)
    _words: list[str] | None = field(default=None, repr=False, compare=False)

    @property
    def tokens(self) -> list[Token]:
        """Tokens of the sentence, with offsets in the clean body."""
        if self._tokens is None:
            self._tokens = tokenize(self.text, self.start)
        return self._tokens

    @property
    def words(self) -> list[str]:
        """Lower-cased word tokens (no offsets): the cheap form for bag-of-words features."""
        if self._words is None:
            self._words = WORD_RE.findall(self.text.lower())
        return self._words
