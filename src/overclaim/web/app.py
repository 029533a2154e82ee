"""The HTTP service: a FastAPI app over the library, built by :func:`create_app`.

Routes (every ``/v1`` route needs the API key when one is set):

- ``POST /v1/check``: one post as JSON (``headline``, ``body``, optional ``id``,
  ``url``, ``outlet``, ``published``), an HTML page (``Content-Type: text/html``
  or JSON ``{"html": ...}``), plain text (first line headline), or
  ``{"url": ...}`` when fetching is allowed; returns the report, stored under the
  id in the ``X-Report-Id`` and ``Location`` headers.
- ``POST /v1/batch``: ``{"posts": [...]}`` (or a bare array), at most
  ``max_batch`` posts; one result per post, a report or an error.
- ``POST /v1/match``: fact-checks that may cover a claim.
- ``GET /v1/reports/{id}``: a stored report (``?format=html`` for the page).
- ``GET /v1/schema``: the report's JSON schema. ``GET /healthz``: liveness.
- ``GET /`` and ``POST /``: the web page. ``GET /docs``: the API reference
  (rendered here, no CDN); ``GET /openapi.json``.

Every 4xx/5xx from the API is ``{"error": {"code": ..., "message": ...}}``.

JSON bodies must say so (``Content-Type: application/json``; none at all is a 415), and
a post a browser sends from another site (``Sec-Fetch-Site``/``Origin``) is a 403, on the
API and the page alike: with no API key, another site's page could otherwise make its
visitors' browsers drive the service (cross-site request forgery).
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import json
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from overclaim.config import Config
from overclaim.errors import (
    AuthError,
    CheckTimeoutError,
    CrossSiteError,
    EmptyFieldError,
    FetchError,
    InputTooLargeError,
    InternalCheckError,
    MalformedInputError,
    OverclaimError,
    RequestTimeoutError,
    ServiceStoppingError,
    UnknownFormatError,
    WrongTypeError,
    reraise_control_flow,
)
from overclaim.fetch import (
    AddressPolicy,
    FetchedPage,
    fetch_url,
    public_only,
)
from overclaim.pipeline import STAGES, Checker, gc_paused
from overclaim.report import SCHEMA_VERSION, FactCheckMatch, Post, Report, report_schema
from overclaim.store.factchecks import FactCheckFilter
from overclaim.version import __version__
from overclaim.web.examples import EXAMPLE_HTML, EXAMPLE_TEXT, load_examples
from overclaim.web.settings import ServiceSettings

log = logging.getLogger("overclaim.web")
T = TypeVar("T")
STATIC_DIR = Path(__file__).resolve().parent / "static"


# --- request and response models (for validation of /v1/match and the OpenAPI docs) ---


class ErrorDetail(BaseModel):
    """What went wrong, in one line."""

    code: str
    message: str
    field: str | None = None
    line: int | None = None


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx answer."""

    error: ErrorDetail


class CheckRequest(BaseModel):
    """A post to check: headline and body, or `html`, or `url` (with fetching allowed)."""

    headline: str | None = None
    body: str | None = None
    id: str | None = None
    url: str | None = Field(default=None, description="Fetched when headline/body/html are absent (--allow-fetch).")
    outlet: str | None = None
    published: str | None = None
    html: str | None = Field(default=None, description="An article page; title and main text are extracted.")


class BatchRequest(BaseModel):
    """Posts to check (each like a `CheckRequest` without `url`)."""

    posts: list[dict[str, Any]]


class BatchItem(BaseModel):
    """One post's result: a report with its id, or an error."""

    index: int
    id: str | None = None
    link: str | None = Field(default=None, description="The stored report's page; opens without the API key.")
    report: Report | None = None
    error: ErrorDetail | None = None


class BatchResponse(BaseModel):
    """Results in the order of the posts."""

    results: list[BatchItem]
    count: int
    errors: int


class MatchRequest(BaseModel):
    """A claim (or a headline) to look up in the fact-check store, with optional filters."""

    claim: str | None = None
    headline: str | None = None
    body: str | None = None
    language: str | list[str] | None = Field(
        default=None, description="Only fact-checks in this language or these ('en' takes 'en-GB')."
    )
    max_age_days: int | None = Field(
        default=None, ge=0, description="Only fact-checks reviewed (else claimed) at most this many days ago."
    )
    publisher: str | list[str] | None = Field(
        default=None, description="Only fact-checks by this publisher: part of its name, or its site."
    )


class MatchResponse(BaseModel):
    """Stored fact-checks that may cover the claim, best first."""

    claim: str
    matches: list[FactCheckMatch]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "Bad input"),
        (401, "API key missing or wrong"),
        (403, "Sent by a browser from another site"),
        (404, "Not found"),
        (408, "Request body too slow"),
        (413, "Request or batch too large"),
        (415, "Unsupported content type"),
        (422, "Missing or invalid field"),
        (500, "Internal error"),
        (503, "Database unavailable"),
        (504, "Check took too long"),
    )
}


def error_response(exc: OverclaimError) -> JSONResponse:
    """The JSON answer for an :class:`OverclaimError`."""
    headers = {"WWW-Authenticate": 'Bearer realm="overclaim"'} if isinstance(exc, AuthError) else None
    return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status, headers=headers)


def _plain_error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


# --- the outer guard: body size cap, body read timeout, security headers ---

_HTML_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


# The web page's form (POST /) is still read up to this many times max_request_bytes when it is
# over the limit, only to give its text back with the error (nothing over the limit is checked):
# a pasted article a little over 2 MB is not lost. A design choice, not a measurement: the text a
# person pastes is rarely more than a few times what fits, and 4 x 2 MB a request is little memory.
PAGE_KEEP_FACTOR = 4
# The ASGI scope key where the guard leaves how many body bytes it has let through.
BODY_BYTES_KEY = "overclaim.body_bytes"


# The policy of the standalone report (render_html puts the same one in a <meta> tag).
STANDALONE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"


# Methods that change something: a browser may send them from another site without asking
# (a form post, a no-cors fetch), so those are refused when the browser says they are cross-site.
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cross_site_reason(headers: list[tuple[bytes, bytes]]) -> str | None:
    """Why a request is cross-site (refused), or None; the CSRF guard of every route.

    Browsers say where a request comes from: ``Sec-Fetch-Site`` (every current browser) and,
    when that is absent, ``Origin``. A request another site's page makes the browser send (a
    form post to ``/`` or to ``/v1/...``) is refused; clients that are not browsers (curl,
    scripts) send neither header and are not affected. This is the rule of Go's
    ``http.CrossOriginProtection``: ``same-origin`` and ``none`` (typed by the user) pass,
    anything else does not; without the header, an ``Origin`` must name this host.
    """
    values: dict[bytes, str] = {}
    for name, value in headers:
        if name in (b"sec-fetch-site", b"origin", b"host", b"x-forwarded-host") and name not in values:
            values[name] = value.decode("latin-1").strip()
    site = values.get(b"sec-fetch-site")
    if site is not None:
        if site.lower() in ("same-origin", "none"):
            return None
        return f"the browser sent this request from another site (Sec-Fetch-Site: {site})"
    origin = values.get(b"origin")
    if origin is None:
        return None
    default: int | None = None
    try:
        parts = urlsplit(origin)
        default = {"http": 80, "https": 443}.get(parts.scheme.lower())
        origin_at = (parts.hostname or "", parts.port or default)
    except ValueError:
        origin_at = None
    if origin_at is not None and origin_at[0]:
        for key in (b"host", b"x-forwarded-host"):  # (behind a proxy, Host may be its own address)
            for host in values.get(key, "").split(","):
                try:
                    at = urlsplit("//" + host.strip())
                    # A Host without a port is the default port of the Origin's scheme (80 or 443).
                    if ((at.hostname or "").lower(), at.port or default) == (origin_at[0].lower(), origin_at[1]):
                        return None
                except ValueError:
                    continue
    return f"the browser sent this request from another site (Origin: {origin})"


def _is_page_post(scope: Scope) -> bool:
    """Whether the request is the web page's form (``POST /``)."""
    return scope.get("method") == "POST" and scope.get("path") == "/"


class GuardMiddleware:
    """Refuses cross-site posts (403), caps the body (413), times out slow bodies (408), adds security headers."""

    def __init__(self, app: ASGIApp, max_bytes: int, read_timeout_s: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout_s = read_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
                is_html = any(k == b"content-type" and v.startswith(b"text/html") for k, v in headers)
                if is_html and not any(k == b"content-security-policy" for k, _ in headers):
                    headers.append((b"content-security-policy", _HTML_CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        if scope.get("method") in _UNSAFE_METHODS:
            reason = cross_site_reason(scope.get("headers", []))
            if reason is not None:
                await self._refuse(scope, receive, send_with_headers, CrossSiteError(reason))
                return
        # The page's form is read past the limit (up to PAGE_KEEP_FACTOR times it) so the page can give
        # its text back with the error; the page refuses it once read (BODY_BYTES_KEY says how big it was).
        cap = self.max_bytes * PAGE_KEEP_FACTOR if _is_page_post(scope) else self.max_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > cap or declared < 0:
                    exc = self._too_large() if declared >= 0 else MalformedInputError("bad Content-Length header")
                    await self._refuse(scope, receive, send_with_headers, exc)
                    return
        seen = 0
        # One deadline for the whole body (a limit per receive let a client sending a byte
        # every few seconds hold the request for ever).
        deadline = anyio.current_time() + self.read_timeout_s

        async def limited_receive() -> Message:
            nonlocal seen
            with anyio.move_on_after(max(0.0, deadline - anyio.current_time())) as scope_:
                message = await receive()
            if scope_.cancelled_caught:
                raise RequestTimeoutError(f"the request body did not arrive within {self.read_timeout_s:g} s")
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                scope[BODY_BYTES_KEY] = seen
                if seen > cap:
                    raise self._too_large()
            return message

        await self.app(scope, limited_receive, send_with_headers)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, exc: OverclaimError) -> None:
        """Answer before reading the body: the page (form posts to ``/``) or a JSON error."""
        if _is_page_post(scope) and "app" in scope:
            from overclaim.web.page import error_page

            response = await error_page(Request(scope, receive), exc)
        else:
            response = error_response(exc)
        await response(scope, receive, send)

    def _too_large(self) -> InputTooLargeError:
        return InputTooLargeError(f"the request is larger than {self.max_bytes} bytes")


# --- the service ---


def post_from_json(record: object, source: str = "request") -> Post:
    """A post from a parsed JSON object: its fields, or an HTML page under ``html``."""
    from overclaim.readers import parse_html, post_from_record

    if isinstance(record, dict) and record.get("html") is not None and not record.get("body"):
        html = record["html"]
        if not isinstance(html, str):
            raise WrongTypeError(f"must be text, got {type(html).__name__}", source=source, field="html")
        url = record.get("url") if isinstance(record.get("url"), str) else None
        return parse_html(html, source=source, url=url)
    return post_from_record(record, source=source)


@dataclass(frozen=True)
class PostJob:
    """A post as a request carries it, read into a :class:`Post` where it is checked.

    Reading is CPU work too (trafilatura for HTML), so it runs in the worker thread
    or check process, under the check's time limit. Picklable, for check processes.
    """

    kind: str  # "record" (parsed JSON), "html", "text", "fetched" (a FetchedPage) or "post"
    value: Any
    source: str = "request"

    def post(self) -> Post:
        """The post (raises :class:`InputError` when it cannot be read)."""
        from overclaim.readers import parse_html, parse_text, post_from_page

        if self.kind == "post":
            return self.value  # type: ignore[no-any-return]
        if self.kind == "fetched":
            page: FetchedPage = self.value
            return post_from_page(page)  # as `overclaim check URL` reads it
        if self.kind == "html":
            return parse_html(self.value, source=self.source)
        if self.kind == "text":
            return parse_text(self.value, source=self.source)
        return post_from_json(self.value, self.source)


# The service of a check process (see ServiceSettings.check_processes), built by its
# initializer, or the error that stopped it (re-raised by every job, so it reaches the
# HTTP process whole instead of as a broken pool).
_PROCESS_SERVICE: Service | None = None
_PROCESS_ERROR: OverclaimError | None = None


def _start_check_process(settings: ServiceSettings, config: Config, skip: frozenset[str]) -> None:
    global _PROCESS_SERVICE, _PROCESS_ERROR
    try:
        checker = Checker(config, factchecks=settings.factchecks or settings.db, skip=skip)
        service = Service(settings.model_copy(update={"check_processes": 0}), checker, public_only)
        checker.warm_up()
    except OverclaimError as exc:
        _PROCESS_ERROR = exc
        return
    _PROCESS_SERVICE = service
    # The models live as long as the process: keep them out of the garbage collector's walks.
    gc.freeze()


def _process_service() -> Service:
    if _PROCESS_SERVICE is None:
        raise _PROCESS_ERROR or InternalCheckError("the check process did not start")
    return _PROCESS_SERVICE


def _ready() -> int:
    """Return the process id once its models are loaded.

    The process is held 50 ms, so the pool's other such jobs go to other processes (see
    :meth:`Service._start`).
    """
    _process_service()
    time.sleep(0.05)
    return os.getpid()


def _check_in_process(jobs: list[PostJob]) -> list[tuple[str | None, str] | OverclaimError]:
    with gc_paused():  # the reports are freed before the collector runs again (see gc_paused)
        return _process_service().check_and_store_many(jobs)


@dataclass
class _Queued:
    """A post waiting for a check process, where its answer goes, and how long its request waits."""

    job: PostJob
    future: asyncio.Future[tuple[str | None, str]]
    timeout: float


def _settle(item: _Queued, outcome: tuple[str | None, str] | BaseException) -> None:
    if item.future.done():  # its request gave up (time limit, client gone)
        return
    if isinstance(outcome, BaseException):
        item.future.set_exception(outcome)
    else:
        item.future.set_result(outcome)


def _drop_outcome(future: asyncio.Future[Any]) -> None:
    """Read an abandoned group's outcome, so asyncio does not log it as never retrieved."""
    if not future.cancelled():
        future.exception()


def _discard(pool: ProcessPoolExecutor) -> None:
    """Shut down a broken or stuck pool and kill its processes.

    A broken pool terminates its other processes itself, but one caught starting (still
    loading its models) can outlive that, and the pool's manager thread would then wait for
    it for ever, holding up the server's exit. Jobs still queued are not cancelled: the
    killed processes make the pool fail them with :class:`BrokenProcessPool`, which their
    dispatchers answer by sending the posts again (a cancelled job would read as a shutdown).
    """
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=False)
    for process in processes:
        process.kill()


# Seconds Service.close() gives running checks to end before it kills their processes.
CLOSE_GRACE_S = 5.0
# Seconds a new pool's processes get to load their models before its posts get a 503 and the
# pool is replaced. Start-up took 3-5 s per process on the 2-core CI machine (two at once), so
# this only ends a start-up that hangs (an unreadable model store on a network disk, say).
START_LIMIT_S = 120.0


class Service:
    """What the routes share: settings, the checker, the stores, the thread limiter."""

    def __init__(self, settings: ServiceSettings, checker: Checker | None, policy: AddressPolicy) -> None:
        self.settings = settings
        factchecks = settings.factchecks or settings.db
        self.checker = checker or Checker(Config(profile=settings.profile), factchecks=factchecks)
        # /v1/match runs only what matching needs: normalize (disguised words read
        # as clean words, as the match stage sees headlines) and match.
        self.match_checker = Checker(
            self.checker.config,
            factchecks=factchecks,
            skip=frozenset(name for name, _ in STAGES if name not in ("normalize", "match")),
        )
        self.policy = policy
        self.limiter = anyio.CapacityLimiter(max(1, settings.check_threads))
        self._store: Any = None
        self._pool: ProcessPoolExecutor | None = None
        # Posts waiting for a check process, and one dispatcher task per process (see check_job).
        self._queue: asyncio.Queue[_Queued] | None = None
        self._dispatchers: list[asyncio.Task[None]] = []
        self._idle = 0  # dispatchers waiting for a post
        # The pool whose processes are known to be up (models loaded), so a group's time there is
        # checking time, not start-up (see _check_in_pool).
        self._started: ProcessPoolExecutor | None = None

    @property
    def pool(self) -> ProcessPoolExecutor | None:
        """The check processes (started on first use), or None when checks run in threads here."""
        if self._pool is None and self.settings.check_processes > 0:
            # spawn: check processes never start as a copy of this threaded server, and each pool's
            # processes stand alone (a shared fork server did not survive a killed check process).
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.settings.check_processes, mp_context=ctx,
                initializer=_start_check_process,
                initargs=(self.settings, self.checker.config, self.checker.skip),
            )
        return self._pool

    async def start_processes(self) -> None:
        """Start every check process and load its models (a missing model fails here)."""
        if self.pool is not None:
            await self._start(self.pool)

    async def _start(self, pool: ProcessPoolExecutor) -> None:
        """Wait until each of ``pool``'s processes has loaded its models (at once when known to have).

        A process that does not come up within :data:`START_LIMIT_S` seconds has the pool replaced
        and raises :class:`ServiceStoppingError` (the posts waiting on it get a 503).
        """
        if pool is self._started:
            return
        loop = asyncio.get_running_loop()
        wanted = self.settings.check_processes

        async def every_process_up() -> None:
            # One round of jobs can all be taken by the first process up, so ask until each
            # process has answered (every round holds each process 50 ms at most).
            seen: set[int] = set()
            while len(seen) < wanted:
                seen.update(await asyncio.gather(*(loop.run_in_executor(pool, _ready) for _ in range(wanted))))

        try:
            await asyncio.wait_for(every_process_up(), START_LIMIT_S)
        except asyncio.TimeoutError:
            log.error("the check processes did not start within %g s; replacing them", START_LIMIT_S)
            if self._pool is pool:
                self._pool = None
                _discard(pool)
            raise ServiceStoppingError(
                f"the check processes did not start within {START_LIMIT_S:g} s; send the post again"
            ) from None
        self._started = pool

    def close(self) -> None:
        """Stop the check processes, if any (posts still waiting get a 503).

        Checks running in them get :data:`CLOSE_GRACE_S` seconds to end; then their processes
        are killed, so a check that does not end cannot hold up the server's exit.
        """
        self._stop_dispatchers()
        pool, self._pool = self._pool, None
        if pool is not None:
            processes = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            deadline = time.monotonic() + CLOSE_GRACE_S
            for process in processes:
                process.join(max(0.0, deadline - time.monotonic()))
            for process in processes:
                if process.is_alive():
                    process.kill()
                    process.join(5)

    async def check_job(self, job: PostJob, timeout: float) -> tuple[str | None, str]:
        """Check one post (in a check process when there are any): its report id and JSON.

        With check processes, the post joins a queue. One dispatcher per process takes what is
        waiting when its process is free (at most ``Config.batch_posts``; split evenly with the
        processes that are idle too) and has it checked together (:meth:`check_and_store_many`):
        a post waits for no other post, and under load the processes spend less CPU per post, so
        more posts are answered.
        """
        if self.settings.check_processes <= 0:
            report_id, _, text = await self.run(lambda: self.check_and_store(job.post()), timeout, "the check")
            return report_id, text
        loop = asyncio.get_running_loop()
        queue = self._queue
        if queue is None or not self._dispatchers or self._dispatchers[0].get_loop() is not loop:
            self._stop_dispatchers()  # those of an earlier event loop (tests run one per test)
            queue = self._queue = asyncio.Queue()
            self._dispatchers = [loop.create_task(self._dispatch(queue)) for _ in range(self.settings.check_processes)]
        item = _Queued(job, loop.create_future(), timeout)
        queue.put_nowait(item)
        try:
            return await asyncio.wait_for(item.future, timeout)
        except asyncio.TimeoutError:
            raise CheckTimeoutError(f"the check took longer than {timeout:g} s") from None

    def _stop_dispatchers(self) -> None:
        """Cancel the dispatcher tasks (from any thread); their waiting posts get a 503."""
        for task in self._dispatchers:
            try:
                task.get_loop().call_soon_threadsafe(task.cancel)
            except RuntimeError:  # its event loop is closed already
                pass
        self._dispatchers, self._queue = [], None

    async def _dispatch(self, queue: asyncio.Queue[_Queued]) -> None:
        """Feed one check process: what is waiting, up to ``batch_posts`` posts, shared with idle ones."""
        size = max(1, self.checker.config.batch_posts)
        items: list[_Queued] = []
        try:
            while True:
                self._idle += 1
                try:
                    items = [await queue.get()]
                finally:
                    self._idle -= 1
                # Split what is waiting with the processes that are idle now, rather than check it
                # all while they wait; when the others are busy (under load), take it all.
                share = min(size, -(-(1 + queue.qsize()) // (1 + self._idle)))
                while len(items) < share and not queue.empty():
                    items.append(queue.get_nowait())
                items = [i for i in items if not i.future.done()]
                if items:
                    try:
                        await self._check_in_pool(items)
                    except Exception as exc:  # noqa: BLE001 - the dispatcher must outlive any one batch
                        if not isinstance(exc, OverclaimError):
                            log.exception("check process dispatch failed")
                            exc = InternalCheckError(f"the check failed: {type(exc).__name__}")
                        for item in items:
                            _settle(item, exc)
                items = []
        except asyncio.CancelledError:
            # Shutting down: nothing waiting (in this batch or the queue) is left hanging.
            while not queue.empty():
                items.append(queue.get_nowait())
            for item in items:
                _settle(item, ServiceStoppingError("the service stopped before checking this post; send it again"))
            raise

    async def _check_in_pool(self, items: list[_Queued], retry: bool = True) -> None:
        pool = self.pool
        assert pool is not None
        # A group may run as long as its most patient post may wait, counted once the processes
        # are up (a new pool's start-up is not the posts' fault). Past that, every request in it
        # has had its 504, and a process still busy (a post that does not end) would be lost to the
        # service for good: the pool's processes are replaced instead (the other process's posts
        # go to the new ones, as when a process dies).
        limit = max(i.timeout for i in items)
        running: asyncio.Future[Any] | None = None
        try:
            await self._start(pool)
            items = [i for i in items if not i.future.done()]  # requests that gave up while it started
            if not items:
                return
            # Submitting raises BrokenProcessPool when the pool is broken, and RuntimeError when
            # another dispatcher shut it down while this one waited (both handled below).
            running = asyncio.get_running_loop().run_in_executor(pool, _check_in_process, [i.job for i in items])
            outcomes = await asyncio.wait_for(asyncio.shield(running), limit)
        except asyncio.CancelledError:
            if running is not None:
                running.cancel()
            raise
        except asyncio.TimeoutError:
            assert running is not None
            running.add_done_callback(_drop_outcome)
            log.warning("a group of %d posts ran past %g s; replacing the check processes", len(items), limit)
            if self._pool is pool:
                self._pool = None
                _discard(pool)
            for item in items:
                _settle(item, CheckTimeoutError(f"the check took longer than {limit:g} s"))
            return
        except BrokenProcessPool:
            # A check process died (out of memory, a crash in a library), and the pool failed
            # every job it held: start new processes and send each post once more, alone, so
            # only a post that kills its process twice costs its request.
            if self._pool is pool:
                self._pool = None
                _discard(pool)
            if not retry:
                for item in items:
                    _settle(item, InternalCheckError("the check process died while checking this post"))
                return
            waiting = [item for item in items if not item.future.done()]  # the others' requests have given up
            await asyncio.gather(*(self._check_in_pool([item], retry=False) for item in waiting))
            return
        except RuntimeError:  # (after BrokenProcessPool, one of its kind)
            if running is not None or self._pool is pool:
                raise
            # The pool was replaced (another group ran past its limit) before this group reached
            # it: nothing of this group ran, so it goes to the new pool as it is.
            await self._check_in_pool(items, retry)
            return
        for item, outcome in zip(items, outcomes, strict=True):
            _settle(item, outcome)

    @property
    def store(self) -> Any:
        """The report store (opened on first use), or None when reports are not kept."""
        if self._store is None and self.settings.db:
            from overclaim.store.reports import ReportStore

            self._store = ReportStore(self.settings.db)
        return self._store

    async def run(self, fn: Callable[[], T], timeout: float, what: str) -> T:
        """Run CPU-bound ``fn`` in a worker thread, giving up (504) after ``timeout`` seconds."""
        with anyio.move_on_after(timeout):
            return await anyio.to_thread.run_sync(fn, limiter=self.limiter, abandon_on_cancel=True)
        raise CheckTimeoutError(f"{what} took longer than {timeout:g} s")

    def check_and_store(self, post: Post) -> tuple[str | None, Report, str]:
        """Check one post and store its report: the id (None when reports are not kept), the report, its JSON."""
        report = self.checker.check_post(post)
        text = report.to_json(indent=None)  # serialized once, for the store and the response
        store = self.store
        return (store.add(report, text) if store is not None else None), report, text

    def check_and_store_many(self, jobs: list[PostJob]) -> list[tuple[str | None, str] | OverclaimError]:
        """Read, check and store several posts: each one's report id and JSON, or its error.

        The posts that read are checked together (:meth:`~overclaim.Checker.check_many`, the
        same reports for less CPU); if that raises, one by one, so an error lands on its own
        post. An unexpected error becomes an :class:`InternalCheckError` (logged here).
        """
        outcomes: list[tuple[str | None, str] | OverclaimError | None] = [None] * len(jobs)
        posts: list[tuple[int, Post]] = []
        for k, job in enumerate(jobs):
            try:
                posts.append((k, job.post()))
            except BaseException as exc:  # noqa: BLE001 - one post must not fail the others
                reraise_control_flow(exc)  # a library panic is this post's error too
                outcomes[k] = _own_error(exc, "reading")
        checked: list[tuple[int, Report]] = []
        try:
            checked = list(zip([k for k, _ in posts], self.checker.check_many([p for _, p in posts]), strict=True))
        except BaseException as first:  # noqa: BLE001 - told apart below, post by post
            reraise_control_flow(first)
            for k, post in posts:
                try:
                    checked.append((k, self.checker.check_post(post)))
                except BaseException as exc:  # noqa: BLE001 - one post must not fail the others
                    reraise_control_flow(exc)
                    outcomes[k] = _own_error(exc, "checking")
        texts = [report.to_json(indent=None) for _, report in checked]  # serialized once: store and response
        store = self.store
        ids: list[Any]
        try:
            ids = store.add_many([r for _, r in checked], texts) if store is not None else [None] * len(checked)
        except Exception:  # noqa: BLE001 - told apart below, report by report
            ids = []
            for (_, report), text in zip(checked, texts, strict=True):
                try:
                    ids.append(store.add(report, text))
                except Exception as exc:  # noqa: BLE001
                    ids.append(_own_error(exc, "storing"))
        for (k, _), report_id, text in zip(checked, ids, texts, strict=True):
            outcomes[k] = report_id if isinstance(report_id, OverclaimError) else (report_id, text)
        return outcomes  # type: ignore[return-value]

    def report_links(self, report_id: str) -> tuple[str, str]:
        """The links (paths) to a stored report as a page and as JSON, which open it without the API key.

        With an API key, each carries the report's read-only token (:func:`report_token`); without
        one, the service is open and the plain links do.
        """
        query = "" if self.settings.api_key is None else f"token={report_token(self.settings.api_key, report_id)}"
        return (f"/v1/reports/{report_id}?format=html" + (f"&{query}" if query else ""),
                f"/v1/reports/{report_id}" + (f"?{query}" if query else ""))

    def fetch_post(self, url: object) -> Post:
        """Fetch ``url`` (guarded) and read it as an article page."""
        return self.fetch_job(url).post()

    def fetch_job(self, url: object) -> PostJob:
        """Fetch ``url`` (guarded): the page, to be read as an article where the check runs."""
        if not self.settings.allow_fetch:
            raise FetchError("fetching URLs is off on this service (start it with --allow-fetch)", field="url")
        if not isinstance(url, str) or not url.strip():
            raise WrongTypeError("must be an http(s) URL", field="url")
        page = fetch_url(
            url,
            max_bytes=self.settings.fetch_max_bytes,
            timeout=self.settings.fetch_timeout_s,
            policy=self.policy,
        )
        return PostJob("fetched", page, page.url)

    def matches_for(self, claim: str, body: str | None, where: FactCheckFilter | None = None) -> list[FactCheckMatch]:
        """Fact-checks for ``claim``, found as ``/v1/check`` finds them for a headline.

        The claim is normalized first (disguised words read as the clean words the
        match stage searches for); ``body`` defaults to the claim. ``where`` filters the
        matches (language, age, publisher) in the match stage's search.
        """
        if not self.match_checker.factchecks:
            from overclaim.errors import StoreError

            raise StoreError("this service has no fact-check store (start it with --store or --factchecks)")
        if not where:
            return self.match_checker.check(claim, body or claim).matches
        from overclaim.readers import check_text
        from overclaim.stages.match import FactCheckMatcher, clean_text

        check_text(claim, field="claim")
        stage = next(s for s in self.match_checker.stages if isinstance(s, FactCheckMatcher))
        return stage.find(clean_text(claim, self.match_checker.config).strip(), where)


def _match_filter(record: dict[str, Any]) -> FactCheckFilter:
    """The fact-check filters of a /v1/match body (``language``, ``max_age_days``, ``publisher``), checked."""
    lists = {}
    for name in ("language", "publisher"):
        value = record.get(name)
        values = [value] if isinstance(value, str) else value if value is not None else []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise WrongTypeError("must be text or a list of texts", field=name)
        lists[name] = values
    age = record.get("max_age_days")
    if age is not None and (isinstance(age, bool) or not isinstance(age, int)):
        raise WrongTypeError(f"must be a whole number of days, got {type(age).__name__}", field="max_age_days")
    return FactCheckFilter.of(lists["language"], age, lists["publisher"])


async def _read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise EmptyFieldError("the request body is empty", field="body")
    try:
        return json.loads(raw)
    except UnicodeDecodeError as exc:
        raise MalformedInputError("the request body is not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise MalformedInputError(f"the request body is not valid JSON ({exc.msg} at line {exc.lineno}, "
                                  f"column {exc.colno})", line=exc.lineno) from exc
    except (RecursionError, ValueError) as exc:  # nested too deeply; a number over 4,300 digits
        from overclaim.readers import json_error

        raise json_error(exc, "the request body") from exc


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _is_json(content_type: str) -> bool:
    # Only a declared JSON type: a body without one (which a browser may send from another site
    # with no preflight) is not read as JSON, nor is text/plain (a cross-site form can send that).
    return content_type == "application/json" or (content_type.startswith("application/") and
                                                  content_type.endswith("+json"))


def _not_json(content_type: str, accepted: str = "application/json") -> UnknownFormatError:
    """The 415 for a body that is not declared as one of ``accepted``."""
    if not content_type:
        return UnknownFormatError(f"the request has no Content-Type; send {accepted}")
    return UnknownFormatError(f"cannot read content type {content_type!r}; send {accepted}")


async def _decoded_body(request: Request, source: str) -> str:
    from overclaim.readers import decode

    raw = await request.body()
    if not raw.strip():
        raise EmptyFieldError("the request body is empty", field="body")
    return decode(raw, source)


def _own_error(exc: BaseException, doing: str) -> OverclaimError:
    """``exc`` as one post's error: an :class:`OverclaimError` as it is, anything else logged and made internal."""
    if isinstance(exc, OverclaimError):
        return exc
    log.error("internal error while %s a post", doing, exc_info=exc)
    return InternalCheckError(f"internal error while {doing} this post: {type(exc).__name__}")


def _batch_item(index: int, outcome: tuple[str | None, str] | OverclaimError) -> dict[str, Any]:
    """One entry of a ``/v1/batch`` answer."""
    if isinstance(outcome, OverclaimError):
        return {"index": index, "error": outcome.to_dict()}
    report_id, text = outcome
    return {"index": index, "id": report_id, "report": json.loads(text)}


def report_token(secret: str, report_id: str) -> str:
    """The read-only token in a stored report's link: HMAC-SHA256 of its id under ``secret`` (32 hex digits).

    The service signs with its API key, so every process of one service (``serve --workers``) gives
    and accepts the same links with nothing else to share, and a new key revokes the old links.
    """
    mac = hmac.new(secret.encode(), b"overclaim report link\x00" + report_id.encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def _report_response(report_id: str | None, report: Report | str, link: str | None = None) -> Response:
    headers = {"X-Report-Id": report_id, "Location": f"/v1/reports/{report_id}"} if report_id else None
    if headers and link:
        headers["X-Report-Link"] = link
    text = report if isinstance(report, str) else report.to_json(indent=None)
    return Response(text, media_type="application/json", headers=headers)


def _examples(key: str = "examples", **values: Any) -> dict[str, Any]:
    """OpenAPI ``examples`` (named values) for a request body or parameter; nothing for values not given."""
    named = {name: {"summary": name, "value": value} for name, value in values.items() if value is not None}
    return {key: named} if named else {}


def _example_answer(example: dict[str, Any] | None) -> dict[str, Any]:
    """An OpenAPI answer's JSON ``example`` from :func:`~overclaim.web.examples.load_examples`."""
    if not example or "response" not in example:
        return {}
    return {"content": {"application/json": {"example": example["response"]}}}


def create_app(
    settings: ServiceSettings | None = None,
    *,
    checker: Checker | None = None,
    fetch_policy: AddressPolicy = public_only,
) -> FastAPI:
    """Build the service app.

    Args:
        settings: limits and options; defaults to :class:`ServiceSettings` ``()``.
        checker: the checker to use (built from the settings when None).
        fetch_policy: which addresses URL fetching may reach (tests only; the
            default allows public addresses only).

    Returns:
        The FastAPI application (serve it with uvicorn).
    """
    settings = settings or ServiceSettings()
    service = Service(settings, checker, fetch_policy)

    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        try:
            if settings.warm_up:
                if settings.check_processes:
                    await service.start_processes()
                else:
                    await anyio.to_thread.run_sync(service.checker.warm_up)
            yield
        finally:
            await anyio.to_thread.run_sync(service.close)

    app = FastAPI(
        title="overclaim",
        version=__version__,
        summary="Show, with evidence, where a headline says more than its article does.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.add_middleware(GuardMiddleware, max_bytes=settings.max_request_bytes, read_timeout_s=settings.read_timeout_s)
    _add_error_handlers(app)

    async def require_key(request: Request) -> None:
        if settings.api_key is None:
            return
        token = request.query_params.get("token")
        report_id = request.path_params.get("report_id")  # (GET /v1/reports/{report_id} only)
        if token is not None and isinstance(report_id, str):
            # A report's link: its own token opens it, with no key; a wrong one is refused.
            if hmac.compare_digest(token.encode(), report_token(settings.api_key, report_id).encode()):
                    return
            raise AuthError("this report link is not valid (its token does not match the report); "
                            "ask for the link again or send the API key", field="token")
        given = request.headers.get("x-api-key")
        auth = request.headers.get("authorization", "")
        if given is None and auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if not given:
            raise AuthError("this service needs an API key (X-API-Key header or Authorization: Bearer)")
        if not hmac.compare_digest(given.encode(), settings.api_key.encode()):
            raise AuthError("the API key is wrong")

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_key)], responses=ERROR_RESPONSES)
    ex = load_examples()

    @v1.post(
        "/check",
        summary="Check one post",
        response_model=None,
        responses={200: {"model": Report, "description": "The report (its id in X-Report-Id and Location, its "
                                                          "link without the key in X-Report-Link)",
                         **_example_answer(ex.get("check"))}},
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/json": {"schema": CheckRequest.model_json_schema(),
                                         **_examples(post=ex.get("check", {}).get("request"),
                                                     url={"url": "https://news.example.org/2025/06/coffee-cancer"})},
                    "text/html": {"schema": {"type": "string"}, **_examples(page=EXAMPLE_HTML)},
                    "text/plain": {"schema": {"type": "string"}, **_examples(text=EXAMPLE_TEXT)},
                },
                "required": True,
            }
        },
    )
    async def check(request: Request) -> Response:
        """Check one post: JSON fields, an HTML page, plain text, or a URL (with fetching allowed)."""
        ctype = _content_type(request)
        job: PostJob
        if ctype in ("text/html", "application/xhtml+xml"):
            job = PostJob("html", await _decoded_body(request, "request"))
        elif ctype == "text/plain":
            job = PostJob("text", await _decoded_body(request, "request"))
        elif _is_json(ctype):
            record = await _read_json(request)
            if (
                isinstance(record, dict)
                and record.get("url") is not None
                and record.get("headline") is None
                and record.get("body") is None
                and record.get("html") is None
            ):
                # (the page is read, with trafilatura, where the check runs: in a check process)
                job = await service.run(lambda: service.fetch_job(record["url"]),
                                        settings.fetch_timeout_s + 5, "fetching the URL")
            else:
                job = PostJob("record", record)
        else:
            raise _not_json(ctype, "application/json, text/html or text/plain")
        report_id, text = await service.check_job(job, settings.check_timeout_s)
        return _report_response(report_id, text, service.report_links(report_id)[0] if report_id else None)

    @v1.post(
        "/batch",
        summary="Check several posts",
        response_model=BatchResponse,
        responses={200: {"description": "One result per post, in order", **_example_answer(ex.get("batch"))}},
        openapi_extra={
            "requestBody": {
                "content": {"application/json": {"schema": BatchRequest.model_json_schema(),
                                                  **_examples(posts=ex.get("batch", {}).get("request"))}},
                "required": True,
            }
        },
    )
    async def batch(request: Request) -> Response:
        """Check up to `max_batch` posts; each result is a report (with its id and link) or an error."""
        ctype = _content_type(request)
        if not _is_json(ctype):
            raise _not_json(ctype)
        data = await _read_json(request)
        posts_in = data.get("posts") if isinstance(data, dict) else data
        if not isinstance(posts_in, list):
            raise MalformedInputError("expected {\"posts\": [...]} or an array of posts", field="posts")
        if len(posts_in) > settings.max_batch:
            raise InputTooLargeError(f"the batch has {len(posts_in)} posts; at most {settings.max_batch}",
                                     field="posts")

        def work() -> list[dict[str, Any]]:
            jobs = [PostJob("record", record, f"posts[{i}]") for i, record in enumerate(posts_in)]
            return [_batch_item(i, outcome) for i, outcome in enumerate(service.check_and_store_many(jobs))]

        async def one(i: int, record: object) -> dict[str, Any]:
            try:
                outcome: tuple[str | None, str] | OverclaimError = await service.check_job(
                    PostJob("record", record, f"posts[{i}]"), settings.batch_timeout_s
                )
            except OverclaimError as exc:
                outcome = exc
            return _batch_item(i, outcome)

        if service.pool is None:
            results = await service.run(work, settings.batch_timeout_s, "the batch")
        else:  # each post to whichever check process is free
            results = []
            with anyio.move_on_after(settings.batch_timeout_s):
                results = list(await asyncio.gather(*(one(i, r) for i, r in enumerate(posts_in))))
            if len(results) != len(posts_in):
                raise CheckTimeoutError(f"the batch took longer than {settings.batch_timeout_s:g} s")
        for r in results:
            if r.get("id"):
                r["link"] = service.report_links(r["id"])[0]
        errors = sum(1 for r in results if "error" in r)
        return JSONResponse({"results": results, "count": len(results), "errors": errors})

    @v1.post(
        "/match",
        summary="Find fact-checks for a claim",
        response_model=MatchResponse,
        responses={200: {"description": "The matches, best first", **_example_answer(ex.get("match"))}},
        openapi_extra={
            "requestBody": {"content": {"application/json": {"schema": MatchRequest.model_json_schema(),
                                                             **_examples(claim=ex.get("match", {}).get("request"))}},
                            "required": True}
        },
    )
    async def match(request: Request) -> MatchResponse:
        """Stored fact-checks that may cover the claim (`claim` or `headline`), best first."""
        # The body is read here, as /v1/check reads its own, so both answer a bad body alike
        # (and only after the API key is checked, which a body parameter would come before).
        ctype = _content_type(request)
        if not _is_json(ctype):
            raise _not_json(ctype)
        record = await _read_json(request)
        if not isinstance(record, dict):
            raise MalformedInputError(f"expected an object with 'claim' (or 'headline'), got {type(record).__name__}")
        for name in ("claim", "headline", "body"):
            if record.get(name) is not None and not isinstance(record[name], str):
                raise WrongTypeError(f"must be text, got {type(record[name]).__name__}", field=name)
        claim = record.get("claim") if record.get("claim") is not None else record.get("headline")
        if claim is None or not claim.strip():
            raise EmptyFieldError("is missing or empty", field="claim")
        body = record.get("body")
        where = _match_filter(record)
        found = await service.run(lambda: service.matches_for(claim, body, where), settings.check_timeout_s,
                                  "the match")
        return MatchResponse(claim=claim, matches=found)

    @v1.get("/reports/{report_id}", summary="A stored report", response_model=None,
            responses={200: {"model": Report, "description": "The report (HTML with ?format=html)",
                             **_example_answer(ex.get("report"))}})
    async def get_report(
        report_id: str = PathParam(description="The id from X-Report-Id.",
                                   **_examples(report=ex.get("report", {}).get("report_id"), key="openapi_examples")),
        format: str = Query("json", description="`json`, or `html` for a standalone page.",
                            openapi_examples={"json": {"value": "json"}, "html": {"value": "html"}}),
        token: str | None = Query(None, description=(
            "The report's read-only token, from its link (`X-Report-Link`, the page's link): opens this "
            "report without the API key. A wrong token is refused (401)."),
            **_examples(token=ex.get("report", {}).get("token"), key="openapi_examples")),
    ) -> Response:
        """The stored report with this id, as JSON or (`format=html`) as a page.

        With an API key on the service, send the key, or open the report's link: it carries a token
        that opens this one report and nothing else.
        """
        store = service.store
        if store is None:
            from overclaim.errors import NotFoundError

            raise NotFoundError("this service keeps no reports (started without a database)")
        report = await anyio.to_thread.run_sync(store.get, report_id)
        if format == "html":
            from overclaim.render.html import render_html

            # A standalone document: its styles are inline, it loads and runs nothing.
            return HTMLResponse(render_html(report), headers={"Content-Security-Policy": STANDALONE_CSP})
        if format != "json":
            raise WrongTypeError("must be json or html", field="format")
        return _report_response(None, report)

    @v1.get("/schema", summary="The report's JSON schema",
            responses={200: {"description": "The JSON schema (its first keys shown)",
                             **_example_answer(ex.get("schema"))}})
    async def schema() -> dict[str, Any]:
        """The published JSON schema of the report."""
        return report_schema()

    app.include_router(v1)

    @app.get("/healthz", summary="Liveness",
             responses={200: {"description": "The service is up", **_example_answer(ex.get("healthz"))}})
    async def healthz() -> dict[str, Any]:
        """The service is up: version, schema version, whether reports are kept."""
        return {"status": "ok", "version": __version__, "schema_version": SCHEMA_VERSION,
                "store": bool(settings.db), "fetch": settings.allow_fetch}

    from overclaim.web.page import add_page_routes

    add_page_routes(app, service, require_key)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OverclaimError)
    async def on_overclaim_error(request: Request, exc: OverclaimError) -> Response:
        if request.url.path.startswith("/v1") or request.method != "POST" or request.url.path != "/":
            return error_response(exc)
        from overclaim.web.page import error_page

        return await error_page(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p != "body"]
        field = ".".join(loc) or None
        message = str(first.get("msg", "invalid request"))
        if first.get("type") == "json_invalid":
            message = "the request body is not valid JSON"
        body = {"code": "invalid_request", "message": f"field '{field}': {message}" if field else message}
        if field:
            body["field"] = field
        return JSONResponse({"error": body}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed"}
        message = {404: f"no route {request.url.path}", 405: f"{request.method} is not allowed on {request.url.path}"}
        return _plain_error(exc.status_code, codes.get(exc.status_code, "http_error"),
                            message.get(exc.status_code, str(exc.detail)))

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return _plain_error(500, "internal", "internal error; the service log has the details")


def create_app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` and worker processes: settings from ``OVERCLAIM_*``."""
    return create_app(ServiceSettings.from_env())


__all__ = ["ServiceSettings", "create_app", "create_app_from_env", "error_response"]
