"""Claim-strength model: the strength of the relation a sentence states (Yu et al. 2019).

Data (``../shared/data/claim_strength/annotated_pubmed.csv``): PubMed conclusion sentences,
columns ``sentence,label`` with label 0 no relationship, 1 correlational, 2 conditional
causal, 3 direct causal. Any CSV with a ``label`` column and a ``sentence`` (or ``text``)
column can be evaluated.

Features: TF-IDF word 1-2-grams (sublinear tf, min_df=2) and the 12 hand cue features of
:func:`overclaim.models.claim_strength.cue_row` (cue kinds from
``lexicons/claim_strength.txt``, modal-before-causal, negation-before-relation, ...).
Classifier: class-balanced multinomial logistic regression, C=10.

Chosen by the mean macro-F1 of stratified 5-fold CV (seed 13) on the training file, nothing
else: word 1-3-grams alone 0.723 (C 3-30 the same); + char 2-5-grams 0.740 (C=3); word
1-2-grams + cue features 0.743 (C=3), 0.755 (C=10, this model); + cue-kind sequence
n-grams 0.756; word + char 2-5-grams + cue features, C=10: 0.770, but char n-grams cost
0.72 ms a sentence with the pipeline's scorer (0.37 in batches), over the 0.5 ms budget,
so they were dropped for 0.015 of macro-F1. The authors' fine-tuned BioBERT reached 0.878
(same protocol, 3,061 sentences): a bag of n-grams with cue features stays about 0.12
below it, under the 0.80 target.
"""

from __future__ import annotations

import csv
import datetime as _dt
import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from overclaim.errors import DataError
from overclaim.models.claim_strength import LABELS, MODEL_NAME, N_FEATURES, cue_features

DEFAULT_DATA = Path("../shared/data/claim_strength/annotated_pubmed.csv")
INSCIOUT_DATA = Path("../shared/data/claim_strength/insciout_train.jsonl")
SEED = 13
C = 10.0
FOLDS = 5
TEXT_COLUMNS = ("sentence", "text")


def build_model(seed: int = SEED) -> Any:
    """An unfitted pipeline: word TF-IDF + cue features -> class-balanced logistic regression."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import FunctionTransformer

    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")),
            ("cues", FunctionTransformer(cue_features, accept_sparse=True)),
        ]
    )
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=3000, random_state=seed)
    return Pipeline([("features", features), ("clf", clf)])


def load_data(path: str | Path = DEFAULT_DATA) -> tuple[list[str], np.ndarray]:
    """Sentences and labels 0-3 from a CSV with a ``label`` column and a ``sentence`` or ``text`` column.

    Raises:
        DataError: the file is missing, not UTF-8 CSV, lacks a column, has an empty sentence
            or a label other than 0-3 (named by line), or has fewer than 10 rows.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("not found (expected a CSV with columns sentence,label)", source=str(path))
    texts: list[str] = []
    labels: list[int] = []
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            fields = reader.fieldnames or []
            column = next((c for c in TEXT_COLUMNS if c in fields), None)
            if column is None or "label" not in fields:
                missing = [c for c, ok in (("sentence", column), ("label", "label" in fields)) if not ok]
                raise DataError(f"missing column(s) {', '.join(missing)} (header: {fields})", source=str(path), line=1)
            for row in reader:
                line = reader.line_num
                label = (row.get("label") or "").strip()
                if label not in ("0", "1", "2", "3"):
                    raise DataError(f"label {label!r} is not 0, 1, 2 or 3", source=str(path), line=line, field="label")
                text = (row.get(column) or "").strip()
                if not text:
                    raise DataError("empty sentence", source=str(path), line=line, field=column)
                texts.append(text)
                labels.append(int(label))
    except UnicodeDecodeError as exc:
        raise DataError("not valid UTF-8", source=str(path)) from exc
    except csv.Error as exc:
        raise DataError(f"malformed CSV: {exc}", source=str(path)) from exc
    if len(texts) < 10:
        raise DataError(f"needs at least 10 rows, found {len(texts)}", source=str(path))
    return texts, np.array(labels, dtype=np.int8)


def scores(gold: Sequence[int], pred: Sequence[int]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class F1 and the confusion matrix (rows gold, columns predicted)."""
    from sklearn.metrics import confusion_matrix, f1_score

    classes = list(range(len(LABELS)))
    per_class = f1_score(gold, pred, labels=classes, average=None, zero_division=0)
    return {
        "accuracy": round(float(np.mean(np.asarray(gold) == np.asarray(pred))), 4),
        "macro_f1": round(float(f1_score(gold, pred, labels=classes, average="macro", zero_division=0)), 4),
        "f1": {label: round(float(f), 4) for label, f in zip(LABELS, per_class, strict=True)},
        "confusion": {
            "labels": list(LABELS),
            "rows": "gold",
            "columns": "predicted",
            "matrix": confusion_matrix(gold, pred, labels=classes).tolist(),
        },
    }


def cross_validate(texts: Sequence[str], labels: np.ndarray, folds: int = FOLDS, seed: int = SEED) -> dict[str, Any]:
    """Stratified ``folds``-fold CV: pooled figures plus the per-fold macro-F1 and its mean."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    pred = np.zeros(len(labels), dtype=np.int8)
    fold_f1: list[float] = []
    texts = list(texts)
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, labels):
        model = build_model(seed).fit([texts[i] for i in train_idx], labels[train_idx])
        fold_pred = model.predict([texts[i] for i in test_idx])
        pred[test_idx] = fold_pred
        fold_f1.append(round(float(f1_score(labels[test_idx], fold_pred, average="macro")), 4))
    out: dict[str, Any] = {"evaluation": f"stratified {folds}-fold cross-validation (seed {seed})", "folds": folds}
    out.update(scores(labels.tolist(), pred.tolist()))
    out["fold_macro_f1"] = fold_f1
    out["mean_fold_macro_f1"] = round(float(np.mean(fold_f1)), 4)
    return out


def load_model() -> Any:
    """The shipped artifact (cached)."""
    from overclaim.resources import load_artifact

    return load_artifact(MODEL_NAME)


def evaluate(
    path: str | Path = DEFAULT_DATA, *, cv: bool | None = None, folds: int = FOLDS, seed: int = SEED, model: Any = None
) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class F1 and confusion on a ``sentence,label`` CSV.

    Args:
        path: the CSV to score.
        cv: ``True`` cross-validates on the file; ``False`` scores the shipped model; ``None``
            (default) cross-validates when ``path`` is the training file named on the card.
        folds: folds for cross-validation.
        seed: random seed for the folds and the solver.
        model: a fitted pipeline to score instead of the shipped artifact.
    """
    from overclaim.training.headline_certainty import timed, use_cv

    texts, labels = load_data(path)
    out: dict[str, Any] = {
        "data": str(path),
        "sentences": len(texts),
        "counts": {label: int((labels == i).sum()) for i, label in enumerate(LABELS)},
    }
    if use_cv(MODEL_NAME, DEFAULT_DATA, path, cv, model):
        out.update(cross_validate(texts, labels, folds=folds, seed=seed))
        return out
    pred, rate = timed(lambda: (model or load_model()).predict(texts), len(texts))
    out["evaluation"] = "shipped model scored on the file"
    out.update(scores(labels.tolist(), [int(p) for p in pred]))
    out["sentences_per_second"] = rate
    return out


def insciout(model: Any, path: str | Path = INSCIOUT_DATA) -> dict[str, Any]:
    """Exaggeration on InSciOut pairs, with the model applied to both conclusions (no pair was trained on).

    A pair is predicted ``exaggerates`` when the press-release conclusion gets a stronger label
    than the abstract's; the gold label is the data set's ``exaggeration_label``.

    Raises:
        DataError: the file is missing or a line is not a JSON object with the two conclusions.
    """
    from sklearn.metrics import f1_score, precision_score, recall_score

    path = Path(path)
    if not path.is_file():
        raise DataError("not found (expected InSciOut JSONL)", source=str(path))
    press: list[str] = []
    abstract: list[str] = []
    gold: list[int] = []
    gold_strength: list[tuple[int, int]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            press.append(str(row["press_release_conclusion"]))
            abstract.append(str(row["abstract_conclusion"]))
            gold.append(1 if row["exaggeration_label"] == "exaggerates" else 0)
            gold_strength.append((int(row["press_release_strength"]), int(row["abstract_strength"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"not an InSciOut pair: {exc}", source=str(path), line=n) from exc
    p_press = [int(p) for p in model.predict(press)]
    p_abstract = [int(p) for p in model.predict(abstract)]
    pred = [1 if a > b else 0 for a, b in zip(p_press, p_abstract, strict=True)]
    strengths_gold = [s for pair in gold_strength for s in pair]
    strengths_pred = [s for pair in zip(p_press, p_abstract, strict=True) for s in pair]
    return {
        "data": str(path),
        "pairs": len(gold),
        "exaggerates": int(sum(gold)),
        "evaluation": "model trained on annotated_pubmed.csv applied to both conclusions (no overlap with it)",
        "exaggerates_f1": round(float(f1_score(gold, pred, zero_division=0)), 4),
        "exaggerates_precision": round(float(precision_score(gold, pred, zero_division=0)), 4),
        "exaggerates_recall": round(float(recall_score(gold, pred, zero_division=0)), 4),
        "strength_macro_f1": scores(strengths_gold, strengths_pred)["macro_f1"],
    }


def train(
    path: str | Path = DEFAULT_DATA, out_dir: str | Path | None = None, seed: int = SEED, folds: int = FOLDS,
    insciout_path: str | Path | None = INSCIOUT_DATA,
) -> dict[str, Any]:
    """Fit on all of ``path``, cross-validate, write the model file, card.json and MODEL_CARD.md.

    Args:
        path: training CSV (``sentence,label``).
        out_dir: artifact folder (default: the package's).
        seed: random seed (folds, solver).
        folds: CV folds; 0 skips cross-validation.
        insciout_path: InSciOut pairs to report exaggeration F1 on; ``None`` or a missing file skips it.

    Returns:
        The model card (as written to card.json).
    """
    import sklearn

    from overclaim.stages.certainty import LinearScorer
    from overclaim.training.cards import write_artifact

    texts, labels = load_data(path)
    figures = cross_validate(texts, labels, folds=folds, seed=seed) if folds else {}
    model = build_model(seed).fit(texts, labels)
    scorer = LinearScorer(model)
    sample = texts[:500]
    started = time.perf_counter()
    for t in sample:
        scorer.predict_proba(t)
    single_ms = (time.perf_counter() - started) * 1000 / len(sample)
    started = time.perf_counter()
    for i in range(0, len(sample), 6):
        scorer.predict_proba_many(sample[i : i + 6])
    batch_ms = (time.perf_counter() - started) * 1000 / len(sample)
    extra = insciout(model, insciout_path) if insciout_path is not None and Path(insciout_path).is_file() else None
    card: dict[str, Any] = {
        "model": MODEL_NAME,
        "task": "strength of the relation a sentence states: " + " < ".join(LABELS) + " (Yu et al. 2019)",
        "labels": {str(i): label for i, label in enumerate(LABELS)},
        "data": {
            "path": str(path),
            "source": "Yu, Li & Wang 2019 (EMNLP), PubMed conclusion sentences; no licence stated",
            "sentences": len(texts),
            "counts": {label: int((labels == i).sum()) for i, label in enumerate(LABELS)},
        },
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d"),
        "seed": seed,
        "features": "TF-IDF word 1-2-grams (min_df=2, sublinear tf) + "
        f"{N_FEATURES} cue features from lexicons/claim_strength.txt (cue-kind counts, "
        "modal before causal / correlational, negation before relation, causal without modal, correlational "
        "without causal, no relation cue, null-finding phrase, relation in the first half)",
        "classifier": f"LogisticRegression(C={C}, class_weight='balanced', lbfgs, multinomial)",
        "evaluation": figures.get("evaluation", "none"),
        "figures": {k: v for k, v in figures.items() if k != "evaluation"},
        "insciout": extra,
        "single_sentence_ms": round(single_ms, 4),
        "sentence_in_batch_of_6_ms": round(batch_ms, 4),
        "reference": "Yu et al. 2019 repository README: fine-tuned BioBERT, 5-fold CV on 3,061 sentences, "
        "accuracy 0.895, macro-F1 0.878",
        "target": "macro-F1 >= 0.80 (issue 20); not reached by this fast model",
        "versions": {"scikit-learn": sklearn.__version__, "python": platform.python_version()},
        "caveats": "Trained on PubMed conclusions, applied to news headlines and body sentences: news idioms "
        "('tied to', 'raises risk', 'no link') reach the model through the cue lexicon's features. The "
        "model reads the relation's wording only, not whether the study could support it. Speed measured "
        "with the pipeline's LinearScorer under shared load.",
    }
    write_artifact(model, card, out_dir, model_card_md)
    return card


def model_card_md(card: dict[str, Any]) -> str:
    """The human-readable MODEL_CARD.md of a card."""
    fig = card["figures"]
    rows = "\n".join(f"| {k} | {json.dumps(v)} |" for k, v in fig.items() if k != "confusion")
    data = card["data"]
    confusion = fig.get("confusion", {}).get("matrix", [])
    matrix = "\n".join(f"| {LABELS[i]} | " + " | ".join(str(x) for x in row) + " |" for i, row in enumerate(confusion))
    ins = card.get("insciout") or {}
    ins_rows = "\n".join(f"| {k} | {json.dumps(v)} |" for k, v in ins.items() if k not in ("data", "evaluation"))
    return f"""# Model card: {card["model"]}

**Task:** {card["task"]}. Used by the `claim_strength` stage.

- **Data:** {data["source"]}; read from `{data["path"]}`: {data["sentences"]} sentences, {json.dumps(data["counts"])}.
- **Date:** {card["date"]}; **seed:** {card["seed"]}; CPU only. Rebuild with `overclaim train claim-strength`.
- **Features:** {card["features"]}.
- **Classifier:** {card["classifier"]}.
- **Evaluation:** {card["evaluation"]}. Reproduce with `overclaim eval claim-strength --data {data["path"]} --json`.
- **Reference:** {card["reference"]}. **Target:** {card["target"]}.

| figure | value |
|---|---|
{rows}

Confusion (rows gold, columns predicted, in the order {", ".join(LABELS)}):

| gold | {" | ".join(LABELS)} |
|---|---|---|---|---|
{matrix}

**InSciOut** ({ins.get("evaluation", "not run")}): exaggerates = the press release's predicted strength is
above the abstract's.

| figure | value |
|---|---|
{ins_rows}

One sentence scored alone: {card["single_sentence_ms"]} ms; in a batch of 6: {card["sentence_in_batch_of_6_ms"]} ms
a sentence (under shared load).

**Caveats.** {card["caveats"]}
"""
