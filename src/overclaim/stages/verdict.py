"""Verdict: combine stance, certainty and sourcing into one call with reasons.

The labels are defined once, in :data:`overclaim.report.VERDICT_DEFINITIONS`:

- ``unrelated``: the stance model's label is unrelated (its probabilities carry
  the decision weights chosen on validation data, so the label is their argmax),
  or P(unrelated) is at least ``unrelated_threshold``, or the body is too short;
- ``contradicted``: the stance label is disagree with P(disagree) at least
  ``contradicted_sure_threshold``, or P(disagree) is at least
  ``contradicted_threshold`` and the evidence holds a refutation cue ("hoax",
  "denied", "not true": ``lexicons/refutations.txt``). A body that only backs a
  weaker version ("might not happen before 2030") is overstated, not contradicted;
- otherwise the overclaim score decides between ``overstated`` and ``supported``.

The overclaim score measures how much less firmly the body backs the claim than
the headline states it. ``backing`` is the related stance mass that confirms the
claim (agree counts fully, discuss at ``DISCUSS_BACKING``), discounted by the
certainty gap and by the share of evidence that rests on anonymous sources;
``claim`` is how firmly the headline states it. Sensational markers and
disguised words are reported as aggravating factors but never move the score:
they cannot make a headline `overstated` on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from overclaim.config import Config
from overclaim.pipeline import Context
from overclaim.report import VERDICT_DEFINITIONS, Reason, Span, Verdict, VerdictLabel
from overclaim.resources import lexicon

# How much a "discuss" body backs a claim, relative to "agree". Set so that an
# asserting headline over a discussing body scores above 0.5 (overstated), and a
# hedged headline over it below (supported), on the foundation's fixtures.
DISCUSS_BACKING = 0.35
# Weight of the anonymous-source share in discounting backing.
ANONYMOUS_DISCOUNT = 0.3
# Floor of the headline-claim factor: even a hedged headline claims something.
CLAIM_FLOOR = 0.4


@lru_cache(maxsize=1)
def _refutation_re() -> re.Pattern[str]:
    words = sorted(lexicon("refutations"), key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words) + r")\b", re.I)


@lru_cache(maxsize=1)
def _refutation_lower_re() -> re.Pattern[str]:
    """:func:`_refutation_re` without ``re.I``, for lower-cased ASCII text.

    The lexicon is lower case, so it gives the same matches there, and sre runs it about 3.5
    times faster.
    """
    return re.compile(_refutation_re().pattern)


def _refutation_matches(text: str) -> Iterator[re.Match[str]]:
    if text.isascii():
        return _refutation_lower_re().finditer(text.lower())
    return _refutation_re().finditer(text)


def _quote(spans: list[Span], limit: int = 3) -> str:
    seen: list[str] = []
    for s in spans:
        t = " ".join(s.text.split())
        if t and t not in seen:
            seen.append(t)
    quoted = ", ".join(f"“{t}”" for t in seen[:limit])
    return quoted + (" …" if len(seen) > limit else "")


def _pct(p: float) -> str:
    return f"{round(100 * p)}%"


class VerdictMaker:
    """Decide the verdict and write the reasons."""

    name = "verdict"

    def __init__(self, config: Config) -> None:
        self.config = config

    def score(self, ctx: Context) -> float:
        """The overclaim score in [0, 1] for a related post."""
        if ctx.stance is None:
            return 0.5
        p = ctx.stance.probabilities
        related = max(1e-9, p.agree + p.discuss + p.disagree)
        backing = (p.agree + DISCUSS_BACKING * p.discuss) / related
        gap = max(0.0, ctx.certainty.gap) if ctx.certainty else 0.0
        anon = ctx.sourcing.evidence_anonymous_share
        backing *= (1.0 - gap) * (1.0 - ANONYMOUS_DISCOUNT * anon)
        claim = ctx.certainty.headline.score if ctx.certainty else 1.0
        factor = CLAIM_FLOOR + (1.0 - CLAIM_FLOOR) * claim
        return round(min(1.0, max(0.0, (1.0 - backing) * factor)), 4)

    def label(self, ctx: Context, score: float) -> VerdictLabel:
        """The verdict label for the stage results in ``ctx``."""
        if ctx.too_short or ctx.stance is None:
            return "unrelated"
        p = ctx.stance.probabilities
        if ctx.stance.label == "unrelated" or p.unrelated >= self.config.unrelated_threshold:
            return "unrelated"
        refuted = bool(self.refutations(ctx))
        if (p.disagree >= self.config.contradicted_sure_threshold and ctx.stance.label == "disagree") or (
            refuted and p.disagree >= self.config.contradicted_threshold
        ):
            return "contradicted"
        return "overstated" if score >= self.config.overstated_threshold else "supported"

    def __call__(self, ctx: Context) -> None:
        """Set ``ctx.verdict``."""
        score = self.score(ctx)
        label = self.label(ctx, score)
        if label == "unrelated":
            score = 1.0
        elif label == "contradicted":
            score = max(score, 0.9)
        reasons = self.reasons(ctx, label)[: self.config.max_reasons]
        ctx.verdict = Verdict(label=label, score=score, definition=VERDICT_DEFINITIONS[label], reasons=reasons)

    def refutations(self, ctx: Context) -> list[Span]:
        """Refutation cues ("hoax", "denied", "not true" ...) in the evidence sentences."""
        if "refutations" not in ctx.extras:
            spans: list[Span] = []
            for e in ctx.evidence:
                sentence = ctx.sentences[e.index]
                for m in _refutation_matches(sentence.text):
                    spans.append(ctx.body.span(sentence.start + m.start(), sentence.start + m.end()))
            ctx.extras["refutations"] = spans
        found: list[Span] = ctx.extras["refutations"]
        return found

    # ------------------------------------------------------------------ reasons
    def reasons(self, ctx: Context, label: VerdictLabel) -> list[Reason]:
        """Plain-language reasons, most decisive first."""
        out: list[Reason] = []
        evidence_spans = [e.span for e in ctx.evidence[:2]]
        p = ctx.stance.probabilities if ctx.stance else None
        if ctx.too_short:
            out.append(Reason(code="too_short", text="The body is too short to judge whether it backs the headline."))
        elif label == "unrelated":
            best = max((e.relevance for e in ctx.evidence), default=0.0)
            out.append(
                Reason(
                    code="unrelated",
                    text=(
                        "The article does not address the headline's claim: its closest sentence covers only "
                        f"{_pct(best)} of the headline's key terms"
                        + (f" (stance model: unrelated {_pct(p.unrelated)})." if p else ".")
                    ),
                    spans=evidence_spans[:1],
                )
            )
        elif label == "contradicted" and p:
            denying = [e for e in ctx.evidence if e.stance and e.stance.disagree >= 0.5] or ctx.evidence[:1]
            cues = self.refutations(ctx)
            text = f"The article denies or refutes the claim (disagree {_pct(p.disagree)})"
            text += f": {_quote(cues)}." if cues else "."
            out.append(Reason(code="contradicted", text=text, spans=[e.span for e in denying[:2]] + cues))
        elif p:
            if p.discuss >= p.agree or p.disagree > p.agree:
                text = (
                    "The article discusses the claim but does not confirm it "
                    f"(discuss {_pct(p.discuss)}, agree {_pct(p.agree)}"
                    + (f", disagree {_pct(p.disagree)})." if p.disagree > p.agree else ").")
                )
                code = "discusses"
            else:
                text = f"The article backs the claim (agree {_pct(p.agree)}, discuss {_pct(p.discuss)})."
                code = "backs"
            out.append(Reason(code=code, text=text, spans=evidence_spans))

        if ctx.certainty and label != "unrelated":
            c = ctx.certainty
            h_cues = [q.span for q in c.headline.cues if q.kind in ("booster",)]
            b_cues = [q.span for q in c.body.cues if q.kind in ("hedge", "conditional", "question")]
            if c.gap >= self.config.certainty_gap_threshold:
                text = "The headline asserts"
                text += f" ({_quote(h_cues)})" if h_cues else ""
                text += " what the article hedges"
                text += f" ({_quote(b_cues)})" if b_cues else ""
                text += f": certainty {c.headline.score:.2f} in the headline against {c.body.score:.2f} in the body."
                out.append(Reason(code="certainty_gap", text=text, spans=h_cues + b_cues))
            elif b_cues and label == "overstated":
                out.append(
                    Reason(code="hedged_body", text=f"The article hedges the claim: {_quote(b_cues)}.", spans=b_cues)
                )

        src = ctx.sourcing
        # One span per anonymous speaker (its first mention): the share is over speakers, not fragments.
        anon = [src.attributions[s.attributions[0]].speaker for s in src.sources if s.kind == "anonymous"
                and s.attributions] or [a.speaker for a in src.attributions if a.kind == "anonymous"]
        if (
            anon
            and label != "unrelated"
            and (
                src.evidence_anonymous_share >= self.config.anonymous_share_threshold
                or src.anonymous_share >= self.config.anonymous_share_threshold
            )
        ):
            out.append(
                Reason(
                    code="anonymous_sources",
                    text=(
                        f"{src.anonymous} of {len(src.sources) or src.anonymous + src.named} sources are unnamed "
                        f"({_quote(anon)}); {_pct(src.evidence_anonymous_share)} of the key evidence rests on them."
                    ),
                    spans=anon,
                )
            )

        markers = ctx.sensational.markers
        if markers:
            prob = ctx.sensational.clickbait_probability
            text = f"The headline uses sensational markers: {_quote([m.span for m in markers], 4)}"
            text += f" (clickbait probability {_pct(prob)})." if prob is not None else "."
            if label == "overstated":
                text += " They aggravate the overclaim but do not decide it."
            out.append(Reason(code="sensational", text=text, spans=[m.span for m in markers]))

        if ctx.disguised_words:
            words = ", ".join(f"“{d.original}” → “{d.clean}”" for d in ctx.disguised_words[:4])
            out.append(
                Reason(
                    code="disguised_words",
                    text=f"Disguised spellings, often used to dodge moderation filters: {words}.",
                    spans=[d.span for d in ctx.disguised_words],
                )
            )

        if ctx.matches:
            m = ctx.matches[0]
            rating = f" rated “{m.rating}”" if m.rating else ""
            out.append(
                Reason(
                    code="fact_checked",
                    text=f"A fact-check{rating} may cover this claim ({_pct(m.probability)} same claim): “{m.claim}”.",
                )
            )
        return out
