"""The HTTP API in process (httpx ASGI transport): every route, status and error."""

from __future__ import annotations

import asyncio
import json
import os
import time

import jsonschema
import pytest

from overclaim.config import DEFAULT_CONFIG
from overclaim.pipeline import Checker
from overclaim.report import Report, report_schema

pytestmark = pytest.mark.anyio

ARTICLE_HTML = """<!DOCTYPE html><html><head><title>Air strikes will soon begin against cartels</title></head>
<body><nav>Home | World</nav><article><h1>Air strikes will soon begin against cartels</h1>
<p>The administration is evaluating plans for using military force against drug cartels, current and former
officials said, a potentially dramatic escalation in the region.</p>
<p>Military strikes would be audacious and potentially unlikely to get approval, a U.S. official familiar with
the issue said. Discussions have ranged from using Navy destroyers to partnering with local authorities.</p>
</article><footer>Copyright</footer></body></html>"""


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] and body["error"]["message"], body
    return body["error"]


# --- POST /v1/check ----------------------------------------------------------


async def test_check_json_returns_report_stored_under_its_id(client, seed):
    r = await client.post("/v1/check", json=seed)
    assert r.status_code == 200
    report = Report.model_validate(r.json())
    jsonschema.Draft202012Validator(report_schema()).validate(r.json())
    assert report.post.headline == seed["headline"]
    report_id = r.headers["x-report-id"]
    assert r.headers["location"] == f"/v1/reports/{report_id}"
    again = await client.get(f"/v1/reports/{report_id}")
    assert again.status_code == 200
    assert again.json() == r.json()


async def test_check_spans_point_into_the_original_text(client, seed):
    report = (await client.post("/v1/check", json=seed)).json()
    assert report["evidence"], "the seed post has evidence sentences"
    for ev in report["evidence"]:
        span = ev["span"]
        assert seed["body"][span["start"]:span["end"]] == span["text"]


@pytest.mark.parametrize("content_type", ["text/html", "text/html; charset=utf-8", "application/xhtml+xml"])
async def test_check_html_page(client, content_type):
    r = await client.post("/v1/check", content=ARTICLE_HTML.encode(), headers={"content-type": content_type})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["post"]["headline"] == "Air strikes will soon begin against cartels"
    assert "evaluating plans" in report["post"]["body"]
    assert "Copyright" not in report["post"]["body"]


async def test_check_html_in_json(client):
    r = await client.post("/v1/check", json={"html": ARTICLE_HTML, "url": "https://news.example/a"})
    assert r.status_code == 200, r.text
    assert r.json()["post"]["url"] == "https://news.example/a"
    assert "evaluating plans" in r.json()["post"]["body"]


async def test_check_plain_text(client, seed_text):
    r = await client.post("/v1/check", content=seed_text.encode(), headers={"content-type": "text/plain"})
    assert r.status_code == 200
    assert r.json()["post"]["headline"] == seed_text.split("\n", 1)[0]


async def test_check_keeps_metadata(client, seed):
    meta = {"id": "post-7", "outlet": "The Post", "published": "2025-03-01", "url": "https://x.example/a"}
    r = await client.post("/v1/check", json={**seed, **meta})
    assert r.status_code == 200
    assert {k: r.json()["post"][k] for k in meta} == meta


@pytest.mark.parametrize(
    "content, content_type, status, code, needle",
    [
        (json.dumps({"headline": "Strikes begin"}), "application/json", 422, "empty_field", "body"),
        (json.dumps({"headline": "Strikes begin", "body": "   "}), "application/json", 422, "empty_field", "body"),
        (json.dumps({"headline": 3, "body": "text"}), "application/json", 422, "wrong_type", "headline"),
        (json.dumps({"headline": "a", "body": ["x"]}), "application/json", 422, "wrong_type", "body"),
        (json.dumps(["not", "an", "object"]), "application/json", 400, "malformed", "object"),
        ('{"headline": "a", "body": ', "application/json", 400, "malformed", "not valid JSON"),
        ("", "application/json", 422, "empty_field", "empty"),
        (json.dumps({"html": 5}), "application/json", 422, "wrong_type", "html"),
        ("<html><head><title>t</title></head><body></body></html>", "text/html", 422, "empty_field", "article"),
        ("headline only", "text/plain", 422, "empty_field", "body"),
        ("a,b\n1,2", "text/csv", 415, "unknown_format", "text/csv"),
        (b"\xff\xfe<html>bad", "text/html", 415, "bad_encoding", "UTF-8"),
        (json.dumps({"url": "https://news.example/a"}), "application/json", 400, "fetch_refused", "--allow-fetch"),
    ],
)
async def test_check_bad_input_is_a_json_error(client, content, content_type, status, code, needle):
    data = content.encode() if isinstance(content, str) else content
    r = await client.post("/v1/check", content=data, headers={"content-type": content_type})
    assert r.status_code == status, r.text
    err = error_of(r)
    assert err["code"] == code
    assert needle in err["message"]


async def test_check_over_size_cap_is_413_with_and_without_length(client_for, seed):
    big = json.dumps({**seed, "body": "x" * 5000}).encode()
    async with client_for(max_request_bytes=4000) as c:
        r = await c.post("/v1/check", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert error_of(r)["code"] == "too_large"

        async def chunks():  # no Content-Length: the cap is enforced while reading
            for i in range(0, len(big), 1000):
                yield big[i:i + 1000]

        r = await c.post("/v1/check", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert "4000 bytes" in error_of(r)["message"]
        ok = await c.post("/v1/check", json={"headline": "Strikes begin", "body": "Officials discuss strikes."})
        assert ok.status_code == 200


async def test_slow_request_body_is_408(client_for):
    async with client_for(read_timeout_s=0.2) as c:

        async def slow():
            yield b'{"headline": "a",'
            await asyncio.sleep(1.0)
            yield b'"body": "b"}'

        r = await c.post("/v1/check", content=slow(), headers={"content-type": "application/json"})
    assert r.status_code == 408
    assert error_of(r)["code"] == "request_timeout"


class SlowChecker(Checker):
    def check_post(self, post):
        time.sleep(1.0)
        return super().check_post(post)

    def check_many(self, posts):
        time.sleep(1.0)
        return super().check_many(posts)


class BrokenChecker(Checker):
    def check_post(self, post):
        raise RuntimeError("boom")

    def check_many(self, posts):
        raise RuntimeError("boom")


class OneBadPostChecker(Checker):
    """Fails on a headline holding BOOM, alone or inside a group."""

    def check_post(self, post):
        if "BOOM" in post.headline:
            raise RuntimeError("boom")
        return super().check_post(post)

    def check_many(self, posts):
        return [self.check_post(p) for p in posts]


async def test_an_internal_error_in_a_batch_costs_only_its_post(client_for, seed):
    posts = [seed, {**seed, "headline": "BOOM " + seed["headline"]}, seed]
    async with client_for(app_checker=OneBadPostChecker()) as c:
        r = await c.post("/v1/batch", json={"posts": posts})
    assert r.status_code == 200
    results = r.json()["results"]
    assert [("error" in x) for x in results] == [False, True, False]
    assert results[1]["error"]["code"] == "internal" and "boom" not in results[1]["error"]["message"]
    assert results[0]["report"]["verdict"] == results[2]["report"]["verdict"]


async def test_check_over_time_limit_is_504(client_for, seed):
    async with client_for(app_checker=SlowChecker(), check_timeout_s=0.2) as c:
        started = time.perf_counter()
        r = await c.post("/v1/check", json=seed)
        assert time.perf_counter() - started < 0.9
    assert r.status_code == 504
    assert error_of(r)["code"] == "timeout"


async def test_internal_error_is_500_without_details(client_for, seed):
    async with client_for(app_checker=BrokenChecker()) as c:
        r = await c.post("/v1/check", json=seed)
    assert r.status_code == 500
    err = error_of(r)
    assert err["code"] == "internal"
    assert "boom" not in err["message"]


@pytest.fixture
def unusable_db(tmp_path) -> str:
    """A database path under a file, which no store can create."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    return str(blocker / "sub" / "reports.sqlite")


async def test_unusable_database_is_503(client_for, seed, unusable_db):
    async with client_for(db=unusable_db) as c:
        r = await c.post("/v1/check", json=seed)
    assert r.status_code == 503
    assert error_of(r)["code"] == "store_error"


async def test_unusable_database_is_503_for_stored_reports_too(client_for, unusable_db):
    async with client_for(db=unusable_db) as c:
        r = await c.get("/v1/reports/" + "0" * 32)
    assert r.status_code == 503
    assert error_of(r)["code"] == "store_error"


@pytest.mark.parametrize("length", ["abc", "-5", "1e3"])
async def test_unreadable_content_length_is_400(client, seed, length):
    r = await client.post("/v1/check", content=json.dumps(seed).encode(),
                          headers={"content-type": "application/json", "content-length": length})
    assert r.status_code == 400
    assert error_of(r)["code"] == "malformed" and "Content-Length" in error_of(r)["message"]


async def test_no_store_still_checks_but_keeps_nothing(client_for, seed):
    async with client_for(db=None) as c:
        r = await c.post("/v1/check", json=seed)
        assert r.status_code == 200
        assert "x-report-id" not in r.headers
        missing = await c.get("/v1/reports/" + "a" * 32)
    assert missing.status_code == 404
    assert "keeps no reports" in error_of(missing)["message"]


# --- POST /v1/batch ----------------------------------------------------------


async def test_batch_mixes_reports_and_per_post_errors(client, seed):
    posts = [seed, {"headline": "Council approves budget"}, {**seed, "id": "third"}, "not an object"]
    r = await client.post("/v1/batch", json={"posts": posts})
    assert r.status_code == 200
    out = r.json()
    assert out["count"] == 4 and out["errors"] == 2
    assert [x["index"] for x in out["results"]] == [0, 1, 2, 3]
    assert out["results"][1]["error"]["code"] == "empty_field"
    assert "posts[1]" in out["results"][1]["error"]["message"]
    assert out["results"][3]["error"]["code"] == "malformed"
    third = out["results"][2]
    assert third["report"]["post"]["id"] == "third"
    stored = await client.get(f"/v1/reports/{third['id']}")
    assert stored.json() == third["report"]


async def test_batch_accepts_a_bare_array(client, seed):
    r = await client.post("/v1/batch", json=[seed, seed])
    assert r.status_code == 200
    ids = [x["id"] for x in r.json()["results"]]
    assert len(set(ids)) == 2


@pytest.mark.parametrize(
    "payload, status, code",
    [
        ({"posts": "nope"}, 400, "malformed"),
        ({"items": []}, 400, "malformed"),
        ({"posts": [{"headline": "h", "body": "b"}] * 4}, 413, "too_large"),
    ],
)
async def test_batch_errors(client_for, payload, status, code):
    async with client_for(max_batch=3) as c:
        r = await c.post("/v1/batch", json=payload)
    assert r.status_code == status
    assert error_of(r)["code"] == code


async def test_batch_over_time_limit_is_504(client_for, seed):
    async with client_for(app_checker=SlowChecker(), batch_timeout_s=0.2) as c:
        r = await c.post("/v1/batch", json=[seed])
    assert r.status_code == 504
    assert error_of(r)["code"] == "timeout"


# --- POST /v1/match ----------------------------------------------------------


async def test_match_returns_matches_list(client):
    r = await client.post("/v1/match", json={"claim": "Air strikes will soon begin against Mexican cartels"})
    assert r.status_code == 200
    assert r.json()["claim"].startswith("Air strikes")
    assert isinstance(r.json()["matches"], list)


async def test_match_finds_a_stored_factcheck(client_for, settings):
    from overclaim.store.factchecks import FactCheck, FactCheckStore

    FactCheckStore(settings.db).add([
        FactCheck(claim_id="c1", claim="Air strikes will soon begin against Mexican narco terrorists",
                  rating="False", reviewer="Checkers", url="https://factcheck.example/c1"),
        FactCheck(claim_id="c2", claim="Vaccines contain microchips", rating="False"),
        FactCheck(claim_id="c3", claim="The city council approved a new budget for schools", rating="True"),
    ])
    async with client_for() as c:
        r = await c.post("/v1/match", json={"claim": "Air strikes will soon begin against Mexican Narco Terr0rist!"})
    assert r.status_code == 200
    matches = r.json()["matches"]
    assert [m["claim_id"] for m in matches] == ["c1"]
    shown = DEFAULT_CONFIG.match_min_probability
    assert matches[0]["rating"] == "False" and shown <= matches[0]["probability"] <= 1


@pytest.mark.parametrize(
    "payload, status, code",
    [({}, 422, "empty_field"), ({"claim": "  "}, 422, "empty_field"), ({"claim": 3}, 422, "wrong_type"),
     ({"headline": "Strikes", "body": ["x"]}, 422, "wrong_type")],
)
async def test_match_errors(client, payload, status, code):
    r = await client.post("/v1/match", json=payload)
    assert r.status_code == status
    assert error_of(r)["code"] == code


@pytest.mark.parametrize(
    "content, status, code, needle",
    [(b'{"claim": ', 400, "malformed", "not valid JSON"), (b"", 422, "empty_field", "empty"),
     (b"[]", 400, "malformed", "object"), (b"null", 400, "malformed", "object")],
)
async def test_match_bad_body_is_the_same_error_as_check(client, content, status, code, needle):
    r = await client.post("/v1/match", content=content, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    err = error_of(r)
    assert err["code"] == code and needle in err["message"]
    same = await client.post("/v1/check", content=content, headers={"content-type": "application/json"})
    assert (same.status_code, error_of(same)["code"]) == (status, code)


async def test_match_reads_only_json(client):
    r = await client.post("/v1/match", content=b"hello", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    assert error_of(r)["code"] == "unknown_format"


async def test_match_checks_the_api_key_before_the_body(client_for):
    async with client_for(api_key="k3y") as c:
        r = await c.post("/v1/match", content=b'{"claim": ', headers={"content-type": "application/json"})
        assert r.status_code == 401
        ok = await c.post("/v1/match", json={"claim": "Strikes begin"}, headers={"x-api-key": "k3y"})
        assert ok.status_code == 200


async def test_match_over_time_limit_is_504(client_for, monkeypatch):
    from overclaim.web.app import Service

    def slow(self, claim, body, where=None):
        time.sleep(1.0)
        return []

    monkeypatch.setattr(Service, "matches_for", slow)
    async with client_for(check_timeout_s=0.2) as c:
        r = await c.post("/v1/match", json={"claim": "Strikes begin"})
    assert r.status_code == 504
    assert error_of(r)["code"] == "timeout"


async def test_match_without_any_store_is_503(client_for):
    async with client_for(db=None, factchecks=None) as c:
        r = await c.post("/v1/match", json={"claim": "Strikes begin"})
    assert r.status_code == 503
    assert "fact-check store" in error_of(r)["message"]


# --- GET /v1/reports/{id}, /v1/schema, /healthz, unknown routes ---------------


@pytest.mark.parametrize("report_id", ["0" * 32, "nothex", "..%2F..%2Fetc%2Fpasswd"])
async def test_unknown_report_is_404(client, report_id):
    r = await client.get(f"/v1/reports/{report_id}")
    assert r.status_code == 404
    assert error_of(r)["code"] == "not_found"


async def test_report_as_html_page(client, seed):
    report_id = (await client.post("/v1/check", json=seed)).headers["x-report-id"]
    r = await client.get(f"/v1/reports/{report_id}", params={"format": "html"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"].count("default-src") == 1
    assert "style-src 'unsafe-inline'" in r.headers["content-security-policy"]  # its <style> is inline
    assert "<style>" in r.text and "<script" not in r.text
    assert 'class="oc-verdict-label"' in r.text
    bad = await client.get(f"/v1/reports/{report_id}", params={"format": "xml"})
    assert bad.status_code == 422
    assert error_of(bad)["field"] == "format"


async def test_schema_and_health(client):
    r = await client.get("/v1/schema")
    assert r.status_code == 200
    assert r.json() == report_schema()
    h = await client.get("/healthz")
    assert h.status_code == 200
    assert h.json()["status"] == "ok"


@pytest.mark.parametrize(
    "method, path, status, code",
    [("GET", "/nope", 404, "not_found"), ("GET", "/v1/check", 405, "method_not_allowed"),
     ("DELETE", "/v1/reports/" + "a" * 32, 405, "method_not_allowed")],
)
async def test_unknown_routes_and_methods(client, method, path, status, code):
    r = await client.request(method, path)
    assert r.status_code == status
    assert error_of(r)["code"] == code


async def test_openapi_and_docs_load_nothing_from_outside(client):
    spec = (await client.get("/openapi.json")).json()
    assert {"/v1/check", "/v1/batch", "/v1/match", "/v1/reports/{report_id}", "/v1/schema", "/healthz"} <= set(
        spec["paths"]
    )
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert "/v1/batch" in docs.text
    assert "cdn" not in docs.text.lower() and "<script" not in docs.text


async def test_security_headers(client):
    r = await client.get("/")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in r.headers["content-security-policy"]


# --- API key -----------------------------------------------------------------

V1_CALLS = [
    ("POST", "/v1/check", {"headline": "Strikes begin", "body": "Officials are discussing strikes."}),
    ("POST", "/v1/batch", {"posts": []}),
    ("POST", "/v1/match", {"claim": "Strikes begin"}),
    ("GET", "/v1/reports/" + "0" * 32, None),
    ("GET", "/v1/schema", None),
]


@pytest.mark.parametrize("method, path, payload", V1_CALLS)
async def test_api_key_required_on_every_v1_route(client_for, method, path, payload):
    async with client_for(api_key="s3cret") as c:
        kw = {"json": payload} if payload is not None else {}
        missing = await c.request(method, path, **kw)
        assert missing.status_code == 401
        assert error_of(missing)["code"] == "unauthorized"
        assert missing.headers["www-authenticate"].startswith("Bearer")
        wrong = await c.request(method, path, headers={"x-api-key": "nope"}, **kw)
        assert wrong.status_code == 401
        for headers in ({"x-api-key": "s3cret"}, {"authorization": "Bearer s3cret"}):
            ok = await c.request(method, path, headers=headers, **kw)
            assert ok.status_code != 401
            assert ok.status_code in (200, 404), ok.text
        assert (await c.get("/healthz")).status_code == 200


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("OVERCLAIM_TEST_PG_URL"), reason="no PostgreSQL (OVERCLAIM_TEST_PG_URL)")
async def test_reports_stored_in_postgresql(client_for, seed):
    async with client_for(db=os.environ["OVERCLAIM_TEST_PG_URL"]) as c:
        r = await c.post("/v1/check", json=seed)
        assert r.status_code == 200
        stored = await c.get(r.headers["location"])
    assert stored.json() == r.json()


# --- cross-site request forgery (issue 19, item 20) -----------------------------

SEED_JSON = json.dumps({"headline": "Strikes begin", "body": "Officials are discussing strikes."}).encode()
# What another site's page can make a browser send without a preflight: no Content-Type (a fetch
# of a typeless Blob), text/plain (a form with enctype=text/plain can shape its body as JSON), forms.
SIMPLE_TYPES = [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]


@pytest.mark.parametrize("content_type", [t for t in SIMPLE_TYPES if t != "text/plain"])
@pytest.mark.parametrize("path", ["/v1/check", "/v1/batch", "/v1/match"])
async def test_json_routes_read_json_only_when_declared(client, path, content_type):
    body = {"/v1/batch": b'{"posts": [' + SEED_JSON + b"]}", "/v1/match": b'{"claim": "Strikes begin"}'}.get(
        path, SEED_JSON)
    headers = {"content-type": content_type} if content_type else {}
    r = await client.post(path, content=body, headers=headers)
    assert r.status_code == 415, r.text
    err = error_of(r)
    assert err["code"] == "unknown_format"
    assert ("no Content-Type" in err["message"]) if content_type is None else ("application/json" in err["message"])


async def test_batch_does_not_read_a_text_plain_form_as_json(client):
    # A form with enctype=text/plain sends name=value: the name and value can make this JSON.
    form = b'{"posts": [{"headline": "Strikes begin", "body": "Officials are discussing strikes.", "x": "=' + b'"}]}'
    assert json.loads(form)  # (it is JSON)
    r = await client.post("/v1/batch", content=form, headers={"content-type": "text/plain"})
    assert r.status_code == 415
    assert error_of(r)["code"] == "unknown_format"


async def test_plain_text_to_check_is_read_as_text_not_json(client):
    # text/plain stays a documented input of /v1/check (first line: headline), never parsed as JSON.
    r = await client.post("/v1/check", content=b'{"url": "http://127.0.0.1:1/"}\nsecond line is the body',
                          headers={"content-type": "text/plain"})
    assert r.status_code == 200
    assert r.json()["post"]["headline"] == '{"url": "http://127.0.0.1:1/"}'


CROSS_SITE = [
    {"sec-fetch-site": "cross-site", "origin": "https://evil.example"},
    {"sec-fetch-site": "same-site", "origin": "https://evil.testserver"},
    {"origin": "https://evil.example"},  # a browser without Sec-Fetch-Site
    {"origin": "null"},  # a sandboxed frame or a data: page
    {"origin": "http://testserver:8080"},  # another port is another origin
]
SAME_SITE = [
    {},  # curl, scripts: no browser headers
    {"sec-fetch-site": "same-origin", "origin": "http://testserver"},
    {"sec-fetch-site": "none"},  # typed or bookmarked by the user
    {"origin": "http://testserver"},
    {"origin": "http://testserver:80"},
    {"origin": "https://overclaim.example", "x-forwarded-host": "overclaim.example"},  # behind a proxy
]


@pytest.mark.parametrize("headers", CROSS_SITE)
@pytest.mark.parametrize(
    "path, content, content_type",
    [("/v1/check", b"Strikes begin\nOfficials are discussing strikes.", "text/plain"),
     ("/v1/check", SEED_JSON, "application/json"),
     ("/v1/batch", b"[" + SEED_JSON + b"]", "application/json"),
     ("/v1/match", b'{"claim": "Strikes begin"}', "application/json")],
)
async def test_cross_site_posts_to_the_api_are_refused(client_for, settings, headers, path, content, content_type):
    async with client_for() as c:
        r = await c.post(path, content=content, headers={**headers, "content-type": content_type})
    assert r.status_code == 403, r.text
    assert error_of(r)["code"] == "cross_site"
    from overclaim.store.reports import ReportStore

    assert len(ReportStore(settings.db)) == 0  # nothing was checked or stored


@pytest.mark.parametrize("headers", SAME_SITE)
async def test_same_site_and_non_browser_posts_to_the_api_are_answered(client, headers):
    r = await client.post("/v1/check", content=SEED_JSON, headers={**headers, "content-type": "application/json"})
    assert r.status_code == 200, r.text
