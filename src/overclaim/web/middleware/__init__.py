"""The ASGI middleware of the service, one a module, outermost first as :func:`~overclaim.web.app.create_app` adds them.

- :class:`SecurityHeadersMiddleware`: ``nosniff``, ``no-referrer``, and a content security policy on HTML.
- :class:`CrossSiteMiddleware`: a post a browser sends from another site is a 403 (CSRF).
- :class:`BodyLimitMiddleware`: a body over the size limit is a 413, one slower than the read limit a 408.
"""

from __future__ import annotations

from overclaim.web.middleware.body_limit import BodyLimitMiddleware
from overclaim.web.middleware.cross_site import CrossSiteMiddleware, cross_site_reason
from overclaim.web.middleware.security_headers import HTML_CSP, STANDALONE_CSP, SecurityHeadersMiddleware

__all__ = [
    "HTML_CSP", "STANDALONE_CSP", "BodyLimitMiddleware", "CrossSiteMiddleware", "SecurityHeadersMiddleware",
    "cross_site_reason",
]
