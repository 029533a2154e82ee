"""Verdict: decide the call from what the stages found, and say why with the features that decided it.

The labels are defined once, in :data:`overclaim.report.VERDICT_DEFINITIONS`. In order:

1. **Rules** for what no model can judge: a body too short (``Config.min_body_words``) or not in
   English (the stance stage's language guard) is ``cannot_judge``; a body none of whose sentences
   shares a key term with the headline (no evidence at all) is ``unrelated``.
2. **The verdict model** (:mod:`overclaim.models.verdict`, one per profile): a calibrated
   logistic regression over the stance probabilities, relevance, the entailment cross-encoder's
   aggregates (when the profile runs it), certainty and claim-strength gaps, number mismatches,
   sourcing and refutation cues. Its label is the argmax of the calibrated probabilities times
   decision weights chosen on validation data.
3. **Doubt**: when the model's top probability is under ``Config.cannot_judge_below``, no
   reading is confident either way, and the verdict is ``cannot_judge`` (the probabilities are
   still reported).

The score is the calibrated P(headline not backed) = 1 - P(supported) (0.5 for a rule-decided
``cannot_judge``); ``Verdict.margin`` is the top probability minus the runner-up's, how close
the call came to going the other way.

Reasons come from the decision: each decision reason is a group of features whose contribution
pushed the model toward the label (:class:`~overclaim.models.verdict.VerdictModel.explain`),
with that contribution; a code is only written for a label it may argue for
(:data:`REASON_LABELS`), so a reason never argues against its label. Sensational markers,
disguised words and fact-check matches follow as information: they never move the decision.
"""

from __future__ import annotations

from typing import Any

from overclaim.config import Config
from overclaim.context import Context
from overclaim.models.verdict import FEATURE_CODES, Decision, features, load_verdict_model, refutation_matches
from overclaim.report import VERDICT_DEFINITIONS, EvidenceSentence, Reason, Span, Verdict, VerdictLabel
from overclaim.stages.base import Stage

ALL_LABELS: frozenset[str] = frozenset(VERDICT_DEFINITIONS)
# Which verdicts each reason code may argue for. Informational codes (they never decide) go with
# any label.
REASON_LABELS: dict[str, frozenset[str]] = {
    "backs": frozenset({"supported"}),
    "hedged_headline": frozenset({"supported"}),
    "numbers_match": frozenset({"supported"}),
    "named_sources": frozenset({"supported"}),
    "discusses": frozenset({"overstated"}),
    "asserted_headline": frozenset({"overstated"}),
    "certainty_gap": frozenset({"overstated"}),
    "hedged_body": frozenset({"overstated"}),
    "stronger_relation": frozenset({"overstated"}),
    "number_mismatch": frozenset({"overstated"}),
    "anonymous_sources": frozenset({"overstated"}),
    "contradicted": frozenset({"contradicted"}),
    "refutation_cue": frozenset({"contradicted"}),
    "unrelated": frozenset({"unrelated"}),
    "too_short": frozenset({"cannot_judge"}),
    "not_english": frozenset({"cannot_judge"}),
    "not_confident": frozenset({"cannot_judge"}),
    "sensational": ALL_LABELS,
    "disguised_words": ALL_LABELS,
    "fact_checked": ALL_LABELS,
}
# A model reading (backs, discusses, contradicted, unrelated ...) needs at least this much push
# (log-odds, summed over its features) to be written as a reason. Set by hand: 0.2 log-odds moves
# an even call by 5 points (0.50 -> 0.55); a stage's finding that pushed the same way is written at
# any size (VerdictMaker._found).
MIN_REASON_CONTRIBUTION = 0.2


def _quote(spans: list[Span], limit: int = 3) -> str:
    seen: list[str] = []
    for s in spans:
        t = " ".join(s.text.split())
        if t and t not in seen:
            seen.append(t)
    quoted = ", ".join(f"“{t}”" for t in seen[:limit])
    return quoted + (" …" if len(seen) > limit else "")


def _confirms(e: EvidenceSentence) -> float:
    """How much a sentence confirms the claim: P(entails), or the stance model's P(agree)."""
    if e.entailment is not None:
        return e.entailment.entails
    return e.stance.agree if e.stance is not None else 0.0


def _denies(e: EvidenceSentence) -> float:
    """How much a sentence denies the claim: P(contradicts), or the stance model's P(disagree)."""
    if e.entailment is not None:
        return e.entailment.contradicts
    return e.stance.disagree if e.stance is not None else 0.0


def _pct(p: float) -> str:
    return f"{round(100 * p)}%"


class VerdictMaker(Stage):
    """Decide the verdict and write the reasons."""

    name = "verdict"

    def __init__(self, config: Config, **options: Any) -> None:
        self.config = config
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The profile's :class:`~overclaim.models.verdict.VerdictModel`, loaded once per process."""
        if self._model is None:
            self._model = load_verdict_model(self.config.profile)
        return self._model

    def __call__(self, ctx: Context) -> None:
        """Set ``ctx.verdict``."""
        if not ctx.evidence and not ctx.too_short and not ctx.extras.get("not_english"):
            # No body sentence shares a key term of the headline (relevance 0 everywhere), so no
            # model read anything about the claim: the body is about something else. The model's
            # priors alone called a one-line off-topic body "contradicted" (42%).
            ctx.verdict = Verdict(
                label="unrelated", score=1.0, definition=VERDICT_DEFINITIONS["unrelated"],
                reasons=[Reason(code="unrelated", text="No sentence of the article shares a key term with the "
                                "headline's claim: it is about something else.")]
                + self._information(ctx)[: max(0, self.config.max_reasons - 1)],
            )
            return
        rule = self._rule(ctx)
        if rule is not None:
            ctx.verdict = Verdict(
                label="cannot_judge", score=0.5, definition=VERDICT_DEFINITIONS["cannot_judge"],
                reasons=[rule] + self._information(ctx)[: max(0, self.config.max_reasons - 1)],
            )
            return
        decision: Decision = self.model.explain(features(ctx))
        label: VerdictLabel = decision.label  # type: ignore[assignment]
        top = max(decision.probabilities.values())
        reasons: list[Reason] = []
        if top < self.config.cannot_judge_below:
            label = "cannot_judge"
            reasons = [self._doubt(decision)]
        info = self._information(ctx)
        if label != "cannot_judge":
            reasons = self._decision_reasons(ctx, decision, label)
            if (label == "overstated" and self._found(ctx, "anonymous_sources")
                    and not any(r.code == "anonymous_sources" for r in reasons)):
                # Information, not a push of the model's (it learned little from sourcing): an
                # overstated call whose key evidence rests mostly on unnamed sources says so.
                anon = self._write(ctx, "anonymous_sources", decision)
                if anon is not None:
                    info.insert(0, anon)
            # Decision reasons first, leaving room for the information lines.
            reasons = reasons[: max(1, self.config.max_reasons - len(info))]
        reasons += info
        ctx.verdict = Verdict(
            label=label,
            # No call, no lean either way: a doubtful post is not ranked as "not backed".
            score=0.5 if label == "cannot_judge" else round(1.0 - decision.probabilities["supported"], 4),
            definition=VERDICT_DEFINITIONS[label],
            reasons=reasons[: self.config.max_reasons],
            probabilities=decision.probabilities,
            margin=decision.margin,
        )

    # ------------------------------------------------------------------ rules
    def _rule(self, ctx: Context) -> Reason | None:
        if ctx.too_short:
            return Reason(code="too_short", text="The body is too short to judge whether it backs the headline.")
        if ctx.extras.get("not_english"):
            language = ctx.extras.get("language")
            named = f" (language identified: {language})" if language and language != "unknown" else ""
            return Reason(
                code="not_english",
                text=f"The body is not in English{named}, the only language the models read: it cannot be judged.",
            )
        return None

    def _doubt(self, d: Decision) -> Reason:
        ranked = sorted(d.probabilities.items(), key=lambda kv: -kv[1])
        best = ", ".join(f"{lab} {_pct(p)}" for lab, p in ranked[:3])
        return Reason(
            code="not_confident",
            text=(f"No reading of the article is confident either way (verdict model: {best}; "
                  f"under {_pct(self.config.cannot_judge_below)} is not a call)."),
        )

    # ------------------------------------------------------------------ decision reasons
    def _decision_reasons(self, ctx: Context, d: Decision, label: str) -> list[Reason]:
        totals: dict[str, float] = {}
        for name, push in d.contributions.items():
            if push <= 0:
                continue
            high, low = FEATURE_CODES[name]
            code = high if d.z[name] > 0 else low
            if code is not None and label in REASON_LABELS[code]:
                totals[code] = totals.get(code, 0.0) + push
        # One reason for the body's hedges: the certainty gap already quotes them.
        if "certainty_gap" in totals and "hedged_body" in totals:
            totals["certainty_gap"] += totals.pop("hedged_body")
        ranked = sorted(totals.items(), key=lambda kv: -kv[1])
        chosen = [(c, v) for c, v in ranked if v >= MIN_REASON_CONTRIBUTION]
        # A stage's finding that pushed the call the same way, if only a little (a causal headline
        # over a correlational body, a number that differs ...), follows the decisive reasons.
        chosen += [(c, v) for c, v in ranked if (c, v) not in chosen and self._found(ctx, c)]
        out = []
        for code, push in chosen:
            reason = self._write(ctx, code, d)
            if reason is not None:
                out.append(reason.model_copy(update={"contribution": round(push, 3)}))
        if not out:
            ranked_p = sorted(d.probabilities.items(), key=lambda kv: -kv[1])
            out.append(Reason(
                code={"supported": "backs", "overstated": "discusses", "contradicted": "contradicted",
                      "unrelated": "unrelated"}[label],
                text="The verdict model's reading: " + ", ".join(f"{lab} {_pct(p)}" for lab, p in ranked_p[:3]) + ".",
            ))
        return out

    def _found(self, ctx: Context, code: str) -> bool:
        """Whether a stage found what ``code`` names (model readings such as ``backs`` are not findings)."""
        c, cs, src = ctx.certainty, ctx.claim_strength, ctx.sourcing
        if code == "stronger_relation":
            return cs is not None and cs.exaggerates
        if code == "number_mismatch":
            return any(n.kind in ("mismatch", "inflated", "deflated") for n in ctx.numbers)
        if code == "numbers_match":
            return any(n.kind == "match" for n in ctx.numbers)
        if code == "anonymous_sources":
            return src.evidence_anonymous_share >= self.config.anonymous_share_threshold
        if code == "named_sources":
            return src.named > 0
        if code == "certainty_gap":
            return c is not None and c.gap >= self.config.certainty_gap_threshold
        if code == "hedged_headline":
            return c is not None and c.headline.label in ("hedged", "reported", "question")
        if code == "refutation_cue":
            return bool(self.refutations(ctx))
        return False

        if code == "refutation_cue":
            return bool(self.refutations(ctx))
        return False

    def _write(self, ctx: Context, code: str, d: Decision) -> Reason | None:
        p = ctx.stance.probabilities if ctx.stance else None
        ev = ctx.evidence
        if code == "backs":
            best = max(ev, key=_confirms, default=None)
            if best is not None and best.entailment is not None and best.entailment.entails >= 0.5:
                detail = f": sentence {best.index + 1} confirms it (entails {_pct(best.entailment.entails)})"
            elif p is not None and p.agree >= max(p.discuss, p.disagree):
                detail = f" (stance: agree {_pct(p.agree)}, discuss {_pct(p.discuss)})"
            else:
                detail = f" (verdict model: supported {_pct(d.probabilities['supported'])})"
            return Reason(code=code, text=f"The article backs the claim{detail}.",
                          spans=[best.span] if best is not None else [])
        if code == "discusses":
            text = "The article reports or discusses the claim without confirming it"
            if p is not None and p.discuss >= p.agree:
                text += f" (stance: discuss {_pct(p.discuss)}, agree {_pct(p.agree)})"
            # The most relevant sentences that neither confirm nor deny it.
            neither = [e for e in ev if max(_confirms(e), _denies(e)) < 0.5] or list(ev)
            cited = sorted(neither, key=lambda e: -e.relevance)[:2]
            return Reason(code=code, text=text + ".", spans=[e.span for e in cited])
        if code == "contradicted":
            denying = sorted(ev, key=lambda e: -_denies(e))[:2]
            text = "The article denies or refutes the claim"
            top = denying[0] if denying else None
            if top is not None and top.entailment is not None and top.entailment.contradicts >= 0.5:
                text += f": sentence {top.index + 1} contradicts it (contradicts {_pct(top.entailment.contradicts)})"
            elif p is not None and p.disagree >= max(p.agree, p.discuss):
                text += f" (stance: disagree {_pct(p.disagree)})"
            else:
                text += f" (verdict model: contradicted {_pct(d.probabilities['contradicted'])})"
            return Reason(code=code, text=text + ".", spans=[e.span for e in denying])
        if code == "refutation_cue":
            cues = self.refutations(ctx)
            if not cues:
                return None
            return Reason(code=code, text=f"The article uses words of refutation: {_quote(cues)}.", spans=cues)
        if code == "unrelated":
            best_rel = max((e.relevance for e in ev), default=0.0)
            text = ("The article does not address the headline's claim: its closest sentence covers only "
                    f"{_pct(best_rel)} of the headline's key terms")
            text += f" (stance: unrelated {_pct(p.unrelated)})." if p else "."
            return Reason(code=code, text=text, spans=[e.span for e in ev[:1]])
        c = ctx.certainty
        if code in ("asserted_headline", "hedged_headline", "certainty_gap", "hedged_body") and c is not None:
            h_boost = [q.span for q in c.headline.cues if q.kind == "booster"]
            h_hedge = [q.span for q in c.headline.cues if q.kind != "booster"]
            b_hedge = [q.span for q in c.body.cues if q.kind in ("hedge", "conditional", "question")]
            if code == "asserted_headline":
                text = f"The headline states the claim as fact (certainty {c.headline.score:.2f}"
                text += f": {_quote(h_boost)})." if h_boost else ")."
                return Reason(code=code, text=text, spans=h_boost)
            if code == "hedged_headline":
                text = f"The headline itself only reports or hedges the claim (certainty {c.headline.score:.2f}"
                text += f": {_quote(h_hedge)})." if h_hedge else ")."
                return Reason(code=code, text=text, spans=h_hedge)
            if code == "certainty_gap":
                text = f"The headline is surer than the article: certainty {c.headline.score:.2f} against "
                text += f"{c.body.score:.2f}"
                text += f" (the article: {_quote(b_hedge)})." if b_hedge else "."
                return Reason(code=code, text=text, spans=h_boost + b_hedge)
            if not b_hedge:
                text = f"The article states the claim tentatively (certainty {c.body.score:.2f})."
                return Reason(code=code, text=text)
            return Reason(code=code, text=f"The article hedges the claim: {_quote(b_hedge)}.", spans=b_hedge)
        if code == "stronger_relation" and ctx.claim_strength is not None and ctx.claim_strength.body is not None:
            h, b = ctx.claim_strength.headline, ctx.claim_strength.body
            if h.strength <= b.strength:  # the push came from the expected strengths alone: nothing to state
                return None
            spans = [q.span for q in h.cues] + [q.span for q in b.cues]
            text = (f"The headline states a stronger relation ({h.label.replace('_', ' ')}"
                    + (f": {_quote([q.span for q in h.cues])}" if h.cues else "")
                    + f") than the article ({b.label.replace('_', ' ')}"
                    + (f": {_quote([q.span for q in b.cues])}" if b.cues else "") + ").")
            return Reason(code=code, text=text, spans=spans)
        if code in ("number_mismatch", "numbers_match"):
            kinds = ("mismatch", "inflated", "deflated") if code == "number_mismatch" else ("match",)
            found = [n for n in ctx.numbers if n.kind in kinds]
            if not found:
                return None
            n = found[0]
            if code == "numbers_match":
                return Reason(code=code, text=f"The headline's “{n.headline.text}” matches the article's.",
                              spans=[n.headline] + ([n.body] if n.body else []))
            body = f" against the article's “{n.body.text}”" if n.body else ""
            return Reason(code=code, text=f"The headline's “{n.headline.text}” differs{body} for the same thing.",
                          spans=[n.headline] + ([n.body] if n.body else []))
        src = ctx.sourcing
        if code == "anonymous_sources":
            anon = [src.attributions[s.attributions[0]].speaker for s in src.sources
                    if s.kind == "anonymous" and s.attributions] or [a.speaker for a in src.attributions
                                                                     if a.kind == "anonymous"]
            if not anon:
                return None
            return Reason(
                code=code,
                text=(f"{src.anonymous} of {len(src.sources) or src.anonymous + src.named} sources are unnamed "
                      f"({_quote(anon)}); {_pct(src.evidence_anonymous_share)} of the key evidence rests on them."),
                spans=anon,
            )
        if code == "named_sources":
            named = [s for s in src.sources if s.kind in ("named_person", "named_organization")]
            if not named:
                return None
            names = ", ".join(s.name for s in named[:3])
            return Reason(code=code, text=f"The article names its sources: {names}.",
                          spans=[src.attributions[s.attributions[0]].speaker for s in named[:3] if s.attributions])
        return None

    def refutations(self, ctx: Context) -> list[Span]:
        """Refutation cues ("hoax", "denied", "not true" ...) in the evidence sentences."""
        if "refutations" not in ctx.extras:
            spans: list[Span] = []
            for e in ctx.evidence:
                sentence = ctx.sentences[e.index]
                for m in refutation_matches(sentence.text):
                    spans.append(ctx.body.span(sentence.start + m.start(), sentence.start + m.end()))
            ctx.extras["refutations"] = spans
        found: list[Span] = ctx.extras["refutations"]
        return found

    # ------------------------------------------------------------------ information
    def _information(self, ctx: Context) -> list[Reason]:
        """Reasons that inform but never decide: markers, disguised words, fact-checks."""
        out: list[Reason] = []
        markers = ctx.sensational.markers
        if markers:
            prob = ctx.sensational.clickbait_probability
            text = f"The headline uses sensational markers: {_quote([m.span for m in markers], 4)}"
            text += f" (clickbait probability {_pct(prob)})." if prob is not None else "."
            out.append(Reason(code="sensational", text=text + " They do not decide the verdict.",
                              spans=[m.span for m in markers]))
        if ctx.disguised_words:
            words = ", ".join(f"“{d.original}” → “{d.clean}”" for d in ctx.disguised_words[:4])
            out.append(Reason(code="disguised_words",
                              text=f"Disguised spellings, often used to dodge moderation filters: {words}.",
                              spans=[d.span for d in ctx.disguised_words]))
        # Only a match at or above the shown threshold (the match stage shows no other; a caller
        # who fills ctx.matches from a lower threshold does not make it a reason either).
        shown = [m for m in ctx.matches if m.probability >= ctx.config.match_min_probability]
        if shown:
            m = shown[0]
            rating = f" rated “{m.rating}”" if m.rating else ""
            out.append(Reason(code="fact_checked",
                              text=f"A fact-check{rating} may cover this claim ({_pct(m.probability)} same claim): "
                                   f"“{m.claim}”."))
        return out
