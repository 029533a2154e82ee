"""Attribution (sourcing) on PolNeAR: data, scoring of the sourcing stage, and training of its tagger.

Data (Newell, Margolin and Ruths 2018, PolNeAR; ``../shared/data/attribution/``): JSONL, one
annotated article a line, ``{"id", "filename", "text", "attributions": [{"source": {"spans": [[s, e], ...]}
| null, "cue": {...} | null, "content": {...} | null}, ...]}`` with ``[start, end)`` character offsets
into ``text`` (a role may be discontinuous: several fragments).

Scoring (:func:`evaluate`) runs the shipped pipeline's ``normalize``, ``segment`` and ``sourcing``
stages on each article's text and compares the predicted speaker / cue / content spans (original
coordinates) with the gold roles, per article:

- *overlap* match: a predicted span and a gold span match when they share a character; matching is
  one-to-one (largest overlap first), so a gold span found twice counts once and the second
  prediction is a false positive (keys ``source_f1``, ``cue_f1``, ``content_f1``);
- *exact* match: the predicted span's ``[start, end)`` equals the gold role's first-fragment start and
  last-fragment end, both trimmed of spaces and of the punctuation that :func:`_trim` drops
  (``source_exact_f1``, ``cue_exact_f1``).

Articles annotated by several annotators (16 in train, 2 in dev) are scored once, on the first
annotation in the file (``--all-annotations`` keeps every line).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from overclaim.errors import DataError

MODEL_NAME = "sourcing"
DATA_DIR = Path("../shared/data/attribution")
DEFAULT_TRAIN = DATA_DIR / "polnear_train.jsonl"
DEFAULT_DEV = DATA_DIR / "polnear_dev.jsonl"
ROLES = ("source", "cue", "content")
SEED = 13

Fragments = tuple[tuple[int, int], ...]


@dataclass
class Article:
    """One annotated article: its text and the fragments of each role of each attribution."""

    id: str
    text: str
    roles: dict[str, list[Fragments]] = field(default_factory=lambda: {r: [] for r in ROLES})
    attributions: int = 0


def _fragments(value: Any, text: str, where: dict[str, Any]) -> Fragments | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("spans"), list):
        raise DataError("must be null or an object with a 'spans' list", **where)
    out: list[tuple[int, int]] = []
    for pair in value["spans"]:
        ok = isinstance(pair, list) and len(pair) == 2 and all(type(x) is int for x in pair)
        if not ok or not 0 <= pair[0] <= pair[1] <= len(text):
            raise DataError(f"span {pair!r} is not [start, end) inside the text", **where)
        out.append((pair[0], pair[1]))
    return tuple(sorted(out)) or None


def load_data(path: str | Path, *, all_annotations: bool = False) -> list[Article]:
    """The articles of a PolNeAR-format JSONL file (first annotation per ``filename`` unless ``all_annotations``).

    Raises:
        DataError: the file is missing, a line is not JSON, or a field is not in the format (named by line).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("not found (expected PolNeAR-format JSONL)", source=str(path))
    articles: list[Article] = []
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError("not valid UTF-8", source=str(path)) from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise DataError(f"not JSON: {str(exc)[:80]}", source=str(path), line=n) from exc
        if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
            raise DataError("needs a 'text' string", source=str(path), line=n, field="text")
        if not isinstance(rec.get("attributions"), list):
            raise DataError("needs an 'attributions' list", source=str(path), line=n, field="attributions")
        key = str(rec.get("filename") or rec.get("id") or n)
        if key in seen and not all_annotations:
            continue
        seen.add(key)
        art = Article(id=str(rec.get("id") or key), text=rec["text"])
        for i, att in enumerate(rec["attributions"]):
            if not isinstance(att, dict):
                raise DataError("attribution must be an object", source=str(path), line=n,
                                field=f"attributions[{i}]")
            art.attributions += 1
            for role in ROLES:
                where = {"source": str(path), "line": n, "field": f"attributions[{i}].{role}"}
                frags = _fragments(att.get(role), art.text, where)
                if frags:
                    art.roles[role].append(frags)
        articles.append(art)
    if not articles:
        raise DataError("holds no articles", source=str(path))
    return articles


TRIM = " \t\n\r,;:.!?\"'“”‘’()[]—–-"


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` without the spaces and punctuation at either end (for exact matching)."""
    while start < end and text[start] in TRIM:
        start += 1
    while end > start and text[end - 1] in TRIM:
        end -= 1
    return start, end


def _overlap(a: Fragments, b: Fragments) -> int:
    return sum(max(0, min(e1, e2) - max(s1, s2)) for s1, e1 in a for s2, e2 in b)


def match_counts(pred: Sequence[Fragments], gold: Sequence[Fragments], text: str) -> dict[str, int]:
    """One-to-one overlap matches and exact matches between predicted and gold spans of one article."""
    pairs = []
    for i, p in enumerate(pred):
        for j, g in enumerate(gold):
            if p[-1][1] > g[0][0] and g[-1][1] > p[0][0]:
                ov = _overlap(p, g)
                if ov:
                    pairs.append((ov, i, j))
    pairs.sort(reverse=True)
    used_p: set[int] = set()
    used_g: set[int] = set()
    for _, i, j in pairs:
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
    exact_gold = {_trim(text, g[0][0], g[-1][1]) for g in gold}
    exact_pred = {_trim(text, p[0][0], p[-1][1]) for p in pred}
    return {"pred": len(pred), "gold": len(gold), "match": len(used_p),
            "exact": len(exact_gold & exact_pred), "pred_distinct": len(exact_pred), "gold_distinct": len(exact_gold)}


def _prf(tp_pred: int, pred: int, tp_gold: int, gold: int) -> tuple[float, float, float]:
    p = tp_pred / pred if pred else 0.0
    r = tp_gold / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return round(p, 4), round(r, 4), round(f, 4)


def predict(texts: Iterable[str]) -> tuple[list[dict[str, list[Fragments]]], float]:
    """The sourcing stage's speaker / cue / content spans (original offsets) for each text, and its seconds.

    Runs ``normalize`` and ``segment`` as the pipeline does, then times the ``sourcing`` stage alone.
    """
    from overclaim.config import DEFAULT_CONFIG
    from overclaim.pipeline import Context, _load_stage
    from overclaim.report import Post
    from overclaim.text import TextView

    config = DEFAULT_CONFIG
    pre = [_load_stage("overclaim.stages.normalize:Normalizer", config, {}),
           _load_stage("overclaim.stages.segment:Segmenter", config, {})]
    stage = _load_stage("overclaim.stages.sourcing:SourceFinder", config, {})
    warm = Context(post=Post(headline="x", body="Officials said so."), config=config,
                   headline=TextView("headline", "x"), body=TextView("body", "Officials said so."))
    for s in [*pre, stage]:
        s(warm)
    out: list[dict[str, list[Fragments]]] = []
    seconds = 0.0
    for text in texts:
        ctx = Context(post=Post(headline="x", body=text), config=config,
                      headline=TextView("headline", "x"), body=TextView("body", text))
        for s in pre:
            s(ctx)
        started = time.perf_counter()
        stage(ctx)
        seconds += time.perf_counter() - started
        roles: dict[str, list[Fragments]] = {r: [] for r in ROLES}
        for a in ctx.sourcing.attributions:
            roles["source"].append(((a.speaker.start, a.speaker.end),))
            roles["cue"].append(((a.cue.start, a.cue.end),))
            if a.content is not None and a.content.end > a.content.start:
                roles["content"].append(((a.content.start, a.content.end),))
        out.append(roles)
    return out, seconds


def score(articles: Sequence[Article], predictions: Sequence[dict[str, list[Fragments]]]) -> dict[str, Any]:
    """Overlap and exact precision / recall / F1 per role over ``articles``."""
    totals = {r: {"pred": 0, "gold": 0, "match": 0, "exact": 0, "pred_distinct": 0, "gold_distinct": 0}
              for r in ROLES}
    for art, pred in zip(articles, predictions, strict=True):
        for role in ROLES:
            # A speaker said twice is one predicted span per attribution: dedupe identical spans.
            spans = list(dict.fromkeys(pred[role]))
            for k, v in match_counts(spans, art.roles[role], art.text).items():
                totals[role][k] += v
    out: dict[str, Any] = {}
    for role in ROLES:
        t = totals[role]
        p, r, f = _prf(t["match"], t["pred"], t["match"], t["gold"])
        out.update({f"{role}_precision": p, f"{role}_recall": r, f"{role}_f1": f})
        if role != "content":
            ep, er, ef = _prf(t["exact"], t["pred_distinct"], t["exact"], t["gold_distinct"])
            out.update({f"{role}_exact_precision": ep, f"{role}_exact_recall": er, f"{role}_exact_f1": ef})
        out[f"{role}_gold"] = t["gold"]
        out[f"{role}_predicted"] = t["pred"]
    return out


def evaluate(path: str | Path = DEFAULT_DEV, *, all_annotations: bool = False) -> dict[str, Any]:
    """Score the current sourcing stage on a PolNeAR-format file (see the module docstring).

    Returns:
        Figures: ``source_f1`` / ``cue_f1`` / ``content_f1`` (overlap), ``source_exact_f1``,
        ``cue_exact_f1``, their precisions and recalls, counts, and ``attributions_per_second``
        (gold attributions over the sourcing stage's own time).
    """
    articles = load_data(path, all_annotations=all_annotations)
    predictions, seconds = predict(a.text for a in articles)
    gold_atts = sum(a.attributions for a in articles)
    out: dict[str, Any] = {"data": str(path), "articles": len(articles), "attributions": gold_atts,
                           "predicted_attributions": sum(len(p["cue"]) for p in predictions)}
    out.update(score(articles, predictions))
    out["seconds"] = round(seconds, 3)
    out["attributions_per_second"] = round(gold_atts / seconds) if seconds > 0 else None
    out["ms_per_article"] = round(1000 * seconds / len(articles), 3)
    return out
