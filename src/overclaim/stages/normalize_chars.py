"""Normalize's character passes: mojibake, invisible characters, styled letters, small capitals, homoglyphs.

Part of the normalize stage (:mod:`overclaim.stages.normalize`): each pass scans the chunks of a
text that hold a non-ASCII character and returns the edits it would make.
"""

from __future__ import annotations

import bisect
import json
import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from overclaim.stages.normalize_words import (
    CANDIDATE_ZIPF,
    MAX_TOKEN_LEN,
    WORD_ZIPF,
    _Item,
    _Step,
    _z,
)

# Non-ASCII characters other than the quotes, dashes, ellipsis and no-break space of
# ordinary news text: only chunks holding one of these go through the character passes.
_ODD_RE = re.compile("[^\x00-\x7f\u2018\u2019\u201c\u201d\u2013\u2014\u2026\xa0]")
_ASCII_SPACE = frozenset(" \t\n\r\f\v")
_LETTER_RUN_RE = re.compile(r"[^\W\d_]+")

# Invisible / format characters. Joiners stay inside emoji and non-Latin scripts.
_JOINERS = {"\u200c", "\u200d"}
_BIDI = {"\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}
_EXTRA_INVISIBLE = {"\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\u180e"}
# Styled-letter decompositions folded by NFKC.
_STYLED_TAGS = ("<wide>", "<font>", "<circle>", "<square>")
_LIGATURES = set(map(chr, range(0xFB00, 0xFB07)))
# Look-alike letters that are real symbols in news text (micro, ohm, pi), never changed.
_HOMOGLYPH_EXCLUDED = {"μ", "µ", "Ω", "π", "Π", "Σ", "Δ", "ß"}


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
