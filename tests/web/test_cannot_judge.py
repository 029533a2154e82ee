"""A cannot_judge report through the service: API JSON, the page, the stored report's HTML."""

from __future__ import annotations

import jsonschema
import pytest

from overclaim import Checker
from overclaim.report import VERDICT_DEFINITIONS, Post, Report, Verdict, report_schema

pytestmark = pytest.mark.anyio


class CannotJudgeChecker(Checker):
    """The real pipeline, with the verdict replaced by cannot_judge (the stage does not give it yet)."""

    def check_post(self, post: Post) -> Report:
        report = super().check_post(post)
        verdict = Verdict(label="cannot_judge", score=0.5, definition=VERDICT_DEFINITIONS["cannot_judge"])
        return report.model_copy(update={"verdict": verdict})

    def check_many(self, posts: list[Post]) -> list[Report]:  # type: ignore[override]
        return [self.check_post(p) for p in posts]


async def test_cannot_judge_on_the_api_and_the_page(client_for, seed):
    async with client_for(app_checker=CannotJudgeChecker()) as client:
        r = await client.post("/v1/check", json=seed)
        assert r.status_code == 200, r.text
        jsonschema.Draft202012Validator(report_schema()).validate(r.json())
        assert r.json()["verdict"]["label"] == "cannot_judge"
        stored = await client.get(f"/v1/reports/{r.headers['x-report-id']}", params={"format": "html"})
        assert stored.status_code == 200 and 'data-verdict="cannot_judge"' in stored.text

        page = await client.post("/", data=seed)
        assert page.status_code == 200
        assert "<title>cannot judge — overclaim</title>" in page.text
        assert 'class="oc-verdict oc-verdict-cannot_judge"' in page.text
        css = await client.get("/static/overclaim.css")
        assert ".oc-verdict-cannot_judge" in css.text

        batch = await client.post("/v1/batch", json={"posts": [seed, seed]})
        assert batch.status_code == 200, batch.text
        assert [item["report"]["verdict"]["label"] for item in batch.json()["results"]] == ["cannot_judge"] * 2
