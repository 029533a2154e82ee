"""The HTTP service: a FastAPI app over the library, composed by :func:`create_app`.

- :mod:`~overclaim.web.api`: the ``/v1`` routes (behind the API key, :mod:`~overclaim.web.auth`) and ``/healthz``.
- :mod:`~overclaim.web.page`: the web page (``GET /``, ``POST /``) and the API reference (``GET /docs``,
  rendered here, no CDN); ``GET /openapi.json``.
- :mod:`~overclaim.web.service`: what the routes share, with the check processes of
  :mod:`~overclaim.web.dispatch`; :mod:`~overclaim.web.settings`: its limits and options.
- :mod:`~overclaim.web.errors`: every 4xx/5xx from the API is ``{"error": {"code": ..., "message": ...}}``,
  the page's form gets the page with the error.
- :mod:`~overclaim.web.middleware`: security headers; a post a browser sends from another site
  (``Sec-Fetch-Site``/``Origin``) is a 403, on the API and the page alike (with no API key, another
  site's page could otherwise make its visitors' browsers drive the service: cross-site request
  forgery); the body's size and read time limits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware import Middleware

from overclaim.fetch import AddressPolicy, public_only
from overclaim.pipeline import Checker
from overclaim.version import __version__
from overclaim.web import api, page
from overclaim.web.auth import report_token
from overclaim.web.errors import add_error_handlers, error_response
from overclaim.web.jobs import PostJob
from overclaim.web.middleware import BodyLimitMiddleware, CrossSiteMiddleware, SecurityHeadersMiddleware
from overclaim.web.service import Service
from overclaim.web.settings import ServiceSettings

STATIC_DIR = Path(__file__).resolve().parent / "static"


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

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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
        middleware=[  # outermost first: every answer, refusals included, gets the security headers
            Middleware(SecurityHeadersMiddleware),
            Middleware(CrossSiteMiddleware),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes,
                       read_timeout_s=settings.read_timeout_s),
        ],
    )
    app.state.service = service
    add_error_handlers(app)
    app.include_router(api.v1)
    app.include_router(api.health)
    app.include_router(page.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def create_app_from_env() -> FastAPI:
    """App factory for ``uvicorn --factory`` and worker processes: settings from ``OVERCLAIM_*``."""
    return create_app(ServiceSettings.from_env())


# (the service's public names, importable from here as before the app was split into modules)
__all__ = [
    "PostJob", "Service", "ServiceSettings", "create_app", "create_app_from_env", "error_response", "report_token",
]
