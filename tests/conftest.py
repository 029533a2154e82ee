from __future__ import annotations

import contextlib
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = ROOT.parent / "shared" / "data"
SEED_POST = ROOT / "examples" / "seed_post.txt"


def run_overclaim(monkeypatch, capsys, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Run ``overclaim ARGS`` in this process; returns (exit code, stdout, stderr)."""
    import io
    import sys

    from overclaim.cli import main

    monkeypatch.setattr(sys, "argv", ["overclaim", *args])
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8"))))
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="session")
def checker():
    from overclaim import Checker

    return Checker()


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED_POST.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_report(checker, seed_text):
    headline, body = seed_text.split("\n", 1)
    return checker.check(headline, body)


def load_jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if line.strip()]


class QuietServer(ThreadingHTTPServer):
    """A local test HTTP server that says nothing when a client hangs up early (size and time limit tests do)."""

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def local_http_server(handler: type) -> Iterator[tuple[str, int]]:
    """Serve ``handler`` on 127.0.0.1 (a free port) in a thread: yields the base URL and the port."""
    httpd = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd.server_address[1]
    finally:
        httpd.shutdown()


class PageHandler(BaseHTTPRequestHandler):
    """Base for the local test servers' handlers: ``send`` writes a whole answer; no request log."""

    def send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass
