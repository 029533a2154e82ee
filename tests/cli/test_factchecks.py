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
    code, out, err = run_cli("factchecks", "import", str(CLAIMREVIEW / name), "--store", db, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert (summary["read"], summary["imported"], summary["skipped"]) == (expected, expected, 0)


@pytest.mark.parametrize("text", ['{"claims": []}', '{"error": {"code": 400, "message": "bad key"}}'])
def test_import_of_an_api_answer_with_nothing_usable_exits_2_naming_the_file(run_cli, tmp_path, text):
    path = tmp_path / "answer.json"
    path.write_text(text, encoding="utf-8")
    code, out, err = run_cli("factchecks", "import", str(path), "--store", str(tmp_path / "fc.sqlite"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(path) in err and "nothing imported" in err


def test_import_export_import_round_trip_through_the_cli(run_cli, tmp_path):
    first, second = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    assert run_cli("factchecks", "import", str(CLAIMREVIEW / "rich.jsonld"), "--store", first)[0] == 0
    out = tmp_path / "export.jsonld"
    assert run_cli("factchecks", "export", "--store", first, "--format", "jsonld", "--out", str(out))[0] == 0
    assert run_cli("factchecks", "import", str(out), "--store", second)[0] == 0
    listed = [json.loads(run_cli("factchecks", "list", "--store", db, "--json")[1]) for db in (first, second)]
    assert listed[0] == listed[1] and len(listed[0]) == 3
    graph = json.loads(out.read_text(encoding="utf-8"))["@graph"]
    tea = next(node for node in graph if "green tea" in node["claimReviewed"])
    assert tea["itemReviewed"]["author"] == {"@type": "Organization", "name": "Facebook posts"}
    assert tea["reviewRating"] == {"@type": "Rating", "ratingValue": "2", "bestRating": "6", "worstRating": "1"}
    assert "@id" not in tea
