"""POST /v1/match: matches carry the fact-check's metadata and take language, age and publisher filters."""

from __future__ import annotations

import pytest

from overclaim.store.factchecks import FactCheckStore
from tests.conftest import FIXTURES

pytestmark = pytest.mark.anyio

SENATOR = "Senator voted against the climate bill 40 times!"


@pytest.fixture
def filled(settings):
    FactCheckStore(settings.db).import_file(FIXTURES / "claimreview" / "api_response.json")
    return settings


@pytest.mark.parametrize(
    "filters, reviewers",
    [({}, ["PolitiFact", "FactCheck.org"]), ({"publisher": "factcheck.org"}, ["FactCheck.org"]),
     ({"publisher": ["nobody", "politifact"]}, ["PolitiFact"]), ({"language": ["fr"]}, []),
     ({"language": "en", "max_age_days": 0}, [])],
)
async def test_match_filters(client_for, filled, filters, reviewers):
    async with client_for() as c:
        r = await c.post("/v1/match", json={"claim": SENATOR, **filters})
    assert r.status_code == 200, r.text
    matches = r.json()["matches"]
    assert [m["reviewer"] for m in matches] == reviewers
    if matches and not filters:
        assert (matches[0]["claimant"], matches[0]["language"]) == ("Viral image", "en")
        assert matches[0]["review_date"] == "2024-02-03T14:00:00Z"


@pytest.mark.parametrize(
    "filters, field",
    [({"language": 3}, "language"), ({"publisher": [""]}, "publisher"), ({"max_age_days": "7"}, "max_age_days"),
     ({"max_age_days": -2}, "max_age_days"), ({"max_age_days": True}, "max_age_days")],
)
async def test_bad_match_filters_are_4xx_naming_the_field(client_for, filled, filters, field):
    async with client_for() as c:
        r = await c.post("/v1/match", json={"claim": SENATOR, **filters})
    assert 400 <= r.status_code < 500
    assert r.json()["error"]["field"] == field
