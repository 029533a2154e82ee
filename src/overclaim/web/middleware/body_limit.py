"""The request body's limits: a body over the size limit is a 413, one slower than the read limit a 408."""

from __future__ import annotations

import anyio
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from overclaim.errors import InputTooLargeError, MalformedInputError, RequestTimeoutError
from overclaim.web.errors import is_page_post, send_error
from overclaim.web.page import BODY_BYTES_KEY, PAGE_KEEP_FACTOR


class BodyLimitMiddleware:
    """Caps the body at ``max_bytes`` (413) and gives it ``read_timeout_s`` seconds to arrive (408).

    The page's form is read past the limit (up to :data:`~overclaim.web.page.PAGE_KEEP_FACTOR` times
    it) so the page can give its text back with the error; the page refuses it once read
    (:data:`~overclaim.web.page.BODY_BYTES_KEY` says how big it was).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, read_timeout_s: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.read_timeout_s = read_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.max_bytes * PAGE_KEEP_FACTOR if is_page_post(scope) else self.max_bytes
        for value in Headers(scope=scope).getlist("content-length"):
            try:
                declared = int(value)
            except ValueError:
                declared = -1
            if declared > cap or declared < 0:
                exc = self._too_large() if declared >= 0 else MalformedInputError("bad Content-Length header")
                await send_error(scope, receive, send, exc)
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

        await self.app(scope, limited_receive, send)

    def _too_large(self) -> InputTooLargeError:
        return InputTooLargeError(f"the request is larger than {self.max_bytes} bytes")
