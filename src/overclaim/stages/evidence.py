"""Evidence: rank body sentences by how much of the headline's claim they carry.

Relevance is IDF-weighted coverage: the share of the headline's content-word
weight (stems, stop words dropped) that a sentence contains, with each word
weighted by its rarity in English (``8 - zipf`` from wordfreq, so "cartel"
outweighs "said"). Unlike BM25 fitted on one body, it is comparable across
posts, which the unrelated call needs. The top ``evidence_top_k`` sentences
become the report's evidence.
"""

from __future__ import annotations

from functools import lru_cache

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from overclaim.config import Config
from overclaim.context import Context
from overclaim.report import EvidenceSentence
from overclaim.resources import stem, zipf
from overclaim.stages.base import Stage
from overclaim.tokens import Token

STOP_WORDS = frozenset(ENGLISH_STOP_WORDS) | {"says", "said", "say", "new", "just", "update", "breaking", "s"}


@lru_cache(maxsize=200_000)
def term(lower: str) -> tuple[str, float] | None:
    """The stem of a lower-cased token and its weight, or None for stop words and symbols."""
    word = lower.replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) < 2 or word in STOP_WORDS or not any(c.isalnum() for c in word):
        return None
    weight = max(0.5, 8.0 - zipf(word)) if not word.isdigit() else 3.0
    return stem(word), weight


def content_terms(tokens: list[Token]) -> dict[str, float]:
    """Stem -> weight for the content words among ``tokens``."""
    out: dict[str, float] = {}
    for tok in tokens:
        t = term(tok.lower)
        if t is not None:
            out[t[0]] = max(out.get(t[0], 0.0), t[1])
    return out


def coverage(query: dict[str, float], words: list[str]) -> float:
    """Share of the query's term weight found among lower-cased ``words`` (0-1)."""
    total = sum(query.values())
    if total <= 0:
        return 0.0
    # Snowball stems keep the word's first two letters, so only words sharing them with a
    # query stem need stemming: stemming every new body word was most of this stage's cost.
    prefixes = {stem[:2] for stem in query}
    present = {t[0] for word in set(words) if word[:2] in prefixes and (t := term(word)) is not None}
    return sum(w for s, w in query.items() if s in present) / total


def is_content_word(lower: str) -> bool:
    """Whether a lower-cased word counts as content (not a stop word, not a lone letter)."""
    return len(lower) >= 2 and lower not in STOP_WORDS


class EvidenceRanker(Stage):
    """Rank body sentences by relevance to the headline and keep the best."""

    name = "evidence"

    def __init__(self, config: Config) -> None:
        self.config = config

    def __call__(self, ctx: Context) -> None:
        """Fill ``ctx.evidence`` and ``ctx.extras['relevance']`` (one score per sentence)."""
        query = content_terms(ctx.headline_tokens)
        ctx.extras["headline_terms"] = query
        words = [s.words for s in ctx.sentences]
        scores = [coverage(query, w) for w in words]
        ctx.extras["relevance"] = scores
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        top = [i for i in ranked if scores[i] > 0][: self.config.evidence_top_k]
        # Built without validation: an index, a span model and a rounded float score >= 0.
        ctx.evidence = [
            EvidenceSentence.model_construct(
                index=i,
                span=ctx.body.span(ctx.sentences[i].start, ctx.sentences[i].end),
                relevance=round(float(scores[i]), 4),
                cues=[],
            )
            for i in top
        ]
        body_words = 0
        for ws in words:
            body_words += sum(1 for w in ws if is_content_word(w))
            if body_words >= self.config.min_body_words:
                break
        if body_words < self.config.min_body_words:
            ctx.too_short = True
            ctx.notes.append(f"The body has only {body_words} content words: too short to judge.")
