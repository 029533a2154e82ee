"""uvicorn's HTTP protocol with a time limit on request headers (slowloris).

uvicorn times out an idle keep-alive connection, but not a client that sends its
request line and headers slowly: every byte that arrives cancels the idle timer,
and a new connection has none, so a client sending a byte every few seconds held
its connection (and a file descriptor) for as long as it liked. These protocol
classes close a connection whose request headers are not all in within
:data:`HEADER_TIMEOUT_S` seconds of its start (or of the previous response's end,
on a kept-alive connection), after a ``408`` answer. The request body has its own
limit, in the app (``ServiceSettings.read_timeout_s``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

# Seconds a client has to send its request line and headers. A header block is at most
# 16 KB (h11's and uvicorn's default limit; a browser's is well under 2 KB), which takes
# 10 s only below 13 kbit/s; nginx allows 60 s, Apache's mod_reqtimeout 20-40 s. 10 s
# frees a slow-header connection six times sooner than nginx.
HEADER_TIMEOUT_S = 10.0

_TIMEOUT_ANSWER = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class _HeaderDeadline:
    """Mixin for uvicorn's protocol classes: close a connection whose headers come too slowly."""

    header_timeout_s: float = HEADER_TIMEOUT_S
    _header_timer: asyncio.TimerHandle | None = None
    _cycle_at_arm: Any = None

    # (the attributes below are uvicorn's; declared for the type checker)
    cycle: Any
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self._cycle_at_arm = self.cycle
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_timeout)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        # A new request's headers were parsed since the timer was set (uvicorn makes a new
        # cycle for each), or a request is being answered: not a slow client's headers.
        if self.cycle is not self._cycle_at_arm or (self.cycle is not None and not self.cycle.response_complete):
            return
        self.transport.write(_TIMEOUT_ANSWER)
        self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # noqa: D102
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:  # noqa: D102
        self._disarm_header_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def on_response_complete(self) -> None:  # noqa: D102
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing():
            self._arm_header_timer()  # the next request on this kept-alive connection


class H11HeaderTimeoutProtocol(_HeaderDeadline, H11Protocol):
    """uvicorn's h11 protocol with the header time limit."""


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools not installed: uvicorn uses h11
    HeaderTimeoutProtocol: type[asyncio.Protocol] = H11HeaderTimeoutProtocol
else:

    class HttpToolsHeaderTimeoutProtocol(_HeaderDeadline, HttpToolsProtocol):
        """uvicorn's httptools protocol with the header time limit."""

    HeaderTimeoutProtocol = HttpToolsHeaderTimeoutProtocol


__all__ = ["HEADER_TIMEOUT_S", "H11HeaderTimeoutProtocol", "HeaderTimeoutProtocol"]
