"""Sourcing: who the body says its statements come from, grouped by speaker, and whether they are named.

Learned from PolNeAR (political news, 22,501 annotated attributions in its train split; see
:mod:`overclaim.training.sourcing` and ``artifacts/sourcing/MODEL_CARD.md``):

- a **cue lexicon** learned from the train cue spans (``P(token is part of a cue | token)``): a
  sentence is tagged only when one of its tokens reaches :data:`STAGE_TRIGGER_P`, so a sentence
  without one costs one set test;
- a **CRF token tagger** (python-crfsuite, averaged perceptron; BIO tags for source, cue and
  content) over the tokens of those sentences, with word, shape, suffix, stem and cue-lexicon
  features of a three-token window (:data:`VIEWS`), distances to the nearest strong cue and quote
  mark, the position in the sentence and a few conjunctions. The stage decodes it with
  :class:`FastViterbi` (numpy; crfsuite's best paths, with per-word feature sums cached and a post's
  sentences decoded together): linear in the body's length;
- each tagged cue becomes an attribution, linked to the nearest tagged source in its sentence and
  the nearest content span; a cue with no tagged source takes the token whose source score beats
  "no role" by the most (from the same Viterbi pass) when it reaches :data:`SOURCE_FALLBACK_MIN`,
  else it is dropped (the report needs a speaker). A speaker made of function words only ("the",
  "but") or a number ("about 40 percent of patients") is not one.

Speaker classes (rules over the speaker phrase, :func:`classify`): ``named_person``,
``named_organization``, ``outlet``, ``document`` (statement, report, filing, study),
``anonymous`` ("officials", "people familiar with the matter", "a spokesperson" without a name)
and ``pronoun`` ("he", "they", "the researchers"). A pronoun is resolved to the nearest earlier
compatible named speaker or name (:func:`resolve`) and shown with it (``antecedent``); it is
never counted as named on its own. Mentions of one speaker ("Jerome Powell", "Powell", a "he"
resolved to him) are one source (``Sourcing.sources``); ``named`` (people, organisations, outlets) /
``documents`` / ``anonymous`` / ``unresolved`` / ``anonymous_share`` count sources, not attributions.

An evidence sentence rests on anonymous sources when it has an anonymous attribution and no
other; ``evidence_anonymous_share`` weighs those by relevance.
"""

from __future__ import annotations

import gc
from functools import lru_cache
from typing import Any

from overclaim.config import Config
from overclaim.context import Context

# The tagger (models/sourcing.py) and the speaker rules (stages/speakers.py) live in their own
# modules; their names stay importable from here.
from overclaim.models.sourcing import (  # noqa: F401
    ARTIFACT,
    CUE_MIN,
    FALLBACK_OFF,
    FALLBACK_WINDOW,
    FIELDS,
    FINDING_CUE,
    QUOTES,
    SOURCE_FALLBACK_MIN,
    STAGE_TRIGGER_P,
    STRONG_CUE_P,
    TRIGGER_P,
    VIEWS,
    WINDOW,
    AttributionTagger,
    FastViterbi,
    Featurizer,
    Found,
    _joined,
    _nearest,
    crf_weights,
)
from overclaim.report import Attribution, Source, Sourcing, Span
from overclaim.stages.base import Stage
from overclaim.stages.speakers import (  # noqa: F401
    _LETTER,
    BACKREF_HEADS,
    DETERMINERS,
    DOCUMENT_HEADS,
    EXPERT_HEADS,
    FUNCTION_WORDS,
    IT_AFTER,
    MAX_ANTECEDENTS,
    MAX_SPEAKER_WORDS,
    MEDIA_RE,
    NAME_RE,
    NAME_WINDOW,
    NOT_SOURCE,
    ORG_AFTER,
    ORG_EVIDENCE_WINDOW,
    ORG_WORDS,
    OUTLET_RE,
    PARTICIPLE,
    PERSON_BACKREF,
    PERSON_PRONOUNS,
    PREPOSITION,
    PRONOUN_WORDS,
    QUANTIFIERS,
    SPOKES,
    TITLES,
    _common_plural,
    _compatible,
    _head,
    _name_key,
    _single_name_kind,
    _singular,
    _strip,
    _valid_speaker,
    classify,
    patterns,
    resolve,
)


@lru_cache(maxsize=1)
def tagger() -> AttributionTagger:
    """The shipped tagger (loaded once per process)."""
    from overclaim.resources import load_artifact

    return AttributionTagger(load_artifact(ARTIFACT))


def find_attributions(text: str) -> list[Found]:
    """Every attribution in one sentence, in text order (offsets into ``text``)."""
    return tagger().find(text)



class SourceFinder(Stage):
    """Extract attributions from the body, group them by speaker and count named and anonymous sources."""

    name = "sourcing"

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config
        self._tagger: AttributionTagger | None = None

    def __call__(self, ctx: Context) -> None:
        """Set ``ctx.sourcing`` and each evidence sentence's ``anonymous_source``."""
        # The stage builds thousands of small objects on a long body and none of them form cycles: the
        # cyclic collector, left on, rescans the heap as they pile up and made "he said. " * 7,000 grow
        # 2.4-3.7x per doubling (2.1x with it paused; benchmarks/sourcing_speed.py). Paused, then restored.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._run(ctx)
        finally:
            if was_enabled:
                gc.enable()

    def _run(self, ctx: Context) -> None:
        if self._tagger is None:
            self._tagger = tagger()
        triggers = self._tagger.triggers
        attributions: list[Attribution] = []
        kinds_by_sentence: dict[int, set[str]] = {}
        sources: list[dict[str, Any]] = []
        keys: dict[tuple[str, str], int] = {}  # (kind group, key) -> source index
        surnames: dict[str, int] = {}  # a named person's last name -> source index
        named_before: list[tuple[str, str, int, int]] = []  # (text, kind, source index, end) of named speakers
        tagged = [sentence for sentence in ctx.sentences if not triggers.isdisjoint(sentence.words)]
        per_sentence = self._tagger.find_many([sentence.text for sentence in tagged]) if tagged else []
        for sentence, in_sentence in zip(tagged, per_sentence, strict=True):
            for f in in_sentence:
                base = sentence.start
                phrase = sentence.text[f.speaker[0] : f.speaker[1]]
                antecedent: Span | None = None
                kind = f.kind
                if kind == "pronoun":
                    idx = None
                    found = resolve(phrase, named_before, ctx.body.clean, base + f.speaker[0])
                    if found is None and phrase.lower() == "it" and named_before \
                            and sources[named_before[-1][2]].get("guessed"):
                        # "Apple said ... It said ...": the one-word name taken for a person without evidence
                        # is what "it" refers to, an organisation
                        prior = named_before[-1]
                        named_before[-1] = (prior[0], "named_organization", prior[2], prior[3])
                        sources[prior[2]]["kind"] = "named_organization"
                        sources[prior[2]]["guessed"] = False
                        for j in sources[prior[2]]["attributions"]:
                            attributions[j].kind = "named_organization"
                        found = (len(named_before) - 1, -1)
                    if found is not None and found[1] == -1:
                        idx = named_before[found[0]][2]
                        antecedent = sources[idx]["span"]
                    elif found is not None:
                        # a name the body gives before the pronoun, not itself a speaker yet: it becomes one
                        antecedent = ctx.body.span(*found)
                        name = ctx.body.clean[found[0] : found[1]]
                        key = _name_key(name)
                        idx = keys.get(("named", key), surnames.get(key.split()[-1]))
                        if idx is None:
                            idx = len(sources)
                            sources.append({"name": name, "kind": "named_person", "span": antecedent,
                                            "attributions": []})
                            keys[("named", key)] = idx
                            surnames.setdefault(key.split()[-1], idx)
                else:
                    idx = None
                    key = _name_key(phrase)
                    if kind == "named_person":
                        last = key.split()[-1] if key else key
                        idx = keys.get(("named", key))
                        if idx is None:
                            idx = surnames.get(last)
                        if idx is None:
                            idx = keys.get(("named", last))
                    elif kind != "anonymous":
                        idx = keys.get(("named", key))
                    else:
                        idx = keys.get(("anonymous", key))
                guessed = False
                if kind == "named_person" and idx is None and " " not in phrase.strip():
                    kind = _single_name_kind(phrase.strip(), sentence.text[f.cue[1] :], ctx.body.clean)
                    guessed = kind == "named_person"  # no evidence either way: a later "it" may say otherwise
                speaker = ctx.body.span(base + f.speaker[0], base + f.speaker[1])
                if idx is None:
                    idx = len(sources)
                    group = "anonymous" if kind == "anonymous" else "pronoun" if kind == "pronoun" else "named"
                    sources.append({"name": phrase, "kind": kind, "span": speaker, "attributions": [],
                                    "guessed": guessed})
                    key = _name_key(phrase)
                    keys.setdefault((group, key), idx)
                    if kind == "named_person" and key:
                        surnames.setdefault(key.split()[-1], idx)
                elif kind not in ("pronoun", "anonymous") and len(phrase) > len(sources[idx]["name"]):
                    sources[idx]["name"] = phrase  # show the fullest form: "Jerome Powell", not "Powell"
                    sources[idx]["span"] = speaker
                if kind not in ("pronoun", "anonymous"):
                    named_before.append((phrase, kind, idx, base + f.speaker[1]))
                sources[idx]["attributions"].append(len(attributions))
                attributions.append(
                    # Built without re-validation: the spans are already models, the kind one of classify()'s.
                    Attribution.model_construct(
                        speaker=speaker,
                        cue=ctx.body.span(base + f.cue[0], base + f.cue[1]),
                        content=ctx.body.span(base + f.content[0], base + f.content[1]) if f.content else None,
                        kind=kind,  # type: ignore[arg-type]
                        sentence_index=sentence.index,
                        source=idx,
                        antecedent=antecedent,
                    )
                )
                kinds_by_sentence.setdefault(sentence.index, set()).add(sources[idx]["kind"])
        out_sources = [
            Source.model_construct(name=s["name"], kind=s["kind"], count=len(s["attributions"]),
                                   attributions=s["attributions"])
            for s in sources
        ]
        anonymous = sum(1 for s in out_sources if s.kind == "anonymous")
        unresolved = sum(1 for s in out_sources if s.kind == "pronoun")
        documents = sum(1 for s in out_sources if s.kind == "document")
        named = len(out_sources) - anonymous - unresolved - documents
        total = weight_anon = 0.0
        for e in ctx.evidence:
            kinds = kinds_by_sentence.get(e.index, set())
            e.anonymous_source = kinds == {"anonymous"}
            w = max(e.relevance, 1e-6)
            total += w
            weight_anon += w if e.anonymous_source else 0.0
        ctx.sourcing = Sourcing.model_construct(
            attributions=attributions,
            sources=out_sources,
            named=named,
            documents=documents,
            anonymous=anonymous,
            unresolved=unresolved,
            anonymous_share=round(anonymous / len(out_sources), 4) if out_sources else 0.0,
            evidence_anonymous_share=round(weight_anon / total, 4) if total else 0.0,
        )


def score_attributions(cases: list[dict[str, Any]]) -> dict[str, float]:
    """Speaker precision/recall and named/anonymous precision/recall of :func:`find_attributions`.

    Args:
        cases: ``{"text": ..., "attributions": [{"speaker": ..., "kind": ...}]}`` records
            (the format of ``tests/fixtures/attributions.jsonl``). A speaker counts as found
            when a predicted speaker overlaps its first occurrence (PolNeAR-style spans are often
            longer or shorter than the hand-written ones); the class is compared on found speakers,
            a pronoun counting as not anonymous.
    """
    hits = {"tp": 0, "fp": 0, "fn": 0, "anon_tp": 0, "anon_fp": 0, "anon_fn": 0, "named_tp": 0}
    gold_total = 0
    for case in cases:
        text = case["text"]
        pred = [((f.speaker[0], f.speaker[1]), f.kind) for f in find_attributions(text)]
        pred = list(dict.fromkeys(pred))
        gold_total += len(case["attributions"])
        used: set[int] = set()
        for g in case["attributions"]:
            s = text.find(g["speaker"])
            e = s + len(g["speaker"])
            hit = next((i for i, (sp, _) in enumerate(pred) if i not in used and sp[0] < e and s < sp[1]), None)
            if hit is None:
                hits["fn"] += 1
                continue
            used.add(hit)
            hits["tp"] += 1
            p, gl = pred[hit][1] == "anonymous", g["kind"] == "anonymous"
            hits["anon_tp"] += p and gl
            hits["anon_fp"] += p and not gl
            hits["anon_fn"] += gl and not p
            hits["named_tp"] += not p and not gl
        hits["fp"] += len(pred) - len(used)

    def ratio(a: int, b: int) -> float:
        return round(a / b, 4) if b else 1.0

    return {
        "attributions": gold_total,
        "speaker_precision": ratio(hits["tp"], hits["tp"] + hits["fp"]),
        "speaker_recall": ratio(hits["tp"], hits["tp"] + hits["fn"]),
        "anonymous_precision": ratio(hits["anon_tp"], hits["anon_tp"] + hits["anon_fp"]),
        "anonymous_recall": ratio(hits["anon_tp"], hits["anon_tp"] + hits["anon_fn"]),
        "named_precision": ratio(hits["named_tp"], hits["named_tp"] + hits["anon_fn"]),
        "named_recall": ratio(hits["named_tp"], hits["named_tp"] + hits["anon_fp"]),
    }
