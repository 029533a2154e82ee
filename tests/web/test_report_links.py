"""A stored report's link (issue 22): visible on the page, opens without the API key, refuses a wrong token.
And the check date and the source address in every report: JSON, page and standalone HTML."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from overclaim.web.app import report_token

pytestmark = pytest.mark.anyio

KEY = "s3cret-key"


def permalink(page: str) -> str:
    """The report link the page shows (its visible text, which is also its target)."""
    m = re.search(r'<p class="oc-permalink">Link to this report: '
                  r'<a class="oc-permalink-url" href="([^"]+)">([^<]+)</a>', page)
    assert m, "no visible report link"
    assert html.unescape(m.group(1)) == html.unescape(m.group(2))  # what is shown is what it opens
    return html.unescape(m.group(1))


async def test_the_page_shows_a_link_that_opens_the_report_without_the_key(client_for, seed):
    async with client_for(api_key=KEY) as c:
        r = await c.post("/", data={**seed, "api_key": KEY})
        assert r.status_code == 200
        link = permalink(r.text)
        parts = urlsplit(link)
        assert (parts.scheme, parts.netloc) == ("http", "testserver")  # absolute: to copy and send
        report_id = parts.path.removeprefix("/v1/reports/")
        assert re.fullmatch(r"[0-9a-f]{32}", report_id)
        assert parse_qs(parts.query) == {"format": ["html"], "token": [report_token(KEY, report_id)]}
        opened = await c.get(link)  # as a browser follows it: no key
        assert opened.status_code == 200 and opened.headers["content-type"].startswith("text/html")
        assert html.escape(seed["headline"], quote=False) in opened.text
        # the JSON link beside it opens the same report
        json_link = html.unescape(re.search(r'\(<a href="([^"]+)">JSON</a>\)', r.text).group(1))
        stored = await c.get(json_link)
        assert stored.status_code == 200 and stored.json()["post"]["headline"] == seed["headline"]


async def test_check_answers_with_the_link_and_batch_items_carry_theirs(client_for, seed):
    async with client_for(api_key=KEY) as c:
        r = await c.post("/v1/check", json=seed, headers={"X-API-Key": KEY})
        report_id = r.headers["X-Report-Id"]
        link = r.headers["X-Report-Link"]
        assert link == f"/v1/reports/{report_id}?format=html&token={report_token(KEY, report_id)}"
        assert (await c.get(link)).status_code == 200
        b = await c.post("/v1/batch", json={"posts": [seed, {"headline": "x"}]}, headers={"X-API-Key": KEY})
        first, second = b.json()["results"]
        assert first["link"] == f"/v1/reports/{first['id']}?format=html&token={report_token(KEY, first['id'])}"
        assert "link" not in second and second["error"]["field"] == "body"
        assert (await c.get(first["link"])).status_code == 200


async def test_a_wrong_or_absent_token_is_refused(client_for, seed):
    async with client_for(api_key=KEY) as c:
        one = (await c.post("/v1/check", json=seed, headers={"X-API-Key": KEY})).headers["X-Report-Id"]
        two = (await c.post("/v1/check", json=seed, headers={"X-API-Key": KEY})).headers["X-Report-Id"]
        good = report_token(KEY, one)
        for query in ("", "?format=html", f"?token={good[:-1]}0" if good[-1] != "0" else f"?token={good[:-1]}1",
                      f"?token={report_token(KEY, two)}", f"?token={report_token('another-key', one)}", "?token="):
            r = await c.get(f"/v1/reports/{one}{query}")
            assert r.status_code == 401, query
            assert r.json()["error"]["code"] == "unauthorized"
        # the token opens its report only, and only to read
        assert (await c.get(f"/v1/reports/{one}?token={good}")).status_code == 200
        assert (await c.get(f"/v1/reports/{two}?token={good}")).status_code == 401
        assert (await c.post(f"/v1/check?token={good}", json=seed)).status_code == 401
        # the key still opens it without a token
        assert (await c.get(f"/v1/reports/{one}", headers={"X-API-Key": KEY})).status_code == 200


async def test_a_new_key_revokes_the_old_links(client_for, seed):
    async with client_for(api_key=KEY) as c:
        link = (await c.post("/v1/check", json=seed, headers={"X-API-Key": KEY})).headers["X-Report-Link"]
        assert (await c.get(link)).status_code == 200
    async with client_for(api_key="the-new-key") as c:  # same report store
        assert (await c.get(link)).status_code == 401


async def test_without_a_key_the_link_is_plain_and_opens(client, seed):
    r = await client.post("/", data=seed)
    link = permalink(r.text)
    assert "token=" not in link and link.endswith("?format=html")
    assert (await client.get(link)).status_code == 200


# --- the check date and the source address ---


async def test_every_report_says_when_it_was_checked_and_from_what_address(client, seed):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    url = "https://news.example/2025/cartels?ref=a&b=<1>"
    r = await client.post("/v1/check", json={**seed, "url": url})
    after = datetime.now(timezone.utc)
    report = r.json()
    checked = datetime.fromisoformat(report["checked_at"].replace("Z", "+00:00"))
    assert before <= checked <= after and checked.tzinfo is not None
    assert report["post"]["url"] == url
    assert report["schema_version"] == "1.3"
    schema = (await client.get("/v1/schema")).json()
    assert schema["properties"]["checked_at"]["anyOf"][0]["format"] == "date-time"
    # the standalone page of the stored report shows both
    page = (await client.get(f"/v1/reports/{r.headers['X-Report-Id']}?format=html")).text
    provenance = re.search(r'<p class="oc-provenance">(.*?)</p>', page).group(1)
    assert f'datetime="{checked.isoformat()}"' in provenance
    assert checked.strftime("%Y-%m-%d %H:%M UTC") in provenance
    shown = re.search(r'<a class="oc-source-url" href="([^"]+)"[^>]*>([^<]+)</a>', provenance)
    assert shown and html.unescape(shown.group(2)) == url.replace("<", "%3C").replace(">", "%3E")


async def test_the_page_records_the_address_given_with_pasted_text(client, seed):
    url = "https://news.example/article"
    r = await client.post("/", data={**seed, "url": url})
    assert r.status_code == 200
    provenance = re.search(r'<p class="oc-provenance">(.*?)</p>', r.text).group(1)
    assert f'href="{url}"' in provenance and "Checked <time" in provenance
    assert f'value="{url}"' in r.text  # still in the form
    report_id = re.search(r"/v1/reports/([0-9a-f]{32})", r.text).group(1)
    stored = (await client.get(f"/v1/reports/{report_id}")).json()
    assert stored["post"]["url"] == url
    checked = datetime.fromisoformat(stored["checked_at"].replace("Z", "+00:00"))
    assert datetime.now(timezone.utc) - checked < timedelta(minutes=5)


async def test_a_report_without_an_address_says_so(client, seed):
    r = await client.post("/", data=seed)
    provenance = re.search(r'<p class="oc-provenance">(.*?)</p>', r.text).group(1)
    assert "Source <span" in provenance and "not given" in provenance
