"""Normalize's word decisions: the thresholds and the lexicon lookups that say what a token spells.

Part of the normalize stage (:mod:`overclaim.stages.normalize`): :func:`resolve_word` turns a
leet, stretched or run-together token into the word it spells (or None), decided by the
``wordfreq`` lexicon; the thresholds say how each was set.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from overclaim.resources import lexicon, zipf

# --- thresholds (wordfreq 'large' Zipf scale: 'the' ~7.7, 'terrorist' ~4.2) -------------
# All set on FNC-1 *train* bodies (false edits) and on the seeded disguise generator
# run over train bodies (recall), see benchmarks/deobfuscation.py; the run-together
# thresholds also on a grid against false splits in CoNLL-2010 Wikipedia sentences and
# the clickbait headlines (../shared/data/hedging, clickbait), choosing fewer false
# splits over recall (0.85 vs 0.91 on generated joins, 38 vs 49 false splits in 485k tokens).
# A token this frequent or more is a word and is never changed.
WORD_ZIPF = 1.5
# ... except a token with a letter three times in a row: web text lists "sooo", "killll" as words.
STRETCHED_WORD_ZIPF = 3.0
# A leet / stretched / separated candidate must be at least this frequent to be accepted.
CANDIDATE_ZIPF = 2.8
# A run-together token is split only when it is rarer than this (web text lists
# "timeto", "aftera" around 1.3) and rarer than its parts side by side would be ...
JOINED_MAX_ZIPF = 2.0
# ... at least this long ...
JOINED_MIN_LEN = 6
# ... into two parts: a function word this frequent ("that", "of", "had", "a") ...
FUNCTION_WORD_ZIPF = 5.6
# ... beside a word of 4+ letters at least this frequent (3 letters: JOINED_SHORT_PART_ZIPF) ...
JOINED_PART_ZIPF = 3.0
JOINED_SHORT_PART_ZIPF = 4.5
# ... or two content words, each this frequent and this long ("terrorattack").
JOINED_CONTENT_ZIPF = 3.5
JOINED_CONTENT_MIN_LEN = 5
# First parts that make compounds and derived words, not a first word ("hyperresonance", "underclay").
COMPOUND_PREFIXES = frozenset(
    "anti arch auto counter crypto fore hyper inter macro mega meta metro micro mini multi neo non over para poly"
    " post pre pseudo semi sub super tele trans ultra under".split()
)
# Second parts that make compounds and derived words, not a second word ("hairgate", "bearlike").
COMPOUND_ENDINGS = frozenset(
    "ing ed er ers es est ly ness able ability less ful ment ments tion ist ism ity like proof gate wise ship hood"
    " ware".split()
)
# Fewest letters in a spaced or dotted run: "I a m", "a.k.a" and "U S A" are shorter.
SPACED_MIN_LEN = 4

# Leetspeak characters and the letters they stand for (first is preferred on ties).
LEET: dict[str, str] = {
    "0": "o",
    "1": "il",
    "3": "e",
    "4": "a",
    "5": "s",
    "6": "gb",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
}
# Longest token considered for leetspeak or stretched letters (longer ones are codes or junk);
# also the longest separated or soft-hyphenated word looked up (no English word is longer).
MAX_TOKEN_LEN = 40
# Longest letter string split into words run together (3 parts of up to 20 letters); also the
# longest spaced-letter run looked up. Longer strings are never words, and every lookup on
# them would cost time in proportion to their length.
JOINED_MAX_LEN = 60
# Most rounds of all passes over a text: a round runs only when the one before changed the text,
# and in the property tests (tests/stages/test_normalize_properties.py) on generated disguises
# no text needed more than three to stop changing.
MAX_ROUNDS = 4
# Most candidate spellings tried per token (ambiguous 1/6 and stretched runs multiply).
MAX_CANDIDATES = 256
_TRIPLE_RE = re.compile(r"([A-Za-z])\1\1")
# Ordinals, decades, times, units: digits then a short suffix, never leet ("1st", "90s", "5pm", "10km").
_NUMBER_SUFFIX_RE = re.compile(
    r"^\d+(?:st|nd|rd|th|s|am|pm|[kmgtp]?[bgmlwv]|km|kg|cm|mm|ft|mph|kph|mn|bn|k|x|d|p|yo|hrs?|mins?|lbs?|oz|mg|ml"
    r"|nm|k?hz|[mg]hz|fps|in)$",
    re.IGNORECASE,
)
# Model numbers and codes: "A5s", "F35", "MH17", "S7": capitals then digits; "3ds", "4K": a digit
# then one or two letters; currencies: "US$", "CA$5".
_MODEL_RE = re.compile(r"^(?:[A-Z]{1,4}\d+[a-z]?|\d[A-Za-z]{1,2}|[A-Z]{1,3}\$\d*)$")
# A word with a number after it ("Sand5", "Windows7"): a name or code, not leetspeak.
_WORD_NUMBER_RE = re.compile(r"^([A-Za-z]+)(\d+)$")


@dataclass(frozen=True)
class _Step:
    kind: str
    text: str
    confidence: float
    disguise: bool


@dataclass
class _Item:
    start: int
    end: int
    steps: list[_Step]


# --- lexicon helpers ----------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _z(word: str) -> float:
    return zipf(word)


@lru_cache(maxsize=1)
def _keep_tokens() -> frozenset[str]:
    return frozenset(t.lower() for t in lexicon("keep_tokens"))


def _confidence(z: float) -> float:
    """Confidence of a lexicon decision from the candidate's Zipf frequency."""
    return round(min(0.99, 0.7 + 0.08 * (z - CANDIDATE_ZIPF)), 2)


def _match_case(template: str, word: str) -> str:
    """``word`` in the letter case of ``template`` (same length, or upper / capitalised)."""
    letters = [c for c in template if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return word.upper()
    if len(template) == len(word):
        out = []
        for t, w in zip(template, word, strict=True):
            out.append(w.upper() if t.isupper() else w if t.isalpha() else w.lower())
        return "".join(out)
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


# --- candidate generation -------------------------------------------------------------------


def _leet_spellings(token: str) -> Iterator[str]:
    """Letter spellings of ``token`` with each leet character read as one of its letters."""
    options = [LEET.get(c, c) if not c.isalpha() else c for c in token]
    for combo in itertools.islice(itertools.product(*options), MAX_CANDIDATES):
        yield "".join(combo)


def _collapse_spellings(word: str) -> list[str]:
    """Spellings of ``word`` with every run of 3+ equal letters cut to one or two."""
    parts = [(m.group(1), len(m.group(0))) for m in re.finditer(r"(.)\1*", word)]
    options = [[c * 1, c * 2] if n >= 3 else [c * n] for c, n in parts]
    if len(options) > 0 and sum(1 for o in options if len(o) > 1) > 6:
        return []
    return ["".join(p) for p in itertools.product(*options)]


def _best_word(spellings: Iterable[str]) -> tuple[str, float] | None:
    best: tuple[str, float] | None = None
    for s in spellings:
        z = _z(s.lower())
        if z >= CANDIDATE_ZIPF and (best is None or z > best[1]):
            best = (s, z)
    return best


def _segment(word: str, max_parts: int = 2) -> list[str] | None:
    """Split a lower-case letter string into 2..``max_parts`` words, or ``None``.

    Fewest parts first, then the most frequent. Every part is a function word, or a
    word of 3+ letters with Zipf >= ``JOINED_PART_ZIPF`` next to a function word, or
    a content word of ``JOINED_CONTENT_MIN_LEN``+ letters with Zipf >= ``JOINED_CONTENT_ZIPF``.
    """
    n = len(word)
    if n > JOINED_MAX_LEN:
        return None
    best: list[tuple[int, float, list[str]] | None] = [None] * (n + 1)
    best[0] = (0, 0.0, [])
    for i in range(n):
        cur = best[i]
        if cur is None or cur[0] >= max_parts:
            continue
        for j in range(i + 1, min(n, i + 20) + 1):
            part = word[i:j]
            if len(part) == 1 and part != "a":
                continue
            z = _z(part)
            if z < FUNCTION_WORD_ZIPF and (
                len(part) < 3 or z < JOINED_PART_ZIPF or (len(part) == 3 and z < JOINED_SHORT_PART_ZIPF)
            ):
                continue
            if (i > 0 and part in COMPOUND_ENDINGS) or (i == 0 and part in COMPOUND_PREFIXES):
                continue
            cand = (cur[0] + 1, cur[1] + z, [*cur[2], part])
            old = best[j]
            if old is None or (cand[0], -cand[1]) < (old[0], -old[1]):
                best[j] = cand
    end = best[n]
    if end is None or end[0] < 2:
        return None
    parts = end[2]
    zs = [_z(p) for p in parts]
    if not any(z >= FUNCTION_WORD_ZIPF for z in zs) and not all(
        len(p) >= JOINED_CONTENT_MIN_LEN and z >= JOINED_CONTENT_ZIPF for p, z in zip(parts, zs, strict=True)
    ):
        return None
    # The token must be rarer than its parts would be side by side (independence estimate).
    z_word = _z(word)
    if z_word > 0 and z_word >= sum(zs) - 9 * (len(parts) - 1) - 1:
        return None
    return parts


def resolve_word(token: str, *, joined: bool = False, max_parts: int = 2) -> list[_Step] | None:
    """Steps that turn a non-word ``token`` into a word, or ``None`` to leave it.

    Tries leetspeak, then stretched letters, then (with ``joined``) words run together.
    """
    if len(token) > (JOINED_MAX_LEN if joined else MAX_TOKEN_LEN):
        return None  # not a word, and every lookup below would cost time in its length
    low = token.lower()
    if low in _keep_tokens():
        return None
    # Only read when the token is all letters, where a triple is what REPEAT_RE finds.
    stretched = _TRIPLE_RE.search(token) is not None
    if token.isalpha() and _z(low) >= (STRETCHED_WORD_ZIPF if stretched else WORD_ZIPF):
        return None
    has_leet = any(c in LEET for c in token)
    if any(not c.isalpha() and c not in LEET for c in token):
        return None
    steps: list[_Step] = []
    current = token
    if has_leet:
        letters = sum(c.isalpha() for c in token)
        if letters < 2 or len(token) < 3 or _NUMBER_SUFFIX_RE.match(token) or _MODEL_RE.match(token):
            return None
        word_number = _WORD_NUMBER_RE.match(token)
        if word_number and token[0].isupper() and _z(word_number.group(1).lower()) >= 3.0:
            return None  # "Sand5", "Windows7"
        found: tuple[str, float] | None = None
        for spelling in _leet_spellings(low):  # all letters: a triple is what REPEAT_RE finds
            hit = _best_word(_collapse_spellings(spelling) if _TRIPLE_RE.search(spelling) else [spelling])
            if hit and (found is None or hit[1] > found[1]):
                found = (spelling, hit[1])
        if found is None:
            return None
        current = _match_case(token, found[0])
        steps.append(_Step("leetspeak", current, _confidence(found[1]), True))
    if _TRIPLE_RE.search(current):
        if not has_leet and len({c.lower() for c in current}) < 2:
            return None
        # Not "Brrr" -> "Br"; capitals in a row are acronyms ("UNCCC") unless a long word.
        shortest = 5 if current.isupper() else 3
        hit = _best_word(w for w in _collapse_spellings(current.lower()) if len(w) >= shortest)
        if hit is not None and not (not has_leet and current.isupper() and len(current) <= 4):  # "XXX", "III"
            steps.append(_Step("repetition", _match_case(current, hit[0]), _confidence(hit[1]), True))
            return steps
        if steps:
            return None
    if steps:
        return steps
    if joined and token.isalpha():
        parts = _segment(low, max_parts)
        if parts:
            z = min(_z(p) for p in parts)
            spaced, pos = [], 0
            for p in parts:  # keep the letter case of the token
                spaced.append(token[pos : pos + len(p)])
                pos += len(p)
            return [_Step("joined_words", " ".join(spaced), _confidence(z), False)]
    return None
