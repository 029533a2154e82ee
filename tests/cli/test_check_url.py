"""``overclaim check URL`` (issue 22): the page is fetched by the service's SSRF-guarded fetcher and read as HTML.

Every fetch goes to a local server on 127.0.0.1, let through by an explicit test-only address
policy (``overclaim.cli.check.FETCH_POLICY``); nothing here reaches the network.
"""

from __future__ import annotations

import ipaddress
import json
import time

import pytest

from overclaim import fetch
from overclaim.cli import check as cli_check
from tests.conftest import SEED_POST, PageHandler, local_http_server
from tests.test_readers import SITE_META, seed_page, social_page

SOCIAL = social_page(None, "Instagram")


class Pages(PageHandler):
    """/seed: the seed post's article page; /social: a social post; /big, /slow, /json, /redirect-local."""

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/seed":
            self._send(200, seed_page(head=SITE_META).encode(), "text/html; charset=utf-8")
        elif self.path == "/social":
            self._send(200, SOCIAL.encode(), "text/html")
        elif self.path == "/big":
            self._send(200, b"<p>" + b"x" * 50_000 + b"</p>", "text/html")
        elif self.path == "/slow":
            time.sleep(2)
            self._send(200, b"late", "text/html")
        elif self.path == "/json":
            self._send(200, b'{"headline": "a", "body": "b"}', "application/json")
        elif self.path == "/redirect-metadata":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, b"not here", "text/plain")

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send(status, body, {"Content-Type": ctype})


@pytest.fixture(scope="module")
def site():
    with local_http_server(Pages) as served:
        yield served


@pytest.fixture
def allow_site(site, monkeypatch):
    """Test-only: let `check URL` reach the local server (that address and port alone) besides public ones."""
    _, port = site

    def policy(ip, p):
        return (ip == ipaddress.ip_address("127.0.0.1") and p == port) or fetch.public_only(ip, p)

    monkeypatch.setattr(cli_check, "FETCH_POLICY", policy)


def fields_that_must_match(report: dict) -> dict:
    """What a page and the same post as text must agree on (spans are into each one's own text: texts only)."""
    return {
        "headline": report["post"]["headline"],
        "body": report["post"]["body"],
        "label": report["verdict"]["label"],
        "score": round(report["verdict"]["score"], 6),
        "reasons": [r["code"] for r in report["verdict"]["reasons"]],
        "evidence": [(e["span"]["text"], round(e["relevance"], 6)) for e in report["evidence"]],
        "disguised": [(d["span"]["field"], d["original"], d["clean"])
                      for d in report["normalization"]["disguised_words"]],
    }


def test_seed_post_as_url_html_file_and_text_gives_the_same_report(run_cli, site, allow_site, tmp_path):
    base, _ = site
    page = tmp_path / "seed.html"
    page.write_text(seed_page(head=SITE_META), encoding="utf-8")
    code, as_text, err = run_cli("check", str(SEED_POST), "-f", "json")
    assert code == 0, err
    code, as_file, err = run_cli("check", str(page), "-f", "json")
    assert code == 0, err
    code, as_url, err = run_cli("check", f"{base}/seed", "-f", "json")
    assert code == 0, err
    text, file_, url = (json.loads(x) for x in (as_text, as_file, as_url))
    assert fields_that_must_match(file_) == fields_that_must_match(text)
    assert fields_that_must_match(url) == fields_that_must_match(text)
    # the headline is not its own evidence any more (it was, at relevance 1.00)
    assert all(e["span"]["text"] != text["post"]["headline"] for e in url["evidence"])
    assert url["post"]["url"] == f"{base}/seed"  # where it was fetched from
    assert url["post"]["outlet"] == file_["post"]["outlet"] == "The Example Post"
    assert url["post"]["published"] == "2025-05-12"
    assert file_["post"]["url"] == "https://news.example/2025/05/cartels"  # the canonical link


def test_social_post_url_takes_og_description_as_caption(run_cli, site, allow_site):
    base, _ = site
    code, out, err = run_cli("check", f"{base}/social", "-f", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["post"]["headline"] == "Vaccines cause autism, new study proves!"
    assert report["post"]["outlet"] == "Instagram"


@pytest.mark.parametrize(
    "path, limits, needle",
    [
        ("/big", {"FETCH_MAX_BYTES": 10_000}, "larger than 10000 bytes"),
        ("/slow", {"FETCH_TIMEOUT_S": 0.5}, "longer than 0.5 s"),
        ("/json", {}, "not a web page (content type 'application/json')"),
        ("/missing", {}, "HTTP 404"),
        ("/redirect-metadata", {}, "169.254.169.254 is a link-local address"),
    ],
)
def test_fetch_problems_are_one_line_and_exit_2(run_cli, site, allow_site, monkeypatch, path, limits, needle):
    base, _ = site
    for name, value in limits.items():
        monkeypatch.setattr(fetch, name, value)
    code, out, err = run_cli("check", base + path, "-f", "json")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("overclaim: error: ") and needle in err, err


def test_loopback_is_refused_without_the_test_allowance(run_cli, site):
    base, _ = site
    code, out, err = run_cli("check", f"{base}/seed")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "127.0.0.1 is a loopback address" in err and "only public addresses" in err


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--input-format", "csv"], "field '--input-format'"),
        (["--map", "headline=title"], "field '--map'"),
    ],
)
def test_url_with_file_options_is_refused(run_cli, site, allow_site, args, needle):
    base, _ = site
    code, _, err = run_cli("check", f"{base}/seed", *args)
    assert code == 2 and needle in err
