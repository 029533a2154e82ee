"""ServiceSettings (pydantic-settings) and the order the app's middleware answer in."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from overclaim.web.settings import ServiceSettings

pytestmark = pytest.mark.anyio


def test_settings_go_to_the_environment_and_come_back_whole(monkeypatch):
    settings = ServiceSettings(db=None, api_key="k3y", allow_fetch=True, check_timeout_s=2.5, check_processes=0,
                               warm_up=False, max_batch=7)
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    back = ServiceSettings.from_env()
    assert back == settings
    assert back.db is None and back.factchecks is None  # (an empty variable is None)
    assert back.allow_fetch is True and back.max_batch == 7 and back.check_timeout_s == 2.5


def test_only_from_env_reads_the_environment(monkeypatch):
    monkeypatch.setenv("OVERCLAIM_API_KEY", "from-the-shell")
    monkeypatch.setenv("OVERCLAIM_MAX_BATCH", "3")
    assert ServiceSettings().api_key is None and ServiceSettings().max_batch == 100
    assert ServiceSettings.from_env().api_key == "from-the-shell"
    assert ServiceSettings.from_env().max_batch == 3


@pytest.mark.parametrize(("name", "value"), [("OVERCLAIM_CHECK_PROCESSES", "two"), ("OVERCLAIM_WARM_UP", "maybe")])
def test_a_variable_that_does_not_read_is_an_error_not_a_default(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=name.removeprefix("OVERCLAIM_").lower()):
        ServiceSettings.from_env()


def test_settings_are_frozen():
    with pytest.raises(ValidationError):
        ServiceSettings().max_batch = 1  # type: ignore[misc]


async def test_a_refusal_before_the_body_is_read_still_gets_the_security_headers(client, seed):
    # The security headers are the outermost middleware: the cross-site refusal is answered inside it.
    api = await client.post("/v1/check", json=seed, headers={"sec-fetch-site": "cross-site"})
    assert api.status_code == 403 and api.json()["error"]["code"] == "cross_site"
    assert api.headers["x-content-type-options"] == "nosniff"
    page = await client.post("/", data=seed, headers={"sec-fetch-site": "cross-site"})
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    too_big = await client.post("/v1/check", content=b"x", headers={"content-length": "999999999",
                                                                      "content-type": "application/json"})
    assert too_big.status_code == 413 and too_big.headers["referrer-policy"] == "no-referrer"
