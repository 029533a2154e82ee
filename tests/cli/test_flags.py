"""One name per store in every command: --factchecks the fact-check store, --store the report store."""

from __future__ import annotations

import json

import pytest

CLAIMS = "".join(json.dumps(r) + "\n" for r in [
    {"claim_id": "c1", "claim": "The moon landing was filmed in a Nevada studio", "rating": "False"},
    {"claim_id": "c2", "claim": "Drinking coffee cures cancer", "rating": "False"},
])


@pytest.fixture
def store(run_cli, tmp_path):
    claims = tmp_path / "claims.jsonl"
    claims.write_text(CLAIMS, encoding="utf-8")
    db = tmp_path / "fc.sqlite"
    code, _, err = run_cli("factchecks", "import", str(claims), "--factchecks", str(db))
    assert code == 0 and "warning" not in err
    return db


@pytest.mark.parametrize("args", [["factchecks", "stats", "--json"], ["factchecks", "list", "--json"],
                                  ["match", "The moon landing was filmed in a studio in Nevada", "--json"]])
def test_factchecks_names_the_fact_check_store_and_store_is_an_old_spelling_that_warns(run_cli, store, args):
    code, new, err = run_cli(*args, "--factchecks", str(store))
    assert code == 0 and err == ""
    code, old, err = run_cli(*args, "--store", str(store))
    assert code == 0 and old == new  # the same store read
    assert err.strip() == "overclaim: warning: --store is deprecated; use --factchecks"


def test_the_old_and_the_new_spelling_with_different_stores_is_refused(run_cli, store, tmp_path):
    code, _, err = run_cli("factchecks", "stats", "--factchecks", str(store), "--store", str(tmp_path / "x.sqlite"))
    assert code == 2 and "--factchecks" in err.strip().splitlines()[-1]


@pytest.mark.parametrize("args", [["factchecks", "stats"], ["factchecks", "list"], ["factchecks", "export"],
                                  ["match", "some claim"]])
def test_a_missing_fact_check_store_is_an_error_where_it_is_only_read(run_cli, tmp_path, args):
    missing = tmp_path / "nowhere.sqlite"
    code, _, err = run_cli(*args, "--factchecks", str(missing))
    assert code == 2 and str(missing) in err and "factchecks import" in err
    assert not missing.exists()


def test_serve_names_the_report_store_store_and_db_warns(run_cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    bad = str(blocker / "sub" / "r.sqlite")  # cannot be created: serve stops before listening
    code, _, err = run_cli("serve", "--store", bad)
    assert code == 2 and "warning" not in err
    code, _, err = run_cli("serve", "--db", bad)
    assert code == 2
    assert err.splitlines()[0] == "overclaim: warning: --db is deprecated; use --store"


def test_help_shows_only_the_current_names(run_cli):
    _, out, _ = run_cli("factchecks", "stats", "--help")
    assert "--factchecks" in out and "--store" not in out
    _, out, _ = run_cli("serve", "--help")
    assert "--store" in out and "--db" not in out
