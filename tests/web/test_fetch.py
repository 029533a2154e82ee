"""SSRF guard of the URL fetch: refused addresses, redirects to them, limits; no internet needed."""

from __future__ import annotations

import ipaddress
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from overclaim.errors import FetchError
from overclaim.web.fetch import fetch_url, public_only
from tests.web.test_api import ARTICLE_HTML, error_of


class Handler(BaseHTTPRequestHandler):
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
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    """Says nothing when a client hangs up early (the size and time limit tests do, on purpose)."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.server_address[1]
    httpd.shutdown()


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
@pytest.mark.parametrize("target", ["http://127.0.0.1:1/", "http://10.1.1.1/", "http://169.254.169.254/"])
async def test_api_refuses_private_urls(client_for, target):
    async with client_for(allow_fetch=True) as c:
        r = await c.post("/v1/check", json={"url": target})
    assert r.status_code == 400
    err = error_of(r)
    assert err["code"] == "fetch_refused"
    assert "only public addresses are fetched" in err["message"]


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
