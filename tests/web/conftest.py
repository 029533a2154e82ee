"""Fixtures for the service tests: an app over a temporary database, an in-process client."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from overclaim.web.app import ServiceSettings, create_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def settings(tmp_path) -> ServiceSettings:
    # Checks in this process's threads (check_processes=0), so a test's own checker is the one used.
    return ServiceSettings(db=str(tmp_path / "service.sqlite"), warm_up=False, check_processes=0)


@pytest.fixture
def seed(seed_text) -> dict[str, str]:
    headline, body = seed_text.split("\n", 1)
    return {"headline": headline, "body": body}


@pytest.fixture
def client_for(settings, checker) -> Callable[..., contextlib.AbstractAsyncContextManager[httpx.AsyncClient]]:
    """``async with client_for(api_key="k") as c``: a client over an app with these setting changes."""

    @contextlib.asynccontextmanager
    async def make(*, app_checker=None, fetch_policy=None, **changes) -> AsyncIterator[httpx.AsyncClient]:
        kwargs = {"fetch_policy": fetch_policy} if fetch_policy is not None else {}
        app = create_app(settings.model_copy(update=changes), checker=app_checker or checker, **kwargs)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client

    return make


@pytest.fixture
async def client(client_for) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for() as c:
        yield c
