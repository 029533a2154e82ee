"""Verdict agreement: how often the whole pipeline's call matches a gold verdict.

Two input forms. :func:`evaluate_jsonl` reads any JSONL file of posts with their gold
verdict (``headline``, ``body``, ``gold``: one of the five verdicts, optionally ``id``).
:func:`evaluate_files` reads an FNC-1-format pair of files, whose labels map onto verdicts.

Macro-F1 is the mean F1 over the verdicts present in the gold labels (``macro_f1_labels``):
a verdict the file never uses as gold (``cannot_judge`` in FNC-1, which has no such label)
would add an F1 of 0 whatever the pipeline does, so it is left out of the mean; wrong
predictions of it still count, as misses of the gold verdict. ``f1`` lists all five.

FNC-1 labels map onto verdicts: ``unrelated`` -> unrelated, ``disagree`` ->
contradicted, ``agree`` -> supported, ``discuss`` -> overstated (an FNC-1
"discuss" body reports the claim without confirming it; FNC-1 headlines are
mostly assertive, so a discussing body backs them less firmly than they state
it). The mapping is a proxy: a hedged headline over a discussing body is
`supported` by definition, and counts here as an error. It measures the whole
pipeline, evidence and certainty included, not the stance model alone.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from overclaim.errors import DataError, InputError, OverclaimError
from overclaim.report import VERDICT_LABELS, VerdictLabel

if TYPE_CHECKING:
    from overclaim.report import Post, Report

VERDICTS: tuple[VerdictLabel, ...] = VERDICT_LABELS
FNC_TO_VERDICT: dict[str, VerdictLabel] = {
    "agree": "supported",
    "discuss": "overstated",
    "disagree": "contradicted",
    "unrelated": "unrelated",
}


def agreement(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-verdict F1 and the confusion matrix (rows gold, columns predicted).

    Returns:
        ``posts``, ``accuracy``, ``macro_f1`` (mean F1 over ``macro_f1_labels``, the verdicts present
        in ``gold``), ``f1`` (every verdict), ``support`` (gold count of each verdict), ``predicted``
        (predicted count of each), ``labels`` and ``confusion`` (the bare matrix, rows gold), and
        ``confusion_matrix``: the same matrix with its axes named.
    """
    index: dict[str, int] = {v: i for i, v in enumerate(VERDICTS)}
    matrix = [[0] * len(VERDICTS) for _ in VERDICTS]
    for g, p in zip(gold, predicted, strict=True):
        matrix[index[g]][index[p]] += 1
    f1: dict[str, float] = {}
    for i, v in enumerate(VERDICTS):
        tp = matrix[i][i]
        denom = sum(matrix[i]) + sum(row[i] for row in matrix)
        f1[v] = round(2 * tp / denom, 4) if denom else 0.0
    n = len(gold)
    support = {v: sum(matrix[i]) for i, v in enumerate(VERDICTS)}
    present = [v for v in VERDICTS if support[v]]
    return {
        "posts": n,
        "accuracy": round(sum(matrix[i][i] for i in range(len(VERDICTS))) / n, 4) if n else 0.0,
        "macro_f1": round(sum(f1[v] for v in present) / len(present), 4) if present else 0.0,
        "macro_f1_labels": present,
        "f1": f1,
        "support": support,
        "predicted": {v: sum(row[i] for row in matrix) for i, v in enumerate(VERDICTS)},
        "labels": list(VERDICTS),
        "confusion": matrix,
        "confusion_matrix": {
            "labels": list(VERDICTS), "rows": "gold", "columns": "predicted", "matrix": [row[:] for row in matrix]
        },
    }


def read_gold_posts(path: str | Path, *, limit: int = 0) -> tuple[list[Post], list[VerdictLabel], list[int]]:
    """Posts, gold verdicts and line numbers of a JSONL file (``headline``, ``body``, ``gold``, optional ``id``).

    Args:
        path: the JSONL file, one object a line; blank lines are skipped.
        limit: read only the first ``limit`` records (0 = all).

    Raises:
        DataError: the file is missing or unreadable, or a line is not a JSON object, lacks a
            headline or body, or has a gold label that is not a verdict (one line naming file,
            line and field).
    """
    from overclaim.readers import post_from_record

    source = str(path)
    path = Path(path)
    if not path.is_file():
        raise DataError("does not exist or is not a file", source=source)
    posts: list[Post] = []
    gold: list[VerdictLabel] = []
    lines: list[int] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if limit and len(posts) >= limit:
                break
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")  # a byte-order mark is no error
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"is not UTF-8 text ({exc.reason} at byte {exc.start})", source=source, line=number
                ) from exc
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"is not valid JSON ({exc.msg})", source=source, line=number) from exc
            if not isinstance(record, dict):
                raise DataError(
                    f"is not a JSON object (got {type(record).__name__})", source=source, line=number
                )
            try:
                post = post_from_record(record, source=source, line=number)
            except InputError as exc:
                raise DataError(exc.message, source=source, line=number, field=exc.field) from exc
            label = record.get("gold")
            if label is None:
                raise DataError("is missing", source=source, line=number, field="gold")
            if label not in VERDICTS:
                raise DataError(
                    f"is {label!r}, not a verdict; expected one of {', '.join(VERDICTS)}",
                    source=source, line=number, field="gold",
                )
            posts.append(post)
            gold.append(label)
            lines.append(number)
    if not posts:
        raise DataError("has no posts", source=source)
    return posts, gold, lines


def _check_all(checker: Any, posts: Sequence[Post], lines: Sequence[int], source: str) -> list[Report]:
    """The reports of ``posts``; a post the pipeline refuses is named by its line in ``source``."""
    try:
        return list(checker.check_many(list(posts)))
    except OverclaimError:
        # check_many stops at the first error: find the post it came from, post by post.
        for i, post in enumerate(posts):
            try:
                checker.check_post(post)
            except OverclaimError as exc:
                raise DataError(exc.message, source=source, line=lines[i], field=exc.field) from exc
        raise


def evaluate_jsonl(path: str | Path, *, limit: int = 0, profile: str = "default") -> dict[str, Any]:
    """Run the whole pipeline over a JSONL file of posts with gold verdicts and score its verdicts.

    Args:
        path: JSONL with ``headline``, ``body``, ``gold`` (supported, overstated, contradicted,
            unrelated or cannot_judge) and optionally ``id``, one post a line.
        limit: score only the first ``limit`` posts (0 = all).
        profile: the pipeline profile (``Config.profile``).

    Returns:
        The figures of :func:`agreement`, plus ``seconds``, ``posts_per_second``, ``profile``
        and ``file``.

    Raises:
        DataError: the file is missing, or a line is bad (see :func:`read_gold_posts`).
    """
    from overclaim.config import Config
    from overclaim.pipeline import Checker

    posts, gold, lines = read_gold_posts(path, limit=limit)
    checker = Checker(Config(profile=profile), skip={"match"})
    checker.warm_up()
    started = time.perf_counter()
    reports = _check_all(checker, posts, lines, str(path))
    seconds = time.perf_counter() - started
    result = agreement(gold, [r.verdict.label for r in reports])
    result["seconds"] = round(seconds, 2)
    result["posts_per_second"] = round(len(posts) / seconds, 1) if seconds else 0.0
    result["profile"] = profile
    result["file"] = str(path)
    return result


def evaluate_files(
    stances: str | Path, bodies: str | Path, *, limit: int = 0, profile: str = "default"
) -> dict[str, Any]:
    """Run the whole pipeline over an FNC-format pair of files and score its verdicts.

    Args:
        stances: CSV with ``Headline``, ``Body ID`` and ``Stance`` columns.
        bodies: CSV with ``Body ID`` and ``articleBody`` columns.
        limit: score only the first ``limit`` pairs (0 = all).
        profile: the pipeline profile (``Config.profile``).

    Raises:
        DataError: a file is missing or not in FNC-1 format.
    """
    from overclaim.config import Config
    from overclaim.pipeline import Checker
    from overclaim.report import Post
    from overclaim.training import fnc

    data = fnc.load(stances, bodies)
    pairs = data.pairs[:limit] if limit else data.pairs
    gold = [FNC_TO_VERDICT[label] for label in data.subset(range(len(pairs))).labels()]
    checker = Checker(Config(profile=profile), skip={"match"})
    checker.warm_up()
    started = time.perf_counter()
    reports = checker.check_many([Post(headline=p.headline, body=data.bodies[p.body_id]) for p in pairs])
    predicted = [r.verdict.label for r in reports]
    seconds = time.perf_counter() - started
    result = agreement(gold, predicted)
    result["seconds"] = round(seconds, 2)
    result["posts_per_second"] = round(len(pairs) / seconds, 1) if seconds else 0.0
    result["mapping"] = dict(FNC_TO_VERDICT)
    result["profile"] = profile
    return result
