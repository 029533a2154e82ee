"""Headline certainty model: does a headline assert its claim, only report it, or deny it.

Data (Ferreira & Vlachos 2016, Emergent; ``../shared/data/emergent/emergent_train.csv``):
a CSV with at least the columns ``claimHeadline``, ``articleHeadline``,
``articleHeadlineStance`` (``for`` | ``observing`` | ``against``) and ``claimId``.
The model reads the article headline only: in the pipeline the headline *is* the
claim, so there is no separate claim to compare with. (Claim-headline overlap
features were tried and added nothing in claim-grouped CV: 0.771 accuracy with or
without them.)

Features: TF-IDF word 1-2-grams (``?`` kept as a token), TF-IDF character 2-5-grams
within words, and hand-made cue features (:func:`cue_row`): ten binary cue groups
(refuting words, denial verbs, negation, hedges, reporting words, question form,
"how/why" openers, a trailing source ("...: ABC"), confirmation words, quotation
marks), nine headline-form groups (an attribution at the end ("..., officials say",
"- report"), a leading label ("Report:", "Rumor:", "Exclusive:"), "said/set/expected
to", plans and talks ("in talks", "eyes", "to launch"), capitalised denials ("NOT",
"HOAX"), "alive / not real / debunked", the ``refutations`` lexicon, a question
mid-headline or at its end), the counts of the certainty stage's own lexicon cues
by kind (:func:`overclaim.stages.certainty.find_cues`: hedge, attribution,
negation, conditional, booster, question) and eight shape features (length,
short/long, share of all-caps words, title case, "!", ":", digits), then the products
of every pair of these base features, the sentence hedging model's P(uncertain) of the
headline and the clickbait model's P(clickbait) of it. The ten cue groups lift
claim-grouped 5-fold CV accuracy from 0.723 to 0.780; the form, lexicon and shape features
to 0.791 (seed 13; 0.786 against 0.781 averaged over fold seeds 13, 1 and 2); two more form
groups (a source before a colon, fear and attempt words), the pair products and
P(uncertain) to 0.798 (mean over fold seeds 13, 1-5: 0.7837 -> 0.7918, higher on each);
P(clickbait) x5 to 0.8004 (mean 0.7918 -> 0.7933; per seed 13, 1, 2, 3, 4, 5: 0.7983 ->
0.8004, 0.7921 -> 0.7916, 0.7865 -> 0.788, 0.7916 -> 0.7958, 0.788 -> 0.7896, 0.7942 ->
0.7947; scales 1, 2, 3 and 8 gave means 0.7930-0.7934, so the gain does not hang on the
scale). Classifier: class-balanced logistic regression, C=1 (chosen among C in {1, 3, 10}
by the same CV; C=0.5, 0.7, 1.5 and 2 scored the same within 0.006).
Tried and dropped (mean over fold seeds 13, 1, 2): NB-SVM, LinearSVC, ridge, LightGBM on
the cue features or stacked on the LR, claims as extra `for` examples, masking topic words,
claim-balanced weights, per-class decision shifts (all 0.77-0.789). Tried and dropped
(mean over fold seeds 13, 1-5): word 1-3-grams (0.7909 against 0.7918); the word or the
char TF-IDF block weighted 0.8 or 1.3 (0.7905-0.7911); with P(clickbait): P(clickbait)
times each base feature, char 2-6-grams, cased word n-grams (0.7928, 0.7930, 0.7879
against 0.7934 in the same runs, which used P(clickbait) unrounded; the shipped feature
rounds it to 4 places, as ``clickbait_probabilities`` does). More headline-form groups read off the CV errors were
not added: a short name before a colon ("NYT:", "Tim Cook:"), "emerges / story / viral", a
trailing "Video / Updated / Exclusive" and "will" each cover the three classes about as
often as the data does (a leading "Name:" is 'for' 78, 'observing' 71, 'against' 38), and
most remaining 'observing' -> 'for' errors are plain statements with no cue at all.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import platform
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from overclaim.errors import DataError
from overclaim.training.cards import write_artifact

MODEL_NAME = "headline_certainty"
DEFAULT_DATA = Path("../shared/data/emergent/emergent_train.csv")
LABELS = ("for", "observing", "against")
SEED = 13
C = 1.0
FOLDS = 5
COLUMNS = ("articleHeadline", "articleHeadlineStance", "claimId")


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(r"(?i)\b(?:" + pattern + r")\b")


class _Searcher(Protocol):
    def search(self, text: str, /) -> object: ...


class _AtEnd:
    """A pattern anchored at the end of the text, run as its mirror image from the start.

    ``re.search`` tries a pattern that ends in ``$`` at every position, and each try may scan
    to the end of the text: quadratic on a long token ("a*a*...a/b") or a long run of "?".
    The mirror-image pattern (the same regular language, written backwards) is matched once,
    at position 0 of the reversed text, so it reads only the end of the text it needs: linear.
    ``search`` is truthy exactly when the forward pattern's ``search`` is (the equivalence is
    tested against the forward pattern on Emergent, clickbait and FNC-1 text and on generated
    strings); the match object is of the reversed text.
    """

    def __init__(self, forward: str, mirrored: str) -> None:
        self.pattern = forward  # the forward form, for the record
        self._mirrored = re.compile(mirrored)

    def search(self, text: str) -> re.Match[str] | None:
        return self._mirrored.match(text[::-1])


def _mirror_words(alternatives: str) -> str:
    """``a|bc?`` -> ``a|c?b``: each alternative written backwards (letters, each optionally with ``?``)."""
    out = []
    for alt in alternatives.split("|"):
        units = re.findall(r"[a-z]\??", alt)
        if "".join(units) != alt:
            raise ValueError(f"{alt!r} is not letters with optional '?'")
        out.append("".join(reversed(units)))
    return "|".join(out)


# Cue groups, one binary feature each. Word lists: Ferreira & Vlachos (2016) refuting and
# hedging words, extended by hand with news-headline forms; see lexicons/ for the stage's cues.
CUE_GROUPS: dict[str, re.Pattern[str]] = {
    "refute": _words(
        r"fake|fakes|faked|fraud|hoax|hoaxes|false|falsely|debunk\w*|bogus|myth|rubbish|untrue|fabricat\w*"
        r"|prank\w*|satire|satirical|spoof|not\s+true|made\s+up|nonsense|scam|lie|lies|lied|misleading|no\s+evidence"
    ),
    "deny": _words(
        r"den(?:y|ies|ied|ying)|refut\w*|reject\w*|dismiss\w*|retract\w*|rebuff\w*|shoots?\s+down|slams?"
        r"|disput\w*|contradict\w*|correct\w*|clarif\w*|walks?\s+back|backtrack\w*"
    ),
    "negation": _words(
        r"not|no|never|isn't|aren't|wasn't|weren't|didn't|doesn't|don't|won't|can't|hasn't|haven't|nothing|none|nor"
    ),
    "hedge": _words(
        r"alleged\w*|apparent\w*|appear\w*|evidently|likely|unlikely|maybe|perhaps|presumabl\w*|probabl\w*"
        r"|purport\w*|supposed\w*|unconfirmed|unverified|possibl\w*|seem\w*|suspect\w*|could|may|might|would"
    ),
    "report": _words(
        r"report|reports|reported|reportedly|rumou?r\w*|claim\w*|says?|said|according|suggest\w*|sources?"
        r"|insider\w*|believ\w*|think\w*|accus\w*|speculat\w*|tipped|hints?|warns?|predicts?|expects?"
    ),
    "question": re.compile(r"\?|^(?:is|are|was|were|did|does|do|has|have|can|could|will|would|should)\b", re.I),
    "how_why": re.compile(r"^(?:how|why|what|who|when|here's|this is)\b", re.I),
    "trailing_source": re.compile(r":\s*[A-Z][\w.&' -]{1,30}$|\s[-–|]\s*[A-Z][\w.&' ]{1,30}$"),
    "confirm": _words(
        r"confirm\w*|official\w*|proves?|proof|revealed|reveals|shows?|announc\w*|admits?|actually|really"
        r"|indeed|true|truth"
    ),
    "quote": re.compile(r"[\"“”'‘’]"),
}


# Headline-form groups: how news headlines mark a claim as reported, planned or denied.
# Written by hand from the forms seen in Emergent training headlines' errors (not the held-out claims).
_REPORTERS = (
    r"says?|said|claims?|claimed|reports?|reported|reportedly|official|officials|source|sources|insiders?|media"
    r"|suggests?|believes?|thinks?|warns?|alleges?|admits?|insists?|confirms?|denies|tells|told|according"
)
# "..., officials say", "- report": a reporting word ending the headline (only non-word characters
# after it). Written as (?i)(?:[,:;\-–—|(]\s*|\b)(?:\S+\s+){0,4}?(?:REPORTERS)\W*$ when trained; that
# matches exactly when (?i)\b(?:REPORTERS)\W*$ does: a reporter after whitespace or any non-word
# character has a word boundary before it (zero words and the \b lead), and one after a word
# character can neither follow a "\s+" nor have a boundary. Run mirrored (see _AtEnd).
TRAILING_REPORT = _AtEnd(
    r"(?i)(?:[,:;\-–—|(]\s*|\b)(?:\S+\s+){0,4}?(?:" + _REPORTERS + r")\W*$",
    r"(?i)\W*(?:" + _mirror_words(_REPORTERS) + r")\b",
)
FORM_GROUPS: dict[str, _Searcher] = {
    "trailing_report": TRAILING_REPORT,
    "lead_label": re.compile(
        r"(?i)^\s*(?:report|reports|rumou?rs?|exclusive|update|updated|watch|video|breaking|photos?|claim|alleged"
        r"|unconfirmed)\b\s*[:\-–]"
    ),
    "said_to": _words(
        r"(?:said|believed|thought|reported|rumou?red|alleged|claimed|understood|feared|expected|tipped|set|poised"
        r"|likely|due|about)\s+to"
    ),
    "plan": _words(
        r"in\s+talks|near(?:s|ing)?\s+(?:a\s+)?deal|plans?|planning|consider\w*|mulls?|mulling|eyes|eyeing|weighs?"
        r"|weighing|explor\w*|seeks?|seeking|prepar\w*|could|may|might|to\s+(?:be|launch|buy|open|get|feature|star"
        r"|ban|offer|release|sell|cut|start|end|become|join|make|have)"
    ),
    "caps_denial": re.compile(r"\b(?:NOT|NO|NEVER|FAKE|HOAX)\b"),
    "alive_or_real": _words(
        r"alive|not\s+dead|is\s+real|not\s+real|isn't\s+real|not\s+a\s+real|only\s+real|truth\s+behind|really"
        r"|actually|exposed|busted|debunked|investigat\w*|probe|probing|questions?\s+over|doubts?|skeptic\w*|sceptic\w*"
    ),
    "refutation_lexicon": re.compile(r"$^"),  # set from lexicons/refutations.txt on first use
    "question_mid": re.compile(r"\?\s+\S"),
    # A "?" among the non-word characters that end the headline; forward form \?\W*$ (see _AtEnd).
    "question_end": _AtEnd(r"\?\W*$", r"\W*\?"),
    # A source named before a colon: "Senator: ...", "Iraqi media: ...", "Official: ...".
    "lead_source": re.compile(
        r"(?i)^\s*(?:[\w.'&-]+\s+){0,3}(?:official|officials|source|sources|senator|sen\.|rep|congressman|minister"
        r"|spokes\w+|police|media|report|reports|analyst|expert|experts|insider|witness\w*|lawyer|attorney|mayor"
        r"|governor|president|ceo|chief|general|military|army|pentagon|white house|kremlin|state media|tv|paper"
        r"|newspaper)\s*:\s+\S"
    ),
    # Fear, uncertainty and attempts: what is feared, tried or eyed has not happened.
    "fear_try": _words(
        r"fear\w*|feared|unknown|unclear|sees|seen\s+as|predict\w*|prognosticat\w*|working\s+on|efforts?\s+to"
        r"|tries|trying|attempt\w*|bids?\s+to|scare|mystery|mysterious|concerns?|worr\w*|panic|rumbl\w*|possible"
        r"|potential\w*|hopes?|hoping|eyed|wants?\s+to|would-be"
    ),
}
# The certainty stage's lexicon cue kinds, counted (0, 1 or 2+ -> 0, 0.5, 1).
LEXICON_KINDS = ("hedge", "attribution", "negation", "conditional", "booster", "question")
SHAPE_FEATURES = ("length", "short", "long", "all_caps_share", "title_case", "exclamation", "colon", "digit")
N_BASE = len(CUE_GROUPS) + len(FORM_GROUPS) + len(LEXICON_KINDS) + len(SHAPE_FEATURES)
# Products of every pair of base features (a linear model cannot see "a question AND a
# source"), scaled down so their many columns do not outweigh the base ones, and the sentence
# hedging model's P(uncertain) of the headline, scaled up. Chosen by claim-grouped 5-fold CV over
# fold seeds 13, 1, 2, 3, 4, 5: mean accuracy 0.7837 -> 0.7919 (gains on every seed); pair scales
# 0.2 / 0.5, hedging scales 2 / 4 and C 0.7 / 1.5 scored 0.790-0.7915.
PAIR_SCALE = 0.3
HEDGE_SCALE = 3.0
# The clickbait model's P(clickbait) of the headline, scaled like P(uncertain): hoaxes and their
# debunkings are written as clickbait more often than plain reports are (mean P 0.23 for
# 'against', 0.17 'for', 0.12 'observing'). Scales 1, 2 and 3 scored 0.0001-0.0004 lower (see the docstring).
CLICKBAIT_SCALE = 5.0
_PAIRS = [(i, j) for i in range(N_BASE) for j in range(i + 1, N_BASE)]
_PAIR_INDEX = {pair: k for k, pair in enumerate(_PAIRS)}
N_FEATURES = N_BASE + len(_PAIRS) + 2
_state: dict[str, Any] = {}


def _refutations() -> re.Pattern[str]:
    rx = _state.get("refutations")
    if rx is None:
        from overclaim.resources import lexicon

        entries = sorted(lexicon("refutations"), key=len, reverse=True)
        rx = _state["refutations"] = _words("|".join(re.escape(e) for e in entries))
    return rx


def _shape(headline: str) -> list[float]:
    words = headline.split()
    n = len(words) or 1
    caps = sum(1 for w in words if len(w) > 1 and w.isupper()) / n
    title = sum(1 for w in words if w[:1].isupper()) / n
    return [
        min(len(words), 30) / 30, float(len(words) <= 6), float(len(words) >= 20), caps, float(title > 0.7),
        float("!" in headline), float(":" in headline), float(any(c.isdigit() for c in headline)),
    ]


def _hedging() -> Any:
    """The shipped sentence hedging model's scorer (loaded once)."""
    scorer = _state.get("hedging")
    if scorer is None:
        from overclaim.resources import load_artifact
        from overclaim.stages.certainty import LinearScorer

        scorer = _state["hedging"] = LinearScorer(load_artifact("hedging"))
    return scorer


def cue_row(headline: str) -> list[float]:
    """The hand-made features of one headline.

    Cue groups, form groups, lexicon cue counts and shape (the base features), the products
    of each pair of base features (times ``PAIR_SCALE``), the hedging model's
    P(uncertain) (times ``HEDGE_SCALE``) and the clickbait model's P(clickbait) (times
    ``CLICKBAIT_SCALE``). The run-time stage scores the model from this function (see
    ``LinearScorer``), so training and run time compute the same features from the
    headline alone. The hedging and clickbait models must be trained first.
    """
    from overclaim.stages.certainty import find_cues

    base = [1.0 if rx.search(headline) else 0.0 for rx in CUE_GROUPS.values()]
    for name, group in FORM_GROUPS.items():
        found = _refutations().search(headline) if name == "refutation_lexicon" else group.search(headline)
        base.append(1.0 if found else 0.0)
    kinds = [m.kind for m in find_cues(headline)]
    base.extend(min(kinds.count(k), 2) / 2 for k in LEXICON_KINDS)
    base.extend(_shape(headline))
    pairs = [0.0] * len(_PAIRS)
    nonzero = [(i, v) for i, v in enumerate(base) if v]
    for a, (i, vi) in enumerate(nonzero):
        for j, vj in nonzero[a + 1 :]:
            pairs[_PAIR_INDEX[(i, j)]] = vi * vj * PAIR_SCALE
    from overclaim.stages.sensational import clickbait_probabilities

    return base + pairs + [
        HEDGE_SCALE * _hedging().predict_proba(headline)[1],
        CLICKBAIT_SCALE * clickbait_probabilities([headline])[0],
    ]


def cue_features(headlines: Sequence[str]) -> Any:
    """One column per feature of :func:`cue_row` (a sparse matrix)."""
    import scipy.sparse as sp

    rows = [cue_row(h) for h in headlines]
    return sp.csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(rows), N_FEATURES))


def build_model(seed: int = SEED) -> Any:
    """An unfitted pipeline: word + char TF-IDF + cue features -> class-balanced logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import FunctionTransformer

    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b|\?")),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
            ("cues", FunctionTransformer(cue_features, accept_sparse=True)),
        ]
    )
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=3000, random_state=seed)
    return Pipeline([("features", features), ("clf", clf)])


def load_data(path: str | Path = DEFAULT_DATA) -> tuple[list[str], np.ndarray, list[str]]:
    """Headlines, stance labels and claim ids from an Emergent-format CSV.

    Raises:
        DataError: the file is missing, lacks a column, or has an unknown label (named by line).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("not found (expected an Emergent CSV)", source=str(path))
    headlines: list[str] = []
    labels: list[str] = []
    groups: list[str] = []
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f"missing column(s) {', '.join(missing)}", source=str(path), line=1)
            for number, row in enumerate(reader, start=2):
                label = (row["articleHeadlineStance"] or "").strip()
                if label not in LABELS:
                    raise DataError(
                        f"stance {label!r} is not one of {', '.join(LABELS)}",
                        source=str(path), line=number, field="articleHeadlineStance",
                    )
                headline = (row["articleHeadline"] or "").strip()
                if not headline:
                    raise DataError("is empty", source=str(path), line=number, field="articleHeadline")
                headlines.append(headline)
                labels.append(label)
                groups.append((row["claimId"] or "").strip() or f"row{number}")
    except UnicodeDecodeError as exc:
        raise DataError("not valid UTF-8", source=str(path)) from exc
    except csv.Error as exc:
        raise DataError(f"malformed CSV: {exc}", source=str(path)) from exc
    if len(headlines) < 10:
        raise DataError(f"has {len(headlines)} rows; at least 10 are needed", source=str(path))
    return headlines, np.array(labels), groups


def _scores(gold: Sequence[str], pred: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    per_class = f1_score(gold, pred, labels=list(LABELS), average=None, zero_division=0)
    return {
        "accuracy": round(float(accuracy_score(gold, pred)), 4),
        "macro_f1": round(float(f1_score(gold, pred, labels=list(LABELS), average="macro", zero_division=0)), 4),
        "f1": {label: round(float(v), 4) for label, v in zip(LABELS, per_class, strict=True)},
        "labels": list(LABELS),
        "confusion": confusion_matrix(gold, pred, labels=list(LABELS)).tolist(),
    }


def cross_validate(
    headlines: Sequence[str], labels: np.ndarray, groups: Sequence[str], folds: int = FOLDS, seed: int = SEED
) -> dict[str, Any]:
    """Claim-grouped, stratified ``folds``-fold CV: no claim has headlines on both sides of a split."""
    from sklearn.model_selection import StratifiedGroupKFold

    if len(set(groups)) < folds:
        raise DataError(f"{folds}-fold grouped CV needs at least {folds} claims", field="claimId")
    pred = np.empty(len(labels), dtype=object)
    items = list(headlines)
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(items, labels, list(groups)):
        model = build_model(seed).fit([items[i] for i in train_idx], labels[train_idx])
        pred[test_idx] = model.predict([items[i] for i in test_idx])
    out = {"evaluation": f"claim-grouped stratified {folds}-fold cross-validation", "folds": folds}
    out.update(_scores(list(labels), list(pred)))
    return out


def evaluate(
    path: str | Path = DEFAULT_DATA, *, cv: bool | None = None, folds: int = FOLDS, seed: int = SEED,
    model: Any = None,
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class F1 and confusion matrix on an Emergent-format file.

    Args:
        path: the CSV to score.
        cv: ``True`` cross-validates on the file (claim-grouped); ``False`` scores the
            shipped model on it; ``None`` (default) cross-validates when ``path`` is the
            training file named on the model card (or the default training file).
        folds: folds for cross-validation.
        seed: random seed for the folds and the solver.
        model: a fitted model to score instead of the shipped artifact.
    """
    headlines, labels, groups = load_data(path)
    out: dict[str, Any] = {"data": str(path), "headlines": len(headlines), "claims": len(set(groups))}
    if use_cv(MODEL_NAME, DEFAULT_DATA, path, cv, model):
        out.update(cross_validate(headlines, labels, groups, folds=folds, seed=seed))
        return out
    pred, rate = timed(lambda: (model or load_model(MODEL_NAME)).predict(headlines), len(headlines))
    out["evaluation"] = "shipped model scored on the file"
    out.update(_scores(list(labels), list(pred)))
    out["headlines_per_second"] = rate
    return out


def use_cv(name: str, default: Path, path: str | Path, cv: bool | None, model: Any) -> bool:
    """Whether to cross-validate: as asked, else when ``path`` is the model's training file."""
    if cv is not None:
        return cv
    from overclaim.resources import model_card

    trained_on = model_card(name).get("data", {}).get("path", str(default))
    return model is None and Path(path).resolve() == Path(trained_on).resolve()


def load_model(name: str) -> Any:
    """The shipped artifact ``name`` (cached)."""
    from overclaim.resources import load_artifact

    return load_artifact(name)


def timed(run: Any, items: int) -> tuple[Any, int | None]:
    """Call ``run()``; return its result and the items per second it managed."""
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    return result, (round(items / seconds) if seconds > 0 else None)


def train(path: str | Path = DEFAULT_DATA, out_dir: str | Path | None = None, seed: int = SEED,
          folds: int = FOLDS) -> dict[str, Any]:
    """Fit on all of ``path``, cross-validate, write the model file, card.json and MODEL_CARD.md.

    Returns:
        The model card (as written to card.json).
    """
    import sklearn

    headlines, labels, groups = load_data(path)
    figures = cross_validate(headlines, labels, groups, folds=folds, seed=seed) if folds else {}
    model = build_model(seed).fit(headlines, labels)
    started = time.perf_counter()
    for h in headlines[:500]:
        model.predict_proba([h])
    per_headline_ms = (time.perf_counter() - started) * 1000 / min(500, len(headlines))
    counts = {label: int((labels == label).sum()) for label in LABELS}
    card: dict[str, Any] = {
        "model": MODEL_NAME,
        "task": "P(for | observing | against): does a headline assert its claim, report it, or deny it",
        "data": {
            "path": str(path),
            "source": "Ferreira & Vlachos 2016, Emergent (80% of the claims; the claim-disjoint 20% is held out)",
            "headlines": len(headlines),
            "claims": len(set(groups)),
            "labels": counts,
        },
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d"),
        "seed": seed,
        "features": "TF-IDF word 1-2-grams ('?' a token) + TF-IDF char_wb 2-5-grams (min_df=2) + "
        f"{len(CUE_GROUPS)} binary cue groups ({', '.join(CUE_GROUPS)}) + {len(FORM_GROUPS)} headline-form groups "
        f"({', '.join(FORM_GROUPS)}) + the certainty stage's lexicon cue counts ({', '.join(LEXICON_KINDS)}) + "
        f"{len(SHAPE_FEATURES)} shape features ({', '.join(SHAPE_FEATURES)}) + the products of each pair of these "
        f"{N_BASE} (x{PAIR_SCALE}) + the hedging model's P(uncertain) (x{HEDGE_SCALE}) + the clickbait model's "
        f"P(clickbait) (x{CLICKBAIT_SCALE}); article headline only",
        "classifier": f"LogisticRegression(C={C}, class_weight='balanced', lbfgs)",
        "evaluation": figures.get("evaluation", "none"),
        "figures": {k: v for k, v in figures.items() if k not in ("evaluation", "labels")},
        "single_headline_ms": round(per_headline_ms, 3),
        "reference": "Ferreira & Vlachos 2016: 73.08% accuracy on a claim-disjoint test",
        "versions": {"scikit-learn": sklearn.__version__, "python": platform.python_version()},
        "caveats": "Emergent headlines are 2014-15 English news headlines about rumours; captions and "
        "other styles are out of domain. Many labels are debatable (a headline stating the claim plainly is "
        "sometimes labelled 'observing'), which caps accuracy: 'observing' headlines with no reporting cue at "
        "all (169 of 723), often plain statements that differ from the claim only in what they leave out, are "
        "right 17% of the time (before P(clickbait) was added). C and the form, lexicon, shape, pair, hedging and "
        "clickbait features were chosen with the same CV (about 75 settings), so its figures are slightly "
        "optimistic, and the last step (P(clickbait)) gained only 0.0015 in the mean over fold seeds; with fold "
        "seeds 1-5 accuracy is 0.7916, 0.788, 0.7958, 0.7896 and 0.7947 (mean with seed 13: 0.7933; 0.7918 "
        "without P(clickbait)). Needs the hedging and clickbait models (P(uncertain) and P(clickbait) are "
        "features): retrain this model after those. Speed measured under shared load.",
    }
    write_artifact(model, card, out_dir, lambda c: model_card_md(c, "headline-certainty"))
    return card


def model_card_md(card: dict[str, Any], command: str) -> str:
    """The human-readable MODEL_CARD.md for a card (shared by the certainty models)."""
    fig = card["figures"]
    rows = "\n".join(f"| {k} | {json.dumps(v)} |" for k, v in fig.items())
    data = card["data"]
    return f"""# Model card: {card["model"]}

**Task:** {card["task"]}. Used by the `certainty` stage.

- **Data:** {data["source"]}; read from `{data["path"]}`: {json.dumps({k: v for k, v in data.items()
    if k not in ("path", "source")})}.
- **Date:** {card["date"]}; **seed:** {card["seed"]}; CPU only. Rebuild with `overclaim train {command}`.
- **Features:** {card["features"]}.
- **Classifier:** {card["classifier"]}.
- **Evaluation:** {card["evaluation"]}. Reproduce with `overclaim eval {command} --data {data["path"]} --json`.

| figure | value |
|---|---|
{rows}

One text scored alone: {card.get("single_headline_ms", card.get("single_sentence_ms"))} ms (under shared load).

**Caveats.** {card["caveats"]}
"""
