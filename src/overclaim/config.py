"""Every threshold and tunable in one place, each with how it was set.

Values were tuned on validation splits of the training data (never on a test
set); the comment on each says which data and how. Override any of them with
``Config(**changes)`` or ``Checker(config=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Config:
    """Thresholds and sizes used by the pipeline stages."""

    # --- pipeline ----------------------------------------------------------
    # Posts that Checker.check_many (batch runs, the service under load) takes through the
    # stages together. Measured on the 904 FNC-1 test posts, one core: stage by stage over
    # groups of 16 costs about a fifth less CPU than post by post (caches stay warm, and the
    # stance model scores 16 bodies in one call). 16 is also the most rows the stance model
    # scores through its merged booster, which keeps the reports identical to check_post's.
    batch_posts: int = 16

    # Which stages run (pipeline.PROFILE_SKIP). "default": every stage, the entailment
    # cross-encoder included; its readings are features of the verdict model, which weighs them
    # against the rest. On the verdict model's validation split (the one its settings were chosen
    # on), macro-F1 default / fast: FNC-1 0.643 / 0.701, XNLI English dev 0.516 / 0.372,
    # Perspectrum dev 0.489 / 0.404 (the profiles differ in three stages, not only the
    # cross-encoder). "fast": without the cross-encoder, the claim-strength and numbers stages,
    # release 0.1's pipeline, for triaging millions of posts (see benchmarks/check_throughput.py).
    profile: str = "default"

    # --- segment -----------------------------------------------------------
    # Longest body analysed, in characters. FNC-1's longest body is ~40k chars;
    # 1 MB bodies are cut here so a single post cannot stall a batch.
    max_body_chars: int = 200_000
    # Longest headline analysed; captions longer than this are cut.
    max_headline_chars: int = 2_000

    # --- evidence ----------------------------------------------------------
    # Body sentences kept as evidence, best first. 5 fits one screen.
    evidence_top_k: int = 5
    # Sentences under this IDF-weighted headline-term coverage are not evidence.
    # Set on FNC-1 train (body-held-out split): below 0.10 almost all pairs are unrelated.
    evidence_min_relevance: float = 0.10

    # --- entailment --------------------------------------------------------
    # Body sentences the cross-encoder reads per post: the most relevant ones (evidence stage's
    # coverage score), at most this many. It costs about 4-6 ms a sentence on one core, so it is
    # the pipeline's main cost; a cap also bounds a 1 MB body or one of 5,000 one-word sentences
    # (a note says when sentences were left unread). FNC-1 test posts have 1.7 such sentences on
    # average; 6 covers the evidence shown (5) and one more candidate.
    entailment_max_sentences: int = 6
    # Sentences with less headline coverage than this are not read (they are evidence of nothing):
    # the evidence stage's own floor.
    entailment_min_relevance: float = 0.10
    # How much a sentence's decisiveness (max of P(entails), P(contradicts)) adds to its relevance
    # when the evidence sentences are ranked, so a sentence that settles the claim in other words
    # is shown ahead of one that only repeats its words. Set by hand, not calibrated (no labelled
    # evidence rankings exist yet): at 0.5 a sure reading (0.9) lifts a sentence by 0.45 relevance.
    evidence_decisive_weight: float = 0.5

    # --- verdict -----------------------------------------------------------
    # A body with fewer content words than this is "too short to judge" (verdict cannot_judge).
    # 3: one plain sentence ("The council approved the budget on Tuesday", 4 content words) can be
    # judged, and claim-versus-evidence and debate sets pair a claim with one such sentence, while
    # "Read more at the link." or "Developing story." (2) cannot. It was 8, which called 76% of the
    # Perspectrum dev perspectives and 44% of the XNLI English dev premises too short (3: 3.3%).
    min_body_words: int = 3
    # Headline certainty minus body certainty above this counts as a certainty jump.
    certainty_gap_threshold: float = 0.25
    # The verdict model's top calibrated probability under this is no call: `cannot_judge` ("no
    # sentence addresses the claim confidently either way"). Set by hand and measured on the
    # verdict model's validation split: 3.2% of its posts fall under 0.4 (fast profile 3.9%), and
    # the model is right on 45% of them (fast 39%) against 77% (74%) of the others.
    cannot_judge_below: float = 0.4
    # Share of the key evidence resting on anonymous sources that an overstated verdict names as
    # information ("6 of 9 sources are unnamed ..."), when the model's push did not make it a reason.
    # Hand-set: "mostly".
    anonymous_share_threshold: float = 0.5
    # Most reasons listed in a verdict.
    max_reasons: int = 5

    # --- match -------------------------------------------------------------
    # The shown threshold: fact-checks with a calibrated same-claim probability under this are not
    # shown, nor made a reason in the verdict (users complain about false matches more than about
    # misses). Read off the train-CV table of both claim-matching cards (`train_cv_abstention`:
    # CLEF 2020 train, 5 folds, calibrator out of fold): the lowest threshold at which at most 8% of
    # train queries whose claims are held out of the store are shown any match (the false-match
    # rate; 8% leaves room under the 10% asked for on unseen posts). Default re-ranker, train CV at
    # 0.35 / 0.4: false-match rate 0.089 / 0.069, shown precision 0.964 / 0.974, shown recall 0.639 /
    # 0.605; CLEF 2020 dev at 0.4: false-match rate 0.091, shown precision 0.969, shown recall 0.548
    # (the calibrator before, at 0.5: false-match rate 0.50, precision 0.89, recall 0.82). Embedding
    # re-ranker: train CV at 0.35 already 0.063 (one threshold serves both: the stricter); dev at 0.4:
    # false-match rate 0.056, shown precision 0.987, shown recall 0.670.
    match_min_probability: float = 0.4
    match_top_k: int = 3
    # Sentence-embedding candidates and cosine features (needs the `embeddings` extra;
    # uses the claim_matching_embed re-ranker).
    match_embeddings: bool = False
    # Seconds an empty fact-check store is taken as still empty before it is asked again.
    # Searching an empty store costs 1.6 ms a post (FTS and LSH queries, measured on the seed
    # post), a quarter of the pipeline; the size check costs ~0.05 ms. A running service sees a
    # first import within this time.
    match_empty_recheck_s: float = 2.0
    # Which fact-checks may be shown (store.factchecks.FactCheckFilter): the user's choice, not
    # tuned; empty / None shows every one. Language codes ("en" takes "en-GB"); the review (else
    # claim) date at most this many days old; publisher names or sites ("afp", "politifact.com").
    match_languages: tuple[str, ...] = ()
    match_max_age_days: int | None = None
    match_publishers: tuple[str, ...] = ()

    # Free-form numbers for experiments, by name; no stage reads them by default.
    extra: dict[str, float] = field(default_factory=dict)


DEFAULT_CONFIG = Config()
