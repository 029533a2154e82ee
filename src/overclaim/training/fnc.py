"""FNC-1 data: reading the stance and body files, and the official scorer.

The files are the ones published by the Fake News Challenge (stage 1):
``*_stances.csv`` with columns ``Headline``, ``Body ID``, ``Stance`` and
``*_bodies.csv`` with ``Body ID``, ``articleBody``. The scorer reproduces
``scorer.py`` of the challenge: 0.25 for each correct related/unrelated call,
plus 0.75 for each correct agree/disagree/discuss label of a related pair.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from overclaim.errors import DataError, FileNotFound
from overclaim.models.stance import LABELS  # the stance model's classes, in its column order

RELATED: frozenset[str] = frozenset(LABELS[:3])
LABEL_INDEX: dict[str, int] = {label: i for i, label in enumerate(LABELS)}


@dataclass(frozen=True)
class Pair:
    """One FNC-1 pair: a headline, the id of its body, and its stance (``None`` if unlabelled)."""

    headline: str
    body_id: str
    stance: str | None
    line: int


@dataclass
class FncData:
    """Pairs and the bodies they point to."""

    pairs: list[Pair]
    bodies: dict[str, str]

    def headlines(self) -> list[str]:
        """Headline of every pair, in order."""
        return [p.headline for p in self.pairs]

    def body_texts(self) -> list[str]:
        """Body text of every pair, in order."""
        return [self.bodies[p.body_id] for p in self.pairs]

    def labels(self) -> list[str]:
        """Gold stance of every pair (raises if a pair is unlabelled)."""
        out = []
        for p in self.pairs:
            if p.stance is None:
                raise DataError("has no Stance column", source=None, line=p.line, field="Stance")
            out.append(p.stance)
        return out

    def subset(self, indices: Sequence[int]) -> FncData:
        """The pairs at ``indices`` (bodies shared)."""
        return FncData([self.pairs[i] for i in indices], self.bodies)


def _open_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    if not path.exists():
        raise FileNotFound("does not exist", source=str(path))
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise DataError("is empty", source=str(path))
            rows = [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError as exc:
        raise DataError(f"is not UTF-8 text ({exc.reason})", source=str(path)) from exc
    except csv.Error as exc:
        raise DataError(f"is not valid CSV ({exc})", source=str(path)) from exc
    return [h.strip().lstrip("\ufeff") for h in header], rows


def _column(header: list[str], name: str, path: Path) -> int:
    if name not in header:
        raise DataError(f"has no '{name}' column (columns: {', '.join(header)})", source=str(path), line=1, field=name)
    return header.index(name)


def read_bodies(path: str | Path) -> dict[str, str]:
    """Body id -> body text from an FNC-1 bodies file (``Body ID``, ``articleBody``)."""
    path = Path(path)
    header, rows = _open_rows(path)
    i_id, i_body = _column(header, "Body ID", path), _column(header, "articleBody", path)
    bodies: dict[str, str] = {}
    for line, row in rows:
        if not row:
            continue
        if len(row) <= max(i_id, i_body):
            raise DataError(f"has {len(row)} fields, expected {len(header)}", source=str(path), line=line)
        body_id = row[i_id].strip()
        if not body_id:
            raise DataError("is empty", source=str(path), line=line, field="Body ID")
        bodies[body_id] = row[i_body]
    return bodies


def read_stances(path: str | Path, bodies: dict[str, str] | None = None, *, labelled: bool = True) -> list[Pair]:
    """Pairs from an FNC-1 stances file (``Headline``, ``Body ID``, ``Stance``).

    Args:
        path: the CSV file.
        bodies: when given, every ``Body ID`` must be one of its keys.
        labelled: require a valid ``Stance`` on every row.

    Raises:
        DataError: a missing column, an unknown stance or body id (naming file and line).
    """
    path = Path(path)
    header, rows = _open_rows(path)
    i_head, i_id = _column(header, "Headline", path), _column(header, "Body ID", path)
    i_stance = _column(header, "Stance", path) if labelled else (header.index("Stance") if "Stance" in header else -1)
    pairs: list[Pair] = []
    for line, row in rows:
        if not row:
            continue
        if len(row) <= max(i_head, i_id, i_stance):
            raise DataError(f"has {len(row)} fields, expected {len(header)}", source=str(path), line=line)
        body_id = row[i_id].strip()
        if bodies is not None and body_id not in bodies:
            raise DataError(f"unknown body id '{body_id}'", source=str(path), line=line, field="Body ID")
        stance = row[i_stance].strip().lower() if i_stance >= 0 else None
        if stance is not None and stance not in LABEL_INDEX:
            if labelled:
                raise DataError(
                    f"unknown stance '{row[i_stance]}' (expected one of {', '.join(LABELS)})",
                    source=str(path),
                    line=line,
                    field="Stance",
                )
            stance = None
        pairs.append(Pair(row[i_head], body_id, stance, line))
    return pairs


def load(stances: str | Path, bodies: str | Path) -> FncData:
    """Read an FNC-1 pair of files (stances + bodies)."""
    body_map = read_bodies(bodies)
    return FncData(read_stances(stances, body_map), body_map)


def load_split(data_dir: str | Path, split: str = "train") -> FncData:
    """Read ``<data_dir>/<split>_stances.csv`` and ``<data_dir>/<split>_bodies.csv``."""
    data_dir = Path(data_dir)
    return load(data_dir / f"{split}_stances.csv", data_dir / f"{split}_bodies.csv")


def fnc_score(gold: Sequence[str], predicted: Sequence[str]) -> tuple[float, float]:
    """The official FNC-1 score and its maximum (``score / max`` is the reported figure)."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    score = 0.0
    best = 0.0
    for g, p in zip(gold, predicted, strict=True):
        best += 0.25 if g == "unrelated" else 1.0
        if g == p:
            score += 0.25
            if g != "unrelated":
                score += 0.50
        if g in RELATED and p in RELATED:
            score += 0.25
    return score, best


def confusion(gold: Sequence[str], predicted: Sequence[str]) -> list[list[int]]:
    """Confusion matrix: rows gold, columns predicted, in :data:`LABELS` order."""
    matrix = [[0] * len(LABELS) for _ in LABELS]
    for g, p in zip(gold, predicted, strict=True):
        matrix[LABEL_INDEX[g]][LABEL_INDEX[p]] += 1
    return matrix


def per_class_f1(matrix: list[list[int]]) -> dict[str, float]:
    """F1 of each class from a confusion matrix (0.0 for a class never gold nor predicted)."""
    out: dict[str, float] = {}
    for i, label in enumerate(LABELS):
        tp = matrix[i][i]
        gold_n = sum(matrix[i])
        pred_n = sum(row[i] for row in matrix)
        out[label] = 2 * tp / (gold_n + pred_n) if gold_n + pred_n else 0.0
    return out


def report(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, object]:
    """FNC score (% of max), macro-F1, per-class F1 and the confusion matrix."""
    score, best = fnc_score(gold, predicted)
    matrix = confusion(gold, predicted)
    f1 = per_class_f1(matrix)
    return {
        "pairs": len(gold),
        "fnc_score": round(100.0 * score / best, 3) if best else 0.0,
        "fnc_raw": score,
        "fnc_max": best,
        "macro_f1": round(sum(f1.values()) / len(f1), 4),
        "f1": {k: round(v, 4) for k, v in f1.items()},
        "labels": list(LABELS),
        "confusion": matrix,
    }
