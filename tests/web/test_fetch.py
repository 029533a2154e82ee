"""SSRF guard of the URL fetch: refused addresses, redirects to them, limits; no internet needed."""

from __future__ import annotations

import html
import ipaddress
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from overclaim.errors import FetchError
from overclaim.fetch import fetch_url, public_only
from tests.conftest import PageHandler, local_http_server
from tests.web.test_api import ARTICLE_HTML, error_of


class Handler(PageHandler):
    """/article: a page; /redirect?to=URL: 302; /big: 50 kB; /json: not a page; /slow: 2 s; /loop: redirect loop."""

    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        self.hits.append(self.path)
        url = urlsplit(self.path)
        if url.path == "/redirect":
            self._send(302, b"", {"Location": parse_qs(url.query)["to"][0]})
        elif url.path == "/loop":
            self._send(302, b"", {"Location": "/loop"})
        elif url.path == "/big":
            self._send(200, b"<p>" + b"x" * 50_000 + b"</p>", {"Content-Type": "text/html"})
        elif url.path == "/json":
            self._send(200, b"{}", {"Content-Type": "application/json"})
        elif url.path == "/slow":
            time.sleep(2)
            self._send(200, b"late", {"Content-Type": "text/html"})
        else:
            self._send(200, ARTICLE_HTML.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send(status, body, headers)


@pytest.fixture(scope="module")
def server():
    with local_http_server(Handler) as served:
        yield served


@pytest.fixture
def only_server(server):
    """Policy for tests: public addresses, plus the local test server (and nothing else local)."""
    _, port = server

    def policy(ip, p):
        return (ip == ipaddress.ip_address("127.0.0.1") and p == port) or public_only(ip, p)

    return policy


@pytest.mark.parametrize(
    "url, needle",
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://127.0.0.1:8000/admin", "loopback"),
        ("http://localhost/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://0x7f.1/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://10.0.0.1/", "private"),
        ("http://10.255.1.2:8080/x", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://172.16.5.4/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://100.64.0.1/", "non-public"),
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.com/x", "only http and https"),
        ("gopher://127.0.0.1:70/", "only http and https"),
        ("http:///nohost", "no host"),
    ],
)
def test_refused_targets(url, needle):
    with pytest.raises(FetchError) as err:
        fetch_url(url, timeout=3)
    assert needle in str(err.value)


# Hosts a client reaches as 127.0.0.1 once it applies IDNA (UTS #46: NFKC, ideographic dots), and ports
# no client can use (issue 19, item 7): each must be refused as a fetch error, never a crash.
DISGUISED_LOOPBACK = ["http://127\u30020\u30020\u30021:1/", "http://\u2460\u2461\u2466.0.0.1/",
                      "http://\uff11\uff12\uff17.0.0.1/", "http://127\uff0e0\uff0e0\uff0e1/"]
BAD_PORTS = ["http://example.com:99999/", "http://example.com:0/", "http://example.com:http/"]
# IPv6 forms that carry 127.0.0.1 / 10.0.0.1 (issue 19, item 21): IPv4-compatible, -mapped, -translated,
# NAT64 (well-known and local-use prefix), 6to4, Teredo (client 127.0.0.1, obfuscated), ISATAP.
EMBEDDED_V4 = [
    ("http://[::127.0.0.1]/", "127.0.0.1"),
    ("http://[::ffff:127.0.0.1]/", "127.0.0.1"),
    ("http://[::ffff:0:7f00:1]/", "127.0.0.1"),
    ("http://[64:ff9b::7f00:1]/", "127.0.0.1"),
    ("http://[64:ff9b::10.0.0.1]/", "10.0.0.1"),
    ("http://[64:ff9b:1::a00:1]/", "local-use NAT64"),
    ("http://[2002:7f00:1::]/", "127.0.0.1"),
    ("http://[2002:a9fe:a9fe::1]/", "169.254.169.254"),
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "127.0.0.1"),
    ("http://[2600::5efe:a00:1]/", "10.0.0.1"),
]


@pytest.mark.parametrize("url", DISGUISED_LOOPBACK)
def test_idna_disguised_loopback_is_refused(url):
    with pytest.raises(FetchError) as err:
        fetch_url(url, timeout=3)
    assert "127.0.0.1 is a loopback address" in str(err.value)


@pytest.mark.parametrize("url", BAD_PORTS)
def test_invalid_port_is_refused(url):
    with pytest.raises(FetchError) as err:
        fetch_url(url, timeout=3)
    assert "port must be a number from 1 to 65535" in str(err.value)


@pytest.mark.parametrize("url", ["http://exa mple.com/", "http://\u00ad/", "http://[::1/", "http://[zz::1]/"])
def test_unreadable_host_is_refused(url):
    with pytest.raises(FetchError):
        fetch_url(url, timeout=3)


@pytest.mark.parametrize("url, needle", EMBEDDED_V4)
def test_ipv6_forms_embedding_a_refused_ipv4_address_are_refused(url, needle):
    with pytest.raises(FetchError) as err:
        fetch_url(url, timeout=3)
    assert needle in str(err.value) and "only public addresses are fetched" in str(err.value)


@pytest.mark.parametrize("address", [u.split("[")[1].split("]")[0] for u, _ in EMBEDDED_V4])
def test_policy_refuses_embedded_refused_ipv4(address):
    assert not public_only(ipaddress.ip_address(address), 80)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1",
                                     "::ffff:8.8.8.8"])
def test_policy_allows_public_addresses_and_forms_of_them(address):
    assert public_only(ipaddress.ip_address(address), 443)


@pytest.mark.parametrize("answer", ["64:ff9b::7f00:1", "::127.0.0.1", "2002:c0a8:101::1", "::ffff:10.0.0.1"])
def test_dns_answer_embedding_a_refused_ipv4_address_is_refused(monkeypatch, answer):
    import socket

    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (answer, port, 0, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(FetchError) as err:
        fetch_url("http://news.example/", timeout=3)
    assert "news.example resolves to" in str(err.value) and "only public addresses are fetched" in str(err.value)


def test_idna_host_and_non_ascii_path_reach_the_normalised_url(server, only_server):
    _, port = server
    Handler.hits.clear()
    page = fetch_url(f"http://\uff11\uff12\uff17\u30020.0.1:{port}/art\u00edcle?q=\u00e4 b#frag",
                     policy=only_server, timeout=5)
    assert "evaluating plans" in page.text
    assert Handler.hits == ["/art%C3%ADcle?q=%C3%A4%20b"]
    assert page.url == f"http://127.0.0.1:{port}/art%C3%ADcle?q=%C3%A4%20b"


def test_local_page_fetched_when_policy_allows_it(server, only_server):
    base, _ = server
    page = fetch_url(f"{base}/article", policy=only_server, timeout=5)
    assert "evaluating plans" in page.text
    assert page.content_type == "text/html"


@pytest.mark.parametrize(
    "target, needle",
    [
        ("http://127.0.0.1:9/", "loopback"),
        ("http://10.0.0.7/internal", "private"),
        ("http://169.254.169.254/latest/meta-data/iam/", "link-local"),
        ("http://[::1]:8080/", "loopback"),
        ("file:///etc/passwd", "only http and https"),
    ],
)
def test_redirect_to_refused_target_is_refused(server, only_server, target, needle):
    base, _ = server
    Handler.hits.clear()
    with pytest.raises(FetchError) as err:
        fetch_url(f"{base}/redirect?to={target}", policy=only_server, timeout=5)
    assert needle in str(err.value)
    assert Handler.hits == [f"/redirect?to={target}"]  # the first hop was made, the second never


def test_redirect_within_allowed_server_is_followed(server, only_server):
    base, _ = server
    page = fetch_url(f"{base}/redirect?to=/article", policy=only_server, timeout=5)
    assert page.url.endswith("/article")


@pytest.mark.parametrize(
    "path, kwargs, needle",
    [
        ("/big", {"max_bytes": 10_000}, "larger than 10000 bytes"),
        ("/json", {}, "not a web page"),
        ("/loop", {"max_redirects": 3}, "more than 3 redirects"),
        ("/slow", {"timeout": 0.5}, "longer than 0.5 s"),
    ],
)
def test_limits(server, only_server, path, kwargs, needle):
    base, _ = server
    with pytest.raises(FetchError) as err:
        fetch_url(base + path, policy=only_server, **{"timeout": 5, **kwargs})
    assert needle in str(err.value)


# --- through the API ---------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("target", ["http://127.0.0.1:1/", "http://10.1.1.1/", "http://169.254.169.254/",
                                    *DISGUISED_LOOPBACK, "http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]/",
                                    "http://[2002:7f00:1::]/"])
async def test_api_refuses_private_urls(client_for, target):
    async with client_for(allow_fetch=True) as c:
        r = await c.post("/v1/check", json={"url": target})
    assert r.status_code == 400
    err = error_of(r)
    assert err["code"] == "fetch_refused"
    assert "only public addresses are fetched" in err["message"]


@pytest.mark.anyio
@pytest.mark.parametrize("target", BAD_PORTS)
async def test_api_refuses_invalid_ports(client_for, target):
    async with client_for(allow_fetch=True) as c:
        r = await c.post("/v1/check", json={"url": target})
    assert r.status_code == 400
    assert error_of(r)["code"] == "fetch_refused" and "port" in error_of(r)["message"]


@pytest.mark.anyio
async def test_api_fetches_allowed_page_and_refuses_redirect_to_metadata(client_for, server, only_server):
    base, _ = server
    async with client_for(allow_fetch=True, fetch_policy=only_server) as c:
        ok = await c.post("/v1/check", json={"url": f"{base}/article"})
        assert ok.status_code == 200, ok.text
        assert ok.json()["post"]["headline"] == "Air strikes will soon begin against cartels"
        assert ok.json()["post"]["url"] == f"{base}/article"
        bad = await c.post("/v1/check", json={"url": f"{base}/redirect?to=http://169.254.169.254/latest/"})
    assert bad.status_code == 400
    assert "link-local" in error_of(bad)["message"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "path, changes, needle",
    [
        ("/big", {"fetch_max_bytes": 10_000}, "larger than 10000 bytes"),
        ("/json", {}, "not a web page"),
        ("/slow", {"fetch_timeout_s": 0.5}, "longer than 0.5 s"),
    ],
)
async def test_api_applies_the_fetch_limits(client_for, server, only_server, path, changes, needle):
    base, _ = server
    async with client_for(allow_fetch=True, fetch_policy=only_server, **changes) as c:
        started = time.perf_counter()
        r = await c.post("/v1/check", json={"url": base + path})
        assert time.perf_counter() - started < 5
    assert r.status_code == 400, r.text
    err = error_of(r)
    assert err["code"] == "fetch_refused" and needle in err["message"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    "headers, status",
    [({}, 415),  # no Content-Type: a cross-site fetch() of a typeless Blob sends none
     ({"content-type": "text/plain"}, 200),  # read as plain text, never as a URL to fetch
     ({"content-type": "application/json", "sec-fetch-site": "cross-site"}, 403),
     ({"content-type": "application/json", "origin": "https://evil.example"}, 403)],
)
async def test_the_fetch_relay_is_not_driven_cross_site(client_for, server, only_server, headers, status):
    base, _ = server
    Handler.hits.clear()
    body = json.dumps({"url": f"{base}/article"}).encode() + b"\nbody line"
    async with client_for(allow_fetch=True, fetch_policy=only_server) as c:
        r = await c.post("/v1/check", content=body, headers=headers)
        assert r.status_code == status, r.text
        assert Handler.hits == []  # the service fetched nothing
        ok = await c.post("/v1/check", json={"url": f"{base}/article"})  # (the relay itself works)
    assert ok.status_code == 200 and Handler.hits == ["/article"]


# --- through the page (issue 22: a URL field, the same fetch and reader as the API and the CLI) ---


@pytest.mark.anyio
async def test_page_s_url_field_fetches_only_when_the_service_fetches(client_for):
    async with client_for() as c:
        off = await c.get("/")
    async with client_for(allow_fetch=True) as c:
        on = await c.get("/")
    # Both have the field (the address is the report's source); only a fetching service says it reads it.
    for page in (off, on):
        assert '<input type="url" id="url" name="url"' in page.text
    assert "… or its address" in on.text and "does not fetch pages" not in on.text
    assert "Its address (optional)" in off.text and "this service does not fetch pages" in off.text


@pytest.mark.anyio
async def test_page_checks_a_url_as_the_api_does(client_for, server, only_server):
    base, _ = server
    async with client_for(allow_fetch=True, fetch_policy=only_server) as c:
        api = await c.post("/v1/check", json={"url": f"{base}/article"})
        page = await c.post("/", data={"headline": "", "body": "", "url": f"{base}/article"})
    assert api.status_code == 200 and page.status_code == 200, page.text
    report = api.json()
    assert f'data-verdict="{report["verdict"]["label"]}"' in page.text
    assert report["post"]["headline"] in page.text
    assert html.escape(report["evidence"][0]["span"]["text"], quote=False) in page.text


@pytest.mark.anyio
@pytest.mark.parametrize("target, needle", [("http://10.1.1.1/", "private address"),
                                            ("/json", "not a web page")])
async def test_page_refuses_a_url_as_the_api_does_and_keeps_it(client_for, server, only_server, target, needle):
    base, _ = server
    url = target if target.startswith("http") else base + target
    async with client_for(allow_fetch=True, fetch_policy=only_server) as c:
        r = await c.post("/", data={"url": url})
    assert r.status_code == 400
    assert needle in r.text and "fetch_refused" in r.text
    assert f'value="{url}"' in r.text  # the form keeps the address


@pytest.mark.anyio
async def test_page_url_is_off_without_allow_fetch(client_for, server):
    base, _ = server
    Handler.hits.clear()
    async with client_for() as c:
        r = await c.post("/", data={"url": f"{base}/article"})
    assert r.status_code in (400, 422) and Handler.hits == []
