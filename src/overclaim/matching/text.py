"""Query text for claim matching: links and tags expanded, words, stop words, rarest query terms."""

from __future__ import annotations

import re
from functools import lru_cache

from overclaim.resources import stem, zipf
from overclaim.tokens import LETTER_WORD_RE

# Function words left out of the query and of overlap features (closed-class English words).
STOP_WORDS = frozenset(
    """a an the of to in on at by for from with without about into onto over under as and or but nor so
    if then than that this these those there here it its it's is are was were be been being am do does did
    done have has had having i me my we us our you your he him his she her they them their what which who
    whom whose when where why how all any some no not only just very too also can could will would shall
    should may might must up down out off again once more most such own same other each both few via rt
    amp s t re ve ll d m don didn doesn isn aren wasn weren won wouldn couldn shouldn im""".split()
)

_URL_RE = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S*", re.IGNORECASE)
_TAG_RE = re.compile(r"([#@])([^\W_]\w*)", re.UNICODE)
_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])|_")
_NUM_RE = re.compile(r"\d+(?:[.,]\d+)*")
_YEAR_RE = re.compile(r"\b(?:19|20)\d\d\b")
_NAME_RE = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:[A-Z][a-z]+)*\b")
# Embedded-tweet signature at the end of a post: "— Name (@handle) August 28, 2019" (also after
# :func:`expand`, which rewrites the handle inside the parentheses).
_SIGNATURE_RE = re.compile(r"\s+[—–-]\s+[^—–\n]{0,80}\([^()]{1,120}\)\s+[A-Za-z]+\.?\s+\d{1,2},\s+\d{4}\s*$")
# A post that shows a picture or video, and a fact-check about one ("A photograph shows ...").
_MEDIA_POST_RE = re.compile(
    r"pic\.twitter\.com|\b(?:photos?|pics?|pictures?|images?|videos?|footage|clip|watch|photoshopped|shopped)\b",
    re.IGNORECASE,
)
_VIDEO_POST_RE = re.compile(r"\b(?:videos?|footage|clip|watch|watching)\b", re.IGNORECASE)
_MEDIA_CLAIM_RE = re.compile(
    r"\b(?:photos?|photographs?|pictures?|images?|memes?|videos?|footage|clip)\b", re.IGNORECASE
)
_VIDEO_CLAIM_RE = re.compile(r"\b(?:videos?|footage|clip)\b", re.IGNORECASE)

# Most query words sent to the index: the rarest ones (lowest Zipf frequency) are kept.
# 32 keeps every content word of 99% of CLEF tweets and bounds query time on big stores.
MAX_QUERY_TERMS = 32


def strip_signature(text: str) -> str:
    """``text`` without a trailing embedded-tweet signature ("— Name (@handle) Month D, YYYY")."""
    return _SIGNATURE_RE.sub(" ", text)


def expand(text: str) -> str:
    """Text prepared for matching: links dropped, hashtags and handles split into words.

    ``"#FyreFestival ran out"`` -> ``"FyreFestival Fyre Festival ran out"`` (the joined form is
    kept too, as claims sometimes write names joined).
    """
    text = _URL_RE.sub(" ", text)

    def split(m: re.Match[str]) -> str:
        word = m.group(2)
        parts = _CAMEL_RE.sub(" ", word).strip()
        return f"{word} {parts}" if parts != word else word

    return _TAG_RE.sub(split, text)


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return stem(word)


@lru_cache(maxsize=200_000)
def _weight(word: str) -> float:
    """Rarity weight of a lower-cased word: 8 minus its Zipf frequency, at least 0.5."""
    return max(0.5, 8.0 - zipf(word))


def words(text: str) -> list[str]:
    """Lower-cased words of ``text`` (apostrophes kept inside words)."""
    return [w.replace("’", "'") for w in LETTER_WORD_RE.findall(text.lower())]


def content_words(text: str) -> list[str]:
    """Lower-cased words of ``text`` that are not stop words."""
    return [w for w in words(text) if w not in STOP_WORDS and not (len(w) == 1 and not w.isdigit())]


def query_terms(text: str, max_terms: int = MAX_QUERY_TERMS) -> list[str]:
    """Index query for ``text`` (already expanded): its distinct content words, rarest first."""
    distinct = list(dict.fromkeys(content_words(text)))
    distinct.sort(key=_weight, reverse=True)
    return distinct[:max_terms]
