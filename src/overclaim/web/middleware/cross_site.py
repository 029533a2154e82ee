"""A post a browser sends from another site is refused (403): the CSRF guard of every route."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from overclaim.errors import CrossSiteError
from overclaim.web.errors import send_error

# Methods that change something: a browser may send them from another site without asking
# (a form post, a no-cors fetch), so those are refused when the browser says they are cross-site.
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def cross_site_reason(headers: Headers) -> str | None:
    """Why a request is cross-site (refused), or None.

    Browsers say where a request comes from: ``Sec-Fetch-Site`` (every current browser) and,
    when that is absent, ``Origin``. A request another site's page makes the browser send (a
    form post to ``/`` or to ``/v1/...``) is refused; clients that are not browsers (curl,
    scripts) send neither header and are not affected. This is the rule of Go's
    ``http.CrossOriginProtection``: ``same-origin`` and ``none`` (typed by the user) pass,
    anything else does not; without the header, an ``Origin`` must name this host.
    """
    site = headers.get("sec-fetch-site")
    if site is not None:
        site = site.strip()
        if site.lower() in ("same-origin", "none"):
            return None
        return f"the browser sent this request from another site (Sec-Fetch-Site: {site})"
    origin = headers.get("origin")
    if origin is None:
        return None
    origin = origin.strip()
    default: int | None = None
    try:
        parts = urlsplit(origin)
        default = {"http": 80, "https": 443}.get(parts.scheme.lower())
        origin_at = (parts.hostname or "", parts.port or default)
    except ValueError:
        origin_at = None
    if origin_at is not None and origin_at[0]:
        for key in ("host", "x-forwarded-host"):  # (behind a proxy, Host may be its own address)
            for host in headers.get(key, "").strip().split(","):
                try:
                    at = urlsplit("//" + host.strip())
                    # A Host without a port is the default port of the Origin's scheme (80 or 443).
                    if ((at.hostname or "").lower(), at.port or default) == (origin_at[0].lower(), origin_at[1]):
                        return None
                except ValueError:
                    continue
    return f"the browser sent this request from another site (Origin: {origin})"


class CrossSiteMiddleware:
    """Refuses (403) a POST, PUT, PATCH or DELETE that a browser says comes from another site."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] == "http" and scope.get("method") in _UNSAFE_METHODS:
            reason = cross_site_reason(Headers(scope=scope))
            if reason is not None:
                await send_error(scope, receive, send, CrossSiteError(reason))
                return
        await self.app(scope, receive, send)
