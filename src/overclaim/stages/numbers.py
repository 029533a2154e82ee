"""Numbers and quantities: a headline figure set against the body's figure for the same thing.

Quantities are read from the headline and, when it has any, from the body:

- numbers as digits ("300,000", "3.5", "3m", "$2bn") and words ("three million", "twenty"),
  with their scale (thousand, million, billion);
- percentages ("90%", "19 percent", "19 per cent") and percentage points, kept apart;
- fractions as shares ("one in five", "1 in 5", "half of", "two-thirds" -> percent);
- changes ("doubled", "tripled", "halved", "rose 20%", "fell by 10 percent", "3-fold");
- years (1800-2100 with no unit), money (a currency sign or word), and measures
  (a number before a unit noun: "5 years", "10 km", "3 hours");
- ranges ("10-20%", "10 to 20 percent", "between 10 and 20") and qualifiers ("up to",
  "about", "more than", "nearly"), which are kept on the finding.

A headline quantity is matched with the body quantities of the same unit that share at
least one context word (stems of the content words near the number: "90% of teens" and
"19 percent of US teens" share "teen"); the body quantity sharing the most, then closest in
value, is its pair. Equal within :data:`MATCH_TOLERANCE` (or inside a body range) is a
``match``; otherwise the headline is ``inflated`` or ``deflated`` (``mismatch`` for years,
where larger is not "more"); a headline quantity with no pair is ``unmatched``.

Everything is linear in the text's length: one regex scan finds the anchors (digits and
number words), each anchor reads a bounded window around it, and at most
:data:`MAX_QUANTITIES` quantities are read from a text (so headline x body pairs are bounded).
Work is done in clean coordinates; spans map to the original text through the text views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from overclaim.config import Config
from overclaim.context import Context
from overclaim.report import NumberFinding
from overclaim.stages.base import Stage
from overclaim.text import TextView

# Values within this relative difference match: covers rounding in copy ("19.6%" -> "20%",
# "2.9 million" -> "3 million"); an approximate qualifier ("about", "nearly") allows twice it.
MATCH_TOLERANCE = 0.05
APPROX_TOLERANCE = 0.10
# Bounds on work per text: quantities read, and characters of one digit run (longer runs are
# serial numbers, phone numbers or junk, not quantities a headline states).
MAX_QUANTITIES = 500
MAX_NUMBER_CHARS = 24
# Headline quantities compared with the body's: a headline states a few figures (the FNC-1 test
# headlines at most 4), so each one is compared with every body quantity while the work stays
# linear in the body; a caption of 500 "1+" pairs cost 40 ms before (x3 per doubling).
MAX_HEADLINE_QUANTITIES = 12
# Anchors examined per text, as a multiple of MAX_QUANTITIES: bounds the work on text made of
# number words that are not quantities ("one one one ..."); a real article has a few dozen.
MAX_ANCHOR_FACTOR = 4
# Context window, in words, on each side of a quantity.
CONTEXT_BEFORE = 4
CONTEXT_AFTER = 5
# Characters read on each side of an anchor (bounds the window regexes; ~10 words).
WINDOW_CHARS = 80

UNITS_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12, "hundred": 100,
}
SCALES = {
    "hundred": 1e2, "thousand": 1e3, "k": 1e3, "million": 1e6, "millions": 1e6, "m": 1e6, "mn": 1e6, "mln": 1e6,
    "billion": 1e9, "billions": 1e9, "bn": 1e9, "b": 1e9, "trillion": 1e12, "tn": 1e12,
}
# Denominators of written fractions.
FRACTION_WORDS = {
    "half": 50.0, "third": 100 / 3, "thirds": 100 / 3, "quarter": 25.0, "quarters": 25.0,
    "fifth": 20.0, "fifths": 20.0, "tenth": 10.0, "tenths": 10.0,
}
# Change words: percent change they state.
MULTIPLIERS = {
    "doubled": 100.0, "double": 100.0, "doubles": 100.0, "doubling": 100.0, "twice": 100.0,
    "tripled": 200.0, "triple": 200.0, "triples": 200.0, "tripling": 200.0, "trebled": 200.0,
    "quadrupled": 300.0, "quadruple": 300.0, "quadruples": 300.0,
    "halved": -50.0, "halves": -50.0, "halving": -50.0,
}
RISE = frozenset(
    "rose rise rises rising risen up increase increased increases increasing jump jumped jumps grew grow grows "
    "growing climb climbed climbs soar soared soars surge surged surges spike spiked gain gained gains boost "
    "boosted boosts raise raised raises higher".split()
)
FALL = frozenset(
    "fell fall falls falling fallen down decrease decreased decreases decreasing drop dropped drops cut cuts "
    "decline declined declines plunge plunged plunges slump slumped reduce reduced reduces lower lowered lowers "
    "shrank shrink shrinks slashed slash".split()
)
QUALIFIERS = (
    ("up to", "up to"), ("as many as", "up to"), ("as much as", "up to"), ("at most", "up to"),
    ("more than", "more than"), ("over", "more than"), ("at least", "more than"), ("above", "more than"),
    ("less than", "less than"), ("under", "less than"), ("fewer than", "less than"), ("below", "less than"),
    ("about", "about"), ("around", "about"), ("nearly", "about"), ("almost", "about"), ("roughly", "about"),
    ("approximately", "about"), ("some", "about"), ("an estimated", "about"), ("close to", "about"),
)
APPROXIMATE = frozenset({"about"})
MEASURE_UNITS = {
    "year": "years", "years": "years", "yr": "years", "yrs": "years", "month": "months", "months": "months",
    "week": "weeks", "weeks": "weeks", "day": "days", "days": "days", "hour": "hours", "hours": "hours",
    "minute": "minutes", "minutes": "minutes", "second": "seconds", "seconds": "seconds",
    "km": "km", "kilometres": "km", "kilometers": "km", "mile": "miles", "miles": "miles", "metres": "m",
    "meters": "m", "feet": "feet", "ft": "feet", "inches": "inches", "kg": "kg", "kilograms": "kg",
    "pounds": "pounds", "lbs": "pounds", "lb": "pounds", "tons": "tons", "tonnes": "tons", "grams": "g", "g": "g",
    "mg": "mg", "degrees": "degrees", "mph": "mph", "calories": "calories", "cups": "cups", "glasses": "glasses",
    "times": "times", "fold": "times", "points": "points", "point": "points",
}
CURRENCY_SIGNS = {"$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY"}
CURRENCY_WORDS = {
    "dollars": "USD", "dollar": "USD", "usd": "USD", "pounds sterling": "GBP", "euros": "EUR", "euro": "EUR",
    "eur": "EUR", "gbp": "GBP", "yen": "JPY", "rupees": "INR", "yuan": "CNY",
}
YEAR_PREPOSITIONS = frozenset("in since by from until till before after of during through to between and".split())
STOP = frozenset(
    "a an the of in on at to for by with from as and or but is are was were be been being has have had it its "
    "this that these those than then there their they them he she his her we our you your i me my who whom which "
    "what when where why how between all any each per cent percent percentage more less most least some about around "
    "nearly almost roughly approximately up down over under just only also not no new says said say will would "
    "could may might can than into out after before since until year years according study report shows found "
    "finds".split()
)

# Anchors: a digit run (not inside a word), or a number, fraction or multiplier word.
_NUMBER_WORDS = sorted({*UNITS_WORDS, *FRACTION_WORDS, *MULTIPLIERS} - {"one"}, key=len, reverse=True)
ANCHOR_RE = re.compile(
    r"(?<![\w.,])(\d+(?:,\d+)*(?:\.\d+)?)|\b(" + "|".join(_NUMBER_WORDS) + r"|one)\b",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"\d+(?:,\d+)*(?:\.\d+)?|[^\W\d_]+|[%$£€¥\-–]")
_PLAIN_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_FOLD = re.compile(r"-?fold\b", re.IGNORECASE)


@dataclass
class Quantity:
    """A quantity in clean coordinates of its text: value (or range), unit, qualifier, context stems."""

    start: int
    end: int
    value: float
    unit: str
    low: float
    high: float
    qualifier: str | None = None
    context: frozenset[str] = field(default_factory=frozenset)


def _parse_digits(token: str) -> float | None:
    token = token.rstrip(",")
    if len(token) > MAX_NUMBER_CHARS or not _PLAIN_NUMBER.fullmatch(token):
        return None
    return float(token.replace(",", ""))


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    from overclaim.resources import stem

    return stem(word)


def _words(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group().lower()) for m in _WORD_RE.finditer(text, start, end)]


def _number_at(words: list[tuple[int, int, str]], i: int) -> tuple[float, int, float] | None:
    """The number starting at word ``i`` (digits, or words, with a scale): value, index after it, scale."""
    if i >= len(words):
        return None
    w = words[i][2]
    value: float | None
    if w[0].isdigit():
        value = _parse_digits(w)
        j = i + 1
    elif w in UNITS_WORDS and w != "hundred":
        value = float(UNITS_WORDS[w])
        j = i + 1
        # "twenty five", "twenty-five"
        if 20 <= value < 100 and j < len(words):
            k = j + 1 if words[j][2] == "-" else j
            if k < len(words) and words[k][2] in UNITS_WORDS and 0 < UNITS_WORDS[words[k][2]] < 10:
                value += UNITS_WORDS[words[k][2]]
                j = k + 1
    else:
        return None
    if value is None:
        return None
    # Scales: "3 million", "3m", "two hundred thousand" ("m", "b", "k" only right after digits).
    scale = 1.0
    while j < len(words) and words[j][2] in SCALES and (words[j][2] not in ("m", "b", "k") or w[0].isdigit()):
        scale *= SCALES[words[j][2]]
        j += 1
    return value * scale, j, scale


class QuantityReader:
    """Reads the quantities of a text (see the module docstring)."""

    def read(self, text: str, limit: int = MAX_QUANTITIES) -> list[Quantity]:
        """Quantities in ``text`` (offsets into it), in text order, at most ``limit``."""
        found: list[Quantity] = []
        last_end = -1
        for anchors, m in enumerate(ANCHOR_RE.finditer(text)):
            if anchors >= MAX_ANCHOR_FACTOR * limit:
                break
            if m.start() < last_end:
                continue
            q = self._read_one(text, m)
            if q is None:
                continue
            found.append(q)
            last_end = q.end
            if len(found) >= limit:
                break
        return found

    def _read_one(self, text: str, m: re.Match[str]) -> Quantity | None:
        lo = max(0, m.start() - WINDOW_CHARS)
        hi = min(len(text), m.end() + WINDOW_CHARS)
        words = _words(text, lo, hi)
        i = next((k for k, w in enumerate(words) if w[0] >= m.start()), None)
        if i is None:
            return None
        anchor = words[i][2]
        before = [w[2] for w in words[max(0, i - 4) : i]]
        start = words[i][0]
        qualifier = self._qualifier(before)

        if anchor in MULTIPLIERS and not anchor[0].isdigit():
            if anchor in ("double", "triple", "quadruple") and i + 1 < len(words) and words[i + 1][2] in (
                "digits", "digit", "figures"
            ):
                return None  # "double digits" is not a change
            value = MULTIPLIERS[anchor]
            return self._finish(text, words, i, i + 1, start, words[i][1], value, value, value, "change", qualifier)

        # Fractions: "one in five", "1 in 5", "half of", "a third of", "two-thirds".
        if anchor in FRACTION_WORDS:
            prev = before[-1] if before else ""
            share = FRACTION_WORDS[anchor]
            if (i + 1 < len(words) and words[i + 1][2] == "of") or prev in ("a", "one"):
                return self._finish(text, words, i, i + 1, start, words[i][1], share, share, share, "percent",
                                    qualifier)
            return None
        parsed = _number_at(words, i)
        if parsed is None:
            return None
        value, j, scale = parsed
        if anchor == "one" and (j == i + 1) and not (j < len(words) and words[j][2] == "in"):
            return None  # "one" alone is mostly a pronoun or article ("one of the ...")
        # Fraction "X in Y" / "X out of Y" / numerator + fraction word ("two-thirds", "three quarters").
        k = j + 1 if j < len(words) and words[j][2] == "-" else j
        if k < len(words) and words[k][2] in FRACTION_WORDS and value < 10:
            share = value * FRACTION_WORDS[words[k][2]]
            return self._finish(text, words, i, k + 1, start, words[k][1], share, share, share, "percent", qualifier)
        if j < len(words) and words[j][2] in ("in", "out"):
            k = j + 2 if words[j][2] == "out" and j + 1 < len(words) and words[j + 1][2] == "of" else j + 1
            denominator = _number_at(words, k)
            if denominator is not None and 0 < value <= denominator[0] <= 1e6:
                share = 100.0 * value / denominator[0]
                end = words[denominator[1] - 1][1]
                return self._finish(text, words, i, denominator[1], start, end, share, share, share, "percent",
                                    qualifier)
        low = high = value
        # Ranges: "10-20%", "10 to 20", "between 10 and 20".
        if j + 1 < len(words) and (words[j][2] in ("-", "–", "to") or (words[j][2] == "and" and "between" in before)):
            other = _number_at(words, j + 1)
            if other is not None:
                # "3 to 5 million": the scale of the second applies to the first.
                first = value * other[2] if scale == 1.0 and other[2] > 1.0 else value
                if other[0] > first:
                    low, high, j = first, other[0], other[1]
        # Unit after the number.
        unit = "count"
        end = words[j - 1][1]
        nxt = words[j][2] if j < len(words) else ""
        if nxt == "%":
            unit, end, j = "percent", words[j][1], j + 1
        elif nxt == "percentage" and j + 1 < len(words) and words[j + 1][2] in ("point", "points"):
            unit, end, j = "points", words[j + 1][1], j + 2
        elif nxt in ("percent", "pct") or (nxt == "per" and j + 1 < len(words) and words[j + 1][2] == "cent"):
            step = 2 if nxt == "per" else 1
            unit, end, j = "percent", words[j + step - 1][1], j + step
        elif _FOLD.match(text, end) or nxt == "times":
            if nxt == "-" and j + 1 < len(words) and words[j + 1][2] == "fold":
                end, j = words[j + 1][1], j + 2
            else:
                end, j = words[j][1], j + 1
            return self._finish(text, words, i, j, start, end, (value - 1) * 100, (low - 1) * 100,
                                (high - 1) * 100, "change", qualifier)
        elif nxt in MEASURE_UNITS:
            unit, end, j = MEASURE_UNITS[nxt], words[j][1], j + 1
        else:
            for phrase, code in CURRENCY_WORDS.items():
                parts = phrase.split()
                if [w[2] for w in words[j : j + len(parts)]] == parts:
                    unit, end, j = f"money:{code}", words[j + len(parts) - 1][1], j + len(parts)
                    break
        # Currency sign before: "$3 million", "US$ 2bn".
        sign = before[-1] if before else ""
        if sign in CURRENCY_SIGNS and unit == "count":
            unit = f"money:{CURRENCY_SIGNS[sign]}"
            start = words[i - 1][0]
        if unit == "count" and anchor[0].isdigit() and "," not in anchor and "." not in anchor and low == high:
            # A bare 4-digit number is a year after "in", "since" ... or with no word after it ("in May 2019.").
            if 1800 <= value <= 2100 and (not before or before[-1] in YEAR_PREPOSITIONS or not nxt.isalpha()):
                unit = "year"
        if unit in ("percent", "points") and any(w in RISE or w in FALL for w in before[-3:]):
            sign_ = -1.0 if any(w in FALL for w in before[-3:]) else 1.0
            if not (before and before[-1] in ("to", "at")):  # "rose to 20%" is a level, not a change
                unit = "change" if unit == "percent" else "points_change"
                value, low, high = sign_ * value, sign_ * low, sign_ * high
                if sign_ < 0:
                    low, high = high, low
        return self._finish(text, words, i, j, start, end, value if low == high else (low + high) / 2, low, high,
                            unit, qualifier)

    @staticmethod
    def _qualifier(before: list[str]) -> str | None:
        joined = " ".join(before[-3:])
        for phrase, code in QUALIFIERS:
            if joined == phrase or joined.endswith(" " + phrase):
                return code
        return None

    @staticmethod
    def _finish(
        text: str, words: list[tuple[int, int, str]], i: int, j: int, start: int, end: int, value: float,
        low: float, high: float, unit: str, qualifier: str | None,
    ) -> Quantity:
        context = set()
        for w in [*words[max(0, i - CONTEXT_BEFORE) : i], *words[j : j + CONTEXT_AFTER]]:
            word = w[2]
            if len(word) < 3 or not word.isalpha() or word in STOP or word in UNITS_WORDS or word in SCALES:
                continue
            if word in RISE or word in FALL or word in MULTIPLIERS or word in FRACTION_WORDS:
                continue
            context.add(_stem(word))
        return Quantity(start, end, value, unit, min(low, high), max(low, high), qualifier, frozenset(context))


def compatible(a: str, b: str) -> bool:
    """Whether two units measure the same kind of thing."""
    return a == b


def compare(h: Quantity, b: Quantity) -> tuple[str, float]:
    """Kind (match / inflated / deflated / mismatch) of headline quantity ``h`` against body ``b``, and the difference.

    The difference is relative in magnitude, ``(|h| - |b|) / |b|``, so a fall of 10% against a
    fall of 30% is deflated (-0.67). Years match only when equal.
    """
    tolerance = APPROX_TOLERANCE if APPROXIMATE & {h.qualifier, b.qualifier} else MATCH_TOLERANCE
    if h.unit == "year":
        tolerance = 0.0
    scale = max(abs(b.low), abs(b.high), 1e-9)
    inside = b.low * (1 - tolerance) - 1e-9 <= h.value <= b.high * (1 + tolerance) + 1e-9 if b.low != b.high else False
    diff = round((abs(h.value) - abs(b.value)) / max(abs(b.value), 1e-9), 4)
    if inside or (h.low <= b.value <= h.high and h.low != h.high) or abs(h.value - b.value) <= tolerance * scale:
        return "match", 0.0 if (b.low != b.high or h.low != h.high) else diff
    if h.unit == "year":
        return "mismatch", diff
    return ("inflated" if abs(h.value) > abs(b.value) else "deflated"), diff


def find_numbers(headline: TextView, body: TextView, reader: QuantityReader | None = None) -> list[NumberFinding]:
    """Number findings of a post: each headline quantity with its body pair (see the module docstring)."""
    reader = reader or QuantityReader()
    heads = reader.read(headline.clean, limit=MAX_HEADLINE_QUANTITIES)
    if not heads:
        return []
    bodies = reader.read(body.clean)
    findings: list[NumberFinding] = []
    for h in heads:
        best: tuple[int, int, float] | None = None
        pick: Quantity | None = None
        for b in bodies:
            if not compatible(h.unit, b.unit):
                continue
            shared = len(h.context & b.context)
            if shared == 0:
                continue
            kind, _ = compare(h, b)
            key = (shared, 1 if kind == "match" else 0, -abs(h.value - b.value))
            if best is None or key > best:
                best, pick = key, b
        span = headline.span(h.start, h.end)
        if pick is None:
            findings.append(
                NumberFinding.model_construct(
                    headline=span, body=None, headline_value=h.value, body_value=None, unit=h.unit, context=[],
                    kind="unmatched", relative_difference=None, headline_qualifier=h.qualifier, body_qualifier=None,
                )
            )
            continue
        kind, diff = compare(h, pick)
        findings.append(
            NumberFinding.model_construct(
                headline=span, body=body.span(pick.start, pick.end), headline_value=h.value, body_value=pick.value,
                unit=h.unit, context=sorted(h.context & pick.context), kind=kind, relative_difference=diff,
                headline_qualifier=h.qualifier, body_qualifier=pick.qualifier,
            )
        )
    return findings


class NumberChecker(Stage):
    """Set ``ctx.numbers``: the headline's quantities against the body's."""

    name = "numbers"

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config
        self.reader = QuantityReader()

    def __call__(self, ctx: Context) -> None:
        """Fill ``ctx.numbers``."""
        ctx.numbers = find_numbers(ctx.headline, ctx.body, self.reader)
