"""Stance: does the body agree with, deny, merely discuss, or ignore the headline.

The FNC-1 stance model (:mod:`overclaim.models.stance`, artifact ``stance``)
reads the clean headline, the clean body and the body's sentences from the
segment stage, and gives probabilities of agree / disagree / discuss /
unrelated. The probabilities are the model's, re-weighted by the per-class
decision weights chosen on validation data and renormalised, so the label is
always their argmax.

Each evidence sentence gets its own stance. A sentence the entailment stage read
(default profile) keeps the cross-encoder's reading, as agree = entails, disagree =
contradicts, discuss = neutral. Any other gets the same model applied to the
headline against that sentence alone (read as a one-sentence body), featurized
in one batch with the whole body and scored by the first of the model's
boosters only (``SENTENCE_BOOSTERS``) to save time. A sentence-level stance is
noisier than the body's, but it points at the sentences that deny or merely
report the claim.

One post goes through the featurizer's single-post path
(:meth:`~overclaim.models.stance_features.StanceFeaturizer.post_features`, the batch
features bit for bit without scipy's per-call overhead) and the body row through
the boosters merged into one LightGBM model; together about 2 ms CPU a post.

A headline or body without a single word gives ``unrelated`` with a note that
it is too short to judge. A body that does not read as English (under
``MIN_ENGLISH_STOP_SHARE`` of its words are English stop words) gives
``unrelated`` with a note that the model cannot judge it: with out-of-vocabulary
words hashed, a German headline over a German body would otherwise look like
strong agreement. This guard is the stage's; ``overclaim eval stance`` scores
the model alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from overclaim.config import Config
from overclaim.context import Context
from overclaim.report import Stance, StanceProbabilities
from overclaim.resources import load_artifact
from overclaim.stages.base import Stage

ARTIFACT = "stance"
# Boosters averaged for the per-sentence stances (the body gets all of them): tree evaluation
# is most of the stage's cost, and one booster cuts it threefold for five evidence sentences.
SENTENCE_BOOSTERS = 1
# Share of a body's words that are English stop words, under which it is not read as English.
# FNC-1 train bodies (1,631 with 20+ words): 0.5th percentile 0.35, median 0.48; its two French
# bodies score 0.05 and 0.10; German, Spanish and French news sentences 0.00-0.05.
MIN_ENGLISH_STOP_SHARE = 0.2
# Fewest words for the stop-word guard to apply (short bodies go to the language identifier).
MIN_WORDS_FOR_LANGUAGE = 15
# Under this stop-word share (or under MIN_WORDS_FOR_LANGUAGE words) the language identifier
# (py3langid, langid.py's model) is asked too; above it a body reads as English without it (the
# identifier costs about 0.7 ms a body and 0.7 s to load, so ordinary English posts skip it).
ASK_IDENTIFIER_BELOW_SHARE = 0.3
# The identifier's normalized probability for a language other than English at or above which
# a body is not read as English. On the 904 FNC-1 competition test bodies it never named another
# language; a 13-word German sentence scores 0.999, a 7-word Spanish one 0.75, and 2-5 word
# English fragments ("Read more at the link.") 0.65-0.98 English, so 0.9 leaves short English alone.
MIN_OTHER_LANGUAGE_PROBABILITY = 0.9
# The same for a body with no English stop word at all: an English body of 4 or more words almost
# always has one ("the", "of", "to", "is" ...), so the identifier's lean is enough. Hand-set.
MIN_OTHER_LANGUAGE_PROBABILITY_WITHOUT_STOP_WORDS = 0.5
# Fewest alphabetic words the identifier is asked about.
MIN_WORDS_FOR_IDENTIFIER = 4


def _unrelated(model_id: str) -> Stance:
    return Stance(
        label="unrelated",
        probabilities=StanceProbabilities(agree=0.0, disagree=0.0, discuss=0.0, unrelated=1.0),
        model=model_id,
    )


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def body_language(ctx: Context) -> str | None:
    """The body's language when it is not English ("de", "es" ...), else None; once per post.

    English stop words settle most bodies; a body with few of them, or too few words for their
    share to mean much, is given to the language identifier.
    """
    if "language" in ctx.extras:
        found: str | None = ctx.extras["language"]
        return found
    words = [w for s in ctx.sentences for w in s.words]
    share, n_alpha = english_share(words)
    language: str | None = None
    if n_alpha >= MIN_WORDS_FOR_IDENTIFIER and (share < ASK_IDENTIFIER_BELOW_SHARE or n_alpha < MIN_WORDS_FOR_LANGUAGE):
        code, probability = _identifier().classify(ctx.body.clean[:2000])
        # A body without a single English function word needs less of the identifier's certainty
        # (a 9-word Russian body scores 0.83 "ru", a 5-word German one 0.77).
        needed = MIN_OTHER_LANGUAGE_PROBABILITY_WITHOUT_STOP_WORDS if share == 0 else MIN_OTHER_LANGUAGE_PROBABILITY
        if code != "en" and probability >= needed:
            language = str(code)
    if language is None and n_alpha >= MIN_WORDS_FOR_LANGUAGE and share < MIN_ENGLISH_STOP_SHARE:
        language = "unknown"
    ctx.extras["language"] = language
    ctx.extras["english_share"] = share
    return language


def english_share(tokens: list[str]) -> tuple[float, int]:
    """Share of alphabetic ``tokens`` that are English stop words, and their number."""
    from overclaim.models.stance_text import STOP

    alpha = [t for t in tokens if t.isalpha()]
    return (sum(map(STOP.__contains__, alpha)) / len(alpha) if alpha else 0.0), len(alpha)


def _probabilities(row: np.ndarray) -> StanceProbabilities:
    # Plain floats: four numbers do not pay numpy's per-call overhead (same sums, same order).
    p = [min(max(x, 0.0), 1.0) for x in row.tolist()]
    total = sum(p) or 1.0
    a, d, c, u = (round(x / total, 4) for x in p)
    return StanceProbabilities(agree=a, disagree=d, discuss=c, unrelated=u)


class StanceDetector(Stage):
    """Set ``ctx.stance`` and the stance of every evidence sentence."""

    name = "stance"

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The trained :class:`~overclaim.models.stance.StanceModel`, loaded on first use.

        Raises:
            ModelError: the artifact is missing or unreadable.
        """
        if self._model is None:
            self._model = load_artifact(ARTIFACT)
        return self._model

    @property
    def model_id(self) -> str:
        """Name and version reported in ``Stance.model``."""
        return f"stance-{getattr(self.model, 'version', '?')}"

    def batch(self, contexts: Sequence[Context]) -> None:
        """Fill the stances of several posts, scoring their feature rows in two model calls.

        Gives each post what :meth:`__call__` would: rows are scored one by one inside the model,
        and bodies go through the same (merged) booster in groups of at most ``MERGED_MAX_ROWS``.
        """
        from overclaim.models.stance import MERGED_MAX_ROWS

        prepared = [(ctx, x) for ctx in contexts if (x := self._features(ctx)) is not None]
        if not prepared:
            return
        model = self.model
        bodies = np.vstack([x[:1] for _, x in prepared])
        body_proba = np.vstack(
            [model.reported_proba(bodies[i : i + MERGED_MAX_ROWS]) for i in range(0, len(bodies), MERGED_MAX_ROWS)]
        )
        sentence_rows = np.vstack([x[1:] for _, x in prepared])
        sentence_proba = model.reported_proba(sentence_rows, SENTENCE_BOOSTERS) if len(sentence_rows) else sentence_rows
        model_id = self.model_id
        start = 0
        for (ctx, x), body_row in zip(prepared, body_proba, strict=True):
            probs = _probabilities(body_row)
            ctx.stance = Stance(label=probs.label(), probabilities=probs, model=model_id)
            # Sentences the entailment stage read keep its stance; the others get the FNC-1 model's.
            unread = [item for item in ctx.evidence if item.entailment is None]
            for item, row in zip(unread, sentence_proba[start : start + len(x) - 1], strict=True):
                item.stance = _probabilities(row)
            start += len(x) - 1

    def _features(self, ctx: Context) -> np.ndarray | None:
        """Feature rows of the body and each evidence sentence; None when the stance is settled without the model."""
        from overclaim.models.stance_features import split_ranges
        from overclaim.models.stance_text import content_stems, words

        headline, body = ctx.headline.clean, ctx.body.clean
        body_words = words(body)
        if not content_stems(words(headline)) or not body_words:
            ctx.stance = _unrelated(self.model_id)
            if not ctx.too_short:
                ctx.notes.append("The headline or body has no words to compare: too short to judge the stance.")
            return None
        language = body_language(ctx)
        if language is not None:
            ctx.stance = _unrelated(self.model_id)
            ctx.extras["not_english"] = True  # the verdict stage's cannot_judge rule
            named = f"it reads as {language}, " if language != "unknown" else ""
            ctx.notes.append(
                f"The body does not read as English ({named}{ctx.extras['english_share']:.0%} English function "
                "words): the stance model cannot judge it."
            )
            return None
        ranges = [(s.start, s.end) for s in ctx.sentences] if ctx.sentences else split_ranges(body)
        texts = [body]
        sentence_ranges = [ranges]
        for item in ctx.evidence:
            if item.entailment is not None:  # read by the entailment stage: its stance is set
                continue
            sent = ctx.sentences[item.index] if item.index < len(ctx.sentences) else None
            text = sent.text if sent is not None else item.span.text
            texts.append(text)
            sentence_ranges.append([(0, len(text))])
        x: np.ndarray = self.model.featurizer.post_features(headline, texts, sentence_ranges, body_words)
        return x
