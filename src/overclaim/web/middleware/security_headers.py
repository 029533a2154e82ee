"""Security headers on every answer: ``nosniff``, ``no-referrer``, and a content security policy on HTML."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The policy of the page and the docs: their own styles and script, nothing from elsewhere.
HTML_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# The policy of the standalone report (render_html puts the same one in a <meta> tag).
STANDALONE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"


class SecurityHeadersMiddleware:
    """Adds ``X-Content-Type-Options``, ``Referrer-Policy`` and, to HTML without one, :data:`HTML_CSP`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("x-content-type-options", "nosniff")
                headers.append("referrer-policy", "no-referrer")
                if headers.get("content-type", "").startswith("text/html") and "content-security-policy" not in headers:
                    headers.append("content-security-policy", HTML_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)
