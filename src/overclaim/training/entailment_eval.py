"""Scoring of the entailment cross-encoder: its figures on a labelled file, and pipeline aggregates.

Part of :mod:`overclaim.training.entailment`: :func:`score` (accuracy, macro-F1, per-class
figures), :func:`evaluate_file` (any NLI JSONL file, with the shipped ONNX model) and
:class:`PipelineAggregates` (the model's scores aggregated over a post's evidence, as the stage does).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from overclaim.errors import DataError
from overclaim.training.entailment_pairs import (
    BINARY,
    ENTAILS_BINARY,
    LABELS,
    MODEL_NAME,
    _two_way,
    nli_label,
    read_jsonl,
)

# ---------------------------------------------------------------------------- scoring


def score(gold: Sequence[int], probs: np.ndarray) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class F1 and the confusion matrix of three-way predictions.

    Two-class gold labels (BINARY / ENTAILS_BINARY) are scored as entails vs not entails.
    """
    from sklearn.metrics import confusion_matrix, f1_score

    gold_arr = np.asarray(gold)
    two_way = bool(np.all(gold_arr < 0))
    if two_way:
        y = (gold_arr == ENTAILS_BINARY).astype(int)
        pred = (probs.argmax(axis=1) == 0).astype(int)  # the model's reading, as label() gives it
        names = ["not_entails", "entails"]
        labels = [0, 1]
    else:
        if np.any(gold_arr < 0):
            raise DataError("mixes two-way (RTE-style) and three-way labels; score them apart", source=None)
        y, pred = gold_arr, probs.argmax(axis=1)
        names, labels = list(LABELS), [0, 1, 2]
    per_class = f1_score(y, pred, labels=labels, average=None, zero_division=0)
    matrix = confusion_matrix(y, pred, labels=labels)
    return {
        "pairs": int(len(y)),
        "accuracy": round(float(np.mean(y == pred)), 4),
        "macro_f1": round(float(np.mean(per_class)), 4),
        "f1": {name: round(float(v), 4) for name, v in zip(names, per_class, strict=True)},
        "confusion": {"labels": names, "rows_gold_columns_predicted": matrix.tolist()},
        "two_way": two_way,
    }


def evaluate_file(
    path: str | Path, split: str | None = None, model_dir: str | Path | None = None
) -> dict[str, Any]:
    """Score the shipped (ONNX) entailment model on a JSONL file in the shared NLI schema.

    Args:
        path: JSONL with ``premise``, ``hypothesis``, ``label`` (``entailment`` / ``neutral`` /
            ``contradiction``, or RTE's ``entailment`` / ``not_entailment``) and optionally ``split``.
        split: score only the records of this split (all records when None).
        model_dir: artifact folder (default: the package's ``artifacts/entailment``).

    Returns:
        accuracy, macro_f1, per-class F1, the confusion matrix and pairs per second. A two-way file
        (RTE's entailment / not_entailment, or entailment and neutral only, as SciTail) is scored
        as entails vs not.

    Raises:
        DataError: the file is missing, not JSONL, a record lacks a field, or no record is left.
    """
    from overclaim.models.entailment import load_entailer

    pairs = []
    for number, record in enumerate(read_jsonl(path), start=1):
        if split is not None and record.get("split") != split:
            continue
        for key in ("premise", "hypothesis"):
            if not isinstance(record.get(key), str) or not record[key].strip():
                raise DataError("is missing or empty", source=str(path), line=number, field=key)
        label = nli_label(record, path, number)
        two_way = label == BINARY or (record.get("label") == "entailment" and _two_way(record))
        pairs.append((record["premise"], record["hypothesis"], label, two_way))
    if not pairs:
        where = f" of split {split!r}" if split is not None else ""
        raise DataError(f"has no pairs{where}", source=str(path))
    # Two-way files: RTE's entailment / not_entailment, and files with entailment and neutral only
    # (SciTail), where "neutral" means "not entailed" and a reading of contradicts is no error.
    two_way = any(p[3] for p in pairs) or {p[2] for p in pairs} == {0, 1}
    gold = [(ENTAILS_BINARY if p[2] == 0 else BINARY) if two_way else p[2] for p in pairs]
    if two_way and any(p[2] == 2 for p in pairs) and any(p[3] for p in pairs):
        raise DataError("mixes two-way (RTE-style) and three-way labels; score them apart", source=str(path))
    model = load_entailer(Path(model_dir) if model_dir else None)
    started = time.perf_counter()
    probs = model.predict([(p[0], p[1]) for p in pairs])
    seconds = time.perf_counter() - started
    figures = score(gold, probs)
    figures["pairs_per_second"] = round(len(pairs) / seconds, 1) if seconds > 0 else None
    figures["file"] = str(path)
    figures["split"] = split
    return figures


class PipelineAggregates:
    """The entailment stage's per-post aggregate features for FNC-1 pairs, made by the pipeline itself.

    Runs normalize -> segment -> evidence and the entailment stage's own choice of sentences on each
    (headline, body) pair, exactly as a check does, then the shipped model over the chosen sentences,
    so the stance model is trained on the features it will see. The choice of sentences does not
    depend on the model and is cached in ``cache_dir`` (keyed by the pairs and the stage settings);
    the rows are cached too (keyed also by the model card), since the FNC-1 train and test pairs
    cost about 20 minutes on one core.
    """

    def __init__(self, cache_dir: str | Path | None = None, processes: int = 2) -> None:
        from overclaim.stages.entailment import AGGREGATE_NAMES

        self.names: tuple[str, ...] = AGGREGATE_NAMES
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.processes = processes

    def _key(self, headlines: Sequence[str], bodies: Sequence[str], *extra: Any) -> str:
        import hashlib

        from overclaim.config import DEFAULT_CONFIG

        key = hashlib.sha256()
        for h, b in zip(headlines, bodies, strict=True):
            key.update(h.encode("utf-8", "surrogatepass") + b"\0" + b.encode("utf-8", "surrogatepass") + b"\1")
        settings = (DEFAULT_CONFIG.entailment_max_sentences, DEFAULT_CONFIG.entailment_min_relevance, *extra)
        key.update(json.dumps(settings, sort_keys=True, default=str).encode())
        return key.hexdigest()[:16]

    def plans(
        self, headlines: Sequence[str], bodies: Sequence[str]
    ) -> list[tuple[list[str], str, list[int], list[float]]]:
        """Per unique pair: the sentences the stage reads, the clean headline, their indices, the relevance."""
        import pickle

        path = self.cache_dir / f"entailment_plans_{self._key(headlines, bodies)}.pkl" if self.cache_dir else None
        if path is not None and path.exists():
            with path.open("rb") as fh:
                cached: list[tuple[list[str], str, list[int], list[float]]] = pickle.load(fh)
            return cached
        items = list(dict.fromkeys(zip(headlines, bodies, strict=True)))
        parts = [items[i : i + 256] for i in range(0, len(items), 256)]
        if self.processes > 1:
            from joblib import Parallel, delayed

            done = Parallel(n_jobs=self.processes, backend="loky")(delayed(_plan_chunk)(p) for p in parts)
        else:
            done = [_plan_chunk(p) for p in parts]
        plans = [plan for part in done for plan in part]
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                pickle.dump(plans, fh)
        return plans

    def rows(self, data: Any) -> np.ndarray:
        """One aggregate row per pair of ``data`` (an :class:`~overclaim.training.fnc.FncData`)."""
        from overclaim.models.entailment import load_entailer
        from overclaim.resources import model_card
        from overclaim.stages.entailment import aggregate_features

        headlines, bodies = data.headlines(), data.body_texts()
        card = model_card(MODEL_NAME)
        key = self._key(headlines, bodies, card.get("date"), card.get("selected"))
        path = self.cache_dir / f"entailment_aggregates_{key}.npy" if self.cache_dir else None
        if path is not None and path.exists():
            cached: np.ndarray = np.load(path)
            return cached
        plans = self.plans(headlines, bodies)
        flat = [(sentence, headline) for sentences, headline, _, _ in plans for sentence in sentences]
        folder = load_entailer().folder
        if self.processes > 1 and len(flat) > 1000:
            from joblib import Parallel, delayed

            size = -(-len(flat) // (4 * self.processes))
            parts = [flat[i : i + size] for i in range(0, len(flat), size)]
            done = Parallel(n_jobs=self.processes, backend="loky")(delayed(_predict_chunk)(folder, p) for p in parts)
            probs = np.vstack(done)
        else:
            probs = _predict_chunk(folder, flat)
        table = np.zeros((len(plans), len(self.names)), dtype=np.float32)
        start = 0
        for row, (sentences, _, read, relevance) in enumerate(plans):
            table[row] = aggregate_features(read, probs[start : start + len(sentences)], relevance)
            start += len(sentences)
        index: dict[tuple[str, str], int] = {}
        for pair in zip(headlines, bodies, strict=True):
            index.setdefault(pair, len(index))
        out = table[np.asarray([index[p] for p in zip(headlines, bodies, strict=True)], dtype=np.int64)]
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, out)
        return out


def _predict_chunk(folder: Path, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """The shipped model's probabilities for ``pairs`` (one process's share; one pair a call, as in checks)."""
    from overclaim.models.entailment import load_entailer

    out: np.ndarray = load_entailer(folder).predict(pairs)
    return out


def _plan_chunk(items: Sequence[tuple[str, str]]) -> list[tuple[list[str], str, list[int], list[float]]]:
    """What the entailment stage would read for each (headline, body), through the pipeline's first stages."""
    from overclaim.pipeline import STAGES, Checker
    from overclaim.report import Post
    from overclaim.stages.entailment import EntailmentScorer

    names = [name for name, _ in STAGES]
    keep = names[: names.index("evidence") + 1]
    checker = _CHECKERS.get("plans")
    if checker is None:
        checker = _CHECKERS["plans"] = Checker(skip=set(names) - set(keep))
    scorer = EntailmentScorer(checker.config)
    out = []
    for start in range(0, len(items), 16):
        group = [Post(headline=h, body=b) for h, b in items[start : start + 16]]
        for ctx in checker.run_stages(group):
            read = scorer._plan(ctx)
            relevance = [float(r) for r in ctx.extras.get("relevance", [])]
            out.append(([ctx.sentences[i].text for i in read], ctx.headline.clean, read, relevance))
    return out


_CHECKERS: dict[str, Any] = {}
