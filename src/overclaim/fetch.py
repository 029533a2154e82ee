"""Fetch a web page for ``POST /v1/check {"url": ...}``, guarded against SSRF.

Only ``http``/``https`` URLs are fetched, and only from public addresses. The host
is first mapped as an IDNA-aware client maps it (UTS #46: ``127。0。0。1`` and
``①②⑦.0.0.1`` are ``127.0.0.1``), the port must be 1-65535, and the request goes to
that normalised URL. An IPv6 address that carries an IPv4 address (mapped,
compatible, NAT64, 6to4, Teredo, ISATAP) is public only if that address is. Every
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
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import httpcore
import idna

from overclaim.errors import FetchError

# Address check: True allows a connection to (ip, port). Tests pass their own to
# let a first hop reach a local server; the service always uses the default.
AddressPolicy = Callable[[ipaddress.IPv4Address | ipaddress.IPv6Address, int], bool]

# Default limits of a fetch (the service's --allow-fetch and `overclaim check URL`): 2 MB holds
# any article page's HTML (a long news page with inline scripts is 0.3-1.5 MB) and is the service's
# request cap too; 10 s is what a reader waits for a page before giving up on it.
FETCH_MAX_BYTES = 2_000_000
FETCH_TIMEOUT_S = 10.0

_TEXT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
_REDIRECTS = {301, 302, 303, 307, 308}


# IPv6 prefixes that carry an IPv4 address in their last 32 bits: the IPv4-compatible
# (deprecated, RFC 4291 2.5.5.1), IPv4-translated (RFC 2765) and NAT64 well-known (RFC 6052) forms.
# (IPv4-mapped ::ffff:0:0/96 has its own ``ipv4_mapped``; 6to4 and Teredo their own properties.)
_LOW32_PREFIXES = tuple(
    ipaddress.IPv6Network(n) for n in ("::/96", "::ffff:0:0:0/96", "64:ff9b::/96")
)
# NAT64 local-use prefix (RFC 8215): the IPv4 address sits where the operator chose, so the whole
# block is refused (it is a site's own translator, never a public address).
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
# ISATAP interface identifiers (RFC 5214): ::0:5efe:a.b.c.d and ::200:5efe:a.b.c.d under any prefix.
_ISATAP_IIDS = (0x00005EFE, 0x02005EFE)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo, ISATAP).

    A connection to such an address can end at the IPv4 address it embeds (through the host's own
    stack, a translator or a tunnel), so that address is checked too.
    """
    found: list[ipaddress.IPv4Address] = []
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    elif any(ip in net for net in _LOW32_PREFIXES) and int(ip) > 1:  # (:: and ::1 are v6's own)
        found.append(low32)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client)
    if (int(ip) >> 32) & 0xFFFFFFFF in _ISATAP_IIDS:
        found.append(low32)
    return found


def _public_v4(ip: ipaddress.IPv4Address) -> bool:
    return ip.is_global and not ip.is_multicast


def refused_part(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address that makes ``ip`` non-public (``ip`` itself or an IPv4 address it embeds), or None."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None if _public_v4(ip) else ip
    if ip in _NAT64_LOCAL:
        return ip
    embedded = embedded_ipv4(ip)
    for v4 in embedded:
        if not _public_v4(v4):
            return v4
    if ip.ipv4_mapped is not None or any(ip in net for net in _LOW32_PREFIXES[1:]):
        # A mapped, translated or NAT64 address reaches only the IPv4 address it carries (the
        # prefix itself is not "global" to ipaddress), so that address alone decides.
        return None
    return None if ip.is_global and not ip.is_multicast else ip


def public_only(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> bool:
    """Allow only globally routable unicast addresses (no loopback, private, link-local ...).

    An IPv6 address that embeds an IPv4 address (see :func:`embedded_ipv4`) is allowed only when
    that IPv4 address is public too.
    """
    return refused_part(ip) is None


def _describe(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(ip, ipaddress.IPv6Address) and ip in _NAT64_LOCAL:
        return "a local-use NAT64 address"
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


def _refusal(host: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why a connection to ``host`` (at ``ip``) is refused, in words."""
    shown = refused_part(ip) or ip
    if host == str(ip):
        where = f"{host} is" if shown == ip else f"{host} carries {shown},"
    else:
        where = f"{host} resolves to {shown},"
    return f"refused: {where} {_describe(shown)}; only public addresses are fetched"


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
                raise FetchError(_refusal(host, ip), source=self.source)
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


def _ascii_host(host: str, source: str) -> str:
    """``host`` as the ASCII name a client connects to: IDNA (UTS #46) mapped, so checked as reached.

    UTS #46 is what browsers and IDNA-aware clients apply: it maps full-width and ideographic
    dots, circled and full-width digits, soft hyphens and case (NFKC and more), so
    ``127。0。0。1`` and ``①②⑦.0.0.1`` are ``127.0.0.1`` here too, before any address is checked.
    """
    if host.isascii():
        name = host.lower()
    else:
        try:
            name = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError) as exc:
            raise FetchError(f"the URL's host {host!r} is not a valid host name", source=source) from exc
    if not name or any(c.isspace() or not c.isprintable() for c in name):
        raise FetchError(f"the URL's host {host!r} is not a valid host name", source=source)
    return name


def _check_url(url: str, source: str, policy: AddressPolicy) -> str:
    """The URL to request: http(s) only, its host IDNA-normalised, its port valid, non-ASCII quoted.

    Raises:
        FetchError: the URL cannot be fetched as it is (scheme, host, port, a literal refused address).
    """
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when out of 0-65535 or not a number
    except ValueError as exc:
        if "port" in str(exc).lower():
            raise FetchError("the URL's port must be a number from 1 to 65535", source=source) from exc
        raise FetchError(f"the URL cannot be read ({exc})", source=source) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"only http and https URLs are fetched, not {parts.scheme or 'no scheme'!r}", source=source)
    if not parts.hostname:
        raise FetchError("the URL has no host", source=source)
    if port == 0:
        raise FetchError("the URL's port must be a number from 1 to 65535", source=source)
    literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    if ":" in parts.hostname:  # an IPv6 literal (urlsplit drops the [])
        try:
            literal = ipaddress.IPv6Address(parts.hostname.split("%", 1)[0])
        except ValueError as exc:
            raise FetchError(f"the URL's host {parts.hostname!r} is not an IPv6 address", source=source) from exc
        host = f"[{parts.hostname}]"
    else:
        host = _ascii_host(parts.hostname, source)
        try:
            literal = ipaddress.IPv4Address(host)
        except ValueError:
            pass  # a name, or a numeric form getaddrinfo reads (0x7f.1): checked once resolved
    if literal is not None and not policy(literal, port or (443 if scheme == "https" else 80)):
        # Refused before any connection (the connection check refuses it again, whatever the policy).
        raise FetchError(_refusal(str(literal), literal), source=source)
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (_quote(userinfo) + "@" if userinfo else "") + host + (f":{port}" if port is not None else "")
    # The fragment stays with the client; the rest is ASCII, as httpcore needs it.
    return urlunsplit((scheme, netloc, _quote(parts.path) or "/", _quote(parts.query), ""))


def _quote(text: str) -> str:
    """Percent-encode what an HTTP request line cannot carry (non-ASCII, spaces, controls), keep the rest."""
    return quote(text, safe="".join(chr(c) for c in range(0x21, 0x7F)))


def fetch_url(
    url: str,
    *,
    max_bytes: int = FETCH_MAX_BYTES,
    timeout: float = FETCH_TIMEOUT_S,
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
    current = _check_url(url.strip(), url, policy)
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
                        current = _check_url(urljoin(current, headers["location"]), url, policy)
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
