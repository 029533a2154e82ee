"""The report: a typed, versioned model of everything ``check`` finds.

Every finding carries :class:`Span` objects whose ``start``/``end`` are character
offsets into the *original* headline or body (as given by the caller, before any
normalization), so any front end can highlight them with ``text[start:end]``.

The JSON schema is published with ``overclaim schema`` and ``GET /v1/schema``.
Bump :data:`SCHEMA_VERSION` on any change to the shape of the report: minor for
added optional fields, major for removed or renamed ones.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

# 1.1: claim_strength, numbers, EvidenceSentence.entailment; Sourcing.sources, Sourcing.unresolved,
# Attribution.source / antecedent and the speaker kind "pronoun" (all optional or added)
# 1.2: the verdict "cannot_judge"; Verdict.probabilities and Verdict.margin, Reason.contribution
# (all optional or added)
# 1.3: Report.checked_at, when the check ran; FactCheckMatch.claimant, claim_date, review_date and
# language; Sourcing.documents (statements, reports, filings: their own count, no longer in
# Sourcing.named) (all optional or added: absent from older reports)
SCHEMA_VERSION = "1.3"

Field_ = Literal["headline", "body"]
VerdictLabel = Literal["supported", "overstated", "contradicted", "unrelated", "cannot_judge"]
StanceLabel = Literal["agree", "disagree", "discuss", "unrelated"]
VERDICT_LABELS: tuple[VerdictLabel, ...] = get_args(VerdictLabel)

# A verdict-model call whose top probability leads the runner-up by less than this is shown as
# "borderline" by the renderers. A display convention, not tuned on data: a lead under 10 points of
# calibrated probability is within what re-wording the headline or re-training the model moves.
BORDERLINE_MARGIN = 0.1

VERDICT_DEFINITIONS: dict[str, str] = {
    "unrelated": "The body does not address the headline's claim.",
    "contradicted": "The body denies or refutes the headline's claim.",
    "overstated": (
        "The body addresses the claim but backs it less firmly than the headline states it: "
        "it only reports or discusses it, hedges it, rests it on unnamed sources, or backs a "
        "weaker version."
    ),
    "supported": (
        "The body backs the claim at least as firmly as the headline states it "
        "(a hedged headline over a hedged body is supported)."
    ),
    "cannot_judge": (
        "The article cannot be judged against the headline: the body is too short, is not in a "
        "language the models read, or no sentence addresses the claim confidently either way."
    ),
}


def verdict_name(label: str) -> str:
    """A verdict label as people read it: ``cannot_judge`` -> ``cannot judge``."""
    return label.replace("_", " ")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(_Model):
    """A character range ``[start, end)`` in the original headline or body."""

    field: Field_
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class Edit(_Model):
    """One change made by normalization (de-obfuscation)."""

    span: Span
    original: str
    replacement: str
    kind: Literal[
        "homoglyph",
        "leetspeak",
        "invisible",
        "spacing",
        "separator",
        "repetition",
        "joined_words",
        "mojibake",
        "width",
        "other",
    ]
    confidence: float = Field(ge=0.0, le=1.0)


class DisguisedWord(_Model):
    """A word written to dodge filters, with its clean form."""

    span: Span
    original: str
    clean: str
    kinds: list[str]
    confidence: float = Field(ge=0.0, le=1.0)


class Normalization(_Model):
    """Clean text used by the analysis, and what was changed to get it."""

    headline_clean: str
    body_clean: str
    edits: list[Edit] = []
    disguised_words: list[DisguisedWord] = []


class Cue(_Model):
    """A certainty cue: a word or phrase that hedges, boosts, negates, or conditions."""

    span: Span
    kind: Literal["hedge", "booster", "negation", "question", "conditional", "attribution", "model"]
    weight: float


class StanceProbabilities(_Model):
    """Probability of each FNC-1 stance of a body (or sentence) toward the headline."""

    agree: float = Field(ge=0.0, le=1.0)
    disagree: float = Field(ge=0.0, le=1.0)
    discuss: float = Field(ge=0.0, le=1.0)
    unrelated: float = Field(ge=0.0, le=1.0)

    def label(self) -> StanceLabel:
        """The most probable stance."""
        items: dict[StanceLabel, float] = {
            "agree": self.agree,
            "disagree": self.disagree,
            "discuss": self.discuss,
            "unrelated": self.unrelated,
        }
        return max(items, key=items.__getitem__)


class EntailmentProbabilities(_Model):
    """The entailment cross-encoder's reading of one body sentence against the headline's claim."""

    entails: float = Field(ge=0.0, le=1.0, description="P(the sentence confirms the claim).")
    neutral: float = Field(ge=0.0, le=1.0, description="P(it neither confirms nor denies it).")
    contradicts: float = Field(ge=0.0, le=1.0, description="P(it denies or refutes the claim).")

    def label(self) -> str:
        """The most probable reading."""
        items = {"entails": self.entails, "neutral": self.neutral, "contradicts": self.contradicts}
        return max(items, key=items.__getitem__)


class Stance(_Model):
    """The body's stance toward the headline."""

    label: StanceLabel
    probabilities: StanceProbabilities
    model: str = Field(description="Which model produced it (artifact name and version, or 'lexical').")


StrengthLabel = Literal["none", "correlational", "conditional_causal", "direct_causal"]


class StrengthCue(_Model):
    """A word or phrase that states a relation, or turns it conditional or null."""

    span: Span
    kind: Literal["correlational", "causal", "conditional", "negation"]


class ClaimStrength(_Model):
    """How strong a relation a text states (Yu et al. 2019): none < correlational < conditional causal < direct.

    "may cause" (conditional causal) is stronger than "is associated with" (correlational).
    """

    label: StrengthLabel
    strength: int = Field(ge=0, le=3, description="0 none, 1 correlational, 2 conditional causal, 3 direct causal.")
    score: float = Field(ge=0.0, le=1.0, description="Expected strength under the probabilities, divided by 3.")
    probabilities: dict[str, float] = {}
    cues: list[StrengthCue] = []
    sentence_index: int | None = Field(default=None, description="Body sentence it was read from (body only).")


class ClaimStrengthComparison(_Model):
    """The headline's stated relation against the strongest one among the sentences that carry its claim."""

    headline: ClaimStrength
    body: ClaimStrength | None = Field(default=None, description="None when no evidence sentence carries the claim.")
    gap: int = Field(default=0, description="headline.strength - body.strength; positive: the headline states more.")
    exaggerates: bool = False


class NumberFinding(_Model):
    """A quantity in the headline set against the body's quantity for the same thing."""

    headline: Span
    body: Span | None = None
    headline_value: float
    body_value: float | None = None
    unit: str = Field(description="What is counted: percent, count, year, money, multiplier, fraction, ...")
    context: list[str] = Field(default=[], description="Words shared by the two quantities' contexts.")
    kind: Literal["match", "mismatch", "inflated", "deflated", "unmatched"]
    relative_difference: float | None = Field(
        default=None, description="(headline - body) / |body|; None without a body quantity."
    )
    headline_qualifier: str | None = Field(default=None, description="'up to', 'about', 'more than', 'less than'.")
    body_qualifier: str | None = None


class EvidenceSentence(_Model):
    """A body sentence ranked by relevance to the headline."""

    index: int = Field(ge=0, description="Sentence number in the body, from 0.")
    span: Span
    relevance: float = Field(ge=0.0, description="Relevance to the headline (0-1, higher is more relevant).")
    stance: StanceProbabilities | None = None
    entailment: EntailmentProbabilities | None = Field(
        default=None, description="The entailment cross-encoder's probabilities (absent in the fast profile)."
    )
    certainty: float | None = Field(default=None, ge=0.0, le=1.0)
    hedged: bool = False
    cues: list[Cue] = []
    anonymous_source: bool = False
    claim_strength: ClaimStrength | None = None


class CertaintyScore(_Model):
    """How firmly a text states its claim: 0 = speculative, 1 = asserted as fact."""

    score: float = Field(ge=0.0, le=1.0)
    label: Literal["asserted", "hedged", "reported", "denied", "question"] = "asserted"
    cues: list[Cue] = []
    probabilities: dict[str, float] = {}


class Certainty(_Model):
    """Headline certainty against the certainty of the body sentences that carry its claim."""

    headline: CertaintyScore
    body: CertaintyScore
    gap: float = Field(description="headline.score - body.score; positive means the headline is surer.")


SpeakerKind = Literal["named_person", "named_organization", "anonymous", "outlet", "document", "pronoun"]


class Attribution(_Model):
    """A statement the body attributes to a source."""

    speaker: Span
    cue: Span
    content: Span | None = None
    kind: SpeakerKind = Field(
        description="Class of this mention; 'pronoun' (he, they, the researchers) is never named on its own."
    )
    sentence_index: int | None = None
    source: int | None = Field(default=None, description="Index of this mention's speaker in Sourcing.sources.")
    antecedent: Span | None = Field(
        default=None, description="For a pronoun: the named speaker or name it was resolved to."
    )


class Source(_Model):
    """One speaker: every attribution to the same person, body or group ("Jerome Powell", "Powell", "he")."""

    name: str = Field(description="The fullest named form (or the phrase of an anonymous or unresolved speaker).")
    kind: SpeakerKind
    count: int = Field(ge=1, description="Attributions to this speaker.")
    attributions: list[int] = Field(default=[], description="Indexes into Sourcing.attributions.")


class Sourcing(_Model):
    """Who the body relies on; counts are over speakers (Sourcing.sources), not attributions."""

    attributions: list[Attribution] = []
    sources: list[Source] = []
    named: int = Field(default=0, description="Named people, organisations and outlets.")
    documents: int = Field(default=0, description="Documents cited as sources: statements, reports, filings, studies.")
    anonymous: int = 0
    unresolved: int = Field(default=0, description="Speakers known only by a pronoun with no named antecedent.")
    anonymous_share: float = Field(default=0.0, ge=0.0, le=1.0, description="Anonymous share of the speakers.")
    evidence_anonymous_share: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share of the key evidence sentences resting on anonymous sources."
    )

    def count_line(self) -> str:
        """The speakers counted by class, e.g. ``2 named, 1 document, 6 anonymous`` (every class that has one)."""
        parts = [f"{self.named} named"]
        if self.documents:
            parts.append(f"{self.documents} document{'s' if self.documents != 1 else ''}")
        parts.append(f"{self.anonymous} anonymous")
        if self.unresolved:
            parts.append(f"{self.unresolved} unresolved pronoun{'s' if self.unresolved != 1 else ''}")
        return ", ".join(parts)

    def speaker_lines(self) -> list[str]:
        """One plain-text line per speaker, every one of them: name, class, count and the other forms used.

        E.g. ``Jerome Powell (named person, 3 attributions; also "Powell", "he")``. Reports without
        ``sources`` (older ones) get one line per attribution. Renderers escape the lines themselves.
        """
        if not self.sources:
            return [f"{a.speaker.text} ({a.kind.replace('_', ' ')})" for a in self.attributions]
        lines = []
        for s in self.sources:
            forms: list[str] = []
            for i in s.attributions:
                text = self.attributions[i].speaker.text if i < len(self.attributions) else ""
                if text and text != s.name and text not in forms:
                    forms.append(text)
            kind = "pronoun, unresolved" if s.kind == "pronoun" else s.kind.replace("_", " ")
            count = f"{s.count} attribution{'s' if s.count != 1 else ''}"
            also = "; also " + ", ".join(f'"{f}"' for f in forms) if forms else ""
            lines.append(f"{s.name} ({kind}, {count}{also})")
        return lines


class Marker(_Model):
    """A sensational marker in the headline (alarm emoji, BREAKING prefix, ALL CAPS ...)."""

    span: Span
    name: str
    kind: Literal[
        "alarm_emoji", "prefix", "punctuation", "all_caps", "superlative", "loaded_label", "teaser", "unsupported_claim"
    ]


class Sensational(_Model):
    """How the headline tries to grab attention."""

    clickbait_probability: float | None = Field(default=None, ge=0.0, le=1.0)
    markers: list[Marker] = []


class FactCheckMatch(_Model):
    """A stored fact-check that may cover the headline's claim."""

    claim_id: str
    claim: str
    rating: str | None = None
    reviewer: str | None = Field(default=None, description="The fact-checker that published the review.")
    url: str | None = None
    score: float = Field(description="Retrieval similarity score.")
    probability: float = Field(ge=0.0, le=1.0, description="Calibrated probability that it is the same claim.")
    claimant: str | None = Field(default=None, description="Who made the claim, as the fact-check names them.")
    claim_date: str | None = Field(default=None, description="When the claim was made, as the fact-check gives it.")
    review_date: str | None = Field(default=None, description="When the fact-check was published.")
    language: str | None = Field(default=None, description="The fact-check's language (a code such as 'en').")

    def provenance(self) -> str:
        """Who checked it and when, who claimed it and when, its language: "by PolitiFact, 2024-02-03; ...".

        The terminal, Markdown and HTML views show this line under each match; empty when the
        store holds none of it.
        """
        parts = []
        checked = ", ".join(x for x in (self.reviewer, _day(self.review_date)) if x)
        if checked:
            parts.append(f"checked by {checked}" if self.reviewer else f"checked {checked}")
        claimed = ", ".join(x for x in (self.claimant, _day(self.claim_date)) if x)
        if claimed:
            parts.append(f"claimed by {claimed}" if self.claimant else f"claimed {claimed}")
        if self.language:
            parts.append(f"language {self.language}")
        return "; ".join(parts)


def _day(value: str | None) -> str | None:
    """A timestamp's day ("2024-02-01T00:00:00Z" -> "2024-02-01"); other text as it is."""
    if value and len(value) > 10 and value[4] == "-" and value[7] == "-" and value[10] in "T ":
        return value[:10]
    return value


class Reason(_Model):
    """A plain-language reason for the verdict, pointing at the spans it rests on."""

    code: str
    text: str
    spans: list[Span] = []
    contribution: float | None = Field(
        default=None,
        description=(
            "The reason's push toward the verdict label, in log-odds units, from the verdict model; None for "
            "informational reasons (sensational markers, disguised words, fact-checks) and rule-based reasons."
        ),
    )


class Verdict(_Model):
    """The call: whether the body backs the headline."""

    label: VerdictLabel = Field(
        description=(
            "supported, overstated, contradicted, unrelated, or cannot_judge (too short a body, a language "
            "the models do not read, or no sentence confident either way); 'definition' says what it means."
        )
    )
    score: float = Field(ge=0.0, le=1.0, description="Overclaim score: 0 = fully backed, 1 = not backed at all.")
    definition: str
    reasons: list[Reason] = []
    probabilities: dict[str, float] = Field(
        default={},
        description="Calibrated probability of each verdict from the verdict model; empty when a rule decided.",
    )
    margin: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description=(
            "Top probability minus the runner-up: how close to the boundary the call is (None when a rule decided)."
        ),
    )

    @property
    def borderline(self) -> bool:
        """Whether the verdict model's call is within :data:`BORDERLINE_MARGIN` of the runner-up."""
        return self.margin is not None and self.margin < BORDERLINE_MARGIN

    def score_text(self) -> str:
        """``overclaim score 0.62``, with ``borderline (margin 0.04)`` appended when the call is borderline."""
        text = f"overclaim score {self.score:.2f}"
        return f"{text}, borderline (margin {self.margin:.2f})" if self.borderline and self.margin is not None else text


class Post(_Model):
    """The input: a headline (or caption) and the article body it sits on."""

    headline: str
    body: str
    id: str | None = None
    url: str | None = None
    outlet: str | None = None
    published: str | None = None


class Report(_Model):
    """Everything ``overclaim.check`` found about one post."""

    schema_version: str = SCHEMA_VERSION
    overclaim_version: str
    post: Post
    verdict: Verdict
    stance: Stance
    evidence: list[EvidenceSentence] = []
    certainty: Certainty
    sourcing: Sourcing = Sourcing()
    sensational: Sensational = Sensational()
    normalization: Normalization
    matches: list[FactCheckMatch] = []
    claim_strength: ClaimStrengthComparison | None = None
    numbers: list[NumberFinding] = []
    notes: list[str] = Field(default=[], description="Caveats, e.g. 'body too short to judge'.")
    elapsed_ms: float | None = None
    checked_at: datetime | None = Field(
        default=None, description="When the check ran (UTC, to the second); absent from reports before schema 1.3."
    )

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return self.model_dump_json(indent=indent)


def report_schema() -> dict[str, Any]:
    """The published JSON schema of :class:`Report`."""
    schema = Report.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://overclaim.dev/schema/report-{SCHEMA_VERSION}.json"
    schema["title"] = "overclaim report"
    return schema


def report_schema_json() -> str:
    """The published JSON schema as text."""
    return json.dumps(report_schema(), indent=2, ensure_ascii=False)
