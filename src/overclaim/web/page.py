"""The web page at ``/``: a plain HTML form (no JavaScript) and the rendered report.

``GET /`` shows the form; ``POST /`` (``multipart/form-data``: ``headline``,
``body``, or an ``html_file`` upload, or a page ``url`` when the service fetches, as
``serve --allow-fetch``) checks the post and shows the report under the form. A URL is
fetched and read as ``POST /v1/check {"url": ...}`` and ``overclaim check URL`` do it
(:meth:`~overclaim.web.app.Service.fetch_job`, :func:`overclaim.readers.post_from_page`).
All user text is escaped (Jinja2 autoescape for the form, and :mod:`overclaim.render.html`
for the report). ``GET /docs`` is the API reference,
rendered from the OpenAPI schema on the server, so nothing loads from a CDN.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, Template, select_autoescape
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from overclaim import __version__
from overclaim.errors import AuthError, EmptyFieldError, InputError, MalformedInputError, OverclaimError
from overclaim.render.html import render_fragment
from overclaim.report import Post, Report, verdict_name
from overclaim.web.app import PostJob

if TYPE_CHECKING:
    from overclaim.web.app import Service


@lru_cache(maxsize=1)
def _template() -> Template:
    env = Environment(loader=PackageLoader("overclaim.web", "templates"), autoescape=select_autoescape(["html"]))
    return env.get_template("page.html")


def render_page(service: Service, **values: Any) -> str:
    """The page with the form (refilled with ``values``) and, when given, the report."""
    context = {
        "version": __version__,
        "need_key": service.settings.api_key is not None,
        "allow_fetch": service.settings.allow_fetch,
        "url": "",
        "max_headline": service.checker.config.max_headline_chars,
        "headline": "",
        "body": "",
        "error": None,
        "error_code": None,
        "report_html": None,
        "verdict": None,
    }
    context.update(values)
    return _template().render(**context)


async def error_page(request: Request, exc: OverclaimError) -> Response:
    """The page with the error shown above the form (for errors raised while reading the form)."""
    service: Service = request.app.state.service
    return HTMLResponse(render_page(service, error=str(exc), error_code=exc.code), status_code=exc.http_status)


async def _post_from_form(request: Request, service: Service) -> tuple[PostJob, dict[str, str]]:
    """What to check, from the form: a ready post, or an upload to read (where the check runs)."""
    # The whole body is already capped by the guard middleware (max_request_bytes), so one field
    # may take all of it (Starlette's own 1 MB a part refused a 1.5 MB article with a JSON answer).
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=service.settings.max_request_bytes)
    except StarletteHTTPException as exc:  # a form Starlette cannot read (its parser's words)
        raise _FormError(MalformedInputError(f"the form cannot be read: {exc.detail}"), {}) from exc
    headline = form.get("headline")
    body = form.get("body")
    headline = headline if isinstance(headline, str) else ""
    body = body if isinstance(body, str) else ""
    url = form.get("url")
    url = url.strip() if isinstance(url, str) else ""
    refill = {"headline": headline, "body": body, "url": url}
    key = form.get("api_key")
    if service.settings.api_key is not None:
        import hmac

        if not isinstance(key, str) or not hmac.compare_digest(key.encode(), service.settings.api_key.encode()):
            raise _FormError(AuthError("this service needs its API key"), refill)
    upload = form.get("html_file")
    has_upload = isinstance(upload, UploadFile) and bool(upload.filename)
    if url and not headline.strip() and not body.strip() and not has_upload:
        # (the page is read where the check runs, as for the API's {"url": ...})
        try:
            job = await service.run(lambda: service.fetch_job(url), service.settings.fetch_timeout_s + 5,
                                    "fetching the URL")
        except OverclaimError as exc:
            raise _FormError(exc, refill) from exc
        return job, refill
    if headline.strip() or body.strip() or not isinstance(upload, UploadFile) or not upload.filename:
        if not headline.strip():
            raise _FormError(EmptyFieldError("is empty: paste the headline or caption", field="headline"), refill)
        if not body.strip():
            raise _FormError(EmptyFieldError("is empty: paste the article text", field="body"), refill)
        # Browsers send CRLF line ends from a textarea; the report's offsets are into what we check.
        post = Post(headline=headline.replace("\r\n", "\n"), body=body.replace("\r\n", "\n"))
        return PostJob("post", post), refill
    from overclaim.readers import decode

    data = await upload.read()
    name = upload.filename or "upload.html"
    try:
        text = decode(data, name)
    except InputError as exc:
        raise _FormError(exc, refill) from exc
    return PostJob("html", text, name), refill


class _FormError(Exception):
    def __init__(self, error: OverclaimError, refill: dict[str, str]) -> None:
        self.error = error
        self.refill = refill


def add_page_routes(app: FastAPI, service: Service, require_key: Callable[[Request], Awaitable[None]]) -> None:
    """Register ``GET /``, ``POST /`` and ``GET /docs`` on ``app``."""

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(render_page(service))

    @app.post("/", response_class=HTMLResponse, include_in_schema=False)
    async def page_check(request: Request) -> HTMLResponse:
        try:
            job, refill = await _post_from_form(request, service)
        except _FormError as exc:
            return HTMLResponse(
                render_page(service, error=str(exc.error), error_code=exc.error.code, **exc.refill),
                status_code=exc.error.http_status,
            )
        try:
            report_id, text = await service.check_job(job, service.settings.check_timeout_s)
        except OverclaimError as exc:
            return HTMLResponse(
                render_page(service, error=str(exc), error_code=exc.code, **refill), status_code=exc.http_status
            )
        report = Report.model_validate_json(text)
        return HTMLResponse(
            render_page(
                service,
                report_html=render_fragment(report, report_id=report_id),
                verdict=verdict_name(report.verdict.label),
                headline=report.post.headline,
                body=report.post.body,
            )
        )

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(render_docs(app.openapi()))


def render_docs(openapi: dict[str, Any]) -> str:
    """A plain HTML API reference from the OpenAPI schema (routes, summaries, errors)."""
    e = html.escape
    rows = []
    for path, ops in openapi.get("paths", {}).items():
        for method, op in ops.items():
            statuses = ", ".join(sorted(op.get("responses", {})))
            doc = (op.get("description") or "").strip()
            rows.append(
                f"<tr><td><code>{e(method.upper())} {e(path)}</code></td><td><strong>{e(op.get('summary', ''))}"
                f"</strong><br>{e(doc)}</td><td>{e(statuses)}</td></tr>"
            )
    info = openapi.get("info", {})
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>overclaim API</title>"
        '<link rel="stylesheet" href="/static/overclaim.css"></head><body class="oc-page">'
        f"<h1>{e(info.get('title', 'API'))} API {e(str(info.get('version', '')))}</h1>"
        "<p>Every <code>/v1</code> route needs the API key when the service has one "
        "(<code>X-API-Key</code> header or <code>Authorization: Bearer</code>). Errors are "
        "<code>{\"error\": {\"code\", \"message\"}}</code>. The full machine-readable description is "
        '<a href="/openapi.json">openapi.json</a>; the report schema is <a href="/v1/schema">/v1/schema</a>.</p>'
        '<table class="oc-table"><tr><th>Route</th><th>What it does</th><th>Answers</th></tr>'
        + "".join(rows)
        + "</table></body></html>"
    )
