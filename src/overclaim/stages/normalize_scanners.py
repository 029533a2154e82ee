"""Normalize's word passes: spaced and separated letters, leetspeak, stretched and run-together words.

Part of the normalize stage (:mod:`overclaim.stages.normalize`): the pre-check regexes and linear
scanners that find the few tokens that can be disguised, the protected spans (URLs, handles,
short-link hosts) never changed, and the passes that turn each token found into edits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache

from overclaim.resources import lexicon
from overclaim.stages.normalize_chars import (
    _foreign_context,
)
from overclaim.stages.normalize_words import (
    _TRIPLE_RE,
    CANDIDATE_ZIPF,
    JOINED_MAX_ZIPF,
    JOINED_MIN_LEN,
    LEET,
    MAX_TOKEN_LEN,
    SPACED_MIN_LEN,
    WORD_ZIPF,
    _confidence,
    _Item,
    _keep_tokens,
    _Step,
    _z,
    resolve_word,
)

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
# Where SEPARATED_RE can match: a separator between two word characters; the run around it.
_SEPARATOR_HINT_RE = re.compile(rf"[.\-_*·•|~+](?=[{_LC}])")  # separator first: scanned in C
_SEP_OR_SLASH = frozenset(_SEPS + "/")
# Cheap hints that a text holds a leet word (a letter touching a digit, @ or $) or a stretched one.
_LEET_DIGIT_RE = re.compile(r"[0-9@$]")
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_LEET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@$")


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
