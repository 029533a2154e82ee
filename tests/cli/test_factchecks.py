"""``overclaim factchecks import|export`` with fact-checkers' own formats, in process."""

from __future__ import annotations

import json

import pytest

from tests.conftest import FIXTURES

CLAIMREVIEW = FIXTURES / "claimreview"


@pytest.mark.parametrize(
    "name, expected",
    [("factcheck_page.html", 2), ("api_response.json", 3), ("datafeed.json", 2), ("rich.jsonld", 3)],
)
def test_import_fact_checkers_formats(run_cli, tmp_path, name, expected):
    db = str(tmp_path / "fc.sqlite")
    code, out, err = run_cli("factchecks", "import", str(CLAIMREVIEW / name), "--factchecks", db, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["read"], summary["imported"], summary["skipped"]) == (expected, expected, 0)


@pytest.mark.parametrize("text", ['{"claims": []}', '{"error": {"code": 400, "message": "bad key"}}'])
def test_import_of_an_api_answer_with_nothing_usable_exits_2_naming_the_file(run_cli, tmp_path, text):
    path = tmp_path / "answer.json"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli("factchecks", "import", str(path), "--factchecks", str(tmp_path / "fc.sqlite"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(path) in err and "nothing imported" in err


def test_import_export_import_round_trip_through_the_cli(run_cli, tmp_path):
    first, second = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    assert run_cli("factchecks", "import", str(CLAIMREVIEW / "rich.jsonld"), "--factchecks", first)[0] == 0
    out = tmp_path / "export.jsonld"
    assert run_cli("factchecks", "export", "--factchecks", first, "--format", "jsonld", "--out", str(out))[0] == 0
    assert run_cli("factchecks", "import", str(out), "--factchecks", second)[0] == 0
    listed = [json.loads(run_cli("factchecks", "list", "--factchecks", db, "--json")[1]) for db in (first, second)]
    assert listed[0] == listed[1] and len(listed[0]) == 3
    graph = json.loads(out.read_text(encoding="utf-8"))["@graph"]
    tea = next(node for node in graph if "green tea" in node["claimReviewed"])
    assert tea["itemReviewed"]["author"] == {"@type": "Organization", "name": "Facebook posts"}
    assert tea["reviewRating"] == {"@type": "Rating", "ratingValue": "2", "bestRating": "6", "worstRating": "1"}
    assert "@id" not in tea


# --- matches carry the fact-check's metadata; --language, --max-age-days, --publisher ---------

SENATOR = "Senator voted against the climate bill 40 times!"
BODY = "A viral image says the senator voted against the climate bill 40 times. The record shows two votes."


@pytest.fixture
def store(run_cli, tmp_path):
    db = str(tmp_path / "fc.sqlite")
    for name in ("api_response.json", "rich.jsonld"):
        assert run_cli("factchecks", "import", str(CLAIMREVIEW / name), "--factchecks", db)[0] == 0
    return db


def test_match_json_carries_the_metadata_and_takes_filters(run_cli, store):
    code, out, err = run_cli("match", SENATOR, "--factchecks", store, "--json")
    assert code == 0, err
    best, *others = json.loads(out)  # PolitiFact first; FactCheck.org reviewed the same claim
    assert [m["reviewer"] for m in others] == ["FactCheck.org"]
    assert {k: best[k] for k in ("reviewer", "claimant", "claim_date", "review_date", "language")} == {
        "reviewer": "PolitiFact", "claimant": "Viral image", "claim_date": "2024-02-01T00:00:00Z",
        "review_date": "2024-02-03T14:00:00Z", "language": "en"}
    code, out, _ = run_cli("match", SENATOR, "--factchecks", store, "--json", "--publisher", "factcheck.org")
    assert [m["reviewer"] for m in json.loads(out)] == ["FactCheck.org"]
    code, out, _ = run_cli("match", SENATOR, "--factchecks", store, "--json", "--language", "fr", "--language", "es")
    assert json.loads(out) == []
    code, out, _ = run_cli("match", SENATOR, "--factchecks", store, "--max-age-days", "0")
    assert code == 0 and "no stored fact-check" in out and "reviewed in the last 0 days" in out


def test_match_terminal_shows_who_checked_and_claimed_it(run_cli, store):
    code, out, _ = run_cli("match", SENATOR, "--factchecks", store)
    assert code == 0
    assert "checked by PolitiFact, 2024-02-03; claimed by Viral image, 2024-02-01; language en" in out


@pytest.mark.parametrize("args", [("--max-age-days", "-1"), ("--language", " ")])
def test_bad_filters_exit_2(run_cli, store, args):
    code, _, err = run_cli("match", SENATOR, "--factchecks", store, *args)
    assert code == 2 and err.strip()


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "html"])
def test_check_shows_the_match_metadata(run_cli, store, fmt):
    code, out, err = run_cli("check", "-H", SENATOR, "-B", BODY, "--factchecks", store, "--profile", "fast",
                             "-f", fmt)
    assert code == 0, err
    assert "checked by PolitiFact, 2024-02-03" in out and "claimed by Viral image, 2024-02-01" in out


def test_check_filters_its_matches(run_cli, store):
    args = ("check", "-H", SENATOR, "-B", BODY, "--factchecks", store, "--profile", "fast", "-f", "json")
    report = json.loads(run_cli(*args, "--publisher", "FactCheck.org")[1])
    assert [m["reviewer"] for m in report["matches"]] == ["FactCheck.org"]
    report = json.loads(run_cli(*args, "--language", "fr")[1])
    assert report["matches"] == [] and any("language fr" in n for n in report["notes"])


def test_check_filters_need_a_store(run_cli):
    code, _, err = run_cli("check", "-H", SENATOR, "-B", BODY, "--language", "en")
    assert code == 2 and "--factchecks" in err


def test_the_schema_publishes_the_match_metadata(run_cli):
    from overclaim.report import SCHEMA_VERSION

    schema = json.loads(run_cli("schema")[1])
    match = schema["$defs"]["FactCheckMatch"]["properties"]
    assert {"claimant", "claim_date", "review_date", "language", "reviewer"} <= set(match)
    assert schema["$id"].endswith(f"report-{SCHEMA_VERSION}.json") and SCHEMA_VERSION == "1.3"


# --- check --format claimreview --------------------------------------------------------------


def test_check_format_claimreview_one_post_is_an_object(run_cli, tmp_path, seed_text):
    headline, body = seed_text.split("\n", 1)
    post = tmp_path / "post.json"
    post.write_text(json.dumps({"headline": headline, "body": body, "url": "https://social.example/p/1",
                                "outlet": "Example"}), encoding="utf-8")
    code, out, err = run_cli("check", str(post), "--profile", "fast", "-f", "claimreview")
    assert code == 0, err
    draft = json.loads(out)
    assert draft["@type"] == "ClaimReview" and draft["claimReviewed"] == headline
    assert draft["itemReviewed"]["appearance"]["url"] == "https://social.example/p/1"
    assert draft["itemReviewed"]["author"]["name"] == "Example"
    report = json.loads(run_cli("check", str(post), "--profile", "fast", "-f", "json")[1])
    from overclaim.render.claimreview import RATINGS

    assert draft["reviewRating"]["alternateName"] == RATINGS[report["verdict"]["label"]][1]


def test_check_format_claimreview_several_posts_is_an_array(run_cli, tmp_path):
    posts = [{"id": "a", "headline": "Council approves the new school budget",
              "body": "The city council approved the new school budget on Tuesday by a vote of 7 to 2."},
             {"id": "b", "headline": "Scientists prove coffee cures cancer",
              "body": "A small study found a weak link between coffee and lower risk of one cancer, researchers said."}]
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    code, out, err = run_cli("check", str(path), "--profile", "fast", "-f", "claimreview")
    assert code == 0, err
    drafts = json.loads(out)
    assert [d["claimReviewed"] for d in drafts] == [p["headline"] for p in posts]
