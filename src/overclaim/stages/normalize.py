"""Normalize: recover words disguised to dodge filters, never touching legitimate text.

The stage rewrites ``ctx.headline`` and ``ctx.body`` into clean text the later
stages read, through :meth:`~overclaim.text.TextView.apply`, so every change is
in the edit log with its original span, and report spans still point into the
original text. It runs these passes, each on the previous pass's clean text:

1. character passes, only over chunks holding non-ASCII characters:
   mojibake (``ftfy``), invisible and format characters (alone or in runs, tag
   characters and variation selectors included), full-width and styled letters
   (NFKC of ``<wide>``/``<font>``/``<circle>``/``<square>`` letters and Latin
   ligatures), small capitals ("ᴛᴇʀʀᴏʀɪsᴛ"), homoglyphs (Unicode confusables of ASCII letters, taken
   from the ``confusable-homoglyphs`` data, applied to mixed-script words or to
   look-alike words standing in Latin text);
2. spaced and separated letters ("t e r r o r", "t.e.r.r.o.r") and separators
   inside words ("terr.or", "terr-0-rist");
3. word passes: leetspeak ("Terr0rist"), stretched letters ("terrrrorist") and
   words run together ("previouslythat").

Passes 2 and 3 are decided by the ``wordfreq`` lexicon (:func:`resources.zipf`):
a token changes only when it is not a word and its candidate clearly is. Fast
pre-check regexes find the few tokens that can be disguised at all, so clean
news costs one scan per pass. Tokens in ``lexicons/keep_tokens.txt``, URLs,
e-mail addresses, @handles, #hashtags and the host names of
``lexicons/short_hosts.txt`` ("youtu.be", "redd.it") are never changed.

The passes run again on their result while a round still changes the text, so
normalizing clean text again changes nothing (idempotent). Every pass takes time
linear in the text: the regexes that could backtrack over a long run are
replaced by scanners, and no lookup is made on a token longer than any word.

``ctx.disguised_words`` lists each word written to dodge filters: homoglyphs,
leetspeak, spaced or separated letters, stretched letters, invisible characters
inside a word, and styled letters mixed into a plain word. Mojibake, styled
whole words and words run together are edits but not disguises.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from overclaim.config import Config
from overclaim.context import Context
from overclaim.report import DisguisedWord
from overclaim.resources import lexicon, zipf
from overclaim.stages.base import Stage
from overclaim.text import Replacement, TextView
from overclaim.tokens import LETTER_WORD_RE

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

# --- pre-check regexes ------------------------------------------------------------------
_LC = "A-Za-z0-9@$"  # characters of a possibly leet word
_OPEN = "(\"'“‘\\[*_"  # may precede a word
_CLOSE = ")\"'”’\\].,;:!?*_"  # may follow a word
# A word mixing letters and leet characters, standing alone between spaces and punctuation.
LEET_RE = re.compile(
    rf"(?<![^\s{_OPEN}])(?P<word>[{_LC}]*(?:[A-Za-z][{_LC}]*[0-9@$]|[0-9@$][{_LC}]*[A-Za-z])[{_LC}]*)"
    rf"(?=(?:['’]s)?[{_CLOSE}]*(?:\s|$))"
)
# A word with a letter written three times or more in a row. The triple is found by a
# lookahead and the word by one greedy run, so a failing match costs time linear in the
# word, not cubic (``[A-Za-z]*(x)\1{2,}[A-Za-z]*`` backtracks over every split).
REPEAT_RE = re.compile(r"(?<![\w@#/.])(?=[A-Za-z]*?([A-Za-z])\1\1)(?P<word>[A-Za-z]+)(?![\w@]|[./][\w])")
_SEPS = ".-_*·•|~+"  # characters that break a word in the separated pass
# A lower-case word long enough to be two words run together (not a piece of a word broken
# by separators, "at*tackat*tack": that is the separated pass's).
JOINED_RE = re.compile(
    rf"(?<![\w@#/.\-’'])(?<![{_LC}][*·•|~+])([a-z]{{{JOINED_MIN_LEN},}})(?![\w@]|[./\-’'*·•|~+][\w])"
)
_SEP = r"[ .\-_*·•|~+]"
# Single letters joined by one separator used throughout: "t e r r o r", "t.e.r.r.o.r".
SPACED_RE = re.compile(
    rf"(?<![\w@#/.\-'’])([{_LC}])({_SEP})(?:[{_LC}]\2)+[{_LC}](?![\w@$])"
)
# A word broken by separators: "terr.or", "terr-0-rist".
SEPARATED_RE = re.compile(rf"(?<![\w@#/.\-])[{_LC}]+(?:[.\-_*·•|~+][{_LC}]+)+(?![\w@]|[.\-_*·•|~+/][\w])")
# URLs, e-mail addresses, handles and hashtags: never changed.
PROTECTED_RE = re.compile(
    r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?<![\w])[@#][\w]+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|gov|edu|co|uk|io|ly|me|info|news|tv)\b",
    re.IGNORECASE,
)
# A string that every PROTECTED_RE match holds ("://", "www.", "@", "#" or ".com" ...): a window
# without one has no match, found 8x faster than by PROTECTED_RE itself.
_PROTECTED_HINT_RE = re.compile(
    r"[@#]|://|www\.|\.(?:com|org|net|gov|edu|co|uk|io|ly|me|info|news|tv)\b", re.IGNORECASE
)
# Non-ASCII characters other than the quotes, dashes, ellipsis and no-break space of
# ordinary news text: only chunks holding one of these go through the character passes.
_ODD_RE = re.compile("[^\x00-\x7f\u2018\u2019\u201c\u201d\u2013\u2014\u2026\xa0]")
_ASCII_SPACE = frozenset(" \t\n\r\f\v")
# Where SEPARATED_RE can match: a separator between two word characters; the run around it.
_SEPARATOR_HINT_RE = re.compile(rf"[.\-_*·•|~+](?=[{_LC}])")  # separator first: scanned in C
_SEP_OR_SLASH = frozenset(_SEPS + "/")
# Cheap hints that a text holds a leet word (a letter touching a digit, @ or $) or a stretched one.
_LEET_DIGIT_RE = re.compile(r"[0-9@$]")
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_TRIPLE_RE = re.compile(r"([A-Za-z])\1\1")
_LEET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@$")
_LETTER_RUN_RE = re.compile(r"[^\W\d_]+")
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

# Invisible / format characters. Joiners stay inside emoji and non-Latin scripts.
_JOINERS = {"\u200c", "\u200d"}
_BIDI = {"\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}
_EXTRA_INVISIBLE = {"\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\u180e"}
# Styled-letter decompositions folded by NFKC.
_STYLED_TAGS = ("<wide>", "<font>", "<circle>", "<square>")
_LIGATURES = set(map(chr, range(0xFB00, 0xFB07)))
# Look-alike letters that are real symbols in news text (micro, ohm, pi), never changed.
_HOMOGLYPH_EXCLUDED = {"μ", "µ", "Ω", "π", "Π", "Σ", "Δ", "ß"}


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


# --- homoglyph data -----------------------------------------------------------------------


def _script(ch: str) -> str:
    try:
        return unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        return "UNKNOWN"


@lru_cache(maxsize=1)
def _homoglyphs() -> dict[str, str]:
    """Non-Latin letters that look like an ASCII letter -> that letter (Unicode confusables)."""
    import confusable_homoglyphs

    path = Path(confusable_homoglyphs.__file__).resolve().parent / "confusables.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    candidates: dict[str, list[str]] = {}
    for ascii_letter in map(chr, [*range(65, 91), *range(97, 123)]):
        for entry in data.get(ascii_letter, []):
            ch = entry["c"]
            if (
                len(ch) == 1
                and unicodedata.category(ch).startswith("L")
                and _script(ch) not in ("LATIN", "MATHEMATICAL", "FULLWIDTH")
                and ch not in _HOMOGLYPH_EXCLUDED
            ):
                candidates.setdefault(ch, []).append(ascii_letter)
    out: dict[str, str] = {}
    for ch, letters in candidates.items():
        # Keep the letter case: the TR39 skeleton folds capital I into l, so Cyrillic І -> I, not l.
        same_case = [c for c in letters if c.isupper() == ch.isupper()]
        if same_case:
            out[ch] = same_case[0]
        elif ch.isupper() and "l" in letters:
            out[ch] = "I"
        else:
            out[ch] = letters[0]
    return out


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


# --- passes ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _short_hosts() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A regex of the host names in ``lexicons/short_hosts.txt`` and a hint every match holds (its ending)."""
    hosts = sorted({h.lower() for h in lexicon("short_hosts")}, key=len, reverse=True)
    endings = sorted({h.rsplit(".", 1)[1] for h in hosts})
    names = "|".join(re.escape(h) for h in hosts)
    hosts_re = re.compile(rf"(?<![\w\-])(?:{names})(?![\w\-]|\.\w)", re.IGNORECASE)
    hint_re = re.compile(rf"\.(?:{'|'.join(endings)})\b", re.IGNORECASE)
    return hosts_re, hint_re


def _is_protected(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` touches a URL, e-mail address, @handle, #hashtag or short-link host."""
    lo = max(0, start - 200)
    window = text[lo : end + 200]
    # Each regex runs only where the strings all its matches hold are present (a cheap scan).
    if _PROTECTED_HINT_RE.search(window) and any(
        m.start() + lo < end and start < m.end() + lo for m in PROTECTED_RE.finditer(window)
    ):
        return True
    hosts_re, hint_re = _short_hosts()
    return bool(hint_re.search(window)) and any(
        m.start() + lo < end and start < m.end() + lo for m in hosts_re.finditer(window)
    )


def _token_at(text: str, i: int, chars: frozenset[str]) -> tuple[int, int]:
    """The maximal run of ``chars`` around position ``i``."""
    start, end = i, i + 1
    while start > 0 and text[start - 1] in chars:
        start -= 1
    while end < len(text) and text[end] in chars:
        end += 1
    return start, end


def _odd_chunks(text: str) -> Iterator[tuple[int, int]]:
    """Whitespace-delimited chunks holding a non-ASCII character the character passes may change."""
    last = -1
    n = len(text)
    for m in _ODD_RE.finditer(text):
        i = m.start()
        if i < last:
            continue
        start, end = i, i + 1
        while start > 0 and text[start - 1] not in _ASCII_SPACE:
            start -= 1
        while end < n and text[end] not in _ASCII_SPACE:
            end += 1
        last = end
        yield start, end


def _context_is_latin(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - 60) : start] + text[end : end + 60]
    ascii_letters = sum(c.isascii() and c.isalpha() for c in window)
    other = sum(c.isalpha() and not c.isascii() for c in window)
    return ascii_letters >= 5 and ascii_letters >= 4 * other


def _foreign_context(text: str, start: int, end: int) -> bool:
    """Accented letters nearby: likely French, Spanish, German ... text, where the English lexicon is no judge."""
    window = text[max(0, start - 100) : end + 100]
    return any(c.isalpha() and not c.isascii() for c in window)


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) == "Cf" or ch in _EXTRA_INVISIBLE or _is_variation_selector(ch)


def _is_variation_selector(ch: str) -> bool:
    return "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef"


def _is_alphabet_char(ch: str) -> bool:
    """An ASCII letter or digit, a letter of the Latin, Cyrillic or Greek alphabets, or a styled one."""
    if ch.isascii():
        return ch.isalnum()
    if not ch.isalnum():
        return False
    script = _script(ch)
    if script in ("LATIN", "CYRILLIC", "GREEK"):
        return ch.isalpha()
    # Full-width and mathematical letters, which the width pass folds to ASCII ones.
    return script in ("FULLWIDTH", "MATHEMATICAL") and unicodedata.normalize("NFKC", ch).isascii()


def _mojibake_items(text: str) -> list[_Item]:
    import ftfy
    from ftfy.badness import is_bad

    items = []
    for c_start, c_end in _odd_chunks(text):
        chunk = text[c_start:c_end]
        if not is_bad(chunk):
            continue
        fixed = ftfy.fix_encoding(chunk)
        if fixed != chunk:
            items.append(_Item(c_start, c_end, [_Step("mojibake", fixed, 0.9, False)]))
    return items


def _invisible_items(text: str) -> list[_Item]:
    """Invisible characters inside a word; a run of them is judged by the characters around the run."""
    items = []
    n = len(text)
    for c_start, c_end in _odd_chunks(text):
        word_ends: tuple[int, int] | None = None  # the word around the last soft hyphen seen
        shy_hides = False
        i = c_start
        while i < c_end:
            if text[i].isascii() or not _invisible(text[i]):
                i += 1
                continue
            run_end = i + 1
            while run_end < n and _invisible(text[run_end]):
                run_end += 1
            prev = text[i - 1] if i > 0 else " "
            nxt = text[run_end] if run_end < n else " "
            for k in range(i, run_end):
                ch = text[k]
                if ch in _JOINERS or ch in _BIDI or _is_variation_selector(ch):
                    # ZWJ in emoji and Indic or Arabic script, direction marks around right-to-left
                    # text, variation selectors after emoji and CJK: removed only inside a word of
                    # an alphabet (Latin, Cyrillic, Greek), where they have no use.
                    if not (_is_alphabet_char(prev) and _is_alphabet_char(nxt)):
                        continue
                elif not (prev.isalnum() and nxt.isalnum()):
                    continue  # next to spaces, punctuation or emoji (flag tag sequences) it hides nothing
                if ch == "\u00ad":
                    if word_ends is None or not word_ends[0] <= k < word_ends[1]:
                        word_ends = _word_around(text, k)
                        shy_hides = _shy_hides_word(text, *word_ends)
                    if not shy_hides:
                        continue  # a soft hyphen is a legitimate hyphenation hint ("Global\xadPost")
                items.append(_Item(k, k + 1, [_Step("invisible", "", 0.99, True)]))
            i = run_end
    return items


def _word_around(text: str, i: int) -> tuple[int, int]:
    """The run of letters, digits and invisible characters around position ``i``."""
    start, end = i, i + 1
    while start > 0 and (text[start - 1].isalnum() or _invisible(text[start - 1])):
        start -= 1
    while end < len(text) and (text[end].isalnum() or _invisible(text[end])):
        end += 1
    return start, end


def _shy_hides_word(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` (a word holding soft hyphens) reads as a word without them.

    Called once per word, not per soft hyphen: a word of many soft hyphens costs its length once.
    """
    if end - start > 2 * MAX_TOKEN_LEN:
        return False  # longer than any word, whatever it holds
    joined = "".join(c for c in text[start:end] if c.isalnum()).lower()
    return len(joined) <= MAX_TOKEN_LEN and _z(joined) >= CANDIDATE_ZIPF


def _width_items(text: str) -> list[_Item]:
    items: list[_Item] = []
    for c_start, _c_end in _odd_chunks(text):
        chunk = text[c_start:_c_end]
        if any("\u3000" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af" for c in chunk):
            continue  # CJK text keeps its full-width forms
        plain = sum(c.isascii() and c.isalpha() for c in chunk)
        for k, ch in enumerate(chunk):
            if ch.isascii():
                continue
            if ch in _LIGATURES:
                folded = unicodedata.normalize("NFKC", ch)
            else:
                dec = unicodedata.decomposition(ch)
                if not dec.startswith(_STYLED_TAGS):
                    continue
                folded = unicodedata.normalize("NFKC", ch)
                if not (folded.isascii() and folded.isalnum()):
                    continue
            i = c_start + k
            if items and items[-1].end == i:  # one edit per run of styled letters
                last = items[-1]
                step = last.steps[0]
                items[-1] = _Item(last.start, i + 1, [_Step("width", step.text + folded, 0.99, step.disguise)])
            else:
                items.append(_Item(i, i + 1, [_Step("width", folded, 0.99, plain > 0 and ch not in _LIGATURES)]))
    return items


@lru_cache(maxsize=1)
def _small_capitals_re() -> re.Pattern[str]:
    """Any small capital letter (a cheap test that a text holds one, scanned in C)."""
    return re.compile("[" + "".join(_small_capitals()) + "]")


@lru_cache(maxsize=1)
def _small_capitals() -> dict[str, str]:
    """Small capital letters -> the lower-case ASCII letter (every ``LATIN LETTER SMALL CAPITAL X``).

    They have no compatibility decomposition, so NFKC leaves them; "fancy text" generators
    write words in them ("ᴛᴇʀʀᴏʀɪsᴛ"), keeping plain s and x, which have no common small capital.
    """
    out = {}
    for cp in [*range(0x0250, 0x02B0), *range(0x1D00, 0x1D80), *range(0xA720, 0xA800)]:
        m = re.fullmatch(r"LATIN LETTER SMALL CAPITAL ([A-Z])", unicodedata.name(chr(cp), ""))
        if m:
            out[chr(cp)] = m.group(1).lower()
    return out


def _small_caps_items(text: str) -> list[_Item]:
    """Words written in small capitals, folded to plain letters when they spell a word.

    A word is folded when it holds two small capitals or more and spells a word (Zipf >=
    ``CANDIDATE_ZIPF``), or spells any word (``WORD_ZIPF``) within 40 characters of such a
    word (a sentence in small capitals: "ᴛʜᴇ ᴘʟᴀɴ ɪs ᴀ ʜᴏᴀx"). Two capitals, the distance and a
    word before ``/`` or ``[`` left alone keep phonetic transcriptions ("/kɪt/", "[ʀ]") as written.
    """
    table = _small_capitals()
    if not _small_capitals_re().search(text):
        return []
    runs: list[tuple[int, int, str, bool]] = []  # start, end, folded, strong
    for c_start, c_end in _odd_chunks(text):
        for run in _LETTER_RUN_RE.finditer(text, c_start, c_end):
            word = run.group()
            caps = sum(c in table for c in word)
            if not caps or not all(c.isascii() or c in table for c in word):
                continue
            start, end = run.start(), run.end()
            if start > 0 and text[start - 1] in "/[":
                continue
            folded = "".join(table.get(c, c) for c in word)
            z = _z(folded.lower())
            if z >= WORD_ZIPF:
                runs.append((start, end, folded, caps >= 2 and z >= CANDIDATE_ZIPF))
    strong = [r[0] for r in runs if r[3]]
    items = []
    for start, end, folded, is_strong in runs:
        if not is_strong:
            k = bisect.bisect_left(strong, start - 40)
            if k >= len(strong) or strong[k] > end + 40:
                continue
        word = text[start:end]
        # Plain letters other than s and x beside small capitals: a plain word with some styled.
        mixed = any(c.isascii() and c.lower() not in "sx" for c in word)
        items.append(_Item(start, end, [_Step("width", folded, 0.95 if is_strong else 0.9, mixed)]))
    return items


def _homoglyph_items(text: str) -> list[_Item]:
    table = _homoglyphs()
    items = []
    for c_start, c_end in _odd_chunks(text):
        for run in _LETTER_RUN_RE.finditer(text, c_start, c_end):
            word = run.group()
            if word.isascii():
                continue
            start, end = run.start(), run.end()
            foreign = [c for c in word if not c.isascii()]
            if not all(c in table for c in foreign):
                continue
            clean = "".join(table.get(c, c) for c in word)
            if len(foreign) == len(word):
                # A whole look-alike word: only inside Latin text, and only when it is a word.
                if len(word) < 2 or _z(clean.lower()) < CANDIDATE_ZIPF or not _context_is_latin(text, start, end):
                    continue
            conf = 0.95 if _z(clean.lower()) >= CANDIDATE_ZIPF else 0.8
            items.append(_Item(start, end, [_Step("homoglyph", clean, conf, True)]))
    return items


def _spaced_run(letters: str, sep: str) -> list[_Step] | None:
    """Steps for a run of single letters ``letters`` (joined), or ``None``."""
    if len(letters) < SPACED_MIN_LEN or (letters.isupper() and len(letters) <= 4):
        return None  # "I a m", "a.k.a", "U S A", "F.B.I."
    if sum(c.isalpha() for c in letters) < 2:
        return None
    if sep == "." and (letters.isupper() or letters[:-1].isupper()):
        return None  # acronyms: U.S.A., P.O.W.s
    kind = "spacing" if sep == " " else "separator"
    low = letters.lower()
    if low.isalpha() and _z(low) >= CANDIDATE_ZIPF:
        return [_Step(kind, letters, _confidence(_z(low)), True)]
    if letters.isupper():
        return None  # capitals in a row are acronyms unless they spell one word: "U S A F B I"
    rest = resolve_word(letters, joined=True, max_parts=3)
    if rest is None:
        return None
    return [_Step(kind, letters, min(s.confidence for s in rest), True), *rest]


def _trimmed_word(sub: str, sep: str) -> tuple[list[_Step], float] | None:
    """Steps for ``sub`` (a spaced run less a letter at an end) when it spells one word, and its Zipf."""
    low = sub.lower()
    if low.isalpha():
        z = _z(low)
        steps = _spaced_run(sub, sep) if z >= CANDIDATE_ZIPF else None
        return (steps, z) if steps else None
    # Leetspeak in the run ("a t e r r 0 r i s t"): the word its steps end in.
    steps = _spaced_run(sub, sep)
    if not steps or " " in steps[-1].text:
        return None
    z = _z(steps[-1].text.lower())
    return (steps, z) if z >= CANDIDATE_ZIPF else None


def _spaced_items(text: str) -> list[_Item]:
    items = []
    pos = 0
    n = len(text)
    while (m := SPACED_RE.search(text, pos)) is not None:
        run, sep = m.group(), m.group(2)
        letters = run[::2]
        steps = _spaced_run(letters, sep)
        start, end = m.start(), m.end()
        if steps is None or len(steps) > 1:
            # A single letter, digit or initial may stand next to the run: "a h a n d y", "f r o m a".
            best_z = 0.0
            for a, b in ((1, 0), (0, 1), (1, 1)):
                found = _trimmed_word(letters[a : len(letters) - b], sep)
                if found is not None and found[1] > best_z:
                    steps, best_z = found
                    start, end = m.start() + 2 * a, m.end() - 2 * b
        if steps and not _is_protected(text, start, end):
            items.append(_Item(start, end, steps))
            # A letter left off the end may begin the next run: "t h a t p.r.e.s.i.d.e.n.t".
            pos = end
        elif m.end() < n and text[m.end()] in _SEPS and text[m.end()] != sep:
            pos = m.end() - 1  # the last letter may begin a run with another separator
        else:
            pos = m.end()
    return items


def _is_word_char(ch: str) -> bool:
    r"""Whether ``ch`` is a regex ``\w`` character (what sre tests: alphanumeric or ``_``)."""
    return ch.isalnum() or ch == "_"


def _separated_end_ok(text: str, e: int) -> bool:
    r"""``SEPARATED_RE``'s closing lookahead ``(?![\w@]|[.\-_*·•|~+/][\w])`` at position ``e``."""
    if e >= len(text):
        return True
    ch = text[e]
    if ch == "@" or _is_word_char(ch):
        return False
    return not (ch in _SEP_OR_SLASH and e + 1 < len(text) and _is_word_char(text[e + 1]))


def _separated_matches(text: str) -> Iterator[tuple[int, int]]:
    r"""The spans of ``SEPARATED_RE.finditer(text)``, found in time linear in the text.

    The regex itself is quadratic on a long run such as ``a*a*a*...a/b`` (from every start it
    scans to the end of the run and back). Read as a scanner: a match lies in a *chain* (word
    characters, each separator between two of them), starts at the first word character whose
    left neighbour the lookbehind allows, and ends at the last place in the chain that the
    lookahead allows, after a word character and after the first separator (greedy quantifiers
    try the longest end first; an end may lie before ``$``, which is a word character here but
    not ``\w``). So each chain is read twice, once from each end, and holds at most one match.
    Only chains around a separator between two word characters are read (a few in a news body;
    the hint regex starts with the separator class, which sre scans for in C).
    """
    n = len(text)
    pos = 0
    while (hint := _SEPARATOR_HINT_RE.search(text, pos)) is not None:
        sep_at = hint.start()
        if sep_at == 0 or text[sep_at - 1] not in _LEET_CHARS:
            pos = sep_at + 1
            continue
        # The chain around the separator: walk left to its first character ...
        c_start = sep_at - 1
        while c_start > pos and (
            text[c_start - 1] in _LEET_CHARS
            or (text[c_start - 1] in _SEPS and c_start >= 2 and text[c_start - 2] in _LEET_CHARS)
        ):
            c_start -= 1
        # ... and right past its last one.
        c_end = sep_at + 1
        while c_end < n and (
            text[c_end] in _LEET_CHARS
            or (text[c_end] in _SEPS and c_end + 1 < n and text[c_end + 1] in _LEET_CHARS)
        ):
            c_end += 1
        pos = c_end
        # The first start the lookbehind (?<![\w@#/.\-]) allows, and the first separator after it.
        start = c_start
        while start < c_end and not (
            text[start] in _LEET_CHARS
            and (start == 0 or not (_is_word_char(text[start - 1]) or text[start - 1] in "@#/.-"))
        ):
            start += 1
        first_sep = start
        while first_sep < c_end and text[first_sep] not in _SEPS:
            first_sep += 1
        if first_sep >= c_end:
            continue
        # The last end the lookahead allows, at least one word character past that separator.
        end = c_end
        while end >= first_sep + 2 and not (text[end - 1] in _LEET_CHARS and _separated_end_ok(text, end)):
            end -= 1
        if end >= first_sep + 2:
            yield start, end


def _separated_items(text: str) -> list[_Item]:
    items = []
    for m_start, m_end in _separated_matches(text):
        token = text[m_start:m_end]
        if len(token) > 2 * MAX_TOKEN_LEN:
            continue  # its letters, joined, would be longer than any word: not a disguise
        parts = re.split(r"[.\-_*·•|~+]", token)
        if len(parts) < 2 or all(len(p) == 1 for p in parts):
            continue  # single letters are the spaced pass's
        joined = "".join(parts)
        if len(joined) < 4 or len(joined) > MAX_TOKEN_LEN or not any(c.isalpha() for c in joined) or joined.isdigit():
            continue
        low = joined.lower()
        if low in _keep_tokens() or token.lower() in _keep_tokens():
            continue
        leet_part = any(not p.isalpha() and len(p) <= 2 and all(c in LEET for c in p) for p in parts[1:-1])
        odd_part = any(p.isalpha() and len(p) >= 2 and _z(p.lower()) < WORD_ZIPF for p in parts)
        if "-" in token and not (leet_part or odd_part):
            continue  # hyphenated compounds of real words: "long-term", "e-mail", "F-35"
        if not any(p.isalpha() for p in parts):
            continue
        if low.isalpha():
            z = _z(low)
            if z < CANDIDATE_ZIPF:
                # Words broken by separators and run together ("at*tackat*tack"): a piece that is no
                # word says the separators are a disguise; the letters must split into words.
                rest = resolve_word(joined, joined=True) if odd_part else None
                if not rest:
                    continue
                conf = min(s.confidence for s in rest)
            # Two real words joined by a dot or dash are more likely two words than one.
            elif not (leet_part or odd_part) and z <= sum(_z(p.lower()) for p in parts) - 9 * (len(parts) - 1) + 2:
                continue
            else:
                rest, conf = [], _confidence(z)
        else:
            rest = resolve_word(joined)
            if not rest:
                continue
            conf = min(s.confidence for s in rest)
        if _is_protected(text, m_start, m_end):
            continue
        items.append(_Item(m_start, m_end, [_Step("separator", joined, conf, True), *(rest or [])]))
    return items


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Every word with Zipf >= ``JOINED_MAX_ZIPF``: lower-case tokens outside it may be run together."""
    from wordfreq import get_frequency_dict

    floor = 10 ** (JOINED_MAX_ZIPF - 9)
    return frozenset(w for w, f in get_frequency_dict("en", wordlist="large").items() if f >= floor)


def _leet_hints(text: str) -> Iterator[int]:
    """Positions of a digit, ``@`` or ``$`` next to an ASCII letter: where a leet word may stand.

    The same tokens as the ``[A-Za-z][0-9@$]|[0-9@$][A-Za-z]`` matches, found 5-10 times faster
    on news text: a regex that starts with a character class scans for it in C.
    """
    last = len(text) - 1
    for m in _LEET_DIGIT_RE.finditer(text):
        i = m.start()
        if (i > 0 and text[i - 1] in _ASCII_LETTERS) or (i < last and text[i + 1] in _ASCII_LETTERS):
            yield i


def _word_candidates(text: str) -> Iterator[tuple[int, int, bool]]:
    """``(start, end, joined)`` of tokens that may be leet, stretched, or words run together."""
    seen: set[int] = set()
    for hints, regex in ((_leet_hints(text), LEET_RE), ((h.start() for h in _TRIPLE_RE.finditer(text)), REPEAT_RE)):
        last_end = -1
        for at in hints:
            if at < last_end:
                continue  # same token as the previous hint
            start, end = _token_at(text, at, _LEET_CHARS)
            last_end = end
            if start in seen or end - start > MAX_TOKEN_LEN:
                continue
            seen.add(start)
            m = regex.match(text, start)
            if m and m.end("word") == end:
                yield start, end, False
    known = _known_words()
    for m in JOINED_RE.finditer(text):
        if m.group(1) not in known and m.start(1) not in seen:
            yield m.start(1), m.end(1), True


def _word_items(text: str) -> list[_Item]:
    found: dict[int, _Item] = {}
    for start, end, joined in _word_candidates(text):
        token = text[start:end]
        if joined and _foreign_context(text, start, end):
            continue
        steps = resolve_word(token, joined=joined)
        if not steps or _is_protected(text, start, end):
            continue
        found[start] = _Item(start, end, steps)
    return list(found.values())


_Pass = Callable[[str], list[_Item]]
CHAR_PASSES: tuple[_Pass, ...] = (
    _mojibake_items,
    _invisible_items,
    _width_items,
    _small_caps_items,
    _homoglyph_items,
)
WORD_PASSES: tuple[_Pass, ...] = (_spaced_items, _separated_items, _word_items)


# --- the stage ---------------------------------------------------------------------------------


@dataclass
class _Disguise:
    start: int
    end: int
    kind: str
    confidence: float


def _drop_overlaps(items: list[_Item]) -> list[_Item]:
    items.sort(key=lambda it: (it.start, -it.end))
    out: list[_Item] = []
    for it in items:
        if out and it.start < out[-1].end:
            continue
        out.append(it)
    return out


def _apply(view: TextView, items: list[_Item], disguises: list[_Disguise]) -> TextView:
    """Apply each item's steps in turn (one :meth:`TextView.apply` per step), logging disguises."""
    items = _drop_overlaps(items)
    while items:
        reps: list[Replacement] = []
        nxt: list[_Item] = []
        delta = 0
        for it in items:
            step = it.steps[0]
            reps.append(Replacement(it.start, it.end, step.text, step.kind, step.confidence))
            new_start = it.start + delta
            delta += len(step.text) - (it.end - it.start)
            if len(it.steps) > 1:
                nxt.append(_Item(new_start, new_start + len(step.text), it.steps[1:]))
        before = len(view.edits)
        view = view.apply(reps)
        for rep, it, edit in zip(reps, items, view.edits[before:], strict=True):
            if it.steps[0].disguise:
                disguises.append(_Disguise(edit.start, edit.end, rep.kind, rep.confidence))
        items = nxt
    return view


def normalize_view(view: TextView) -> tuple[TextView, list[DisguisedWord]]:
    """De-obfuscate one text view: the new view and the disguised words found in it.

    The passes run again on their own result while a round still changes the text (at most
    ``MAX_ROUNDS`` rounds), so normalizing a normalized text changes nothing: one disguise can
    hide another from an earlier pass (an invisible joiner beside a styled letter that only the
    width pass folds). Text without edits, nearly all news, costs one round.
    """
    disguises: list[_Disguise] = []
    for _ in range(MAX_ROUNDS):
        edits = len(view.edits)
        if not view.clean.isascii():
            for make in CHAR_PASSES:
                items = make(view.clean)
                if items:
                    view = _apply(view, items, disguises)
        for make in WORD_PASSES:
            items = make(view.clean)
            if items:
                view = _apply(view, items, disguises)
        if len(view.edits) == edits:
            break
    return view, _disguised_words(view, disguises)


def _disguised_words(view: TextView, disguises: list[_Disguise]) -> list[DisguisedWord]:
    if not disguises:
        return []
    marks: dict[int, list[_Disguise]] = {}  # original position -> disguises covering it
    for d in disguises:
        for pos in range(d.start, max(d.end, d.start + 1)):
            marks.setdefault(pos, []).append(d)
    groups: list[tuple[int, int, int, int, set[str], float]] = []  # o_start, o_end, c_start, c_end, kinds, conf
    for m in LETTER_WORD_RE.finditer(view.clean):
        o_start, o_end = view.original_range(m.start(), m.end())
        hits = [d for pos in range(o_start, max(o_end, o_start + 1)) for d in marks.get(pos, ())]
        if not hits:
            continue
        kinds = {d.kind for d in hits}
        conf = min(d.confidence for d in hits)
        if groups and o_start < groups[-1][1]:
            g = groups[-1]
            groups[-1] = (g[0], max(g[1], o_end), g[2], m.end(), g[4] | kinds, min(g[5], conf))
        else:
            groups.append((o_start, o_end, m.start(), m.end(), kinds, conf))
    out = []
    for o_start, o_end, c_start, c_end, kinds, conf in groups:
        original = view.original[o_start:o_end]
        clean = view.clean[c_start:c_end]
        if original == clean:
            continue
        span = view.span(c_start, c_end)
        out.append(
            DisguisedWord(span=span, original=original, clean=clean, kinds=sorted(kinds), confidence=round(conf, 2))
        )
    return out


class Normalizer(Stage):
    """De-obfuscate headline and body; log every edit and every disguised word."""

    name = "normalize"

    def __init__(self, config: Config) -> None:
        self.config = config

    def __call__(self, ctx: Context) -> None:
        """Replace ``ctx.headline`` / ``ctx.body`` with clean views; fill ``ctx.disguised_words``."""
        ctx.headline, head_words = normalize_view(ctx.headline)
        ctx.body, body_words = normalize_view(ctx.body)
        ctx.disguised_words = [*head_words, *body_words]


def normalize_text(text: str) -> TextView:
    """The normalized view of a plain string (a convenience for benchmarks and tools)."""
    return normalize_view(TextView("body", text))[0]
