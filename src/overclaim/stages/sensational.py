"""Sensational: how the headline tries to grab attention.

Two outputs, both reported in ``report.sensational``:

- ``clickbait_probability``: P(clickbait) from the ``clickbait`` model (TF-IDF word
  n-grams + logistic regression trained on Chakraborty et al. 2016; see its model
  card and ``overclaim.training.clickbait``), applied to the clean headline;
- ``markers``: findings with a span into the original headline, a short name and a
  kind: ``alarm_emoji`` (🚨 ‼️ ⚠️ ...), ``prefix`` (BREAKING:, Update:, JUST IN ...),
  ``punctuation`` (an exclamation mark, runs such as ``!!`` ``??`` ``?!``),
  ``all_caps`` (shouted words; acronyms such as NATO, U.S., FBI are not shouting),
  ``superlative`` (superlatives, absolutes, hyperbole), ``loaded_label`` ("narco
  terrorist", "invasion", "regime" ...), ``teaser`` (curiosity gaps: "you won't
  believe", "this is why", listicles) and ``unsupported_claim`` (the headline ends on
  an asserted sentence the body does not back, from the stance and certainty stages).

Word lists live in ``overclaim/lexicons/markers_*.txt`` and ``acronyms.txt``, each
with a note on where its entries come from. Markers inside quotation marks are not
flagged: a headline quoting someone's words reports them rather than uses them.
Markers are aggravating factors only: the verdict never rests on them alone.
"""

from __future__ import annotations

import bisect
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from overclaim.config import Config
from overclaim.context import Context
from overclaim.report import Marker, Sensational
from overclaim.resources import lexicon, load_artifact, stem, zipf
from overclaim.stages.base import Stage

MODEL_NAME = "clickbait"

# Capital words (see shouting_level): a word of up to SHORT_CAPS_LEN letters is
# surely shouting when its lower-case form is a common English word (zipf >=
# SHORT_CAPS_MIN_ZIPF): most short capital words are acronyms (fbi 4.4, cia 4.2, nato
# 4.0, gop 4.2 in wordfreq) while shouted short words are frequent (war, now, not: 5+).
# A longer word is surely shouting from zipf LONG_CAPS_MIN_ZIPF (terrorist 4.4,
# destroying 4.1; long acronyms and names are rarer: nascar 3.8, darpa 2.8); an
# inflected form (its Snowball stem differs: LIED -> lie, RAIDS -> raid) from
# INFLECTED_MIN_ZIPF when its stem is common. Set by hand on tests/fixtures/markers.jsonl
# and checked on the 16,001 newspaper headlines of the Chakraborty data (few flags).
SHORT_CAPS_LEN = 4
SHORT_CAPS_MIN_ZIPF = 4.5
LONG_CAPS_MIN_ZIPF = 4.0
INFLECTED_MIN_ZIPF = 3.0

# unsupported_claim: the headline's last sentence is asserted (certainty label
# "asserted", score at least UNSUPPORTED_MIN_CERTAINTY) and the body's P(agree) is
# under UNSUPPORTED_MAX_AGREE and not its most probable stance. 0.5 is where the
# verdict stage itself stops reading a body as backing the claim.
UNSUPPORTED_MIN_CERTAINTY = 0.6
UNSUPPORTED_MAX_AGREE = 0.5

KINDS = (
    "alarm_emoji", "prefix", "punctuation", "all_caps", "superlative", "loaded_label", "teaser", "unsupported_claim"
)

_VS = "\ufe0f\ufe0e\u200d"  # variation selectors and zero-width joiner, ignored inside emoji runs
_PREFIX_SEPARATORS = ":-–—|!"
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_ROMAN_RE = re.compile(r"^M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})$")
_PUNCT_RE = re.compile(r"[!?！？]{2,}|[!！]")
# A sentence end starts a run of end marks: the lookbehind only skips starts inside a run, which
# cannot begin a leftmost match anyway (the run's first mark would have matched first), so the
# matches are those of the pattern without it, found in linear rather than quadratic time.
_SENTENCE_END_RE = re.compile(r"(?<![.!?！？…])[.!?！？…]+[\"”’')\]]*\s+")
# Matched at the end of the word (``match(text, end)``) instead of on ``text[end:]``: no copy per match.
_OF_NAME_AFTER_RE = re.compile(r"\s+of\s+(?:the\s+)?[A-Z]")
_WORD_CHAR_RE = re.compile(r"\w")


@dataclass(frozen=True)
class Found:
    """A marker in clean coordinates of the headline."""

    start: int
    end: int
    name: str
    kind: str


# ---------------------------------------------------------------------------- lists
_LEET = {"a": "a4@", "e": "e3", "i": "i1", "l": "l1", "o": "o0", "s": "s5$", "t": "t7"}
_UNLEET_I = str.maketrans({"4": "a", "@": "a", "3": "e", "1": "i", "0": "o", "5": "s", "$": "s", "7": "t"})
_UNLEET_L = str.maketrans({"4": "a", "@": "a", "3": "e", "1": "l", "0": "o", "5": "s", "$": "s", "7": "t"})


def _part_pattern(part: str, leet: bool) -> str:
    if not leet:
        return re.escape(part).replace("'", "['’]?").replace("’", "['’]?")
    return "".join(f"[{re.escape(_LEET[c])}]" if c in _LEET else re.escape(c) for c in part.lower())


def _phrase_pattern(entry: str, *, joiners: str = r"\s+", plural: bool = False, leet: bool = False) -> str:
    if entry.startswith("re:"):
        return entry[3:]
    parts = re.split(r"[\s\-]+", entry.strip())
    out = []
    for part in parts:
        out.append(_part_pattern(part, leet))
    body = joiners.join(out)
    if plural:
        body += "(?:s|es)?"
    start = r"(?<!\w)" if entry[0].isalnum() else ""
    end = r"(?!\w)" if entry[-1].isalnum() else ""
    return start + body + end


def _keyword(entry: str) -> str | None:
    """The longest plain word of a phrase entry: a text without it cannot match (None for regexes)."""
    if entry.startswith("re:"):
        return None
    words = [w for w in re.split(r"[\s\-]+", entry.lower()) if w.isalnum()]
    return max(words, key=len) if words else None


@cache
def _compiled(
    name: str, joiners: str, plural: bool, leet: bool = False
) -> list[tuple[str, str | None, re.Pattern[str]]]:
    """(entry, keyword, compiled pattern) for each entry of lexicon ``name``, longest first."""
    entries = sorted(lexicon(name), key=len, reverse=True)
    flags = re.IGNORECASE | re.UNICODE
    return [
        (e, _keyword(e), re.compile(_phrase_pattern(e, joiners=joiners, plural=plural, leet=leet), flags))
        for e in entries
    ]


@lru_cache(maxsize=1)
def _alarm_chars() -> frozenset[str]:
    chars: set[str] = set()
    for entry in lexicon("markers_emoji"):
        stripped = "".join(c for c in entry if c not in _VS)
        chars.update(stripped)
    return frozenset(chars)


@lru_cache(maxsize=1)
def _acronyms() -> frozenset[str]:
    return frozenset(e.upper() for e in lexicon("acronyms"))


@lru_cache(maxsize=1)
def _prefix_re() -> re.Pattern[str]:
    entries = sorted(lexicon("markers_prefixes"), key=len, reverse=True)
    alternatives = "|".join(r"\s+".join(re.escape(w) for w in e.split()) for e in entries)
    seps = re.escape(_PREFIX_SEPARATORS)
    return re.compile(rf"(?P<lead>[\W_]*?)(?P<p>{alternatives})(?!\w)(?P<sep>\s*[{seps}]+)?", re.IGNORECASE)


# ---------------------------------------------------------------------------- quotes
_PAIRS = {"“": "”", "«": "»", "„": "“", "‘": "’", '"': '"', "'": "'"}


def quoted_ranges(text: str) -> list[tuple[int, int]]:
    """Ranges ``[start, end)`` of quoted passages (quotation marks included).

    Double quotes pair up; a single quote opens only at the start of a word (after a
    space, an opening bracket or a dash) and closes only at the end of one, so the
    apostrophes of "don't" and "Trump's" are not quotes.
    """
    out: list[tuple[int, int]] = []
    i, n = 0, len(text)
    # Closers known to be absent after the current position ("single" for a single quote's):
    # once a search for a closer fails, later openers of its kind are skipped, so an unclosed
    # quote mark repeated ("“a“a“a...") costs one scan, not one scan per mark.
    missing: set[str] = set()
    while i < n:
        c = text[i]
        closer = _PAIRS.get(c)
        if closer is None:
            i += 1
            continue
        single = c in "‘'"
        if single and not (i == 0 or text[i - 1].isspace() or text[i - 1] in "([{—–-:\"“"):
            i += 1
            continue
        if i + 1 >= n or text[i + 1].isspace() or ("single" if single else closer) in missing:
            i += 1
            continue
        found = -1
        if not single:
            found = text.find(closer, i + 1)
        else:
            # A closing single quote (’ or ' for either opener) ends a word: not after a space,
            # not before a letter or digit. Whether a mark closes does not depend on the opener.
            for j in range(i + 1, n):
                if text[j] in "'’" and (j + 1 >= n or not text[j + 1].isalnum()) and not text[j - 1].isspace():
                    found = j
                    break
        if found < 0:
            missing.add("single" if single else closer)
            i += 1
            continue
        out.append((i, found + 1))
        i = found + 1
    return out


def _inside(ranges: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    """Whether ``[start, end)`` lies in one of ``ranges`` (sorted and disjoint, as quotes and prefixes are)."""
    k = bisect.bisect_left(ranges, (start + 1, -1)) - 1  # the last range starting at or before ``start``
    return k >= 0 and end <= ranges[k][1]


# ---------------------------------------------------------------------------- finders
def _emoji_name(chars: str) -> str:
    names: list[str] = []
    for c in chars:
        if c in _VS:
            continue
        name = unicodedata.name(c, "emoji").lower()
        if name not in names:
            names.append(name)
    return ", ".join(names)


def find_alarm_emoji(text: str) -> list[Found]:
    """Runs of alarm emoji (🚨 ‼️ ⚠️ 🔥 ...) in ``text``, one marker a run."""
    alarm = _alarm_chars()
    out: list[Found] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] not in alarm:
            i += 1
            continue
        j = i + 1
        while j < n and (text[j] in alarm or text[j] in _VS):
            j += 1
        out.append(Found(i, j, _emoji_name(text[i:j]), "alarm_emoji"))
        i = j
    return out


def find_prefixes(text: str) -> list[Found]:
    """Urgency prefixes (BREAKING, Update:, JUST IN ...) opening ``text``, possibly chained."""
    out: list[Found] = []
    pos = 0
    pattern = _prefix_re()
    while True:
        m = pattern.match(text, pos)
        if m is None:
            break
        word = m.group("p")
        sep = m.group("sep")
        after = text[m.end() : m.end() + 1]
        if not sep and not (word.isupper() and not after.isalnum()):
            break
        end = m.end("sep") if sep else m.end("p")
        out.append(Found(m.start("p"), end, " ".join(word.upper().split()), "prefix"))
        pos = end
    return out


def find_punctuation(text: str) -> list[Found]:
    """Exclamation marks and runs of ``!``/``?`` (``!!``, ``??``, ``?!``); a lone ``?`` is not flagged."""
    out: list[Found] = []
    for m in _PUNCT_RE.finditer(text):
        s = m.group()
        if len(s) == 1:
            name = "exclamation mark"
        elif set(s) <= set("!！"):
            name = "exclamation run"
        elif set(s) <= set("?？"):
            name = "question run"
        else:
            name = "mixed ?! run"
        out.append(Found(m.start(), m.end(), name, "punctuation"))
    return out


def shouting_level(word: str) -> int:
    """How surely a word written in capitals is shouting: 2 surely, 1 only next to a sure one, 0 not.

    0: acronyms (listed, or short and rare as an English word: CDC, NRA), Roman
    numerals, single letters, words with lower-case letters. 2: common English words
    (short ones with zipf >= SHORT_CAPS_MIN_ZIPF, longer ones with zipf >=
    LONG_CAPS_MIN_ZIPF) and inflected forms of common words (LIED, RAIDS, BUSTED).
    1: the rest, i.e. two-letter words (NO, OH: too often abbreviations alone) and long
    rare words or names (MAR-A-LAGO, NARCO, GNOME): shouting inside a shouted run only.
    """
    letters = [c for c in word if c.isalpha()]
    if len(letters) < 2 or not word.isupper():
        return 0
    bare = word.replace("’", "'").split("'")[0]
    acronyms = _acronyms()
    if bare in acronyms or word in acronyms or (bare.endswith("S") and bare[:-1] in acronyms):
        return 0
    if _ROMAN_RE.match(bare):
        return 0
    lower = bare.lower()
    frequency = zipf(lower)
    short = len(letters) <= SHORT_CAPS_LEN
    if len(letters) > 2 and frequency >= (SHORT_CAPS_MIN_ZIPF if short else LONG_CAPS_MIN_ZIPF):
        return 2
    # An inflected English word (LIED, RAIDS, BUSTED) is shouting: acronyms do not inflect.
    root = stem(lower)
    if frequency >= INFLECTED_MIN_ZIPF and root != lower and zipf(root) >= LONG_CAPS_MIN_ZIPF:
        return 2
    if len(letters) == 2:
        return 1 if frequency >= SHORT_CAPS_MIN_ZIPF else 0
    return 0 if short else 1


def is_shouting(word: str) -> bool:
    """Whether a word written in capitals is surely shouting (not an acronym, numeral or name)."""
    return shouting_level(word) == 2


def find_all_caps(text: str) -> list[Found]:
    """Shouted words, merged into runs (``NARCO TERRORISTS WILL PAY``); acronyms are not shouting.

    A run is a sequence of capital words with no lower-case word between them. A run
    with at least one surely shouted word is flagged from its first to its last word
    of level 1 or 2 (see :func:`shouting_level`).
    """
    out: list[Found] = []
    run: list[tuple[int, int, int]] = []

    def flush() -> None:
        if any(level == 2 for _, _, level in run):
            shouted = [(s, e) for s, e, level in run if level]
            out.append(Found(shouted[0][0], shouted[-1][1], "all caps", "all_caps"))
        run.clear()

    for m in _WORD_RE.finditer(text):
        w = m.group()
        if any(c.islower() for c in w):
            flush()
            continue
        run.append((m.start(), m.end(), shouting_level(w)))
    flush()
    return out


def _find_listed(
    text: str, name: str, kind: str, *, joiners: str = r"\s+", plural: bool = False, leet: bool = False
) -> list[Found]:
    """Matches of lexicon ``name`` in ``text``; overlapping matches merge into one marker named after the first."""
    matches: list[tuple[int, int, str]] = []
    lower = text.lower()
    # Cheap pre-check: an entry is searched only when its longest word is in the text
    # (with digits read as letters for leetspeak-tolerant lists).
    hay = "\n".join((lower, lower.translate(_UNLEET_I), lower.translate(_UNLEET_L))) if leet else lower
    for entry, keyword, pattern in _compiled(name, joiners, plural, leet):
        if keyword is not None and keyword not in hay:
            continue
        for m in pattern.finditer(text):
            s, e = m.start(), m.end()
            if s == e or (kind == "loaded_label" and entry == "invasion" and _literal_invasion(text, s, e)):
                continue
            label = entry if not entry.startswith("re:") else " ".join(m.group().lower().split())
            matches.append((s, e, label))
    out: list[Found] = []
    for s, e, label in sorted(matches, key=lambda x: (x[0], -x[1])):
        if out and s < out[-1].end:
            if e > out[-1].end:
                out[-1] = Found(out[-1].start, e, out[-1].name, kind)
            continue
        out.append(Found(s, e, label, kind))
    return out


def _literal_invasion(text: str, start: int, end: int) -> bool:
    """'the invasion of Ukraine', "Russia's invasion": a military invasion, not a label."""
    if _OF_NAME_AFTER_RE.match(text, end):
        return True
    # "Russia's invasion": a word character, an apostrophe and "s", then whitespace up to the word
    # (what the pattern \w['’]s\s+$ matched on text[:start], read backwards without copying the text).
    j = start
    while j > 0 and text[j - 1].isspace():
        j -= 1
    return 3 <= j < start and text[j - 1] == "s" and text[j - 2] in "'’" and bool(_WORD_CHAR_RE.match(text[j - 3]))


def find_superlatives(text: str) -> list[Found]:
    """Superlatives, absolutes and hyperbole ("worst ever", "of all time", "unprecedented")."""
    return _find_listed(text, "markers_superlatives", "superlative")


def find_loaded_labels(text: str) -> list[Found]:
    """Loaded labels ("narco terrorist", "invasion", "regime" ...).

    Parts may be joined by a space, a hyphen or nothing, and digits standing for
    letters ("Terr0rist") match too, so the label is found even where the normalize
    stage has not rewritten a disguised spelling.
    """
    return _find_listed(text, "markers_loaded_labels", "loaded_label", joiners=r"[\s\-‐]?", plural=True, leet=True)


def find_teasers(text: str) -> list[Found]:
    """Teaser patterns ("you won't believe", "this is why", "17 things ...")."""
    return _find_listed(text, "markers_teasers", "teaser")


def find_markers(text: str) -> list[Found]:
    """Every text-only marker in a (clean) headline, in order of position.

    Markers inside quotation marks are dropped, and a prefix ("WOW!!!", "SHOCKING:")
    is not flagged again as all caps, superlative or punctuation.
    """
    prefixes = find_prefixes(text)
    # Prefix words are blanked (offsets kept) so "BREAKING:" does not start an all-caps run.
    # (Built in one pass: a chain of many prefixes must not copy the headline once per prefix.)
    pieces: list[str] = []
    last = 0
    for p in prefixes:
        pieces += [text[last : p.start], " " * (p.end - p.start)]
        last = p.end
    unprefixed = "".join(pieces) + text[last:]
    found = prefixes + find_alarm_emoji(text) + find_teasers(text) + find_loaded_labels(text)
    found += find_superlatives(text) + find_all_caps(unprefixed) + find_punctuation(text)
    quotes = quoted_ranges(text)
    prefix_ranges = [(p.start, p.end) for p in prefixes]
    out: list[Found] = []
    seen: set[tuple[int, int, str]] = set()
    for f in found:
        if f.kind != "prefix" and _inside(quotes, f.start, f.end):
            continue
        if f.kind in ("all_caps", "superlative", "punctuation") and _inside(prefix_ranges, f.start, f.end):
            continue
        key = (f.start, f.end, f.kind)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return sorted(out, key=lambda f: (f.start, KINDS.index(f.kind)))


def last_sentence(text: str) -> tuple[int, int] | None:
    """Range of the headline's last sentence, without leading prefixes, emoji or spaces."""
    start = 0
    for m in _SENTENCE_END_RE.finditer(text):
        if m.end() < len(text.rstrip()):
            start = m.end()
    prefixes = [p for p in find_prefixes(text) if p.start >= start or start == 0]
    if prefixes and start <= prefixes[-1].end:
        start = prefixes[-1].end
    end = len(text.rstrip())
    while start < end and not text[start].isalnum():
        start += 1
    return (start, end) if end > start else None


# ---------------------------------------------------------------------------- stage
# Below this many headlines, scoring goes through the pure-Python path of _Scorer
# (about 40k single headlines/s against about 2k through sklearn's per-call overhead);
# larger batches use the vectorized sklearn pipeline.
SMALL_BATCH = 32


class _Scorer:
    """The fitted TF-IDF + logistic regression pipeline, unrolled for one headline at a time.

    Same arithmetic as ``predict_proba`` (sublinear tf x idf, l2 norm, dot with the
    coefficients, logistic); tests check the two agree.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        vec, clf = model.named_steps["tfidf"], model.named_steps["clf"]
        self.analyze = vec.build_analyzer()
        self.vocabulary: dict[str, int] = vec.vocabulary_
        self.idf = vec.idf_.astype(float).tolist()
        self.coef = clf.coef_[0].astype(float).tolist()
        self.intercept = float(clf.intercept_[0])

    def one(self, headline: str) -> float:
        """P(clickbait) of one headline."""
        counts: dict[int, int] = {}
        for token in self.analyze(headline):
            j = self.vocabulary.get(token)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        z = self.intercept
        if counts:
            weights = {j: (1.0 + math.log(c)) * self.idf[j] for j, c in counts.items()}
            norm = math.sqrt(sum(w * w for w in weights.values()))
            z += sum(w * self.coef[j] for j, w in weights.items()) / norm
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def many(self, headlines: Sequence[str]) -> list[float]:
        """P(clickbait) of each headline."""
        if len(headlines) < SMALL_BATCH:
            return [self.one(h) for h in headlines]
        return [float(p) for p in self.model.predict_proba(list(headlines))[:, 1]]


@cache
def _scorer() -> _Scorer:
    return _Scorer(load_artifact(MODEL_NAME))


def clickbait_probabilities(headlines: Sequence[str]) -> list[float]:
    """P(clickbait) for each headline, from the shipped ``clickbait`` model, rounded to 4 places.

    Raises:
        ModelError: the model is not built (``overclaim train clickbait``).
    """
    if not headlines:
        return []
    return [round(p, 4) for p in _scorer().many(headlines)]


class SensationalDetector(Stage):
    """Flag sensational markers in the headline and score it with the clickbait model."""

    name = "sensational"

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config

    def unsupported_claim(self, ctx: Context) -> Found | None:
        """The headline's final asserted sentence, when the body does not back it (needs stance and certainty)."""
        if ctx.stance is None or ctx.certainty is None or ctx.too_short:
            return None
        text = ctx.headline.clean
        head = ctx.certainty.headline
        if head.label != "asserted" or head.score < UNSUPPORTED_MIN_CERTAINTY:
            return None
        p = ctx.stance.probabilities
        if p.agree >= UNSUPPORTED_MAX_AGREE or p.agree >= max(p.discuss, p.disagree, p.unrelated):
            return None
        rng = last_sentence(text)
        if rng is None or text[rng[0] : rng[1]].rstrip().endswith(("?", "？")):
            return None
        return Found(rng[0], rng[1], "claim the article does not back", "unsupported_claim")

    def __call__(self, ctx: Context) -> None:
        """Set ``ctx.sensational``: clickbait probability and markers with spans into the original headline."""
        text = ctx.headline.clean
        found = find_markers(text)
        # The unbacked claim is only marked after other markers ("🚨Update: <claim>"), never as
        # the whole headline: a plain headline is not sensational for being unbacked.
        claim = self.unsupported_claim(ctx) if found else None
        if claim is not None and (claim.start, claim.end) != (0, len(text.rstrip())):
            found.append(claim)
        markers = [Marker(span=ctx.headline.span(f.start, f.end), name=f.name, kind=f.kind) for f in found]  # type: ignore[arg-type]
        ctx.sensational = Sensational(clickbait_probability=clickbait_probabilities([text])[0], markers=markers)
