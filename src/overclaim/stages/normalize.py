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

from dataclasses import dataclass

from overclaim.config import Config
from overclaim.context import Context
from overclaim.report import DisguisedWord
from overclaim.stages.base import Stage

# The word decisions and the passes live in normalize_words, normalize_chars and normalize_scanners;
# their names stay importable here.
from overclaim.stages.normalize_chars import (  # noqa: F401
    _ASCII_SPACE,
    _BIDI,
    _EXTRA_INVISIBLE,
    _HOMOGLYPH_EXCLUDED,
    _JOINERS,
    _LETTER_RUN_RE,
    _LIGATURES,
    _ODD_RE,
    _STYLED_TAGS,
    _context_is_latin,
    _foreign_context,
    _homoglyph_items,
    _homoglyphs,
    _invisible,
    _invisible_items,
    _is_alphabet_char,
    _is_variation_selector,
    _mojibake_items,
    _odd_chunks,
    _script,
    _shy_hides_word,
    _small_capitals,
    _small_capitals_re,
    _small_caps_items,
    _width_items,
    _word_around,
)
from overclaim.stages.normalize_scanners import (  # noqa: F401
    _ASCII_LETTERS,
    _CLOSE,
    _LC,
    _LEET_CHARS,
    _LEET_DIGIT_RE,
    _OPEN,
    _PROTECTED_HINT_RE,
    _SEP,
    _SEP_OR_SLASH,
    _SEPARATOR_HINT_RE,
    _SEPS,
    JOINED_RE,
    LEET_RE,
    PROTECTED_RE,
    REPEAT_RE,
    SEPARATED_RE,
    SPACED_RE,
    _is_protected,
    _is_word_char,
    _known_words,
    _leet_hints,
    _Pass,
    _separated_end_ok,
    _separated_items,
    _separated_matches,
    _short_hosts,
    _spaced_items,
    _spaced_run,
    _token_at,
    _trimmed_word,
    _word_candidates,
    _word_items,
)
from overclaim.stages.normalize_words import (  # noqa: F401
    _MODEL_RE,
    _NUMBER_SUFFIX_RE,
    _TRIPLE_RE,
    _WORD_NUMBER_RE,
    CANDIDATE_ZIPF,
    COMPOUND_ENDINGS,
    COMPOUND_PREFIXES,
    FUNCTION_WORD_ZIPF,
    JOINED_CONTENT_MIN_LEN,
    JOINED_CONTENT_ZIPF,
    JOINED_MAX_LEN,
    JOINED_MAX_ZIPF,
    JOINED_MIN_LEN,
    JOINED_PART_ZIPF,
    JOINED_SHORT_PART_ZIPF,
    LEET,
    MAX_CANDIDATES,
    MAX_ROUNDS,
    MAX_TOKEN_LEN,
    SPACED_MIN_LEN,
    STRETCHED_WORD_ZIPF,
    WORD_ZIPF,
    _best_word,
    _collapse_spellings,
    _confidence,
    _Item,
    _keep_tokens,
    _leet_spellings,
    _match_case,
    _segment,
    _Step,
    _z,
    resolve_word,
)
from overclaim.text import Replacement, TextView
from overclaim.tokens import LETTER_WORD_RE

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
