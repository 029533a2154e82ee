"""Error answers: ``{"error": {"code", "message"}}`` for the API, the page with the error for its form.

One rule picks between them (:func:`is_page_post`): the web page's form (``POST /``) is answered
with the page, every other request with JSON. The error handlers and the middleware that refuse a
request before the app reads it (:mod:`overclaim.web.middleware`) both answer through :func:`error_answer`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from overclaim.errors import AuthError, OverclaimError
from overclaim.web.models import ErrorBody
from overclaim.web.page import error_page

log = logging.getLogger("overclaim.web")

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


def is_page_post(scope: Scope) -> bool:
    """Whether the request is the web page's form (``POST /``), whose errors are shown on the page."""
    return scope.get("method") == "POST" and scope.get("path") == "/"


async def error_answer(request: Request, exc: OverclaimError) -> Response:
    """The answer to ``exc``: the page with the error for the page's form, else the JSON error."""
    if is_page_post(request.scope) and "app" in request.scope:
        return await error_page(request, exc)
    return error_response(exc)


async def send_error(scope: Scope, receive: Receive, send: Send, exc: OverclaimError) -> None:
    """Answer ``exc`` from a middleware, before the app reads the request (as :func:`error_answer`)."""
    response = await error_answer(Request(scope, receive), exc)
    await response(scope, receive, send)


def add_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as :func:`error_answer` does, or as a JSON error of its own kind."""
    app.add_exception_handler(OverclaimError, error_answer)  # type: ignore[arg-type]

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


__all__ = ["ERROR_RESPONSES", "add_error_handlers", "error_answer", "error_response", "is_page_post", "send_error"]
