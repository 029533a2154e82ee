"""Sentence hedging model: is a sentence uncertain (hedged, speculative, weasel-worded).

Data (CoNLL-2010 shared task, Wikipedia part; ``../shared/data/hedging/wiki_weasel_train.csv``):
a CSV with columns ``text`` and ``label`` (1 = uncertain / weasel, 0 = certain).

Features: TF-IDF word 1-2-grams (sublinear tf, min_df=2) and six weasel cue groups
(vague quantifiers, frequency adverbs, modals, epistemic and reporting verbs,
evaluative words, vague authorities such as "critics" or "experts"), each the count
of matches capped at 3, plus "any cue". Classifier: class-balanced logistic
regression, C=2; a sentence is uncertain when P(uncertain) >= :data:`THRESHOLD`.

Chosen by stratified 5-fold CV on the training file (the rules allow CV on train for
tuning): word 1-2-grams alone reach F1 0.608; adding character n-grams 0.613; the cue
groups 0.621-0.623; Naive-Bayes-weighted features (NBSVM) and stems did not help.
"""

from __future__ import annotations

import csv
import datetime as _dt
import platform
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from overclaim.errors import DataError

MODEL_NAME = "hedging"
DEFAULT_DATA = Path("../shared/data/hedging/wiki_weasel_train.csv")
SEED = 13
C = 2.0
FOLDS = 5
# Decision threshold on P(uncertain). With class-balanced weights 0.5 is the natural
# cut; 5-fold CV on the training file gave F1 0.618 / 0.623 / 0.621 at 0.40 / 0.45 / 0.50.
THRESHOLD = 0.45


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(r"(?i)\b(?:" + pattern + r")\b")


# Weasel cue groups, after the CoNLL-2010 Wikipedia annotation guidelines (weasel words:
# vague quantifiers and authorities, peacock/evaluative words) and Hyland's hedges.
CUE_GROUPS: dict[str, re.Pattern[str]] = {
    "quantifier": _words(r"some|many|most|several|various|numerous|few|much|certain|countless|lots|plenty|majority"),
    "frequency": _words(
        r"often|usually|generally|commonly|typically|frequently|sometimes|widely|largely|mostly|mainly"
        r"|occasionally|rarely|arguably|particularly"
    ),
    "modal": _words(
        r"may|might|could|would|can|possibly|probably|perhaps|likely|unlikely|maybe|possible|potentially"
        r"|presumably|apparently|seemingly"
    ),
    "epistemic": _words(
        r"consider\w*|regard\w*|believ\w*|thought|think\w*|claim\w*|said|say|says|suggest\w*|appear\w*|seem\w*"
        r"|known|reported\w*|alleged\w*|rumou?r\w*|estimat\w*|speculat\w*|describ\w*|argu\w*|critic\w*"
        r"|recogni[sz]\w*|famous|notable|noted|popular|important|significant\w*"
    ),
    "evaluative": _words(
        r"best|greatest|leading|major|influential|renowned|acclaimed|well-known|prominent|controversial"
        r"|successful|excellent|exciting|beautiful|great|good|best-known|highly|very|extremely|especially"
        r"|quite|rather|fairly|relatively|somewhat"
    ),
    "authority": _words(
        r"people|experts|critics|scholars|historians|observers|commentators|fans|researchers|analysts|sources|others"
    ),
}


_RUN = re.compile(r"\w+")


def _first_runs(group: re.Pattern[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Lower-case words that can open a match of ``group``: whole words, and prefixes (the ``*`` forms)."""
    alternatives = group.pattern[len(r"(?i)\b(?:") : -len(r")\b")].split("|")
    words: set[str] = set()
    prefixes: list[str] = []
    for alt in alternatives:
        head = alt.split("-")[0]
        # Expand the few character classes and optional letters the lists use.
        forms = [head]
        for pattern, options in ((r"[sz]", ("s", "z")), (r"u?", ("u", ""))):
            if any(pattern in f for f in forms):
                forms = [f.replace(pattern, o, 1) for f in forms for o in options]
        for form in forms:
            if form.endswith(r"\w*"):
                prefixes.append(form[: -len(r"\w*")])
            else:
                if not form.isalpha():
                    raise ValueError(f"cue pattern {alt!r} is not a word list entry")
                words.add(form)
    return frozenset(words), tuple(prefixes)


_OPENERS = {name: _first_runs(rx) for name, rx in CUE_GROUPS.items()}
# The same patterns without (?i), for lower-cased ASCII text: on ASCII, case-insensitive matching
# is matching the lower-cased text, and sre runs the case-sensitive form 2.6x faster.
_LOWER_GROUPS = {name: re.compile(rx.pattern.replace("(?i)", "", 1)) for name, rx in CUE_GROUPS.items()}


def cue_row(sentence: str) -> list[float]:
    """The cue-group features of one sentence: capped, scaled counts and the any-cue flag.

    A group's regex only runs when some word of the sentence could open one of its
    matches (:data:`_OPENERS`), and on ASCII text it runs case-sensitively over the
    lower-cased sentence. Non-ASCII text, where case-insensitive matching and
    ``str.lower`` could differ, runs every group's own regex.
    """
    if sentence.isascii():
        low = sentence.lower()
        runs = set(_RUN.findall(low))
        counts = []
        for name, rx in _LOWER_GROUPS.items():
            words, prefixes = _OPENERS[name]
            opens = not runs.isdisjoint(words) or bool(prefixes and any(r.startswith(prefixes) for r in runs))
            counts.append(min(len(rx.findall(low)), 3) / 3 if opens else 0.0)
    else:
        counts = [min(len(rx.findall(sentence)), 3) / 3 for rx in CUE_GROUPS.values()]
    return [*counts, 1.0 if any(counts) else 0.0]


def cue_features(sentences: Sequence[str]) -> Any:
    """Counts (capped at 3, scaled to [0, 1]) of each weasel cue group, plus 'any cue' (sparse)."""
    import scipy.sparse as sp

    rows = [cue_row(s) for s in sentences]
    return sp.csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(rows), len(CUE_GROUPS) + 1))


def build_model(seed: int = SEED) -> Any:
    """An unfitted pipeline: word TF-IDF + weasel cue groups -> class-balanced logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import FunctionTransformer

    features = FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"(?u)\b\w+\b"),
            ),
            ("cues", FunctionTransformer(cue_features, accept_sparse=True)),
        ]
    )
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=3000, random_state=seed)
    return Pipeline([("features", features), ("clf", clf)])


def load_data(path: str | Path = DEFAULT_DATA) -> tuple[list[str], np.ndarray]:
    """Sentences and 0/1 labels (1 = uncertain) from a ``text,label`` CSV.

    Raises:
        DataError: the file is missing, lacks a column, or has a bad label (named by line).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("not found (expected a CSV with columns text,label)", source=str(path))
    texts: list[str] = []
    labels: list[int] = []
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in ("text", "label") if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f"missing column(s) {', '.join(missing)}", source=str(path), line=1)
            for row in reader:
                line = reader.line_num
                label = (row["label"] or "").strip()
                if label not in ("0", "1"):
                    raise DataError(f"label {label!r} is not 0 or 1", source=str(path), line=line, field="label")
                text = (row["text"] or "").strip()
                if not text:  # the CoNLL file has one empty sentence; nothing to learn from it
                    continue
                texts.append(text)
                labels.append(int(label))
    except UnicodeDecodeError as exc:
        raise DataError("not valid UTF-8", source=str(path)) from exc
    except csv.Error as exc:
        raise DataError(f"malformed CSV: {exc}", source=str(path)) from exc
    y = np.array(labels, dtype=np.int8)
    if len(texts) < 10 or y.sum() == 0 or y.sum() == len(y):
        raise DataError("needs at least 10 rows and both labels", source=str(path))
    return texts, y


def _scores(gold: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, Any]:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

    pred = (proba >= threshold).astype(np.int8)
    p, r, f, _ = precision_recall_fscore_support(gold, pred, average="binary", zero_division=0)
    out: dict[str, Any] = {
        "threshold": threshold,
        "precision": round(float(p), 4),
        "recall": round(float(r), 4),
        "f1": round(float(f), 4),
        "accuracy": round(float((pred == gold).mean()), 4),
        "confusion": confusion_matrix(gold, pred, labels=[0, 1]).tolist(),
    }
    if 0 < gold.sum() < len(gold):
        out["roc_auc"] = round(float(roc_auc_score(gold, proba)), 4)
    return out


def cross_validate(texts: Sequence[str], labels: np.ndarray, folds: int = FOLDS, seed: int = SEED) -> dict[str, Any]:
    """Stratified ``folds``-fold CV: precision, recall and F1 of the uncertain class at :data:`THRESHOLD`."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    proba = cross_val_predict(
        build_model(seed), list(texts), labels, cv=StratifiedKFold(folds, shuffle=True, random_state=seed),
        method="predict_proba", n_jobs=1,
    )[:, 1]
    out: dict[str, Any] = {"evaluation": f"stratified {folds}-fold cross-validation", "folds": folds}
    out.update(_scores(labels, proba, THRESHOLD))
    return out


def evaluate(
    path: str | Path = DEFAULT_DATA, *, cv: bool | None = None, folds: int = FOLDS, seed: int = SEED,
    model: Any = None,
) -> dict[str, Any]:
    """Precision, recall and F1 of the uncertain class on a ``text,label`` file.

    Args:
        path: the CSV to score.
        cv: ``True`` cross-validates on the file; ``False`` scores the shipped model;
            ``None`` (default) cross-validates when ``path`` is the training file on the card.
        folds: folds for cross-validation.
        seed: random seed for the folds and the solver.
        model: a fitted model to score instead of the shipped artifact.
    """
    from overclaim.training.headline_certainty import load_model, timed, use_cv

    texts, labels = load_data(path)
    out: dict[str, Any] = {"data": str(path), "sentences": len(texts), "uncertain": int(labels.sum())}
    if use_cv(MODEL_NAME, DEFAULT_DATA, path, cv, model):
        out.update(cross_validate(texts, labels, folds=folds, seed=seed))
        return out
    proba, rate = timed(lambda: (model or load_model(MODEL_NAME)).predict_proba(texts)[:, 1], len(texts))
    out["evaluation"] = "shipped model scored on the file"
    out.update(_scores(labels, proba, THRESHOLD))
    out["sentences_per_second"] = rate
    return out


def train(path: str | Path = DEFAULT_DATA, out_dir: str | Path | None = None, seed: int = SEED,
          folds: int = FOLDS) -> dict[str, Any]:
    """Fit on all of ``path``, cross-validate, write the model file, card.json and MODEL_CARD.md.

    Returns:
        The model card (as written to card.json).
    """
    import sklearn

    from overclaim.training.cards import write_artifact
    from overclaim.training.headline_certainty import model_card_md

    texts, labels = load_data(path)
    figures = cross_validate(texts, labels, folds=folds, seed=seed) if folds else {}
    model = build_model(seed).fit(texts, labels)
    batch = texts[:5]
    started = time.perf_counter()
    for _ in range(200):
        model.predict_proba(batch)
    batch_ms = (time.perf_counter() - started) * 1000 / 200
    card: dict[str, Any] = {
        "model": MODEL_NAME,
        "task": "P(sentence is uncertain: hedged, speculative or weasel-worded)",
        "data": {
            "path": str(path),
            "source": "CoNLL-2010 shared task, Wikipedia weasel sentences (research use)",
            "sentences": len(texts),
            "uncertain": int(labels.sum()),
        },
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d"),
        "seed": seed,
        "threshold": THRESHOLD,
        "features": f"TF-IDF word 1-2-grams (min_df=2, sublinear tf) + {len(CUE_GROUPS)} weasel cue-group "
        f"counts ({', '.join(CUE_GROUPS)}) + any-cue flag",
        "classifier": f"LogisticRegression(C={C}, class_weight='balanced', lbfgs); uncertain at P >= {THRESHOLD}",
        "evaluation": figures.get("evaluation", "none"),
        "figures": {k: v for k, v in figures.items() if k != "evaluation"},
        "single_sentence_ms": round(batch_ms / len(batch), 4),
        "batch_of_5_ms": round(batch_ms, 3),
        "reference": "CoNLL-2010 Wikipedia task, sentence level: F1 about 0.55-0.60 for the best systems",
        "versions": {"scikit-learn": sklearn.__version__, "python": platform.python_version()},
        "caveats": "Wikipedia weasel words (vague authorities, peacock terms) differ from news hedging; the "
        "certainty stage pairs this model with explicit cue lexicons (hedges, conditionals, questions). "
        "The threshold was chosen with the same CV, so its figures are slightly optimistic. Speed measured "
        "under shared load.",
    }
    write_artifact(model, card, out_dir, lambda c: model_card_md(c, "hedging"))
    return card
