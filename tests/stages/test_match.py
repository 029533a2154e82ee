import logging

import numpy as np
import pytest

from overclaim import Checker
from overclaim.config import DEFAULT_CONFIG, Config
from overclaim.pipeline import STAGES
from overclaim.stages.match import (
    FEATURES,
    LEXICAL_FEATURES,
    STATIC_FEATURES,
    ClaimMatcher,
    FactCheckMatcher,
    calibration_features,
    expand,
    pair_features,
    query_terms,
    static_encode,
    static_features,
    strip_signature,
)
from overclaim.store.factchecks import FactCheck, FactCheckStore

# Other stages' models are not needed here: run normalize, segment and match only.
OTHERS = frozenset(name for name, _ in STAGES) - {"normalize", "segment", "match"}

CLAIMS = [
    ("c1", "President Obama gave Syria $195 million to celebrate a Muslim holiday.",
     "Did Obama Give Syria $195 Million to Celebrate a Muslim Holiday?", "False"),
    ("c2", "The Fyre Festival was oversold and descended into chaos, leaving attendees stranded in the Bahamas.",
     "Luxury Fyre Music Festival in the Bahamas Descends Into Chaos?", "True"),
    ("c3", "The U.S. military will begin air strikes against Mexican drug cartels this week.",
     "Are US Air Strikes on Mexican Cartels About to Begin?", "Unproven"),
    ("c4", "A photograph shows a shark swimming on a flooded highway in Houston after Hurricane Harvey.",
     "Shark Swimming on Houston Freeway?", "False"),
    ("c5", "Drinking hot water every fifteen minutes kills the coronavirus.",
     "Does Drinking Hot Water Kill the Coronavirus?", "False"),
    ("c6", "Kellogg's Corn Flakes were created to discourage masturbation.",
     "Were Corn Flakes Invented to Stop Masturbation?", "Mostly True"),
    ("c7", "Mexico sent troops to help Americans after Hurricane Katrina.",
     "Did Mexican Troops Aid the U.S. After Hurricane Katrina?", "True"),
    ("c8", "The Eiffel Tower will be demolished next year to build a new stadium.",
     "Is the Eiffel Tower Being Torn Down?", "False"),
    ("c9", "Update: air strikes will soon begin against Mexican narco terrorists.",
     "Are Air Strikes Against Mexican Narco Terrorists About to Begin?", "Unproven"),
]


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("fc") / "store.sqlite")
    store = FactCheckStore(path)
    store.add(FactCheck(claim_id=i, claim=c, title=t, rating=r, reviewer="Snopes") for i, c, t, r in CLAIMS)
    return path


@pytest.fixture(scope="module")
def matcher(store_path):
    return ClaimMatcher(store_path)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("#FyreFestival ran out of money", "FyreFestival Fyre Festival ran out of money"),
        ("see https://t.co/abc pic.twitter.com/xyz now", "see     now"),
        ("@IvankaTrump line", "IvankaTrump Ivanka Trump line"),
    ],
)
def test_expand(text, expected):
    assert expand(text) == expected


def test_query_terms_rarest_first_without_stop_words():
    terms = query_terms("The shark is swimming on the Houston freeway", max_terms=3)
    assert "the" not in terms and len(terms) == 3
    assert terms[0] in {"houston", "freeway", "shark"}


def test_pair_features_shape_and_leads():
    cands = [(FactCheck(claim_id=i, claim=c, title=t), 10.0 - n) for n, (i, c, t, _) in enumerate(CLAIMS[:4])]
    feats = pair_features("Obama gave Syria 195 million dollars for a Muslim holiday", cands)
    assert feats.shape == (4, len(FEATURES))
    cover = feats[:, FEATURES.index("cover_query_both")]
    assert cover.argmax() == 0
    assert feats[0, FEATURES.index("cover_query_both_gap")] > 0 > feats[1, FEATURES.index("cover_query_both_gap")]
    assert pair_features("anything", []).shape == (0, len(FEATURES))


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Houston airport is now a port! — isi (@GutierrezIsi) August 28, 2017", "Houston airport is now a port! "),
        ("Houston airport — isi (GutierrezIsi Gutierrez Isi) Aug. 28, 2017", "Houston airport "),
        ("No signature here — just a dash", "No signature here — just a dash"),
    ],
)
def test_strip_signature(text, expected):
    assert strip_signature(text) == expected


def test_pair_features_local_rarity_and_media():
    cands = [
        (FactCheck(claim_id="a", claim="A photograph shows a shark swimming on a Houston freeway."), 2.0),
        (FactCheck(claim_id="b", claim="Houston voters approved a new freeway toll."), 1.0),
        (FactCheck(claim_id="c", claim="Houston freeway closed for repairs."), 0.5),
    ]
    post = "Shark on the Houston freeway pic.twitter.com/abc — Jo (@jo) May 1, 2019"
    feats = pair_features(expand(post), cands, post=post)
    local = feats[:, FEATURES.index("cover_query_local")]
    # "shark" is in one candidate only, so it outweighs "houston" and "freeway" (in all three).
    assert local.argmax() == 0 and local[0] > 0.5 > local[1]
    assert feats[0, FEATURES.index("cover_query_local_gap")] == 0.0 > feats[1, FEATURES.index("cover_query_local_gap")]
    assert feats[:, FEATURES.index("media_match")].tolist() == [1.0, 0.0, 0.0]


def test_pair_features_distance_to_query_best():
    cands = [(FactCheck(claim_id=i, claim=c, title=t), 10.0 - n) for n, (i, c, t, _) in enumerate(CLAIMS[:4])]
    feats = pair_features("Obama gave Syria 195 million dollars for a Muslim holiday", cands)
    for name in ("cover_query_claim", "fuzz_set_claim", "jaccard", "names_shared"):
        values = feats[:, FEATURES.index(name)]
        np.testing.assert_allclose(feats[:, FEATURES.index(f"{name}_gap")], values - values.max())
    assert feats[0, FEATURES.index("cover_query_claim_gap")] == 0.0
    assert (feats[1:, FEATURES.index("cover_query_claim_gap")] < 0).all()


def test_static_features_prefer_the_same_claim_reworded():
    # A rewording of c5 sharing one content word with it ("water"): its cosines rank c5 first.
    cands = [FactCheck(claim_id=i, claim=c, title=t) for i, c, t, _ in CLAIMS]
    feats = static_features("Sipping warm water several times an hour wipes out COVID — Jo (@jo) May 1, 2020", cands)
    assert feats.shape == (len(CLAIMS), len(STATIC_FEATURES))
    col = {name: feats[:, i] for i, name in enumerate(STATIC_FEATURES)}
    assert col["wl_mean"].argmax() == [c[0] for c in CLAIMS].index("c5")
    np.testing.assert_allclose(col["wl_mean"], (col["wl_claim"] + col["wl_title"]) / 2)
    best = col["wl_mean"].argmax()
    assert col["wl_log_rank"][best] == 0.0 and col["wl_gap"][best] > 0 > col["wl_gap"].min()
    assert ((-1.0 <= feats[:, :3]) & (feats[:, :3] <= 1.0 + 1e-6)).all()
    assert static_features("anything", []).shape == (0, len(STATIC_FEATURES))


def test_static_encode_is_unit_length_and_batch_independent():
    texts = ["Air strikes will soon begin", "", "a much longer text about something else entirely " * 5]
    batch = static_encode(texts)
    assert batch.shape == (3, 256) and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch[[0, 2]], axis=1), 1.0, atol=1e-5)
    assert not np.isnan(batch).any()  # a text with no tokens is a zero vector, not NaN
    np.testing.assert_array_equal(static_encode(texts[:1])[0], batch[0])


def test_static_encode_matches_wordllama_embed():
    import os
    import warnings

    texts = ["Air strikes will soon begin 🚨", "Terrorist narco cartels in Mexico " * 30, "ok"]
    ours = static_encode(texts)  # imports wordllama first, so its logging.basicConfig is undone

    import wordllama
    from wordllama import WordLlama

    model = WordLlama.load(config="l2_supercat", dim=256, cache_dir=os.path.dirname(wordllama.__file__),
                           disable_download=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = model.embed(texts, norm=True)
    np.testing.assert_allclose(ours, expected, atol=1e-6)


def test_loading_the_static_model_is_offline_and_leaves_logging_alone():
    # A fresh process: no socket may open while the model loads, and wordllama's
    # logging.basicConfig(level=INFO) on import must not stick.
    import subprocess
    import sys

    # Four threads ask for it at once (a service's first matches): one load, logging still as it was.
    code = ("import logging, socket, threading\n"
            "def refuse(*a, **k): raise OSError('network used')\n"
            "socket.socket.connect = refuse; socket.create_connection = refuse; socket.getaddrinfo = refuse\n"
            "import overclaim.matching.encoders as m\n"
            "loads = []; load = m._load_static_model\n"
            "m._load_static_model = lambda: loads.append(1) or load()\n"
            "threads = [threading.Thread(target=m.static_encode, args=(['air strikes'],)) for _ in range(4)]\n"
            "[t.start() for t in threads]; [t.join() for t in threads]\n"
            "assert m.static_encode(['air strikes']).shape == (1, 256)\n"
            "r = logging.getLogger(); print(len(loads), len(r.handlers), r.level)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1", "0", str(logging.WARNING)]


def test_lexical_matcher_features_are_pair_then_static(matcher):
    found, feats = matcher.candidates_of("Obama gave Syria $195 million to celebrate a Muslim holiday")
    assert matcher.feature_names == LEXICAL_FEATURES == (*FEATURES, *STATIC_FEATURES)
    assert feats.shape == (len(found), len(LEXICAL_FEATURES))


def test_calibration_features_lead():
    x = calibration_features(np.array([3.0, 1.0, 0.5]))
    assert x[:, 1].tolist() == [2.0, -2.0, -2.5]


# Loose paraphrases that the abstaining calibrator (issue 22) no longer shows at the shown threshold:
# the shark tweet 0.18 ("freeway" for "highway" reads as a swapped word), the Fyre tweet 0.19 (it
# leaves out most of the claim). The price of at most 10% false matches: CLEF 2020 dev shown recall
# 0.82 -> 0.55 at shown precision 0.97 (see the claim_matching model card).
LOOSE = "loose paraphrase under the shown threshold (abstention trade-off)"


@pytest.mark.parametrize(
    "text,claim_id",
    [
        ("Obama gave Syria $195 million to celebrate a Muslim holiday!!", "c1"),
        ("🚨 The US military will begin air strikes against Mexican drug cartels this week!", "c3"),
        pytest.param("Look at this shark swimming on the freeway in Houston #HurricaneHarvey", "c4",
                     marks=pytest.mark.xfail(strict=True, reason=LOOSE)),
        pytest.param("#FyreFestival attendees stranded in the Bahamas, total chaos", "c2",
                     marks=pytest.mark.xfail(strict=True, reason=LOOSE)),
        ("Photo shows a shark swimming on a flooded Houston highway after Hurricane Harvey", "c4"),
    ],
)
def test_matches_same_claim(matcher, text, claim_id):
    shown = DEFAULT_CONFIG.match_min_probability
    matches = matcher.match(text, top_k=3, min_probability=shown)
    assert matches and matches[0].claim_id == claim_id
    assert shown <= matches[0].probability <= 1.0
    assert matches[0].rating == dict((i, r) for i, _, _, r in CLAIMS)[claim_id]


@pytest.mark.parametrize(
    "text",
    ["My cat likes to sleep in the sun all afternoon", "Quarterly earnings rose for the software company"],
)
def test_unrelated_text_shows_nothing(matcher, text):
    shown = DEFAULT_CONFIG.match_min_probability
    assert matcher.match(text, min_probability=shown) == []
    ranked = matcher.rank(text)
    assert all(c.probability < shown for c in ranked)


def test_probabilities_ordered_with_scores(matcher):
    ranked = matcher.rank("Air strikes on Mexico cartels, and a shark in Houston")
    scores = [c.score for c in ranked]
    assert scores == sorted(scores, reverse=True)


def test_stage_without_store_adds_nothing():
    report = Checker(skip=OTHERS).check("Obama gave Syria $195 million", "Some body text about Syria.")
    assert report.matches == []


def test_stage_fills_report_matches(store_path):
    checker = Checker(factchecks=store_path, skip=OTHERS)
    report = checker.check("Obama gave Syria $195 million to celebrate a Muslim holiday",
                           "The article says the claim circulated on social media last week.")
    assert [m.claim_id for m in report.matches][:1] == ["c1"]
    strict = Checker(config=Config(match_min_probability=0.999999), factchecks=store_path, skip=OTHERS)
    assert strict.check("Mexico troops Katrina help", "Body text here about it.").matches == []


def test_stage_threshold_and_top_k(store_path):
    stage = FactCheckMatcher(Config(match_top_k=1, match_min_probability=0.0), store=store_path)
    from overclaim.pipeline import Context
    from overclaim.report import Post
    from overclaim.text import TextView

    ctx = Context(post=Post(headline="h", body="b"), config=stage.config,
                  headline=TextView("headline", "Hurricane Katrina Mexico troops"), body=TextView("body", "b"))
    stage(ctx)
    assert len(ctx.matches) == 1 and ctx.matches[0].claim_id == "c7"


def test_disguised_repost_is_a_near_duplicate(matcher):
    from overclaim.stages.match import clean_text

    caption = "🚨Update: Air strikes will soon begin against Mexican Narco Terr0rist!"
    clean = clean_text(caption)
    assert "Terrorist" in clean
    best = matcher.rank(clean)[0]
    assert best.factcheck.claim_id == "c9" and best.probability >= DEFAULT_CONFIG.match_min_probability
    assert best.near_duplicate is not None and best.near_duplicate >= 0.5
    assert best.to_match().claim_id == "c9"


@pytest.mark.parametrize(
    "headline, matched",
    [("Eiffel Tower will be demolished next year for a stadium", True), ("Local bakery wins a prize for bread", False)],
)
def test_report_says_when_a_searched_store_has_no_match(store_path, headline, matched):
    from overclaim.stages.match import NO_MATCH_NOTE

    report = Checker(factchecks=store_path, skip=OTHERS).check(headline, "The article body talks about it at length.")
    assert bool(report.matches) is matched
    assert (NO_MATCH_NOTE in report.notes) is (not matched)


def test_empty_store_is_not_searched_until_it_fills(tmp_path, monkeypatch):
    from overclaim.stages.match import NO_MATCH_NOTE

    path = str(tmp_path / "empty.sqlite")
    FactCheckStore(path)
    checker = Checker(Config(match_empty_recheck_s=3600), factchecks=path, skip=OTHERS)
    searched: list[str] = []
    monkeypatch.setattr(ClaimMatcher, "match", lambda self, text, **kw: searched.append(text) or [])
    report = checker.check("Obama gave Syria $195 million", "Some body text about Syria and money.")
    assert report.matches == [] and NO_MATCH_NOTE in report.notes and searched == []
    monkeypatch.undo()
    FactCheckStore(path).add(FactCheck(claim_id=i, claim=c, title=t, rating=r) for i, c, t, r in CLAIMS)
    # Within the re-check interval the store is still taken as empty; once it is due, the import is seen.
    assert checker.check("Obama gave Syria $195 million", "Some body text.").matches == []
    stage = next(s for s in checker.stages if s.name == "match")
    stage._ask_at = 0.0
    report = checker.check("Obama gave Syria $195 million to celebrate a Muslim holiday", "Some body text.")
    assert [m.claim_id for m in report.matches][:1] == ["c1"]


def test_excluded_claims_are_ranked_as_if_not_stored(matcher):
    text = "Update: air strikes will soon begin against Mexican narco terrorists"
    full = [c.factcheck.claim_id for c in matcher.rank(text)]
    assert set(full[:2]) == {"c9", "c3"}
    held = matcher.rank(text, exclude={"c9"})
    assert "c9" not in [c.factcheck.claim_id for c in held]
    assert held[0].factcheck.claim_id == "c3" and held[0].near_duplicate is None


def test_abstain_features_see_a_swapped_name_number_and_word():
    from overclaim.stages.match import ABSTAIN_FEATURES, abstain_features

    stored = [FactCheck(claim_id="b", claim="Joe Biden said he would ban gas-powered cars by 2030.",
                        title="Did Joe Biden Say He Would Ban Gas Cars by 2030?")]

    def feats(text):
        return dict(zip(ABSTAIN_FEATURES, abstain_features(expand(text), stored)[0], strict=True))

    same = feats("So Joe Biden said he would ban gas-powered cars by 2030")
    assert same["name_swap"] == same["swap"] == same["key_missing"] == 0.0 and same["c_cover_claim"] == 1.0
    name = feats("So Barack Obama said he would ban gas-powered cars by 2030")
    assert name["name_swap"] > 0 and name["q_names_missing"] >= 1 and name["key_missing"] > 0
    number = feats("So Joe Biden said he would ban gas-powered cars by 2050")
    assert number["numbers_clash"] == 1.0 and number["q_numbers_missing"] == 1.0
    word = feats("So Joe Biden said he would ban gas-powered trucks by 2030")
    assert word["swap"] > 0 and word["key_missing"] > 0
    assert feats("video")["q_content"] < same["q_content"]


def test_load_once_loads_once_for_racing_threads_and_retries_after_a_failure():
    import threading

    from overclaim.matching.encoders import load_once

    calls: list[int] = []
    started = threading.Event()

    @load_once
    def slow() -> object:
        calls.append(1)
        started.wait(1)
        return object()

    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(slow())) for _ in range(4)]
    [t.start() for t in threads]
    started.set()
    [t.join() for t in threads]
    assert len(calls) == 1 and len({id(r) for r in results}) == 1

    attempts: list[int] = []

    @load_once
    def flaky() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("first load fails")
        return len(attempts)

    with pytest.raises(OSError):
        flaky()
    assert flaky() == 2 and flaky() == 2 and len(attempts) == 2
