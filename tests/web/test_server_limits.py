"""A real server on 127.0.0.1 (uvicorn in a thread): slow posts, slow bodies and slow headers (issue 19, item 12).

Every loop here is bounded (a number of bytes, a deadline), so a limit that does not hold fails the
test in seconds rather than hanging it.
"""

from __future__ import annotations

import contextlib
import ctypes
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from overclaim.report import Post
from overclaim.web.app import PostJob, ServiceSettings, create_app
from overclaim.web.server import H11HeaderTimeoutProtocol, HeaderTimeoutProtocol


@contextlib.contextmanager
def live_server(app, http: type = HeaderTimeoutProtocol) -> Iterator[int]:
    """Serve ``app`` on 127.0.0.1 (a free port) in a thread, lifespan included; yields the port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=http, log_level="warning", lifespan="on",
                            timeout_keep_alive=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120  # check processes load their models first (3-5 s each on CI)
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(30)


def protocol_with(base: type, header_timeout_s: float) -> type:
    return type(f"Short{base.__name__}", (base,), {"header_timeout_s": header_timeout_s})


PROTOCOLS = sorted({H11HeaderTimeoutProtocol, HeaderTimeoutProtocol}, key=lambda c: c.__name__)


def _answer(sock: socket.socket, wait: float) -> bytes | None:
    """What the server sent within ``wait`` seconds (b"" once it closed), or None if nothing yet."""
    sock.settimeout(wait)
    try:
        return sock.recv(65536)
    except TimeoutError:
        return None


def _drip(sock: socket.socket, data: bytes, every: float) -> tuple[float | None, bytes]:
    """Send ``data`` a byte every ``every`` s until the server answers or closes: (seconds taken, answer)."""
    started = time.monotonic()
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except OSError:  # closed by the server
            return time.monotonic() - started, b""
        got = _answer(sock, every)
        if got is not None:
            return time.monotonic() - started, got
    return None, b""


# --- slow headers --------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda c: c.__name__)
def test_slow_headers_are_cut_off(settings, checker, protocol):
    app = create_app(settings, checker=checker)
    with live_server(app, protocol_with(protocol, 0.5)) as port:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            # 1 byte every 0.2 s: each arrives well before any per-byte limit would trip; 40 bytes take 8 s.
            took, got = _drip(sock, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 40, 0.2)
        assert took is not None and took < 3, "the server waited for slow headers"
        assert got == b"" or got.startswith(b"HTTP/1.1 408")
        # A kept-alive connection gets the same limit for its next request, and a prompt client is served.
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            first = _answer(sock, 5)
            assert first is not None and first.startswith(b"HTTP/1.1 200")
            took, got = _drip(sock, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 40, 0.2)
        assert took is not None and took < 3
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200


class SlowChecker:
    """Takes 1.5 s a post (sleeping, GIL free): longer than the header limit under test."""

    def __init__(self, checker) -> None:
        self._checker = checker

    def __getattr__(self, name):
        return getattr(self._checker, name)

    def check_post(self, post):
        time.sleep(1.5)
        return self._checker.check_post(post)


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=lambda c: c.__name__)
def test_the_header_limit_does_not_cut_a_request_being_answered(settings, checker, seed, protocol):
    app = create_app(settings, checker=SlowChecker(checker))
    with live_server(app, protocol_with(protocol, 0.5)) as port, httpx.Client(timeout=30) as client:
        for _ in range(2):  # the second on the kept-alive connection
            r = client.post(f"http://127.0.0.1:{port}/v1/check", json=seed)
            assert r.status_code == 200, r.text
            time.sleep(0.2)


# --- slow bodies ---------------------------------------------------------------


def test_a_body_sent_a_byte_at_a_time_hits_one_total_limit(settings, checker):
    # 1 byte every 0.25 s, under a 1 s limit: a limit on each receive never trips; one on the body does.
    app = create_app(settings.model_copy(update={"read_timeout_s": 1.0}), checker=checker)
    with live_server(app) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /v1/check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 500\r\n\r\n")
        took, got = _drip(sock, b'{"headline": "' + b"a" * 40, 0.25)
    assert took is not None and took < 4, "the slow body was read for as long as it came"
    assert got.startswith(b"HTTP/1.1 408"), got[:200]
    assert b'"request_timeout"' in got


# --- a post that holds the GIL ---------------------------------------------------

GIL_HOLD_S = 6
HOLD = "HOLD-GIL"


class GilHoldingJob(PostJob):
    """A post whose reading holds the GIL for GIL_HOLD_S seconds (when its headline says HOLD-GIL).

    It stands for a C regex or parser that keeps the GIL while it runs: ``ctypes.PyDLL`` calls
    keep it (``CDLL`` ones release it), so libc's ``sleep`` through it holds the GIL. Defined at
    module level, so a check process can unpickle it.
    """

    def post(self) -> Post:
        if isinstance(self.value, dict) and HOLD in str(self.value.get("headline")):
            ctypes.PyDLL(None).sleep(GIL_HOLD_S)
        return super().post()


def _serve_default_service(port: int, db: str) -> None:
    """Run in a process of its own: the service as created by default, its route jobs GIL-holding."""
    import overclaim.web.api as web_app

    web_app.PostJob = GilHoldingJob  # type: ignore[misc]  # (the route builds its jobs from this name)
    app = create_app(ServiceSettings(db=db, check_timeout_s=1.0))
    uvicorn.run(app, host="127.0.0.1", port=port, http=HeaderTimeoutProtocol, log_level="warning")


def test_default_service_answers_healthz_and_its_time_limit_during_a_gil_holding_post(tmp_path, seed):
    import multiprocessing

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    # The server in a process of its own: a GIL held there cannot hold up this test's clocks.
    server = multiprocessing.get_context("spawn").Process(
        target=_serve_default_service, args=(port, str(tmp_path / "s.sqlite")))  # (not daemonic: it has children)
    server.start()
    try:
        deadline = time.monotonic() + 120  # models load before it listens (3-5 s a process on CI)
        while True:
            assert server.is_alive() and time.monotonic() < deadline, "the server did not start"
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        answers: dict[str, tuple[float, int]] = {}

        def post() -> None:
            started = time.monotonic()
            r = httpx.post(base + "/v1/check", json={**seed, "headline": HOLD + " " + seed["headline"]}, timeout=60)
            answers["check"] = (time.monotonic() - started, r.status_code)

        poster = threading.Thread(target=post)
        poster.start()
        time.sleep(0.5)  # the post is being checked
        started = time.monotonic()
        health = httpx.get(base + "/healthz", timeout=60)
        answers["healthz"] = (time.monotonic() - started, health.status_code)
        poster.join(60)
        # The process that held the GIL was replaced; once its successor is up (a post may get a
        # 504 while it loads its models), posts are checked as usual.
        for _ in range(30):
            after = httpx.post(base + "/v1/check", json=seed, timeout=120)
            if after.status_code != 504:
                break
    finally:
        server.terminate()
        server.join(30)
        if server.is_alive():
            server.kill()
    healthz_s, healthz_status = answers["healthz"]
    check_s, check_status = answers["check"]
    assert healthz_status == 200 and healthz_s < GIL_HOLD_S / 2, answers  # not held up by the post
    assert check_status == 504 and check_s < GIL_HOLD_S - 1, answers  # the 1 s limit answered, not the post
    assert after.status_code == 200 and after.json()["verdict"]["label"] == "overstated"


def test_serve_checks_in_a_process_by_default():
    import inspect

    from overclaim.cli.serve import serve

    assert inspect.signature(serve).parameters["processes"].default >= 1
    assert ServiceSettings().check_processes >= 1
