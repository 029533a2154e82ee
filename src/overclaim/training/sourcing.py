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


# ---------------------------------------------------------------- training

LABELS = {"source": "S", "cue": "C", "content": "K"}


@dataclass
class Sent:
    """One segmented sentence of an article: token texts, original offsets and gold BIO tags."""

    words: list[str]
    offsets: list[tuple[int, int]]
    tags: list[str]


def segmented(articles: Sequence[Article]) -> list[list[Sent]]:
    """Each article's sentences as the pipeline segments them (normalize + segment), with gold tags."""
    from overclaim.config import DEFAULT_CONFIG
    from overclaim.pipeline import Context, _load_stage
    from overclaim.report import Post
    from overclaim.text import TextView
    from overclaim.tokens import tokenize

    config = DEFAULT_CONFIG
    pre = [_load_stage("overclaim.stages.normalize:Normalizer", config, {}),
           _load_stage("overclaim.stages.segment:Segmenter", config, {})]
    out: list[list[Sent]] = []
    for art in articles:
        owner: list[tuple[str, int, int] | None] = [None] * (len(art.text) + 1)
        for role, spans in art.roles.items():
            for k, frags in enumerate(spans):
                for f, (s, e) in enumerate(frags):
                    for c in range(s, e):
                        owner[c] = (LABELS[role], k, f)
        ctx = Context(post=Post(headline="x", body=art.text), config=config,
                      headline=TextView("headline", "x"), body=TextView("body", art.text))
        for stage in pre:
            stage(ctx)
        sents: list[Sent] = []
        for sentence in ctx.sentences:
            toks = tokenize(sentence.text, sentence.start)
            words, offsets, tags = [], [], []
            prev: tuple[str, int, int] | None = None
            for t in toks:
                o_s, o_e = ctx.body.original_range(t.start, t.end)
                own = next((owner[c] for c in range(o_s, max(o_e, o_s + 1)) if owner[c] is not None), None)
                if own is None:
                    tags.append("O")
                else:
                    tags.append(("I-" if prev == own else "B-") + own[0])
                prev = own
                words.append(t.text)
                offsets.append((o_s, o_e))
            sents.append(Sent(words, offsets, tags))
        out.append(sents)
    return out


def learn_cue_lexicon(docs: Sequence[Sequence[Sent]], min_count: int = 2) -> dict[str, float]:
    """P(token is inside a cue | token), lower-cased, for tokens seen in a cue at least ``min_count`` times."""
    from collections import Counter

    seen: Counter[str] = Counter()
    cue: Counter[str] = Counter()
    for sents in docs:
        for s in sents:
            for w, t in zip(s.words, s.tags, strict=True):
                low = w.lower()
                seen[low] += 1
                if t.endswith("-C"):
                    cue[low] += 1
    return {w: round(n / seen[w], 4) for w, n in cue.items() if n >= min_count and any(ch.isalpha() for ch in w)}


def crf_items(docs: Sequence[Sequence[Sent]], featurize: Any, triggers: frozenset[str]) -> list[Sent]:
    """The sentences the tagger sees: those holding a trigger word (as the stage selects them)."""
    return [s for sents in docs for s in sents if not triggers.isdisjoint(w.lower() for w in s.words)]


def fit_crf(sents: Sequence[Sent], featurize: Any, *, algorithm: str = "ap", iterations: int,
            c1: float = 0.0, c2: float = 0.0, minfreq: int = 2) -> bytes:
    """Train the CRF on ``sents`` (averaged perceptron, or L-BFGS with ``c1``/``c2``); return the model file's bytes."""
    import tempfile

    import pycrfsuite

    trainer = pycrfsuite.Trainer(algorithm=algorithm, verbose=False)
    for s in sents:
        trainer.append(pycrfsuite.ItemSequence(featurize(s.words)), s.tags)
    params: dict[str, Any] = {"max_iterations": iterations, "feature.minfreq": minfreq,
                              "feature.possible_transitions": True}
    if algorithm == "lbfgs":
        params.update(c1=c1, c2=c2)
    trainer.set_params(params)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.crfsuite"
        trainer.train(str(path))
        return path.read_bytes()


# Tagger settings, chosen on PolNeAR dev (stage figures with the stage's default settings of the time,
# STAGE_TRIGGER_P 0.3, CUE_MIN 0.25; source / cue F1). With the features of stages/sourcing.VIEWS and the
# conjunctions, the averaged perceptron at 6 / 10 / 20 / 30 iterations: 0.707 / 0.719 / 0.720 / 0.723 and
# 0.745 / 0.752 / 0.752 / 0.753 (without the conjunctions, 10 / 20: 0.713 / 0.718 and 0.744 / 0.747).
# L-BFGS is precise but misses more (c1 0.1, c2 0.01, 150 iterations: 0.709 / 0.710; c1 0.05, c2 0.005,
# 120 iterations: 0.703 / 0.707, precision 0.87, recall 0.59) and a bias towards the role labels did not
# help it (0.5-3: lower F1).
ALGORITHM = "ap"
ITERATIONS = 30


def build(path: str | Path = DEFAULT_TRAIN, *, seed: int = SEED, algorithm: str = ALGORITHM,
          iterations: int = ITERATIONS, log: Any = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Learn the cue lexicon and fit the CRF on ``path``; return (model dict, training facts)."""
    import random

    from overclaim.models.sourcing import (
        CUE_MIN,
        SOURCE_FALLBACK_MIN,
        STAGE_TRIGGER_P,
        TRIGGER_P,
        Featurizer,
        crf_weights,
    )

    random.seed(seed)  # crfsuite's training is deterministic; the seed is recorded for the card
    # Every annotation of the articles annotated by several people (16 in train): on dev, source F1
    # 0.713 -> 0.718 and cue F1 0.730 -> 0.731 against the first annotation only (adding the 4
    # annotator-training articles as well: 0.716 / 0.731).
    articles = load_data(path, all_annotations=True)
    started = time.perf_counter()
    docs = segmented(articles)
    cue_p = learn_cue_lexicon(docs)
    triggers = frozenset(w for w, p in cue_p.items() if p >= TRIGGER_P)
    featurize = Featurizer(cue_p)
    sents = crf_items(docs, featurize, triggers)
    if log:
        log(f"{len(articles)} annotated articles, {len(sents)} tagged sentences, {len(cue_p)} cue words")
    crf = fit_crf(sents, featurize, algorithm=algorithm, iterations=iterations)
    facts = {"annotated_articles": len(articles), "attributions": sum(a.attributions for a in articles),
             "sentences": sum(len(d) for d in docs), "tagged_sentences": len(sents),
             "tokens": sum(len(s.words) for s in sents), "cue_words": len(cue_p), "triggers": len(triggers),
             "train_seconds": round(time.perf_counter() - started, 1)}
    model = {"crf": crf, "weights": crf_weights(crf), "cue_p": cue_p, "trigger_p": TRIGGER_P,
             "algorithm": algorithm, "iterations": iterations, "stage_trigger_p": STAGE_TRIGGER_P,
             "source_fallback_min": SOURCE_FALLBACK_MIN, "cue_min": CUE_MIN}
    return model, facts


# ---------------------------------------------------------------- speaker classes


def run_stage(text: str) -> Any:
    """The sourcing stage's :class:`~overclaim.report.Sourcing` for one body (normalize + segment first)."""
    from overclaim.config import DEFAULT_CONFIG
    from overclaim.pipeline import Context, _load_stage
    from overclaim.report import Post
    from overclaim.text import TextView

    ctx = Context(post=Post(headline="x", body=text), config=DEFAULT_CONFIG,
                  headline=TextView("headline", "x"), body=TextView("body", text))
    for spec in ("overclaim.stages.normalize:Normalizer", "overclaim.stages.segment:Segmenter",
                 "overclaim.stages.sourcing:SourceFinder"):
        _load_stage(spec, DEFAULT_CONFIG, {})(ctx)
    return ctx.sourcing


def score_speakers(cases: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Class precision / recall of the stage's speakers on hand-labelled texts.

    Args:
        cases: ``{"text", "speakers": [{"speaker", "kind", "antecedent"?, "same_as"?}]}`` records
            (``tests/fixtures/speaker_classes*.jsonl``). A gold speaker is the first whole-word
            occurrence of its text not inside an earlier gold speaker (the ``occurrence``-th when
            given: "fined Google ... Google said"); a predicted attribution
            matches it when their spans overlap. A predicted attribution matching no gold speaker
            is a false positive of its class; a gold speaker with no match is a miss of its class.
            ``antecedent``: the resolved pronoun's antecedent must contain that text;
            ``same_as``: the speaker must be grouped with that earlier gold speaker.
    """
    import re
    from collections import Counter

    tp: Counter[str] = Counter()
    pred_n: Counter[str] = Counter()
    gold_n: Counter[str] = Counter()
    links = {"antecedent": [0, 0], "same_as": [0, 0]}
    errors: list[str] = []
    for case in cases:
        text = case["text"]
        src = run_stage(text)
        taken: list[tuple[int, int]] = []
        located: dict[str, tuple[int, int]] = {}
        for g in case["speakers"]:
            skip = g.get("occurrence", 1) - 1
            for m in re.finditer(r"(?<!\w)" + re.escape(g["speaker"]) + r"(?!\w)", text):
                if not any(m.start() < e and s < m.end() for s, e in taken):
                    if skip:
                        skip -= 1
                        continue
                    taken.append((m.start(), m.end()))
                    located[g["speaker"]] = (m.start(), m.end())
                    break
        used: set[int] = set()
        for g in case["speakers"]:
            s, e = located[g["speaker"]]
            gold_n[g["kind"]] += 1
            hit = next((i for i, a in enumerate(src.attributions)
                        if i not in used and a.speaker.start < e and s < a.speaker.end), None)
            if hit is None:
                errors.append(f"missed {g['speaker']!r} ({g['kind']})")
                continue
            # every attribution of the same speaker phrase counts once
            a = src.attributions[hit]
            used.update(i for i, b in enumerate(src.attributions) if b.speaker.start == a.speaker.start)
            pred_n[a.kind] += 1
            if a.kind == g["kind"]:
                tp[a.kind] += 1
            else:
                errors.append(f"{g['speaker']!r}: {a.kind}, not {g['kind']} (found {a.speaker.text!r})")
            if "antecedent" in g:
                links["antecedent"][1] += 1
                ok = a.antecedent is not None and g["antecedent"] in a.antecedent.text
                links["antecedent"][0] += ok
                if not ok:
                    errors.append(f"{g['speaker']!r}: antecedent {a.antecedent.text if a.antecedent else None!r}")
            if "same_as" in g:
                links["same_as"][1] += 1
                ls, le = located[g["same_as"]]
                other = next((b for b in src.attributions if b.speaker.start < le and ls < b.speaker.end), None)
                ok = other is not None and other.source == a.source
                links["same_as"][0] += ok
                if not ok:
                    errors.append(f"{g['speaker']!r} not grouped with {g['same_as']!r}")
        for i, a in enumerate(src.attributions):
            if i not in used and not any(a.speaker.start < e and s < a.speaker.end for s, e in taken):
                pred_n[a.kind] += 1
                used.add(i)
                errors.append(f"extra speaker {a.speaker.text!r} ({a.kind})")
    classes = sorted(gold_n.keys() | pred_n.keys())
    per_class = {c: {"precision": round(tp[c] / pred_n[c], 4) if pred_n[c] else 1.0,
                     "recall": round(tp[c] / gold_n[c], 4) if gold_n[c] else 1.0,
                     "gold": gold_n[c]} for c in classes}
    correct = sum(tp.values())
    return {
        "speakers": sum(gold_n.values()),
        "precision": round(correct / sum(pred_n.values()), 4) if pred_n else 1.0,
        "recall": round(correct / sum(gold_n.values()), 4) if gold_n else 1.0,
        "per_class": per_class,
        "antecedent_accuracy": round(links["antecedent"][0] / links["antecedent"][1], 4) if links["antecedent"][1]
        else 1.0,
        "grouping_accuracy": round(links["same_as"][0] / links["same_as"][1], 4) if links["same_as"][1] else 1.0,
        "errors": errors,
    }


def train(path: str | Path = DEFAULT_TRAIN, *, dev: str | Path | None = DEFAULT_DEV, out_dir: str | Path | None = None,
          seed: int = SEED, iterations: int = ITERATIONS) -> dict[str, Any]:
    """Learn the cue lexicon and CRF on ``path``, score the stage on ``dev``, write the artifact and card.

    Returns:
        The model card (as written to card.json).
    """
    import datetime as _dt
    import platform

    import pycrfsuite

    from overclaim.stages import sourcing as stage
    from overclaim.training.cards import write_artifact
    from overclaim.training.headline_certainty import model_card_md

    model, facts = build(path, seed=seed, iterations=iterations)
    figures: dict[str, Any] = {}
    if dev is not None:
        tagger = stage.AttributionTagger(model)
        original = stage.tagger
        stage.tagger = lambda: tagger  # type: ignore[assignment]  # score this model, not the shipped one
        try:
            figures = evaluate(dev)
        finally:
            stage.tagger = original  # type: ignore[assignment]
    card: dict[str, Any] = {
        "model": MODEL_NAME,
        "task": "attribution spans (source, cue, content) in news sentences, for the sourcing stage",
        "data": {"path": str(path),
                 "source": "PolNeAR v1.0.0 train split (Newell, Margolin and Ruths 2018), every annotation", **facts},
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d"),
        "seed": seed,
        "features": "per token, window of three tokens each side: lower-cased word, shape, 3-letter suffix, "
        "Snowball stem, learned P(cue | word) bucket (see stages/sourcing.VIEWS); shape trigram; distance to "
        "the nearest strong cue word and to the nearest quote mark each side; inside-quote flag; position in "
        "the sentence; word x neighbours' cue bucket and shape x distance-to-cue conjunctions",
        "classifier": f"linear-chain CRF (python-crfsuite, {model['algorithm']}, {model['iterations']} iterations, "
        "feature minfreq 2), BIO tags source/cue/content; decoded by the stage's numpy Viterbi (same paths)",
        "source_fallback_min": model["source_fallback_min"],
        "cue_min": model["cue_min"],
        "trigger_p": model["trigger_p"],
        "stage_trigger_p": model["stage_trigger_p"],
        "evaluation": f"sourcing stage scored on {dev}" if dev is not None else "none",
        "figures": {k: v for k, v in figures.items() if k != "data"},
        "versions": {"python-crfsuite": getattr(pycrfsuite, "__version__", "?"), "python": platform.python_version()},
        "caveats": "Political news of 2015-16 (PolNeAR); dev was used to choose settings, so its figures are "
        "slightly optimistic; the test split is scored apart. Speaker classes are rules over the tagged "
        "phrase (stages/sourcing.py), not learned.",
    }
    write_artifact(model, card, out_dir, lambda c: model_card_md(c, "sourcing"))
    # The shared card writer names the certainty stage and the training file; this card is the sourcing
    # stage's, scored on dev.
    from overclaim.resources import artifact_dir

    md_path = (Path(out_dir) if out_dir is not None else artifact_dir(MODEL_NAME)) / "MODEL_CARD.md"
    md = md_path.read_text(encoding="utf-8").replace("Used by the `certainty` stage.", "Used by the `sourcing` stage.")
    if dev is not None:
        md = md.replace(f"overclaim eval sourcing --data {path} --json", f"overclaim eval sourcing --data {dev} --json")
    md_path.write_text(md, encoding="utf-8")
    return card
