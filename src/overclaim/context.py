"""The :class:`Context`: what the stages know about one post, read and added to stage by stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from overclaim.config import Config
from overclaim.report import (
    Certainty,
    ClaimStrengthComparison,
    DisguisedWord,
    EvidenceSentence,
    FactCheckMatch,
    NumberFinding,
    Post,
    Sensational,
    Sourcing,
    Stance,
    Verdict,
)
from overclaim.text import TextView
from overclaim.tokens import Sentence, Token


@dataclass
class Context:
    """Everything the stages know about one post; each stage reads and adds to it."""

    post: Post
    config: Config
    headline: TextView
    body: TextView
    disguised_words: list[DisguisedWord] = field(default_factory=list)
    headline_tokens: list[Token] = field(default_factory=list)
    sentences: list[Sentence] = field(default_factory=list)
    evidence: list[EvidenceSentence] = field(default_factory=list)
    stance: Stance | None = None
    certainty: Certainty | None = None
    claim_strength: ClaimStrengthComparison | None = None
    numbers: list[NumberFinding] = field(default_factory=list)
    sourcing: Sourcing = field(default_factory=Sourcing)
    sensational: Sensational = field(default_factory=Sensational)
    matches: list[FactCheckMatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    verdict: Verdict | None = None
    too_short: bool = False
    # Free-form scratch space for stages that share intermediate results.
    extras: dict[str, Any] = field(default_factory=dict)
