"""The web page at ``/``: a plain HTML form and the rendered report.

``GET /`` shows the form; ``POST /`` (``multipart/form-data``: ``headline``,
``body``, or an ``html_file`` upload, or a page ``url`` when the service fetches, as
``serve --allow-fetch``) checks the post and shows the report under the form. A URL is
fetched and read as ``POST /v1/check {"url": ...}`` and ``overclaim check URL`` do it
(:meth:`~overclaim.web.service.Service.fetch_job`, :func:`overclaim.readers.post_from_page`);
with pasted text, the address is recorded as the report's source. The page works without
JavaScript; one same-origin script (``static/overclaim.js``) adds Ctrl+Enter (Cmd+Enter)
to submit and a size check before sending.

An error is shown in plain words at the field it concerns (:func:`plain_error`), and the
form is given back with every character that was typed, even when the form was over the
size limit (the service still reads a form up to :data:`PAGE_KEEP_FACTOR`
times the limit, only to give its text back). A stored report gets a visible link that opens
it without the API key (:meth:`~overclaim.web.service.Service.report_links`).

All user text is escaped (Jinja2 autoescape for the form, and :mod:`overclaim.render.html`
for the report). ``GET /docs`` is the API reference, rendered from the OpenAPI schema on the
server, so nothing loads from a CDN.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, Template, select_autoescape
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from overclaim.errors import (
    AuthError,
    EmptyFieldError,
    FetchError,
    InputError,
    InputTooLargeError,
    MalformedInputError,
    OverclaimError,
    WrongTypeError,
)
from overclaim.render.html import render_fragment
from overclaim.render.safe import safe_url
from overclaim.report import Post, Report, verdict_name
from overclaim.version import __version__
from overclaim.web.auth import key_matches
from overclaim.web.jobs import PostJob

if TYPE_CHECKING:
    from overclaim.web.service import Service

# The page's form (POST /) is still read up to this many times max_request_bytes when it is over
# the limit, only to give its text back with the error (nothing over the limit is checked): a
# pasted article a little over 2 MB is not lost. A design choice, not a measurement: the text a
# person pastes is rarely more than a few times what fits, and 4 x 2 MB a request is little memory.
PAGE_KEEP_FACTOR = 4
# The ASGI scope key where the body limit (web.middleware.body_limit) leaves how many body bytes it
# has let through.
BODY_BYTES_KEY = "overclaim.body_bytes"

# The form's fields as people call them (the start of an error sentence about one).
FIELD_NAMES = {
    "headline": "The headline",
    "body": "The article text",
    "html_file": "The HTML file",
    "url": "The address",
    "api_key": "The API key",
}
# An error's field (the API's names) -> the form field it is shown at.
_FORM_FIELD = {"headline": "headline", "body": "body", "html": "html_file", "url": "url", "api_key": "api_key"}
# Words an error message starts with when its field is its subject ("is empty", "must be text").
_PREDICATE_START = re.compile(r"^(is|are|was|must|has|have|had|cannot|can't|does|did|needs|should|may)\b")


@lru_cache(maxsize=1)
def _template() -> Template:
    env = Environment(loader=PackageLoader("overclaim.web", "templates"), autoescape=select_autoescape(["html"]))
    return env.get_template("page.html")


def human_size(n: int, limit: int | None = None) -> str:
    """``n`` bytes as people read it: ``2.1 MB``, ``4 KB`` (units of 1,000; ``static/overclaim.js`` writes it alike).

    With ``limit``, a size other than the limit never reads the same as it (``2.0004 MB``, not ``2 MB``).
    """
    for unit, scale in (("MB", 1_000_000), ("KB", 1_000)):
        if n >= scale:
            text = f"{n / scale:.1f}".removesuffix(".0")
            if limit is not None and n != limit and f"{text} {unit}" == human_size(limit):
                text = f"{n / scale:.6f}".rstrip("0").rstrip(".")
            return f"{text} {unit}"
    return f"{n} bytes"


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def plain_error(exc: OverclaimError, field: str | None) -> str:
    """``exc`` as one plain sentence for the page: the field named as people call it, no code, no prefix.

    Args:
        exc: the error.
        field: the form field it is shown at (None: the form as a whole).
    """
    message = exc.message.strip()
    if field in FIELD_NAMES and _PREDICATE_START.match(message):
        return _sentence(f"{FIELD_NAMES[field]} {message}")
    if field in FIELD_NAMES and message.startswith("not "):  # "not a web page (...)"
        return _sentence(f"{FIELD_NAMES[field]} is {message}")
    return _sentence(message)


def render_page(service: Service, **values: Any) -> str:
    """The page with the form (refilled with ``values``) and, when given, the report."""
    context = {
        "version": __version__,
        "need_key": service.settings.api_key is not None,
        "allow_fetch": service.settings.allow_fetch,
        "url": "",
        "max_headline": service.checker.config.max_headline_chars,
        "max_bytes": service.settings.max_request_bytes,
        "headline": "",
        "body": "",
        "errors": {},
        "form_error": None,
        "error_code": None,
        "report_html": None,
        "verdict": None,
    }
    context.update(values)
    return _template().render(**context)


def _page_with_error(service: Service, exc: OverclaimError, field: str | None, refill: dict[str, str]) -> HTMLResponse:
    """The page with ``exc`` in plain words at ``field`` (or above the form), the form refilled."""
    values: dict[str, Any] = {"error_code": exc.code, **refill}
    if field is not None:
        values["errors"] = {field: plain_error(exc, field)}
    else:
        values["form_error"] = plain_error(exc, None)
    return HTMLResponse(render_page(service, **values), status_code=exc.http_status)


async def error_page(request: Request, exc: OverclaimError) -> Response:
    """The page with an error raised before the form could be read (shown above the empty form)."""
    service: Service = request.app.state.service
    if isinstance(exc, InputTooLargeError):
        limit = service.settings.max_request_bytes
        declared = request.headers.get("content-length", "")
        size = f"{human_size(int(declared), limit)}, " if declared.isdigit() else ""
        exc = InputTooLargeError(
            f"the form is far too large to read: {size}the limit is {human_size(limit)}, and its text could not be "
            f"kept (a form over {human_size(limit * PAGE_KEEP_FACTOR)} is not read at all); paste a shorter part"
        )
    return _page_with_error(service, exc, None, {})


def _too_large(service: Service, sizes: dict[str, int]) -> InputTooLargeError:
    """The error for a form over the size limit, at its largest field."""
    field = max(sizes, key=sizes.__getitem__)
    limit = service.settings.max_request_bytes
    what = {"headline": "the headline is too long", "body": "the article is too long",
            "html_file": "the HTML file is too large"}.get(field, "the form is too large")
    return InputTooLargeError(f"{what}: {human_size(sizes[field], limit)}, the limit is {human_size(limit)}",
                              field=field)


async def _post_from_form(request: Request, service: Service) -> tuple[PostJob, dict[str, str]]:
    """What to check, from the form: a ready post, or an upload to read (where the check runs)."""
    # The whole body is capped by the body limit middleware (PAGE_KEEP_FACTOR times max_request_bytes for
    # the page), so one field may take all of it (Starlette's own 1 MB a part refused a 1.5 MB article
    # with a JSON answer).
    limit = service.settings.max_request_bytes
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=limit * PAGE_KEEP_FACTOR)
    except StarletteHTTPException as exc:  # a form Starlette cannot read (its parser's words)
        raise _FormError(MalformedInputError(f"the form cannot be read: {exc.detail}"), {}) from exc
    headline = form.get("headline")
    body = form.get("body")
    headline = headline if isinstance(headline, str) else ""
    body = body if isinstance(body, str) else ""
    url = form.get("url")
    url = url.strip() if isinstance(url, str) else ""
    refill = {"headline": headline, "body": body, "url": url}
    upload = form.get("html_file")
    has_upload = isinstance(upload, UploadFile) and bool(upload.filename)
    if request.scope.get(BODY_BYTES_KEY, 0) > limit:  # read only to give the text back
        sizes = {"headline": len(headline.encode()), "body": len(body.encode()), "url": len(url.encode()),
                 "html_file": (upload.size or 0) if isinstance(upload, UploadFile) else 0}
        raise _FormError(_too_large(service, sizes), refill)
    key = form.get("api_key")
    if service.settings.api_key is not None:
        if not isinstance(key, str) or not key:
            raise _FormError(AuthError("this service needs its API key: enter it below", field="api_key"), refill)
        if not key_matches(key, service.settings.api_key):
            raise _FormError(AuthError("is wrong", field="api_key"), refill)
    if url and safe_url(url) is None:
        raise _FormError(WrongTypeError("must be a web address starting with http:// or https://", field="url"),
                         refill)
    no_text = not headline.strip() and not body.strip()
    if url and no_text and not has_upload:
        if not service.settings.allow_fetch:
            raise _FormError(FetchError("this service does not fetch pages: paste the headline and the article "
                                        "text, or choose the page's HTML file", field="url"), refill)
        # (the page is read where the check runs, as for the API's {"url": ...})
        try:
            job = await service.run(lambda: service.fetch_job(url), service.settings.fetch_timeout_s + 5,
                                    "fetching the URL")
        except OverclaimError as exc:
            raise _FormError(exc, refill, "url") from exc
        return job, refill
    if not no_text or not isinstance(upload, UploadFile) or not upload.filename:
        if not headline.strip():
            raise _FormError(EmptyFieldError("is empty: paste the headline or caption", field="headline"), refill)
        if not body.strip():
            raise _FormError(EmptyFieldError("is empty: paste the article text", field="body"), refill)
        # Browsers send CRLF line ends from a textarea; the report's offsets are into what we check.
        post = Post(headline=headline.replace("\r\n", "\n"), body=body.replace("\r\n", "\n"), url=url or None)
        return PostJob("post", post), refill
    from overclaim.readers import decode

    data = await upload.read()
    name = upload.filename or "upload.html"
    try:
        text = decode(data, name)
    except InputError as exc:
        raise _FormError(exc, refill, "html_file") from exc
    # Read as the API reads {"html": ..., "url": ...}: the address given is the page's when it names none.
    return PostJob("record", {"html": text, "url": url or None}, name), refill


class _FormError(Exception):
    def __init__(self, error: OverclaimError, refill: dict[str, str], field: str | None = None) -> None:
        self.error = error
        self.refill = refill
        self.field = field or _FORM_FIELD.get(error.field or "")


def _field_of(exc: OverclaimError, job: PostJob) -> str | None:
    """The form field an error of checking ``job`` concerns: the upload or address it came from, or its own field."""
    if isinstance(exc, InputError) and job.kind == "record":
        return "html_file"  # (the page uploads an HTML file as a record {"html": ...})
    if isinstance(exc, InputError) and job.kind == "fetched":
        return "url"
    return _FORM_FIELD.get(exc.field or "")


router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def page(request: Request) -> HTMLResponse:
    """The empty form."""
    return HTMLResponse(render_page(request.app.state.service))


@router.post("/", response_class=HTMLResponse)
async def page_check(request: Request) -> HTMLResponse:
    """Check the form's post: the page with the report under the form, or with the error at its field."""
    service: Service = request.app.state.service
    try:
        job, refill = await _post_from_form(request, service)
    except _FormError as exc:
        return _page_with_error(service, exc.error, exc.field, exc.refill)
    try:
        report_id, text = await service.check_job(job, service.settings.check_timeout_s)
    except OverclaimError as exc:
        return _page_with_error(service, exc, _field_of(exc, job), refill)
    report = Report.model_validate_json(text)
    page_url = json_url = None
    if report_id:
        page_path, json_path = service.report_links(report_id)
        base = str(request.base_url).rstrip("/")
        page_url, json_url = base + page_path, base + json_path
    return HTMLResponse(
        render_page(
            service,
            report_html=render_fragment(report, report_id=report_id, page_url=page_url, json_url=json_url),
            verdict=verdict_name(report.verdict.label),
            headline=report.post.headline,
            body=report.post.body,
            url=report.post.url or "",
        )
    )


@router.get("/docs", response_class=HTMLResponse)
async def docs(request: Request) -> HTMLResponse:
    """The API reference (:func:`render_docs`)."""
    return HTMLResponse(render_docs(request.app.openapi()))


_CODE_SPAN = re.compile(r"``(.+?)``|`([^`]+)`")
_RST_ROLE = re.compile(r":(?:class|func|meth|data|attr|mod|obj):`~?([^`]+)`")


def _doc_html(text: str) -> str:
    """A route's description (Markdown, as OpenAPI has it) as HTML: code spans and paragraphs; all else escaped.

    A Sphinx role left in a docstring (``:class:`Report```) is shown as the name it refers to.
    """
    text = _RST_ROLE.sub(lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text.strip())
    paragraphs = []
    for para in re.split(r"\n\s*\n", text):
        out, at = [], 0
        for m in _CODE_SPAN.finditer(para):
            out.append(html.escape(para[at:m.start()]))
            out.append(f"<code>{html.escape(m.group(1) or m.group(2))}</code>")
            at = m.end()
        out.append(html.escape(para[at:]))
        paragraphs.append("<p>" + " ".join("".join(out).split()) + "</p>")
    return "".join(p for p in paragraphs if p != "<p></p>")


def _example_of(content: dict[str, Any]) -> tuple[str, Any] | None:
    """The first example in an OpenAPI content map: (media type, value)."""
    for media, spec in content.items():
        if "example" in spec:
            return media, spec["example"]
        for example in (spec.get("examples") or {}).values():
            if "value" in example:
                return media, example["value"]
    return None


def _shown(media: str, value: Any) -> str:
    return html.escape(value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False))


def _route_examples(method: str, path: str, op: dict[str, Any]) -> str:
    """An operation's example request (the request line and body) and example answer, as HTML."""
    url = path
    query = []
    for param in op.get("parameters", []):
        examples = param.get("examples") or {}
        value = next((e["value"] for e in examples.values() if "value" in e), None)
        if value is None:
            continue
        if param.get("in") == "path":
            url = url.replace("{" + param["name"] + "}", str(value))
        elif param.get("in") == "query":
            query.append(f"{param['name']}={value}")
    if query:
        url += "?" + "&".join(query)
    request = f"{method.upper()} {url}"
    body = _example_of(op.get("requestBody", {}).get("content", {}))
    if body is not None:
        request += f"\nContent-Type: {body[0]}\n\n" + (body[1] if isinstance(body[1], str) else
                                                         json.dumps(body[1], indent=2, ensure_ascii=False))
    answer = _example_of(op.get("responses", {}).get("200", {}).get("content", {}))
    parts = [f'<details class="oc-example"><summary>Example request</summary><pre>{html.escape(request)}</pre>'
             "</details>"]
    if answer is not None:
        parts.append(f'<details class="oc-example"><summary>Example answer (200)</summary>'
                     f"<pre>{_shown(*answer)}</pre></details>")
    return "".join(parts)


def render_docs(openapi: dict[str, Any]) -> str:
    """A plain HTML API reference from the OpenAPI schema: routes, what they do, examples, answers."""
    e = html.escape
    rows = []
    for path, ops in openapi.get("paths", {}).items():
        for method, op in ops.items():
            statuses = ", ".join(sorted(op.get("responses", {})))
            rows.append(
                f'<tr><td><code>{e(method.upper())} {e(path)}</code></td><td><strong>{e(op.get("summary", ""))}'
                f'</strong>{_doc_html(op.get("description") or "")}{_route_examples(method, path, op)}</td>'
                f"<td>{e(statuses)}</td></tr>"
            )
    info = openapi.get("info", {})
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>overclaim API</title>'
        '<link rel="stylesheet" href="/static/overclaim.css"></head><body class="oc-page">'
        f"<h1>{e(info.get('title', 'API'))} API {e(str(info.get('version', '')))}</h1>"
        "<p>Every <code>/v1</code> route needs the API key when the service has one "
        "(<code>X-API-Key</code> header or <code>Authorization: Bearer</code>); a stored report's link "
        "(<code>X-Report-Link</code>) opens that report without it. Errors are "
        "<code>{\"error\": {\"code\", \"message\"}}</code>. The examples are real answers of this version to "
        "a made-up post. The full machine-readable description is "
        '<a href="/openapi.json">openapi.json</a>; the report schema is <a href="/v1/schema">/v1/schema</a>.</p>'
        '<table class="oc-table oc-docs"><thead><tr><th>Route</th><th>What it does</th><th>Answers</th></tr></thead>'
        "<tbody>" + "".join(rows) + "</tbody></table></body></html>"
    )
