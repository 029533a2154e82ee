"""The embedding re-ranker's linear adapters (post embedding q -> unit(q + qA)), trained and applied out of fold.

Part of :mod:`overclaim.training.claim_matching`, which re-exports every name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from overclaim.stages.match import (
    EMBED_FEATURES,
    ClaimEmbeddings,
    embedding_features,
)
from overclaim.training.claim_matching_examples import QueryCandidates
from overclaim.training.clef import SEED, _folds

ADAPTER_EPOCHS = 10
ADAPTER_SCALE = 50.0
ADAPTER_LR = 1e-3
ADAPTER_BATCH = 64


def train_adapter(
    queries: np.ndarray, targets: Sequence[int], embedded: ClaimEmbeddings, seed: int = SEED
) -> np.ndarray:
    """The query adapter (float16, ``384 x 384``) for post embeddings ``queries`` and their claim rows ``targets``."""
    import torch

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    claims = torch.tensor(embedded.claims)
    titles = torch.tensor(embedded.titles)
    q_all = torch.tensor(np.asarray(queries, dtype=np.float32))
    tgt = torch.tensor(list(targets), dtype=torch.long)
    dim = q_all.shape[1]
    adapter = torch.nn.Parameter(torch.zeros(dim, dim))
    opt = torch.optim.Adam([adapter], lr=ADAPTER_LR)
    for _ in range(ADAPTER_EPOCHS):
        perm = torch.randperm(len(q_all), generator=gen)
        for start in range(0, len(q_all), ADAPTER_BATCH):
            batch = perm[start : start + ADAPTER_BATCH]
            q = torch.nn.functional.normalize(q_all[batch] + q_all[batch] @ adapter, dim=1)
            sims = (q @ claims.T + q @ titles.T) / 2
            loss = torch.nn.functional.cross_entropy(ADAPTER_SCALE * sims, tgt[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return adapter.detach().numpy().astype(np.float16)


def _adapter_pairs(
    groups: Sequence[QueryCandidates], qrels: Mapping[str, set[str]], embedded: ClaimEmbeddings
) -> list[tuple[int, int]]:
    """(group index, claim row) for each query with an embedding and a relevant stored claim (lowest id)."""
    out = []
    for i, g in enumerate(groups):
        rows = sorted(embedded.index[c] for c in qrels.get(g.qid, ()) if c in embedded.index)
        if g.embedding is not None and rows:
            out.append((i, rows[0]))
    return out


def _post_vectors(groups: Sequence[QueryCandidates], rows: Iterable[int], e5: bool) -> np.ndarray:
    """The e5 (``e5``) or MiniLM post vectors of ``groups[i]`` for ``i`` in ``rows`` (all embedded)."""
    picked = [groups[i].embedding for i in rows]
    return np.stack([q.e5 if e5 else q.whole for q in picked])  # type: ignore[union-attr,misc]


def _fit_adapters(
    groups: Sequence[QueryCandidates], pairs: Sequence[tuple[int, int]], embedded: ClaimEmbeddings
) -> tuple[np.ndarray, np.ndarray]:
    """The MiniLM adapter (against MiniLM claim vectors) and the e5 one (against e5's) for ``pairs``."""
    index = [i for i, _ in pairs]
    targets = [row for _, row in pairs]
    return (train_adapter(_post_vectors(groups, index, e5=False), targets, embedded),
            train_adapter(_post_vectors(groups, index, e5=True), targets, embedded.e5_space))


def oof_adapter_features(
    groups: Sequence[QueryCandidates], qrels: Mapping[str, set[str]], embedded: ClaimEmbeddings, seed: int = SEED,
    extras: Sequence[QueryCandidates] = (),
) -> None:
    """Fill the ``adapt_*`` and ``e5a_*`` columns with out-of-fold adapters (the 5 folds of ``seed``).

    A query's adapter features come from adapters that never saw it, so the ranker learns
    how far to trust them on unseen posts. ``extras`` get the adapters of their source query's fold.
    """
    pairs = _adapter_pairs(groups, qrels, embedded)
    for fold in _folds(len(groups), seed=seed):
        held = set(fold.tolist())
        adapter, e5_adapter = _fit_adapters(groups, [(i, row) for i, row in pairs if i not in held], embedded)
        for g in [*(groups[i] for i in fold), *(g for g in extras if g.source in held)]:
            if g.embedding is not None and len(g.ids):
                space = embedded.subset(g.subset) if g.subset is not None else embedded
                g.features[:, -len(EMBED_FEATURES):] = embedding_features(
                    space, g.embedding, g.ids, adapter=adapter, e5_adapter=e5_adapter, skip=g.skip)


def add_adapter_features(
    groups: Sequence[QueryCandidates], qrels: Mapping[str, set[str]], embedded: ClaimEmbeddings,
    extras: Sequence[QueryCandidates] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Fill the adapter columns out of fold (:func:`oof_adapter_features`); return both adapters fit on all pairs."""
    oof_adapter_features(groups, qrels, embedded, extras=extras)
    return _fit_adapters(groups, _adapter_pairs(groups, qrels, embedded), embedded)
