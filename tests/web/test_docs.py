"""The API reference (issue 22): an example request and answer for every route, real ones, and no raw rST."""

from __future__ import annotations

import html
import json
import re

import pytest

from overclaim.report import Report
from overclaim.web.examples import EXAMPLE_FACTCHECKS, EXAMPLE_POST, load_examples
from overclaim.web.examples_build import build_examples

pytestmark = pytest.mark.anyio

ROLE = re.compile(r":(class|func|meth|data|attr|mod):`")


async def test_every_route_has_an_example_request_and_answer(client):
    spec = (await client.get("/openapi.json")).json()
    ops = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert {f"{m.upper()} {p}" for p, m, _ in ops} == {
        "POST /v1/check", "POST /v1/batch", "POST /v1/match", "GET /v1/reports/{report_id}", "GET /v1/schema",
        "GET /healthz"}
    for path, method, op in ops:
        answer = op["responses"]["200"]["content"]["application/json"]
        assert answer.get("example"), f"{method} {path}: no example answer"
        if method == "post":
            for media, content in op["requestBody"]["content"].items():
                values = [e["value"] for e in content.get("examples", {}).values()]
                assert values and all(values), f"{method} {path} {media}: no example request"
        for param in op.get("parameters", []):
            assert [e["value"] for e in param.get("examples", {}).values()], f"{path}: {param['name']}"


async def test_the_reference_page_shows_them_in_plain_html_without_rst(client):
    docs = await client.get("/docs")
    assert docs.status_code == 200
    text = html.unescape(re.sub(r"<[^>]+>", "", docs.text))
    assert "`" not in text and not ROLE.search(text), "raw rST or Markdown shown"
    assert "<code>max_batch</code>" in docs.text and "<code>claim</code>" in docs.text
    rows = re.findall(r"<tr><td><code>(\w+) ([^<]+)</code></td>(.*?)</tr>", docs.text, re.S)
    assert len(rows) == 6
    for method, path, row in rows:
        request = re.search(r"<summary>Example request</summary><pre>(.*?)</pre>", row, re.S)
        answer = re.search(r"<summary>Example answer \(200\)</summary><pre>(.*?)</pre>", row, re.S)
        assert request and answer, path
        line = html.unescape(request.group(1)).split("\n", 1)[0]
        assert line.startswith(f"{method} ") and "{" not in line  # the path with its example values
        json.loads(html.unescape(answer.group(1)))
    check = next(r for m, p, r in rows if p == "/v1/check")
    assert html.escape(EXAMPLE_POST["headline"]) in check
    report = next(r for m, p, r in rows if p == "/v1/reports/{report_id}")
    assert re.search(r"GET /v1/reports/[0-9a-f]{32}\?format=json&amp;token=[0-9a-f]{32}", report)


def test_no_description_in_the_openapi_document_uses_a_sphinx_role():
    from overclaim.web.app import ServiceSettings, create_app

    spec = json.dumps(create_app(ServiceSettings(db=None, warm_up=False, check_processes=0)).openapi())
    assert not ROLE.search(spec)


def test_the_shipped_examples_are_what_the_service_answers_now():
    """Fails when the report or the models change: run `python -m overclaim.web.examples_build` to renew them."""
    shipped = load_examples()
    fresh = build_examples()

    def steady(report: dict) -> dict:
        return {k: v for k, v in report.items() if k not in ("elapsed_ms", "checked_at")}

    assert shipped["check"]["request"] == EXAMPLE_POST
    assert steady(shipped["check"]["response"]) == steady(fresh["check"]["response"])
    assert Report.model_validate(shipped["check"]["response"]).post.url == EXAMPLE_POST["url"]
    assert steady(shipped["report"]["response"]) == steady(shipped["check"]["response"])
    assert shipped["match"]["response"] == fresh["match"]["response"]
    matched = {m["claim_id"] for m in shipped["match"]["response"]["matches"]}
    assert matched <= {f["claim_id"] for f in EXAMPLE_FACTCHECKS}
    results = shipped["batch"]["response"]["results"]
    assert [("report" in r, "error" in r) for r in results] == [(True, False), (False, True)]
    assert shipped["healthz"]["response"] == fresh["healthz"]["response"]
