"""The service's URL fetch: the SSRF-guarded fetcher lives in :mod:`overclaim.fetch`.

``overclaim check URL`` and ``POST /v1/check {"url": ...}`` share it; this module
re-exports it under its former name.
"""

from __future__ import annotations

from overclaim.fetch import (
    AddressPolicy,
    FetchedPage,
    embedded_ipv4,
    fetch_url,
    public_only,
    refused_part,
)

__all__ = ["AddressPolicy", "FetchedPage", "embedded_ipv4", "fetch_url", "public_only", "refused_part"]
