import io
import json
import os

import pytest
from sqlalchemy.exc import OperationalError

from overclaim.errors import InputTooLargeError, MalformedInputError, StoreError, UnknownFormatError
from overclaim.store import factchecks as fcmod
from overclaim.store.factchecks import FactCheck, FactCheckStore, parse_mapping, read_records


def review(i, claim="Air strikes against Mexican cartels will begin soon.", **extra):
    obj = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "@id": f"https://checks.example/{i}",
        "url": f"https://checks.example/{i}",
        "claimReviewed": claim,
        "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "A. Poster"},
                         "datePublished": "2025-01-02"},
        "author": {"@type": "Organization", "name": "Example Checks"},
        "reviewRating": {"@type": "Rating", "ratingValue": 2, "alternateName": "Misleading"},
        "inLanguage": "en",
        "datePublished": "2025-01-03",
    }
    obj.update(extra)
    return obj


CLAIMS = [
    "Air strikes against Mexican cartels will begin soon.",
    "The moon landing was filmed in a studio in Nevada.",
    "Drinking hot water cures the flu within a day.",
]


@pytest.fixture
def store(tmp_path):
    return FactCheckStore(str(tmp_path / "fc.sqlite"))


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "name,text",
    [
        ("one.jsonld", json.dumps(review(0, CLAIMS[0]))),
        ("array.json", json.dumps([review(i, c) for i, c in enumerate(CLAIMS)], indent=2)),
        ("graph.jsonld", json.dumps({"@context": "https://schema.org",
                                     "@graph": [review(i, c) for i, c in enumerate(CLAIMS)]}, indent=1)),
        ("feed.json", json.dumps({"@type": "DataFeed", "dataFeedElement": [
            {"@type": "DataFeedItem", "item": [review(i, c)]} for i, c in enumerate(CLAIMS)]})),
        ("lines.jsonl", "\n".join(json.dumps(review(i, c)) for i, c in enumerate(CLAIMS)) + "\n"),
        ("flat.csv", "id,claim,rating,reviewer\n"
         + "".join(f"{i},\"{c}\",False,Checks\n" for i, c in enumerate(CLAIMS))),
        ("clef.tsv", "\tvclaim\ttitle\n" + "".join(f"{i}\t{c}\tTitle {i}\n" for i, c in enumerate(CLAIMS))),
    ],
    ids=lambda value: value if value.endswith(("jsonld", "json", "jsonl", "csv", "tsv")) else "",
)
def test_import_formats_and_idempotence(store, tmp_path, name, text):
    path = write(tmp_path, name, text)
    expected = 1 if name == "one.jsonld" else len(CLAIMS)
    first = store.import_file(path)
    assert (first.read, first.imported, first.skipped) == (expected, expected, 0)
    second = store.import_file(path)
    assert (second.imported, second.already_stored) == (0, expected)
    assert len(store) == expected
    stored = {fc.claim for fc in store.iter_all()}
    assert stored == set(CLAIMS[:expected])


def test_claimreview_fields(store, tmp_path):
    store.import_file(write(tmp_path, "x.jsonld", json.dumps(review(7))))
    fc = store.get("https://checks.example/7")
    assert fc == FactCheck(
        claim_id="https://checks.example/7", claim=CLAIMS[0], title=None, claimant="A. Poster",
        claim_date="2025-01-02", rating="Misleading", reviewer="Example Checks",
        url="https://checks.example/7", language="en", review_date="2025-01-03",
        rating_value="2", claimant_type="Person", reviewer_type="Organization",
    )


def test_bad_records_reported_with_lines_and_skipped(store, tmp_path):
    lines = [
        json.dumps(review(1, CLAIMS[0])),
        "{not json",
        json.dumps(review(2, "")),
        json.dumps(review(1, CLAIMS[1])),
        json.dumps(["a list"]),
        "",
        json.dumps(review(3, CLAIMS[2])),
    ]
    result = store.import_file(write(tmp_path, "bad.jsonl", "\n".join(lines) + "\n"))
    assert (result.imported, result.skipped) == (2, 4)
    by_line = {i.line: str(i) for i in result.issues}
    assert set(by_line) == {2, 3, 4, 5}
    assert "not valid JSON" in by_line[2]
    assert "missing claim text" in by_line[3]
    assert "duplicate claim id" in by_line[4] and "first on line 1" in by_line[4]
    assert len(store) == 2


def test_jsonld_missing_claim_has_line(store, tmp_path):
    doc = {"@graph": [review(1, CLAIMS[0]), review(2, ""), review(3, CLAIMS[1])]}
    result = store.import_file(write(tmp_path, "g.jsonld", json.dumps(doc, indent=2)))
    assert result.imported == 2
    [issue] = result.issues
    text = write(tmp_path, "g2.jsonld", json.dumps(doc, indent=2)).read_text().splitlines()
    assert '"ClaimReview"' in text[issue.line - 1]
    assert '""' in "\n".join(text[issue.line - 1: issue.line + 8])


def test_malformed_jsonld_stores_nothing(store, tmp_path):
    bad = json.dumps([review(1), review(2)], indent=2)[:-10]
    with pytest.raises(MalformedInputError) as err:
        store.import_file(write(tmp_path, "broken.jsonld", bad))
    assert "line" in str(err.value) and "broken.jsonld" in str(err.value)
    assert len(store) == 0


def test_strict_stores_nothing(store, tmp_path):
    path = write(tmp_path, "s.jsonl", json.dumps(review(1)) + "\n" + json.dumps(review(2, "")) + "\n")
    with pytest.raises(MalformedInputError, match="line 2"):
        store.import_file(path, strict=True)
    assert len(store) == 0


def test_large_json_document_refused_with_advice(store, tmp_path):
    path = write(tmp_path, "big.json", json.dumps([review(i) for i in range(50)]))
    with pytest.raises(InputTooLargeError, match="JSONL"):
        store.import_file(path, max_json_bytes=1000)
    assert len(store) == 0


def test_failed_import_rolls_back(store, tmp_path, monkeypatch):
    path = write(tmp_path, "many.jsonl", "".join(json.dumps(review(i, f"Claim number {i}")) + "\n" for i in range(30)))
    monkeypatch.setattr(fcmod, "BATCH_SIZE", 10)
    calls = {"n": 0}
    real = FactCheckStore._write

    def failing(self, conn, table, batch, result):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OperationalError("INSERT", {}, Exception("disk full"))
        return real(self, conn, table, batch, result)

    monkeypatch.setattr(FactCheckStore, "_write", failing)
    with pytest.raises(StoreError, match="rolled back"):
        store.import_file(path)
    assert len(store) == 0


@pytest.mark.parametrize("fmt", ["jsonl", "jsonld", "csv"])
def test_export_round_trip(store, tmp_path, fmt):
    lines = "".join(json.dumps(review(i, c)) + "\n" for i, c in enumerate(CLAIMS))
    store.import_file(write(tmp_path, "a.jsonl", lines))
    buf = io.StringIO()
    assert store.export(buf, fmt) == len(CLAIMS)
    again = FactCheckStore(str(tmp_path / "again.sqlite"))
    result = again.import_file(write(tmp_path, f"out.{fmt}", buf.getvalue()))
    assert result.imported == len(CLAIMS)
    assert list(again.iter_all()) == list(store.iter_all())


def test_csv_mapping_and_missing_column(store, tmp_path):
    path = write(tmp_path, "m.csv", "key,statement\nk1,The moon landing was faked.\n")
    with pytest.raises(UnknownFormatError, match="--map claim="):
        store.import_file(path)
    result = store.import_file(path, mapping=parse_mapping(["claim=statement", "claim_id=key"]))
    assert result.imported == 1 and store.get("k1").claim == "The moon landing was faked."


def test_csv_wrong_width_row(store, tmp_path):
    path = write(tmp_path, "w.csv", "id,claim\n1,Fine claim here\n2,too,many\n3,Another claim\n")
    result = store.import_file(path)
    assert result.imported == 2
    assert result.issues[0].line == 3


def test_search_and_stats(store):
    store.add(FactCheck(claim_id=str(i), claim=c, rating="False") for i, c in enumerate(CLAIMS))
    found = store.search(["moon", "studio", "filmed"], limit=5)
    assert found[0][0].claim == CLAIMS[1]
    assert store.search([], limit=5) == []
    stats = store.stats()
    assert stats["factchecks"] == 3 and stats["by_rating"] == {"False": 3}


def test_binary_and_unknown_inputs(store, tmp_path):
    from overclaim.errors import BinaryInputError, FileNotFound

    binary = tmp_path / "x.jsonl"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(BinaryInputError):
        list(read_records(binary))
    with pytest.raises(FileNotFound):
        list(read_records(tmp_path / "nope.jsonl"))


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("OVERCLAIM_TEST_PG_URL"), reason="OVERCLAIM_TEST_PG_URL not set")
def test_postgres_store(tmp_path):
    pg = FactCheckStore(os.environ["OVERCLAIM_TEST_PG_URL"])
    pg.delete([fc.claim_id for fc in pg.iter_all()])
    path = write(tmp_path, "p.jsonl", "".join(json.dumps(review(i, c)) + "\n" for i, c in enumerate(CLAIMS)))
    assert pg.import_file(path).imported == 3
    assert pg.import_file(path).already_stored == 3
    assert pg.search(["moon", "studio"], limit=3)[0][0].claim == CLAIMS[1]
    assert pg.near_duplicates(CLAIMS[1].upper())[0][0].claim == CLAIMS[1]
    assert pg.delete([fc.claim_id for fc in pg.iter_all()]) == 3


def test_cli_import_list_stats_export_match(tmp_path):
    from typer.testing import CliRunner

    from overclaim.cli import app

    db = str(tmp_path / "cli.sqlite")
    path = write(tmp_path, "c.jsonl", "".join(json.dumps(review(i, c)) + "\n" for i, c in enumerate(CLAIMS))
                 + json.dumps(review(9, "")) + "\n")
    runner = CliRunner()
    res = runner.invoke(app, ["factchecks", "import", str(path), "--factchecks", db, "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert (summary["imported"], summary["skipped"]) == (3, 1) and "line 4" in summary["issues"][0]
    res = runner.invoke(app, ["factchecks", "list", "--factchecks", db, "--json"])
    assert [r["claim"] for r in json.loads(res.output)] == CLAIMS
    res = runner.invoke(app, ["factchecks", "stats", "--factchecks", db, "--json"])
    assert json.loads(res.output)["by_rating"] == {"Misleading": 3}
    out = tmp_path / "export.csv"
    res = runner.invoke(app, ["factchecks", "export", "--factchecks", db, "--format", "csv", "--out", str(out)])
    assert res.exit_code == 0 and len(out.read_text().splitlines()) == 4
    res = runner.invoke(app, ["match", "The moon landing was filmed in a Nevada studio!", "--factchecks", db, "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)[0]["claim"] == CLAIMS[1]


def test_cli_bad_file_exits_2_with_one_line(tmp_path):
    import subprocess
    import sys

    bad = write(tmp_path, "bad.jsonld", '[{"@type": "ClaimReview",\n "claimReviewed": "x",,}]')
    proc = subprocess.run(
        [sys.executable, "-m", "overclaim", "factchecks", "import", str(bad),
         "--factchecks", str(tmp_path / "s.sqlite")],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "bad.jsonld, line 2" in proc.stderr


@pytest.mark.parametrize(
    "text",
    ["Air strikes will soon begin against Mexican Narco Terrorists!", "one", "", "Ünïcödé ＦＵＬＬＷＩＤＴＨ text",
     "a b"],
)
def test_minhash_signatures_equal_datasketch(text):
    import numpy as np
    from datasketch import MinHash

    from overclaim.store.factchecks import minhash_signatures, shingle_hashes

    expected = MinHash(num_perm=fcmod.NUM_PERM, seed=fcmod.MINHASH_SEED, hashfunc=int)
    expected.update_batch(shingle_hashes(text))
    together = minhash_signatures(["other text", text, "", "one"], chunk=3)
    assert np.array_equal(together[1], expected.hashvalues)


def test_near_duplicates(store):
    store.add(FactCheck(claim_id=str(i), claim=c) for i, c in enumerate(CLAIMS))
    found = store.near_duplicates("the MOON landing was filmed in a studio in Nevada!!", min_jaccard=0.5)
    assert [fc.claim_id for fc, _ in found] == ["1"] and found[0][1] >= 0.5
    assert store.near_duplicates("Completely different words about gardening tomatoes") == []
    store.delete(["1"])
    assert store.near_duplicates(CLAIMS[1]) == []


@pytest.mark.parametrize("name", ["bad.jsonl", "bad.csv", "bad.jsonld"])
def test_invalid_utf8_names_its_line_and_stores_nothing(store, tmp_path, name):
    from overclaim.errors import EncodingError

    if name.endswith(".jsonl"):
        lines = [json.dumps(review(i)).encode() for i in range(4)]
    elif name.endswith(".csv"):
        lines = [b"id,claim"] + [f"{i},Claim number {i}".encode() for i in range(4)]
    else:
        lines = json.dumps([review(i) for i in range(2)], indent=1).encode().split(b"\n")
    lines[2] = lines[2][:-3] + b"\xff\xfe" + lines[2][-3:]
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(EncodingError) as err:
        store.import_file(path)
    assert err.value.line == 3 and "nothing imported" in str(err.value)
    assert len(store) == 0


# --- issue 19: hostile imports ---------------------------------------------------------


def test_a_deep_or_long_number_jsonl_line_is_one_skipped_record(store, tmp_path):
    lines = [
        json.dumps(review(1, CLAIMS[0])),
        "[" * 100_000,  # deeper than Python's recursion limit
        '{"claim": "x", "n": ' + "9" * 5000 + "}",  # over Python's 4,300-digit limit
        json.dumps(review(2, CLAIMS[1])),
    ]
    result = store.import_file(write(tmp_path, "hostile.jsonl", "\n".join(lines) + "\n"))
    assert (result.imported, result.skipped) == (2, 2)
    by_line = {i.line: str(i) for i in result.issues}
    assert set(by_line) == {2, 3}
    assert "nested too deeply" in by_line[2] and "digits" in by_line[3]
    assert len(store) == 2


@pytest.mark.parametrize(
    "text, needle",
    [("[" * 100_000, "nested too deeply"), ('{"claimReviewed": ' + "1" * 5000 + "}", "digits")],
)
def test_a_deep_or_long_number_json_document_is_malformed(store, tmp_path, text, needle):
    with pytest.raises(MalformedInputError, match=needle) as err:
        store.import_file(write(tmp_path, "hostile.json", text))
    assert "nothing imported" in str(err.value)
    assert len(store) == 0


@pytest.mark.parametrize("feed", [5, "text", {"item": "not a review"}, [5, None]])
def test_a_datafeed_that_is_not_a_list_of_items_is_a_skipped_record(store, tmp_path, feed):
    good = {"@type": "DataFeedItem", "item": review(1, CLAIMS[0])}
    elements = [*(feed if isinstance(feed, list) else [feed]), good]
    result = store.import_file(write(tmp_path, "feed.json", json.dumps({"dataFeedElement": elements})))
    assert result.imported == 1
    assert result.skipped >= 1 and all("expected a JSON object" in i.message for i in result.issues)
    # With nothing usable at all, the import is an error that names the file and the first bad record.
    path = write(tmp_path, "bad_feed.json", json.dumps({"dataFeedElement": feed}))
    with pytest.raises(MalformedInputError, match="expected a JSON object") as err:
        store.import_file(path)
    assert str(path) in str(err.value) and "no usable fact-check record" in str(err.value)


def test_a_datafeed_with_one_item_object_is_imported(store, tmp_path):
    feed = {"@type": "DataFeed", "dataFeedElement": {"@type": "DataFeedItem", "item": review(1, CLAIMS[0])}}
    assert store.import_file(write(tmp_path, "feed.json", json.dumps(feed))).imported == 1


def test_a_utf16_import_is_named_not_called_binary(store, tmp_path):
    from overclaim.errors import EncodingError

    path = tmp_path / "fc.jsonl"
    path.write_bytes((json.dumps(review(1, CLAIMS[0])) + "\n").encode("utf-16"))
    with pytest.raises(EncodingError, match="UTF-16"):
        store.import_file(path)


# --- fact-checkers' own formats: article pages, the Fact Check Tools API, DataFeeds -----------

CLAIMREVIEW_FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "claimreview")


def fixture(name):
    return os.path.join(CLAIMREVIEW_FIXTURES, name)


def test_a_fact_check_page_imports_its_claimreviews_and_ignores_the_other_nodes(store):
    with open(fixture("factcheck_page.html"), encoding="utf-8") as fh:
        page = fh.read()
    result = store.import_file(fixture("factcheck_page.html"))
    # The page has 3 JSON-LD blocks: an Organization, an @graph of 6 nodes with one ClaimReview,
    # and a ClaimReview in the article; only the two ClaimReviews are records, none is bad.
    assert page.count('"@type": "ClaimReview"') == 2 and page.count("application/ld+json") == 3
    assert (result.read, result.imported, result.skipped, result.issues) == (2, 2, 0, [])
    first, second = store.iter_all()
    # The graph's {"@id": ...} references to its Claim and Organization nodes are followed.
    assert first.claim == "The city council banned cash payments in all shops from March"
    assert (first.claimant, first.claimant_type, first.claim_date) == ("Facebook posts", "Organization", "2024-03-01")
    assert (first.reviewer, first.reviewer_url) == ("Example Checks", "https://checks.example/")
    assert json.loads(first.appearance)["url"] == "https://social.example/p/777"
    assert (first.rating, first.rating_value, first.best_rating, first.worst_rating) == ("False", "1", "5", "1")
    assert second.claim == "Shops that take cash will be fined 500 euros"


def test_a_page_with_a_broken_block_reports_it_at_its_line_and_reads_the_rest(store, tmp_path):
    good = json.dumps(review(1, CLAIMS[0]))
    page = ("<!DOCTYPE html>\n<html><head>\n<script type='application/ld+json'>\n{\"@type\": \"WebPage\",,}\n"
            "</script>\n<script type=\"application/ld+json; charset=utf-8\">" + good + "</script>\n</head>"
            "<body><p>a, b, c</p></body></html>\n")
    result = store.import_file(write(tmp_path, "page.htm", page))
    assert result.imported == 1 and result.skipped == 1
    [issue] = result.issues
    assert issue.line == 4 and "not valid JSON" in issue.message


@pytest.mark.parametrize("name", ["page.html", "page"])
def test_a_page_without_claimreview_is_an_error_naming_the_file_not_csv(store, tmp_path, name):
    page = ('<!DOCTYPE html>\n<html><head><title>News, views</title><script type="application/ld+json">'
            '{"@type": "NewsArticle", "headline": "x"}</script></head><body><p>One, two</p></body></html>')
    path = write(tmp_path, name, page)
    with pytest.raises(UnknownFormatError, match="no fact-check record") as err:
        store.import_file(path)
    assert str(path) in str(err.value) and "column" not in str(err.value)
    assert len(store) == 0


def test_a_fact_check_tools_api_response_imports_one_record_per_review(store):
    with open(fixture("api_response.json"), encoding="utf-8") as fh:
        api = json.load(fh)
    pairs = [(c, r) for c in api["claims"] for r in c["claimReview"]]
    result = store.import_file(fixture("api_response.json"))
    assert (result.read, result.imported, result.skipped) == (len(pairs), len(pairs), 0)
    stored = {fc.url: fc for fc in store.iter_all()}
    for claim, rev in pairs:
        fc = stored[rev["url"]]
        assert (fc.claim, fc.claimant, fc.claim_date) == (claim["text"], claim["claimant"], claim["claimDate"])
        assert (fc.title, fc.rating, fc.language, fc.review_date) == (
            rev["title"], rev["textualRating"], rev["languageCode"], rev["reviewDate"])
        assert fc.reviewer == rev["publisher"]["name"]
        assert fc.reviewer_url == "https://" + rev["publisher"]["site"]


def test_api_response_pages_as_json_lines_and_a_claim_without_review(store, tmp_path):
    with open(fixture("api_response.json"), encoding="utf-8") as fh:
        api = json.load(fh)
    page2 = {"claims": [{"text": "A claim nobody reviewed", "claimReview": []}, api["claims"][1]]}
    result = store.import_file(write(tmp_path, "pages.jsonl", json.dumps(api) + "\n" + json.dumps(page2) + "\n"))
    # Page 1: 3 reviews; page 2: a claim with no review (bad, line 2) and a review already on page 1.
    assert (result.imported, result.skipped) == (3, 2)
    assert {i.line for i in result.issues} == {2}
    assert any("no claimReview" in i.message for i in result.issues)


@pytest.mark.parametrize(
    "text, error",
    [('{"claims": []}', UnknownFormatError), ("[]", UnknownFormatError), ("{}", MalformedInputError),
     ('{"error": {"code": 403, "message": "API key not valid"}}', MalformedInputError),
     ("claim,rating\n", UnknownFormatError)],
)
def test_a_file_with_content_but_no_record_is_an_error(store, tmp_path, text, error):
    path = write(tmp_path, "api.csv" if text.startswith("claim,") else "api.json", text)
    with pytest.raises(error, match="no (usable )?fact-check record") as err:
        store.import_file(path)
    assert str(path) in str(err.value)


def test_an_empty_file_imports_nothing_without_error(store, tmp_path):
    assert store.import_file(write(tmp_path, "empty.jsonl", "\n  \n")).read == 0


def test_a_datafeed_file_imports_every_item(store):
    with open(fixture("datafeed.json"), encoding="utf-8") as fh:
        feed = json.load(fh)
    items = [item for element in feed["dataFeedElement"] for item in element["item"]]
    result = store.import_file(fixture("datafeed.json"))
    assert (result.imported, result.skipped) == (len(items), 0)
    assert [fc.claim for fc in store.iter_all()] == [item["claimReviewed"] for item in items]


def _source_reviews():
    with open(fixture("rich.jsonld"), encoding="utf-8") as fh:
        return json.load(fh)["@graph"]


@pytest.mark.parametrize("fmt", ["jsonl", "jsonld", "csv"])
def test_import_export_import_gives_identical_records(store, tmp_path, fmt):
    store.import_file(fixture("rich.jsonld"))
    first = list(store.iter_all())
    assert len(first) == len(_source_reviews())
    buf = io.StringIO()
    store.export(buf, fmt)
    again = FactCheckStore(str(tmp_path / "again.sqlite"))
    again.import_file(write(tmp_path, f"export.{fmt}", buf.getvalue()))
    assert list(again.iter_all()) == first
    # Every field the fixture fills is stored (none lost on the way in).
    for name in fcmod.FIELDS:
        assert any(getattr(fc, name) for fc in first), name


def test_export_writes_back_the_claimreview_it_imported(store):
    store.import_file(fixture("rich.jsonld"))
    buf = io.StringIO()
    store.export(buf, "jsonl")
    exported = [json.loads(line) for line in buf.getvalue().splitlines()]
    for source, out in zip(_source_reviews(), exported, strict=True):
        out.pop("@context")
        # ratingValue/bestRating/worstRating, appearance, firstAppearance, the author's URL, the
        # claimant's @type ("Facebook posts" stays an Organization), and @id only where the source had one.
        assert out == source


def test_no_synthetic_id_is_exported_and_a_source_id_is_kept(store):
    store.import_file(fixture("rich.jsonld"))
    buf = io.StringIO()
    store.export(buf, "jsonld")
    graph = json.loads(buf.getvalue())["@graph"]
    assert [node.get("@id") for node in graph] == [node.get("@id") for node in _source_reviews()]
    assert not any(str(node.get("@id", "")).startswith("sha1:") for node in graph)


def test_a_store_from_an_older_release_gains_the_new_columns(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE factchecks (id INTEGER PRIMARY KEY AUTOINCREMENT, claim_id VARCHAR(512) NOT NULL "
                "UNIQUE, claim TEXT NOT NULL, title TEXT, claimant TEXT, claim_date VARCHAR(64), rating "
                "VARCHAR(256), reviewer VARCHAR(512), url TEXT, language VARCHAR(32), review_date VARCHAR(64))")
    con.execute("INSERT INTO factchecks (claim_id, claim, rating) VALUES ('old-1', 'An old claim', 'False')")
    con.commit()
    con.close()
    old = FactCheckStore(str(path))
    assert old.get("old-1") == FactCheck(claim_id="old-1", claim="An old claim", rating="False")
    old.import_file(fixture("rich.jsonld"))
    assert len(old) == 1 + len(_source_reviews())
    assert FactCheckStore(str(path)).get("https://verificador.example/es/2024/vacunas").claimant_type == "Person"


def test_a_saved_page_with_a_leading_comment_is_read_as_a_page(store, tmp_path):
    page = ("<!-- saved from url=(0042)https://checks.example/2024/cash-ban/ -->\n<html><head>"
            '<script type="application/ld+json">' + json.dumps(review(5, CLAIMS[2])) + "</script></head>"
            "<body><p>One, two, three</p></body></html>\n")
    result = store.import_file(write(tmp_path, "saved_page", page))
    assert (result.imported, result.skipped) == (1, 0)
