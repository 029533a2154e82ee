"""Issue 19 at the API: hostile request bodies answer 4xx JSON, and a library panic costs one post."""

from __future__ import annotations

import pytest

from tests.web.test_api import error_of

pytestmark = pytest.mark.anyio

BODY = "Officials said the plan was discussed at length. The minister said nothing was decided."


@pytest.mark.parametrize(
    "content, status, code, needle",
    [
        (b"[" * 100_000, 400, "malformed", "nested too deeply"),
        (b'{"headline": "Plan fails", "body": "b", "n": ' + b"9" * 5000 + b"}", 400, "malformed", "digits"),
        (b'{"headline": "Plan \\udfff fails", "body": "Officials said so."}', 415, "bad_encoding", "surrogate"),
        (b'{"headline": "Plan fails", "body": "Officials\\u0000 said so."}', 415, "binary_input", "NUL"),
    ],
)
@pytest.mark.parametrize("route", ["/v1/check", "/v1/batch"])
async def test_hostile_json_is_a_4xx_json_error(client, route, content, status, code, needle):
    if route == "/v1/batch" and content.startswith(b"{"):
        content = b'{"posts": [' + content + b"]}"
    r = await client.post(route, content=content, headers={"content-type": "application/json"})
    if route == "/v1/batch" and r.status_code == 200:  # a post's own error, in its result
        [item] = r.json()["results"]
        err = item["error"]
    else:
        assert r.status_code == status, r.text
        err = error_of(r)
    assert err["code"] == code
    assert needle in err["message"]


async def test_the_sentencex_trigger_post_is_checked(client):
    body = "The government said it would adopt Plan B\u00a0. Officials said it failed."
    r = await client.post("/v1/check", json={"headline": "Plan B fails", "body": body})
    assert r.status_code == 200, r.text
    assert r.json()["verdict"]["label"]


async def test_a_library_panic_costs_only_its_own_post_in_a_batch(client, monkeypatch):
    import overclaim.stages.segment as segment
    from tests.test_reliability_inputs import _real_panic_type

    panic = _real_panic_type()
    real = segment.sentencex.segment

    def segment_or_panic(language: str, text: str):
        if "PANIC" in text:
            raise panic("byte index 42 is not a char boundary")
        return real(language, text)

    monkeypatch.setattr(segment.sentencex, "segment", segment_or_panic)
    posts = [{"headline": "Plan fails", "body": BODY}, {"headline": "Plan fails", "body": "PANIC here. And more."},
             {"headline": "Plan fails", "body": BODY}]
    r = await client.post("/v1/batch", json={"posts": posts})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert ["error" in item for item in results] == [False, True, False]
    assert results[1]["error"]["code"] == "internal"
    single = await client.post("/v1/check", json=posts[1])
    assert single.status_code == 500 and error_of(single)["code"] == "internal"
