"""The pipeline: runs the analysis stages in order over one post.

    normalize -> segment -> evidence -> entailment -> stance -> certainty -> claim_strength
              -> numbers -> sourcing -> sensational -> match -> verdict

Each profile (``Config.profile``) leaves out the stages named in :data:`PROFILE_SKIP`.

Each stage is a class in ``overclaim/stages/<name>.py`` taking a
:class:`~overclaim.config.Config` and deriving from :class:`~overclaim.stages.base.Stage`:
``batch(contexts)`` (or ``__call__(ctx)`` for one post) reads and adds to each
:class:`~overclaim.context.Context`. Stages load their models lazily, once per
:class:`Checker`, so a ``Checker`` is cheap to build and fast to reuse.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

from overclaim.config import DEFAULT_CONFIG, Config
from overclaim.context import Context
from overclaim.errors import EmptyFieldError, InputError, WrongTypeError, panics_as_errors
from overclaim.report import (
    VERDICT_DEFINITIONS,
    Certainty,
    CertaintyScore,
    Normalization,
    Post,
    Report,
    Stance,
    StanceProbabilities,
    Verdict,
)
from overclaim.stages.base import Stage
from overclaim.text import TextView
from overclaim.tokens import Sentence, Token  # noqa: F401 - re-exported: stages imported them from here
from overclaim.version import __version__

# Stage name -> "module:Class". The order is the order they run in.
STAGES: list[tuple[str, str]] = [
    ("normalize", "overclaim.stages.normalize:Normalizer"),
    ("segment", "overclaim.stages.segment:Segmenter"),
    ("evidence", "overclaim.stages.evidence:EvidenceRanker"),
    ("entailment", "overclaim.stages.entailment:EntailmentScorer"),
    ("stance", "overclaim.stages.stance:StanceDetector"),
    ("certainty", "overclaim.stages.certainty:CertaintyScorer"),
    ("claim_strength", "overclaim.stages.claim_strength:ClaimStrengthScorer"),
    ("numbers", "overclaim.stages.numbers:NumberChecker"),
    ("sourcing", "overclaim.stages.sourcing:SourceFinder"),
    ("sensational", "overclaim.stages.sensational:SensationalDetector"),
    ("match", "overclaim.stages.match:FactCheckMatcher"),
    ("verdict", "overclaim.stages.verdict:VerdictMaker"),
]


# Stages each profile (Config.profile) leaves out. "default" runs them all, the entailment
# cross-encoder included; "fast" leaves out the cross-encoder and the claim-strength and numbers
# stages, release 0.1's pipeline, for triaging millions of posts. Each has its own verdict model,
# trained on the features it computes.
PROFILE_SKIP: dict[str, frozenset[str]] = {
    "default": frozenset(),
    "fast": frozenset({"entailment", "claim_strength", "numbers"}),
}
PROFILES: tuple[str, ...] = tuple(PROFILE_SKIP)


def _load_stage(spec: str, config: Config, options: dict[str, Any]) -> Stage:
    module_name, class_name = spec.split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    stage: Stage = cls(config, **options) if options else cls(config)
    return stage


def _as_text(value: object, name: str) -> str:
    if value is None:
        raise EmptyFieldError("is missing", field=name)
    if not isinstance(value, str):
        raise WrongTypeError(f"must be text, got {type(value).__name__}", field=name)
    return value


class Checker:
    """Checks posts; build one and reuse it: models load once, on first use.

    Args:
        config: thresholds; defaults to :data:`~overclaim.config.DEFAULT_CONFIG`.
        factchecks: fact-check store (SQLite path or database URL) for the
            ``matches`` block; ``None`` skips fact-check matching.
        skip: names of stages to leave out (e.g. ``{"match"}``).
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        factchecks: str | None = None,
        skip: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        self.config = config or DEFAULT_CONFIG
        self.factchecks = factchecks
        self.skip = frozenset(skip)
        self._stages: list[Stage] | None = None

    @property
    def stages(self) -> list[Stage]:
        """The stage objects, built on first use."""
        if self._stages is None:
            stages = []
            if self.config.profile not in PROFILE_SKIP:
                raise InputError(
                    f"unknown profile {self.config.profile!r}; expected one of {', '.join(PROFILES)}", field="profile"
                )
            skip = self.skip | PROFILE_SKIP[self.config.profile]
            for name, spec in STAGES:
                if name in skip:
                    continue
                options: dict[str, Any] = {"store": self.factchecks} if name == "match" else {}
                stages.append(_load_stage(spec, self.config, options))
            self._stages = stages
        return self._stages

    def warm_up(self) -> None:
        """Load every model now rather than on the first post."""
        # Non-ASCII text loads the confusables table too; "said" exercises the sourcing patterns.
        self.check("Warm-up héadline: Тest", "The warm-up body says something about the headline, officials said.")

    def check(
        self,
        headline: str,
        body: str,
        *,
        id: str | None = None,
        url: str | None = None,
        outlet: str | None = None,
        published: str | None = None,
    ) -> Report:
        """Check one post: whether ``body`` backs ``headline``.

        Raises:
            EmptyFieldError: headline or body missing or blank.
            WrongTypeError: a field is not text (``id=5``).
            InputError: text with NUL characters or lone surrogates (as every reader refuses).
        """
        from overclaim.readers import check_text

        headline = _as_text(headline, "headline")
        body = _as_text(body, "body")
        if not headline.strip():
            raise EmptyFieldError("is empty", field="headline")
        if not body.strip():
            raise EmptyFieldError("is empty", field="body")
        meta = {"id": id, "url": url, "outlet": outlet, "published": published}
        for name, value in meta.items():
            if value is not None and not isinstance(value, str):
                raise WrongTypeError(f"must be text, got {type(value).__name__}", field=name)
        for name, value in {"headline": headline, "body": body, **meta}.items():
            if value is not None:
                check_text(value, field=name)
        post = Post(headline=headline, body=body, id=id, url=url, outlet=outlet, published=published)
        return self.check_post(post)

    def check_post(self, post: Post) -> Report:
        """Check a :class:`~overclaim.report.Post`."""
        started = time.perf_counter()
        ctx = self._context(post)
        with panics_as_errors():
            for stage in self.stages:
                stage(ctx)
        return build_report(ctx, elapsed_ms=(time.perf_counter() - started) * 1000)

    def check_many(self, posts: Sequence[Post]) -> list[Report]:
        """Check several posts: the same reports as :meth:`check_post` on each, in order, for less CPU.

        The posts go through the pipeline in groups of ``config.batch_posts``: each stage runs
        over the whole group before the next one starts, so its code, lexicons and models stay
        in the CPU cache, and a stage with a ``batch(contexts)`` method (stance) scores the
        group in one model call. A report's ``elapsed_ms`` is its group's time divided by the
        group's size.

        Raises:
            OverclaimError: the first error of any post; the other posts' reports are lost,
                so callers that must keep them check the group again post by post.
        """
        reports: list[Report] = []
        size = max(1, self.config.batch_posts)
        for i in range(0, len(posts), size):
            group = posts[i : i + size]
            started = time.perf_counter()
            with gc_paused(), panics_as_errors():
                contexts = self.run_stages(group)
                elapsed_ms = (time.perf_counter() - started) * 1000 / len(group)
                reports.extend(build_report(ctx, elapsed_ms=elapsed_ms) for ctx in contexts)
        return reports

    def run_stages(self, posts: Sequence[Post]) -> list[Context]:
        """Run the stages over one group of posts, stage by stage, and return their contexts.

        For callers that need what the stages found rather than reports (training code builds
        features this way, so they are the pipeline's own); a ``Checker(skip=...)`` runs a prefix.
        """
        contexts = [self._context(post) for post in posts]
        for stage in self.stages:
            stage.batch(contexts)
        return contexts

    def _context(self, post: Post) -> Context:
        ctx = Context(
            post=post,
            config=self.config,
            headline=TextView("headline", post.headline[: self.config.max_headline_chars]),
            body=TextView("body", post.body[: self.config.max_body_chars]),
        )
        if len(post.headline) > self.config.max_headline_chars:
            ctx.notes.append(f"Headline cut to its first {self.config.max_headline_chars} characters.")
        if len(post.body) > self.config.max_body_chars:
            ctx.notes.append(f"Body cut to its first {self.config.max_body_chars} characters.")
        return ctx


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a group of posts is checked.

    Callers that drop the reports right away (check processes, batch workers) wrap their whole
    call in it too: the collector then runs after the reports are freed, with little left to walk.

    A group keeps many young objects alive at once, so the collector runs often and, each time
    it reaches the oldest generation, walks every object of the loaded models too: 7% of
    ``check_many``'s time on the FNC-1 test posts and 16% on the seed post, measured with
    ``gc.callbacks``. The pipeline's garbage is freed by reference counting as before; any
    cycles are collected once the collector runs again, after the group. Restores the
    collector's previous state (it stays off if the caller had turned it off).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_report(ctx: Context, elapsed_ms: float | None = None) -> Report:
    """Assemble the :class:`Report` from a context the stages have filled."""
    stance = ctx.stance or Stance(
        label="unrelated",
        probabilities=StanceProbabilities(agree=0.0, disagree=0.0, discuss=0.0, unrelated=1.0),
        model="none",
    )
    certainty = ctx.certainty or Certainty(headline=CertaintyScore(score=0.5), body=CertaintyScore(score=0.5), gap=0.0)
    verdict = ctx.verdict or Verdict(
        label=stance.label if stance.label == "unrelated" else "overstated",
        score=0.5,
        definition=VERDICT_DEFINITIONS["overstated"],
    )
    edits = [
        {
            "span": {"field": view.field, "start": e.start, "end": e.end, "text": e.original},
            "original": e.original,
            "replacement": e.replacement,
            "kind": e.kind,
            "confidence": e.confidence,
        }
        for view in (ctx.headline, ctx.body)
        for e in view.edits
    ]
    normalization = Normalization.model_validate(
        {
            "headline_clean": ctx.headline.clean,
            "body_clean": ctx.body.clean,
            "edits": edits,
            "disguised_words": [d.model_dump() for d in ctx.disguised_words],
        }
    )
    return Report(
        overclaim_version=__version__,
        post=ctx.post,
        verdict=verdict,
        stance=stance,
        evidence=ctx.evidence,
        certainty=certainty,
        sourcing=ctx.sourcing,
        sensational=ctx.sensational,
        normalization=normalization,
        matches=ctx.matches,
        claim_strength=ctx.claim_strength,
        numbers=ctx.numbers,
        notes=ctx.notes,
        elapsed_ms=round(elapsed_ms, 3) if elapsed_ms is not None else None,
        checked_at=datetime.now(timezone.utc).replace(microsecond=0),
    )
