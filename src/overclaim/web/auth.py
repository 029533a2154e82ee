"""The API key: one FastAPI dependency for the ``/v1`` routes, and the read-only token of a report's link."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from overclaim.errors import AuthError


def key_matches(given: str, key: str) -> bool:
    """Whether ``given`` is the API key (compared in constant time)."""
    return hmac.compare_digest(given.encode(), key.encode())


def report_token(secret: str, report_id: str) -> str:
    """The read-only token in a stored report's link: HMAC-SHA256 of its id under ``secret`` (32 hex digits).

    The service signs with its API key, so every process of one service (``serve --workers``) gives
    and accepts the same links with nothing else to share, and a new key revokes the old links.
    """
    mac = hmac.new(secret.encode(), b"overclaim report link\x00" + report_id.encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


async def require_api_key(request: Request) -> None:
    """The API key check of every ``/v1`` route: ``X-API-Key`` or ``Authorization: Bearer``, or a report's token.

    Nothing is asked when the service has no key. ``GET /v1/reports/{report_id}?token=...`` opens that
    one report with its link's token (:func:`report_token`); a wrong token is refused.
    """
    api_key: str | None = request.app.state.service.settings.api_key
    if api_key is None:
        return
    token = request.query_params.get("token")
    report_id = request.path_params.get("report_id")  # (GET /v1/reports/{report_id} only)
    if token is not None and isinstance(report_id, str):
        # A report's link: its own token opens it, with no key; a wrong one is refused.
        if key_matches(token, report_token(api_key, report_id)):
            return
        raise AuthError("this report link is not valid (its token does not match the report); "
                        "ask for the link again or send the API key", field="token")
    given = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if given is None and auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    if not given:
        raise AuthError("this service needs an API key (X-API-Key header or Authorization: Bearer)")
    if not key_matches(given, api_key):
        raise AuthError("the API key is wrong")


__all__ = ["key_matches", "report_token", "require_api_key"]
