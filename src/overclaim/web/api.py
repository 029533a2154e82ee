"""The API: the ``/v1`` routes (an :class:`~fastapi.APIRouter` behind the API key) and ``GET /healthz``.

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

JSON bodies must say so (``Content-Type: application/json``; none at all is a 415).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response

from overclaim.errors import (
    CheckTimeoutError,
    EmptyFieldError,
    InputTooLargeError,
    MalformedInputError,
    OverclaimError,
    UnknownFormatError,
    WrongTypeError,
)
from overclaim.report import SCHEMA_VERSION, Report, report_schema
from overclaim.store.factchecks import FactCheckFilter
from overclaim.version import __version__
from overclaim.web.auth import require_api_key
from overclaim.web.errors import ERROR_RESPONSES
from overclaim.web.examples import EXAMPLE_HTML, EXAMPLE_TEXT, load_examples
from overclaim.web.jobs import PostJob
from overclaim.web.middleware.security_headers import STANDALONE_CSP
from overclaim.web.models import BatchRequest, BatchResponse, CheckRequest, MatchRequest, MatchResponse
from overclaim.web.service import Service


def _service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


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


def _batch_item(index: int, outcome: tuple[str | None, str] | OverclaimError) -> dict[str, Any]:
    """One entry of a ``/v1/batch`` answer."""
    if isinstance(outcome, OverclaimError):
        return {"index": index, "error": outcome.to_dict()}
    report_id, text = outcome
    return {"index": index, "id": report_id, "report": json.loads(text)}


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


v1 = APIRouter(prefix="/v1", dependencies=[Depends(require_api_key)], responses=ERROR_RESPONSES)
health = APIRouter()
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
    service = _service(request)
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
                                    service.settings.fetch_timeout_s + 5, "fetching the URL")
        else:
            job = PostJob("record", record)
    else:
        raise _not_json(ctype, "application/json, text/html or text/plain")
    report_id, text = await service.check_job(job, service.settings.check_timeout_s)
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
    service = _service(request)
    settings = service.settings
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
    service = _service(request)
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
    found = await service.run(lambda: service.matches_for(claim, body, where), service.settings.check_timeout_s,
                              "the match")
    return MatchResponse(claim=claim, matches=found)



@v1.get("/reports/{report_id}", summary="A stored report", response_model=None,
        responses={200: {"model": Report, "description": "The report (HTML with ?format=html)",
                         **_example_answer(ex.get("report"))}})
async def get_report(
    request: Request,
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
    store = _service(request).store
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


@health.get("/healthz", summary="Liveness",
            responses={200: {"description": "The service is up", **_example_answer(ex.get("healthz"))}})
async def healthz(request: Request) -> dict[str, Any]:
    """The service is up: version, schema version, whether reports are kept."""
    settings = _service(request).settings
    return {"status": "ok", "version": __version__, "schema_version": SCHEMA_VERSION,
            "store": bool(settings.db), "fetch": settings.allow_fetch}
