"""FNC-1 reading and scoring, stance features, the body split, and the train/eval commands."""

from __future__ import annotations

import csv
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from overclaim.cli import app
from overclaim.errors import DataError, FileNotFound
from overclaim.resources import model_card
from overclaim.training import fnc
from overclaim.training import stance as st

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fnc1"

STORIES = [
    # (claim words, body sentences): each story gets agree / disagree / discuss headlines.
    ("spider burrowed tourist stomach chest", "A tourist said a spider burrowed into his stomach and chest."),
    ("meteorite crashed managua crater airport", "A meteorite crashed near the Managua airport leaving a crater."),
    ("apple watch battery lasts week", "Apple said its watch battery lasts a full week on one charge."),
    ("isis fighters captured town border", "Fighters from ISIS captured a town near the border on Monday."),
    ("bear attack ringtone saved hunter", "A ringtone scared off a bear and saved the hunter in the attack."),
    ("banksy arrested london police identity", "London police arrested Banksy and revealed his identity."),
]


def _write_fnc(folder: Path, split: str, repeat: int = 2) -> tuple[Path, Path]:
    """A small FNC-format pair of files: every story with an agree, disagree, discuss and unrelated pair."""
    bodies_path = folder / f"{split}_bodies.csv"
    stances_path = folder / f"{split}_stances.csv"
    with bodies_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Body ID", "articleBody"])
        for i, (_, sentence) in enumerate(STORIES):
            for r in range(repeat):
                w.writerow([i * 10 + r, f"{sentence} Officials confirmed it on day {r}.\n\nMore details followed."])
    with stances_path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Headline", "Body ID", "Stance"])
        for i, (claim, _) in enumerate(STORIES):
            other = STORIES[(i + 1) % len(STORIES)][0]
            for r in range(repeat):
                bid = i * 10 + r
                w.writerow([f"Confirmed: {claim}", bid, "agree"])
                w.writerow([f"Hoax: {claim} is fake, police deny it", bid, "disagree"])
                w.writerow([f"Reports claim {claim}, allegedly", bid, "discuss"])
                w.writerow([f"{other} shocks everyone", bid, "unrelated"])
    return stances_path, bodies_path


@pytest.fixture()
def small_fnc(tmp_path: Path) -> Path:
    _write_fnc(tmp_path, "train", repeat=3)
    _write_fnc(tmp_path, "competition_test", repeat=1)
    return tmp_path


# ---------------------------------------------------------------------- scorer
@pytest.mark.parametrize(
    ("gold", "pred", "expected"),
    [
        (["agree", "unrelated"], ["agree", "unrelated"], (1.25, 1.25)),
        (["agree", "unrelated"], ["discuss", "unrelated"], (0.5, 1.25)),  # related right, label wrong
        (["agree", "unrelated"], ["unrelated", "agree"], (0.0, 1.25)),
        (["disagree"], ["unrelated"], (0.0, 1.0)),
        (["unrelated"], ["discuss"], (0.0, 0.25)),
    ],
)
def test_fnc_score_matches_official_weights(gold: list[str], pred: list[str], expected: tuple[float, float]) -> None:
    assert fnc.fnc_score(gold, pred) == expected


def test_report_is_consistent_with_confusion() -> None:
    gold = ["agree", "agree", "disagree", "discuss", "unrelated", "unrelated"]
    pred = ["agree", "discuss", "disagree", "discuss", "unrelated", "agree"]
    r = fnc.report(gold, pred)
    matrix = r["confusion"]
    assert sum(map(sum, matrix)) == len(gold)
    assert [matrix[i][i] for i in range(4)] == [1, 1, 1, 1]
    assert r["f1"]["disagree"] == 1.0
    assert r["macro_f1"] == pytest.approx(sum(r["f1"].values()) / 4, abs=1e-4)


# ---------------------------------------------------------------------- reading
def test_load_reads_pairs_and_bodies(small_fnc: Path) -> None:
    data = fnc.load_split(small_fnc, "train")
    assert len(data.pairs) == len(STORIES) * 3 * 4
    assert set(data.labels()) == set(fnc.LABELS)
    assert all(p.body_id in data.bodies for p in data.pairs)


@pytest.mark.parametrize(
    ("header", "row", "message"),
    [
        (["Headline", "Body ID", "Stance"], ["h", "0", "maybe"], "unknown stance"),
        (["Headline", "Body ID", "Stance"], ["h", "999", "agree"], "unknown body id"),
        (["Headline", "Body", "Stance"], ["h", "0", "agree"], "no 'Body ID' column"),
    ],
)
def test_bad_stances_file_names_file_and_line(tmp_path: Path, header: list[str], row: list[str], message: str) -> None:
    bodies = tmp_path / "b.csv"
    bodies.write_text("Body ID,articleBody\n0,text\n", encoding="utf-8")
    stances = tmp_path / "s.csv"
    with stances.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, row])
    with pytest.raises(DataError) as info:
        fnc.load(stances, bodies)
    assert message in str(info.value)
    assert "s.csv" in str(info.value)


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFound):
        fnc.read_bodies(tmp_path / "nope.csv")


# ---------------------------------------------------------------------- features
@pytest.fixture(scope="module")
def featurizer() -> st.StanceFeaturizer:
    heads = [claim for claim, _ in STORIES]
    bodies = [body for _, body in STORIES]
    return st.StanceFeaturizer(svd_dims=3, seed=0).fit(heads, bodies * 2)


def test_features_shape_and_similarity(featurizer: st.StanceFeaturizer) -> None:
    heads = [STORIES[0][1], STORIES[1][1]]
    bodies = [STORIES[0][1], STORIES[0][1]]
    x = st.featurize(featurizer, heads, bodies)
    assert x.shape == (2, len(featurizer.names))
    assert np.isfinite(x).all()
    cos = featurizer.names.index("cos_tfidf")
    assert x[0, cos] == pytest.approx(1.0, abs=1e-5)  # a text against itself
    assert x[1, cos] < 0.2


@pytest.mark.parametrize(
    "body",
    ["", "   ", "。。。", "Der Bär hat den Jäger nicht angegriffen.", "word " * 50_000],
    ids=["empty", "blank", "cjk-dots", "german", "250k"],
)
def test_features_survive_odd_bodies(featurizer: st.StanceFeaturizer, body: str) -> None:
    x = st.featurize(featurizer, ["spider burrowed into a tourist's stomach"], [body])
    assert x.shape == (1, len(featurizer.names))
    assert np.isfinite(x).all()


def test_cue_vector_counts_refuting_words() -> None:
    toks = st.words("Police say the story is a hoax and not true?")
    v = st.cue_vector(toks, "Police say the story is a hoax and not true?")
    cols = list(st.CUE_COLUMNS)
    assert v[cols.index("refute")] == 2  # hoax, not
    assert v[cols.index("question")] == 1
    assert v[cols.index("w_hoax")] == 1


# ---------------------------------------------------------------------- single-post path
SPIDER = "A spider burrowed into a tourist's stomach? Police say the story is a hoax and not true. It isn't."
POST_CASES = {
    # (headline, bodies): the first body has its sentence ranges, the others are one sentence each.
    "story-and-evidence": (STORIES[0][0], [SPIDER, "Police say the story is a hoax and not true.", "It isn't."]),
    "unknown-words": ("Zorblax quintuple frobnicates Managua airport", [STORIES[1][1] + " Zorblax denied it."]),
    "unrelated": ("Apple watch battery lasts a week", [STORIES[3][1], STORIES[4][1]]),
    "one-sentence-body": (STORIES[2][0], [STORIES[2][1]]),
    "question-marks": ("Was Banksy arrested in London?", ["Was he? London police arrested Banksy?? No."]),
}


@pytest.mark.parametrize("headline, bodies", list(POST_CASES.values()), ids=list(POST_CASES))
@pytest.mark.parametrize("ranges", ["segmenter", "none", "with-gap"])
def test_post_features_match_batch_features(
    featurizer: st.StanceFeaturizer, headline: str, bodies: list[str], ranges: str
) -> None:
    first = st.split_ranges(bodies[0])
    if ranges == "none":
        first = []
    elif ranges == "with-gap" and len(first) > 1:
        first = first[1:]  # the first sentence left out: the body's tokens differ from its sentences'
    sentences = [first] + [[(0, len(b))] for b in bodies[1:]]
    batch = featurizer.features(
        featurizer.texts([headline]), featurizer.texts(bodies, sentences), [(0, i) for i in range(len(bodies))]
    )
    post = featurizer.post_features(headline, bodies, sentences)
    assert post.dtype == batch.dtype and post.shape == batch.shape
    assert np.array_equal(post, batch)  # bit for bit
    assert "_components_t_cache" not in pickle.loads(pickle.dumps(featurizer)).__dict__


@pytest.mark.parametrize("text", [SPIDER, "", "Not fake? Not fake! Hoax, hoax, hoax.", "never NEVER Never"])
def test_cue_matrix_rows_are_cue_vectors(text: str) -> None:
    tokens = st.words(text)
    assert np.array_equal(st._cue_matrix([tokens, tokens], [text, text])[1], st.cue_vector(tokens, text))


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize(
    "headline",
    ["police say the story is a hoax", "a spider burrowed into", "not true it isn't", "nothing here matches", "a"],
)
def test_ngram_hits_count_shared_ngrams(headline: str, n: int) -> None:
    tokens = st.words(SPIDER)
    grams = st._ngrams(st.words(headline), n)
    joined = f" {' '.join(tokens)} "
    hits = st._ngram_hits(st._ngram_needs(grams), joined, set(st.content_stems(tokens)))
    assert hits == len(grams & st._ngrams(tokens, n))


def test_merged_boosters_give_the_average_of_the_boosters() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + 2 * (x[:, 1] > 0.5).astype(int)
    boosters = [st.fit_booster(x, y, seed=s, rounds=15, params={"min_data_in_leaf": 5}) for s in range(3)]
    model = st.StanceModel(st.StanceFeaturizer(), boosters, [1.0, 2.0, 1.0, 0.8])
    expected = sum(b.predict(x[:20], num_threads=1) for b in boosters) / len(boosters)
    np.testing.assert_allclose(model.predict_proba(x[:20]), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        model.predict_proba(x[:5], n_boosters=1), boosters[0].predict(x[:5], num_threads=1), rtol=0, atol=1e-12
    )
    restored = pickle.loads(pickle.dumps(model))
    assert "_merged" not in restored.__dict__  # not pickled: rebuilt on first use
    np.testing.assert_allclose(restored.predict_proba(x[:20]), expected, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------- split
def test_body_split_keeps_bodies_and_headlines_apart(small_fnc: Path) -> None:
    data = fnc.load_split(small_fnc, "train")
    tr, va = st.body_split(data, 0.3, seed=1)
    assert tr and va
    train_bodies = {data.pairs[i].body_id for i in tr}
    valid_bodies = {data.pairs[i].body_id for i in va}
    assert not train_bodies & valid_bodies
    valid_related = {data.pairs[i].headline for i in va if data.pairs[i].stance != "unrelated"}
    assert not valid_related & {data.pairs[i].headline for i in tr}


# ---------------------------------------------------------------------- train + eval
def test_train_writes_artifact_card_and_scores(small_fnc: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    card = st.train(small_fnc, seed=3, out=out, log=lambda _m: None)
    assert (out / "model.pkl.zlib").exists()
    saved = json.loads((out / "card.json").read_text(encoding="utf-8"))
    assert saved["seed"] == 3 and saved["features"] == card["features"]
    assert "test" in saved and 0.0 <= saved["test"]["fnc_score"] <= 100.0
    assert "FNC score" in (out / "MODEL_CARD.md").read_text(encoding="utf-8")

    stances, bodies = small_fnc / "competition_test_stances.csv", small_fnc / "competition_test_bodies.csv"
    result = CliRunner().invoke(
        app, ["eval", "stance", "--stances", str(stances), "--bodies", str(bodies), "--model", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["pairs"] == len(STORIES) * 4
    assert figures["fnc_score"] == pytest.approx(saved["test"]["fnc_score"])
    assert set(figures["f1"]) == set(fnc.LABELS)
    assert figures["pairs_per_second"] > 0


def test_eval_bad_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "s.csv"
    bad.write_text("Headline,Stance\nh,agree\n", encoding="utf-8")
    bodies = tmp_path / "b.csv"
    bodies.write_text("Body ID,articleBody\n0,text\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "stance", "--stances", str(bad), "--bodies", str(bodies)])
    assert isinstance(result.exception, DataError)
    assert result.exception.exit_code == 2
    assert "line 1" in str(result.exception) and "Body ID" in str(result.exception)


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "competition_test_stances.csv").exists(), reason="needs ../shared/data/fnc1")
def test_shipped_model_on_competition_test_matches_card() -> None:
    card = model_card("stance")
    result = st.evaluate_files(DATA / "competition_test_stances.csv", DATA / "competition_test_bodies.csv")
    # The shipped model reproduces its card; the targets themselves are in benchmarks/stance.py.
    assert result["fnc_score"] == pytest.approx(card["test"]["fnc_score"], abs=0.01)
    assert result["confusion"] == card["test"]["confusion"]
    assert result["fnc_score"] > 75.2  # the official FNC-1 baseline
