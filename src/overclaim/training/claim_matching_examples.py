"""Training groups of the claim-matching trainer: each query's candidates, and the posts that match no stored claim.

The calibrator learns to abstain from these (held-out claims, swapped names, numbers and words,
content-free posts, small stores). Part of :mod:`overclaim.training.claim_matching`, which re-exports every name.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from overclaim.stages.match import (
    _NAME_RE,
    _NUM_RE,
    ClaimMatcher,
    QueryEmbedding,
    _stem,
    _weight,
    abstain_features,
    content_words,
    expand,
    strip_signature,
)
from overclaim.store.factchecks import FactCheck
from overclaim.training.clef import SEED, ClefSplit, same_claims, verbatim_copies


@dataclass
class QueryCandidates:
    """One query's candidates, their features and labels.

    Abstention training adds queries made from a train query (``source``, its index among the
    train groups): the same query with its claims held out of the store (``skip``), a copy with
    a name, number or word swapped, a content-free query, or a small store (``subset``: the only
    stored claims). ``abstain`` holds their :data:`~overclaim.stages.match.ABSTAIN_FEATURES`.
    """

    qid: str
    ids: list[str]
    features: np.ndarray
    labels: np.ndarray
    embedding: QueryEmbedding | None = None
    abstain: np.ndarray | None = None
    found: list[tuple[FactCheck, float]] | None = None
    text: str = ""
    source: int = -1
    skip: frozenset[str] = frozenset()
    subset: list[str] | None = None
    kind: str = "train"
    same: np.ndarray | None = None

    @property
    def same_claim(self) -> np.ndarray:
        """Labels counting a verbatim copy of a right claim as right (the calibrator's labels)."""
        return self.labels if self.same is None else self.same


def query_candidates(
    matcher: ClaimMatcher, qid: str, text: str, relevant: Collection[str], exclude: Collection[str] = (),
    kind: str = "train", source: int = -1, same: Collection[str] = (),
) -> QueryCandidates:
    """Retrieve and featurize the candidates of one query (claims ``exclude`` held out of the store).

    ``same``: claims that count as right for the calibrator besides ``relevant`` (their verbatim copies).
    """
    query, found, _, qvec = matcher._retrieve(text, exclude=exclude)
    feats = matcher.features(query, found, qvec, post=text, skip=exclude)
    ids = [fc.claim_id for fc, _ in found]
    labels = np.array([1 if cid in relevant else 0 for cid in ids], dtype=np.int32)
    same_labels = np.array([1 if cid in relevant or cid in same else 0 for cid in ids], dtype=np.int32)
    return QueryCandidates(qid, ids, feats, labels, qvec, abstain_features(query, [fc for fc, _ in found]),
                           found=found, text=text, source=source, skip=frozenset(exclude), kind=kind,
                           same=same_labels)


# Content-free posts for abstention training: a word or two that states no claim (as in "video" or
# "lol" matched at 0.87-0.94 before); more single words are drawn from the train tweets.
CONTENT_FREE = (
    "video", "lol", "wow", "omg", "breaking", "news", "breaking news", "this", "true", "fake", "fake news",
    "watch", "look", "must watch", "thread", "photo", "unbelievable", "amazing", "sad", "why", "listen",
    "read this", "wtf", "hmm", "share", "retweet", "facts", "crazy", "so true", "no way", "hoax", "today",
    "update", "please share", "the truth", "wake up", "interesting", "lies", "viral", "real",
)
# Single words drawn from the train tweets as content-free posts (besides CONTENT_FREE).
CONTENT_FREE_DRAWN = 160
# Stored claims made into posts for abstention training: the claim with a name, number or word of
# its own swapped (near-verbatim, yet another claim: label 0), and its title as the post (the same
# claim in other words: label 1 for the claim and its copies).
CLAIM_POSTS = 600
# A stored claim re-posted as it stands (label 1), so that a post repeating a claim word for word
# reads as the same claim and not as a swapped copy (as the swapped claims alone taught).
COPY_PREFIXES = ("", "BREAKING: ", "\U0001f6a8 ", "Wow. ", "So apparently ")
# Candidates per small store drawn from a query's candidates (a fact-checker's own store of a few records).
SMALL_STORE_SIZES = (1, 2, 3, 5)


def swapped_query(text: str, gold: str, names: Sequence[str], vocabulary: Sequence[str],
                  rng: np.random.Generator) -> tuple[str, str] | None:
    """``text`` with a name, else a number, else a word (drawn) that it shares with ``gold`` put for another.

    The claim then differs from ``gold`` in who, how many or what (Obama for Biden, tea for coffee).

    Returns:
        The new text and what was swapped (``swap_name``, ``swap_number``, ``swap_word``), or ``None``.
    """
    import re

    body = strip_signature(text)
    gold_lower = gold.lower()
    gold_stems = {_stem(w) for w in content_words(gold)}
    shared_names = [n for n in dict.fromkeys(_NAME_RE.findall(body)) if n.lower() in gold_lower]
    if shared_names:
        old = shared_names[int(rng.integers(len(shared_names)))]
        pool = [n for n in names if n.lower() not in gold_lower]
        new = pool[int(rng.integers(len(pool)))].capitalize()
        return re.sub(rf"\b{re.escape(old)}\b", new, text), "swap_name"
    shared_numbers = [n for n in dict.fromkeys(_NUM_RE.findall(body))
                      if re.search(rf"\b{re.escape(n)}\b", gold)]
    if shared_numbers:
        old = shared_numbers[int(rng.integers(len(shared_numbers)))]
        digits = old.replace(",", "").replace(".", "")
        new = str(int(digits) * 3 + 7) if digits.isdigit() else "12"
        return re.sub(rf"\b{re.escape(old)}\b", new, text), "swap_number"
    shared = [w for w in dict.fromkeys(content_words(body))
              if w.isalpha() and _stem(w) in gold_stems and _weight(w) >= 2.5]
    if not shared:
        return None
    old = shared[int(rng.integers(len(shared)))]
    pool = [w for w in vocabulary if abs(_weight(w) - _weight(old)) <= 1.0 and _stem(w) not in gold_stems]
    if not pool:
        return None
    new = pool[int(rng.integers(len(pool)))]
    return re.sub(rf"\b{re.escape(old)}\b", new, text, flags=re.IGNORECASE), "swap_word"


def hard_negatives(
    matcher: ClaimMatcher, split: ClefSplit, groups: Sequence[QueryCandidates], claims: Sequence[FactCheck],
    seed: int = SEED,
) -> list[QueryCandidates]:
    """Queries that match no stored claim, each tied to a train group (``source``) for its CV fold.

    Every train query with its claims (and their verbatim copies) held out of the store; a copy of
    each with a name, number or word its claim holds swapped for another (:func:`swapped_query`; its
    candidates all labelled 0: the stored claim is no longer the same claim); content-free posts
    (:data:`CONTENT_FREE` and :data:`CONTENT_FREE_DRAWN` single words of the train tweets); and small stores (a few of a
    query's candidates as the whole store, :data:`SMALL_STORE_SIZES`) for the train, held-out and
    swapped queries, so that a lone candidate's lead over no rival does not read as a match. And
    :data:`CLAIM_POSTS` stored claims as posts: with a word of their own swapped (label 0), and
    their title or the claim re-posted word for word (label 1 for the claim and its copies).
    """
    rng = np.random.default_rng(seed)
    by_id = {fc.claim_id: fc for fc in claims}
    copies = verbatim_copies(claims)
    names = sorted({n.lower() for fc in claims for n in _NAME_RE.findall(fc.claim) if _weight(n.lower()) >= 4.0})
    vocabulary = sorted({w for fc in claims for w in content_words(fc.claim) if w.isalpha() and len(w) > 3})
    out: list[QueryCandidates] = []
    swaps: list[QueryCandidates] = []
    for i, g in enumerate(groups):
        relevant = split.qrels[g.qid]
        out.append(query_candidates(matcher, g.qid, g.text, (), exclude=same_claims(relevant, copies),
                                    kind="held_out", source=i))
        gold = " ".join(f"{by_id[c].claim} {by_id[c].title or ''}" for c in sorted(relevant) if c in by_id)
        swapped = swapped_query(g.text, gold, names, vocabulary, rng)
        if swapped is not None:
            swaps.append(query_candidates(matcher, g.qid, swapped[0], (), kind=swapped[1], source=i))
    for n, row in enumerate(rng.choice(len(claims), size=min(CLAIM_POSTS, len(claims)), replace=False)):
        fc = claims[int(row)]
        source = int(rng.integers(len(groups)))
        swapped = swapped_query(fc.claim, f"{fc.claim} {fc.title or ''}", names, vocabulary, rng)
        if swapped is not None:
            swaps.append(query_candidates(matcher, f"claim{n}", swapped[0], (), kind=f"claim_{swapped[1]}",
                                          source=source))
        same = copies.get(fc.claim_id, frozenset({fc.claim_id}))
        if fc.title:
            out.append(query_candidates(matcher, f"title{n}", fc.title, same, kind="claim_title", source=source,
                                        same=same))
        repost = COPY_PREFIXES[n % len(COPY_PREFIXES)] + fc.claim.rstrip(".")
        out.append(query_candidates(matcher, f"copy{n}", repost, same, kind="claim_copy", source=source, same=same))
    out.extend(swaps)
    tweet_words = sorted({w for g in groups for w in content_words(strip_signature(g.text)) if w.isalpha()})
    drawn = rng.choice(tweet_words, size=min(CONTENT_FREE_DRAWN, len(tweet_words)), replace=False)
    for n, text in enumerate([*CONTENT_FREE, *drawn]):
        out.append(query_candidates(matcher, f"free{n}", str(text), (), kind="content_free",
                                    source=int(rng.integers(len(groups)))))
    for g in [*groups, *out[: len(groups)], *swaps]:
        small = small_store(matcher, g, rng)
        if small is not None:
            out.append(small)
    return out


def small_store(matcher: ClaimMatcher, g: QueryCandidates, rng: np.random.Generator) -> QueryCandidates | None:
    """``g``'s query against a store of a few of its candidates (its right claim kept, if it has one)."""
    if not g.found:
        return None
    size = SMALL_STORE_SIZES[int(rng.integers(len(SMALL_STORE_SIZES)))]
    positives = [i for i, y in enumerate(g.same_claim) if y]
    others = [i for i in range(min(10, len(g.ids))) if i not in positives]
    take = positives[:1] + [int(i) for i in rng.permutation(others)[: size - len(positives[:1])]]
    take.sort()
    if not take:
        return None
    found = [g.found[i] for i in take]
    ids = [g.ids[i] for i in take]
    embedded = matcher.claim_embeddings.subset(ids) if matcher.embeddings else None
    query = expand(g.text)
    feats = matcher.features(query, found, g.embedding, post=g.text, embedded=embedded)
    return QueryCandidates(g.qid, ids, feats, g.labels[take], g.embedding,
                           abstain_features(query, [fc for fc, _ in found]), found=found, text=g.text,
                           source=g.source, subset=ids, kind=f"small_{g.kind}", same=g.same_claim[take])



def candidates_for(
    matcher: ClaimMatcher, split: ClefSplit, copies: Mapping[str, frozenset[str]] | None = None,
) -> list[QueryCandidates]:
    """Retrieve and featurize candidates for every query with judgements (in id order).

    ``copies`` (:func:`verbatim_copies`) makes a right claim's copies right for the calibrator.
    """
    out: list[QueryCandidates] = []
    for qid in sorted(split.qrels, key=lambda q: (len(q), q)):
        text = split.queries.get(qid)
        if text is None:
            continue
        relevant = split.qrels[qid]
        same = same_claims(relevant, copies) if copies else ()
        out.append(query_candidates(matcher, qid, text, relevant, source=len(out), same=same))
    return out
