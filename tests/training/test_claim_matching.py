import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from overclaim.errors import DataError
from overclaim.training.claim_matching import (
    average_precision,
    evaluate_files,
    ranking_metrics,
    read_claims,
    read_qrels,
    same_claims,
    swapped_query,
    verbatim_copies,
)

CLEF = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "claim_matching"


@pytest.mark.parametrize(
    "ranked,relevant,k,expected",
    [
        (["a", "b", "c"], {"a"}, 5, 1.0),
        (["b", "a", "c"], {"a"}, 5, 0.5),
        (["b", "c", "a"], {"a"}, 1, 0.0),
        (["a", "x", "b"], {"a", "b"}, 5, (1 + 2 / 3) / 2),
        ([], {"a"}, 5, 0.0),
    ],
)
def test_average_precision(ranked, relevant, k, expected):
    assert average_precision(ranked, relevant, k) == pytest.approx(expected)


def test_ranking_metrics():
    metrics = ranking_metrics({"q1": ["a", "b"], "q2": ["c", "d"]}, {"q1": {"a"}, "q2": {"d"}})
    assert metrics["map@1"] == pytest.approx(0.5)
    assert metrics["map@5"] == pytest.approx(0.75)
    assert metrics["recall@5"] == pytest.approx(1.0)


@pytest.fixture
def clef_files(tmp_path):
    claims = tmp_path / "claims.tsv"
    claims.write_text(
        "\tvclaim\ttitle\n"
        "0\tPresident Obama gave Syria $195 million to celebrate a Muslim holiday.\tDid Obama Give Syria Money?\n"
        "1\tA shark swam on a flooded Houston highway after Hurricane Harvey.\tShark on Houston Freeway?\n"
        "2\tMexican troops aided U.S. residents after Hurricane Katrina.\tDid Mexican Troops Aid the U.S.?\n",
        encoding="utf-8",
    )
    queries = tmp_path / "queries.tsv"
    queries.write_text(
        "\ttweet_content\n"
        "10\tObama just gave $195 million to Syria for a Muslim holiday?? — Someone (@some1) May 1, 2019\n"
        "11\tThere is a shark on the freeway in Houston #HurricaneHarvey pic.twitter.com/x\n",
        encoding="utf-8",
    )
    qrels = tmp_path / "q.qrels"
    qrels.write_text("10\t0\t0\t1\n11\t0\t1\t1\n", encoding="utf-8")
    return queries, qrels, claims


def test_evaluate_files(clef_files):
    result = evaluate_files(*clef_files)
    assert result["queries"] == 2 and result["claims"] == 3
    assert result["map@1"] == 1.0 and result["recall@5"] == 1.0
    assert result["queries_per_second"] > 0


def test_evaluate_files_reports_what_is_shown_and_false_matches_with_the_right_claim_held_out(clef_files):
    result = evaluate_files(*clef_files)
    assert {"shown_threshold", "shown_precision", "shown_recall", "false_match_rate"} <= result.keys()
    # Only the right claims share a topic with the tweets: whatever is shown is right.
    assert result["shown_precision"] in (1.0, None) and result["shown_threshold"] > 0
    # At threshold 0 every candidate is shown: with its own claim held out, the Obama query has no
    # candidate left (no other claim shares a word with it); the shark query still finds the
    # Katrina claim through "hurricane". Had the right claims stayed, both would be shown something.
    anything = evaluate_files(*clef_files, threshold=0.0)
    assert anything["false_match_rate"] == 0.5
    assert anything["shown_recall"] == 1.0


def test_a_verbatim_copy_of_the_right_claim_is_held_out_with_it_and_counts_as_right(tmp_path):
    claims = tmp_path / "claims.tsv"
    claims.write_text(
        "\tvclaim\ttitle\n"
        "0\tMark Twain said, 'Do not fear the enemy, fear the media.'\tDid Twain Say This?\n"
        "1\tMark Twain said, \"Do not fear the enemy, fear the media.\"\tTwain on the Media\n",
        encoding="utf-8",
    )
    queries = tmp_path / "queries.tsv"
    queries.write_text("\ttweet_content\n10\tDo not fear the enemy, fear the media. Mark Twain\n", encoding="utf-8")
    qrels = tmp_path / "q.qrels"
    qrels.write_text("10\t0\t0\t1\n", encoding="utf-8")
    assert verbatim_copies(read_claims(claims)) == {"0": frozenset({"0", "1"}), "1": frozenset({"0", "1"})}
    result = evaluate_files(queries, qrels, claims, threshold=0.0)
    assert result["false_match_rate"] == 0.0  # the copy left with the claim: nothing else is stored
    assert result["shown_precision"] == 1.0  # both shown, the copy counted right


def test_same_claims_adds_copies_only_of_the_right_claims():
    copies = {"a": frozenset({"a", "b"}), "b": frozenset({"a", "b"}), "c": frozenset({"c"})}
    assert same_claims({"a"}, copies) == {"a", "b"}
    assert same_claims({"c", "d"}, copies) == {"c", "d"}


# Words of every frequency band, so a word of any rarity has others near it to be swapped for.
VOCABULARY = ["water", "milk", "tea", "juice", "beer", "spinach", "granite", "tractor", "teapot", "walnut", "kidney",
              "lung", "cancer", "raises", "causes", "prevents", "liver", "brain"]


@pytest.mark.parametrize(
    "text,gold,kind,gone",
    [
        ("Joe Biden wants to ban gas cars", "Biden said he would ban gas cars.", "swap_name", "Biden"),
        ("they will ban gas cars by 2030 ok", "A ban on gas cars by 2030.", "swap_number", "2030"),
        ("drinking coffee lowers heart disease", "Coffee lowers the risk of heart disease.", "swap_word", None),
    ],
)
def test_swapped_query_changes_what_the_claim_is_about(text, gold, kind, gone):
    import numpy as np

    new, what = swapped_query(text, gold, ["obama", "pelosi"], VOCABULARY,
                              np.random.default_rng(0))
    assert what == kind and new != text
    if gone:
        assert gone not in new
    # Exactly one word differs, the rest is the post as it was.
    assert len(set(new.split()) ^ set(text.split())) == 2


def test_eval_cli_json(clef_files):
    from overclaim.cli import app

    queries, qrels, claims = clef_files
    res = CliRunner().invoke(app, ["eval", "claim-matching", "--queries", str(queries), "--qrels", str(qrels),
                                   "--claims", str(claims), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["map@5"] == 1.0
    res = CliRunner().invoke(app, ["eval", "claim-matching", "--queries", str(queries), "--qrels", str(qrels),
                                   "--claims", str(claims), "--min-probability", "0", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["false_match_rate"] == 0.5


@pytest.mark.parametrize(
    "name,text",
    [("bad.qrels", "10 0 0\n"), ("claims.tsv", "\tvclaim\ttitle\n\t\t\n")],
)
def test_bad_data_names_line(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match="line"):
        (read_qrels if name.endswith("qrels") else read_claims)(path)


@pytest.mark.skipif(not CLEF.exists(), reason="CLEF data not available")
def test_clef_dev_figures():
    result = evaluate_files(CLEF / "dev" / "tweets.queries.tsv", CLEF / "dev" / "tweet-vclaim-pairs.qrels",
                            CLEF / "verified_claims.docs.tsv")
    assert result["queries"] == 197
    assert result["map@5"] >= 0.80
    assert result["map@1"] <= result["map@3"] <= result["map@5"]
