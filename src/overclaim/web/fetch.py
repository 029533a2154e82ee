"""Fetch a web page for ``POST /v1/check {"url": ...}``, guarded against SSRF.

Only ``http``/``https`` URLs are fetched, and only from public addresses: every
connection (the first request and each redirect hop) resolves the host name,
refuses it if *any* address is loopback, private, link-local, shared, reserved,
multicast or unspecified (``ipaddress``'s ``is_global``), and then connects to
the address it checked, so a name cannot resolve to a public address for the
check and a private one for the connection (DNS rebinding). Environment proxies
are ignored. Size and time are capped; only text and HTML are read.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore

from overclaim.errors import FetchError

# Address check: True allows a connection to (ip, port). Tests pass their own to
# let a first hop reach a local server; the service always uses the default.
AddressPolicy = Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address, int], bool]

_TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
_REDIRECTS = {301, 302, 303, 307, 308}


def public_only(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> bool:
    """Allow only globally routable unicast addresses (no loopback, private, link-local ...)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _describe(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    for attr, word in (
        ("is_loopback", "a loopback"),
        ("is_link_local", "a link-local"),
        ("is_unspecified", "an unspecified"),
        ("is_multicast", "a multicast"),
        ("is_private", "a private"),
        ("is_reserved", "a reserved"),
    ):
        if getattr(ip, attr):
            return f"{word} address"
    return "a non-public address"


class _GuardedBackend(httpcore.SyncBackend):
    """Resolve, check every address, then connect to a checked address."""

    def __init__(self, policy: AddressPolicy, source: str) -> None:
        self.policy = policy
        self.source = source

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(f"cannot resolve host {host!r}", source=self.source) from exc
        addresses = []
        for info in infos:
            ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if not self.policy(ip, port):
                shown = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
                where = f"{host} is" if host == str(ip) else f"{host} resolves to {shown},"
                raise FetchError(
                    f"refused: {where} {_describe(shown)}; only public addresses are fetched", source=self.source
                )
            addresses.append(ip)
        if not addresses:
            raise FetchError(f"cannot resolve host {host!r}", source=self.source)
        last: Exception | None = None
        for ip in addresses:
            try:
                return super().connect_tcp(str(ip), port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # try the next checked address
                last = exc
        raise FetchError(f"cannot connect to {host}: {last}", source=self.source)


@dataclass(frozen=True)
class FetchedPage:
    """A fetched page: its final URL (after redirects), text and content type."""

    url: str
    text: str
    content_type: str


def _check_url(url: str, source: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs are fetched, not {parts.scheme or 'no scheme'!r}", source=source)
    if not parts.hostname:
        raise FetchError("the URL has no host", source=source)
    return url


def fetch_url(
    url: str,
    *,
    max_bytes: int = 2_000_000,
    timeout: float = 10.0,
    max_redirects: int = 5,
    policy: AddressPolicy = public_only,
) -> FetchedPage:
    """Fetch ``url`` (following up to ``max_redirects`` redirects, each hop checked).

    Args:
        url: an http(s) URL.
        max_bytes: largest body read; a larger one is refused.
        timeout: seconds for the whole fetch, redirects included.
        max_redirects: most redirects followed.
        policy: which addresses may be reached (default: public ones only).

    Returns:
        The page's final URL, decoded text and content type.

    Raises:
        FetchError: the URL is refused or cannot be fetched in the limits.
    """
    deadline = time.monotonic() + timeout
    current = _check_url(url.strip(), url)
    with httpcore.ConnectionPool(network_backend=_GuardedBackend(policy, url), max_connections=1, retries=0) as pool:
        for _hop in range(max_redirects + 1):
            left = deadline - time.monotonic()
            if left <= 0:
                raise FetchError(f"took longer than {timeout:g} s", source=url)
            try:
                with pool.stream(
                    "GET",
                    current,
                    headers={"User-Agent": "overclaim (+https://overclaim.dev)", "Accept": "text/html,text/plain"},
                    extensions={"timeout": {"connect": left, "read": left, "write": left, "pool": left}},
                ) as response:
                    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}
                    if response.status in _REDIRECTS and "location" in headers:
                        current = _check_url(urljoin(current, headers["location"]), url)
                        continue
                    if response.status >= 400:
                        raise FetchError(f"the server answered HTTP {response.status}", source=url)
                    ctype = headers.get("content-type", "text/html").split(";")[0].strip().lower()
                    if ctype not in _TEXT_TYPES:
                        raise FetchError(f"not a web page (content type {ctype!r})", source=url)
                    if int(headers.get("content-length", "0") or 0) > max_bytes:
                        raise FetchError(f"the page is larger than {max_bytes} bytes", source=url)
                    body = bytearray()
                    for chunk in response.iter_stream():
                        body += chunk
                        if len(body) > max_bytes:
                            raise FetchError(f"the page is larger than {max_bytes} bytes", source=url)
                        if time.monotonic() > deadline:
                            raise FetchError(f"took longer than {timeout:g} s", source=url)
                    charset = _charset(headers.get("content-type", ""))
                    return FetchedPage(current, body.decode(charset, errors="replace"), ctype)
            except httpcore.TimeoutException as exc:
                raise FetchError(f"took longer than {timeout:g} s", source=url) from exc
            except (httpcore.ProtocolError, httpcore.NetworkError, httpcore.UnsupportedProtocol) as exc:
                raise FetchError(f"cannot fetch: {exc.__class__.__name__}", source=url) from exc
    raise FetchError(f"more than {max_redirects} redirects", source=url)


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            name = value.strip("\"' ").lower()
            try:
                "".encode(name)
            except LookupError:
                break
            return name
    return "utf-8"
