"""The queue in front of the check processes: time limits, shutdown, and one post's error in a group.

The pool is replaced by a stand-in where a real process is not what is tested (no spawn, fast).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from overclaim.errors import InternalCheckError, StoreError
from overclaim.web.app import PostJob, ServiceSettings, create_app

pytestmark = pytest.mark.anyio


def _client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                             base_url="http://testserver")


@pytest.fixture
def slow_app(settings, checker, monkeypatch):
    """An app with one 'check process' whose groups take 0.5 s and answer every post."""
    app = create_app(ServiceSettings(db=None, warm_up=False, check_processes=1, check_timeout_s=0.2),
                     checker=checker)
    service = app.state.service
    seen: list[list[str]] = []

    async def fake_check_in_pool(items, retry=True):
        seen.append([i.job.value["headline"] for i in items])
        await asyncio.sleep(0.5)
        for item in items:
            if not item.future.done():
                item.future.set_result((None, '{"fake": true}'))

    monkeypatch.setattr(service, "_check_in_pool", fake_check_in_pool)
    app.state.seen = seen
    yield app
    service.close()


async def test_a_post_that_times_out_in_the_queue_is_never_sent(slow_app):
    async with _client(slow_app) as c:
        first = asyncio.create_task(c.post("/v1/check", json={"headline": "first", "body": "b"}))
        await asyncio.sleep(0.05)  # the first group is being checked
        second = await c.post("/v1/check", json={"headline": "second", "body": "b"})
        assert second.status_code == 504 and second.json()["error"]["code"] == "timeout"
        assert (await first).status_code == 504
        await asyncio.sleep(0.6)  # the dispatcher is free again and finds only a cancelled post
    assert slow_app.state.seen == [["first"]]


async def test_posts_waiting_at_shutdown_get_a_503_not_a_hang(settings, checker, monkeypatch):
    app = create_app(ServiceSettings(db=None, warm_up=False, check_processes=1, check_timeout_s=30),
                     checker=checker)
    service = app.state.service

    async def never(items, retry=True):
        await asyncio.sleep(60)

    monkeypatch.setattr(service, "_check_in_pool", never)
    async with _client(app) as c:
        loop = asyncio.get_running_loop()
        requests = [asyncio.create_task(c.post("/v1/check", json={"headline": f"h{i}", "body": "b"}))
                    for i in range(3)]
        await asyncio.sleep(0.1)
        started = loop.time()
        await asyncio.to_thread(service.close)  # as the lifespan does, from a worker thread
        answers = await asyncio.gather(*requests)
    assert [r.status_code for r in answers] == [503, 503, 503]
    assert {r.json()["error"]["code"] for r in answers} == {"stopping"}
    assert loop.time() - started < 5


async def test_waiting_posts_are_split_between_idle_processes_only(settings, checker, monkeypatch):
    app = create_app(ServiceSettings(db=None, warm_up=False, check_processes=2, check_timeout_s=30),
                     checker=checker)
    service = app.state.service
    sizes: list[int] = []

    async def fake_check_in_pool(items, retry=True):
        sizes.append(len(items))
        await asyncio.sleep(0.3)
        for item in items:
            item.future.set_result((None, '{"fake": true}'))

    monkeypatch.setattr(service, "_check_in_pool", fake_check_in_pool)
    async with _client(app) as c:
        def send(i):
            return asyncio.create_task(c.post("/v1/check", json={"headline": f"h{i}", "body": "b"}))

        assert (await send(99)).status_code == 200  # the dispatchers have started and wait
        first = [send(i) for i in range(2)]
        await asyncio.sleep(0.1)  # each process checks one post
        rest = [send(i) for i in range(2, 10)]
        answers = await asyncio.gather(*first, *rest)
    service.close()
    assert [r.status_code for r in answers] == [200] * 10
    # Two posts, two idle processes: one each. Eight waiting while both are busy: the first
    # process to free up takes them all (the other is still busy).
    assert sizes == [1, 1, 1, 8]


class CrashingJob(PostJob):
    def post(self):
        raise RuntimeError("a bug in a reader")


async def test_one_posts_reader_crash_costs_only_that_post(settings, checker, seed):
    service = create_app(settings, checker=checker).state.service
    good = PostJob("record", seed)
    outcomes = service.check_and_store_many([good, CrashingJob("record", seed), good])
    assert isinstance(outcomes[1], InternalCheckError) and "reading" in str(outcomes[1])
    assert "a bug in a reader" not in str(outcomes[1])
    ids = [o[0] for o in (outcomes[0], outcomes[2])]
    assert all(ids) and ids[0] != ids[1]
    assert service.store.get(ids[0]).verdict.label == "overstated"


async def test_a_store_error_reaches_each_post_whole(settings, checker, seed, monkeypatch):
    service = create_app(settings, checker=checker).state.service

    def broken(*args, **kwargs):
        raise StoreError("cannot store reports: OperationalError")

    monkeypatch.setattr(type(service.store), "add_many", broken)
    monkeypatch.setattr(type(service.store), "add", broken)
    outcomes = service.check_and_store_many([PostJob("record", seed), PostJob("record", seed)])
    assert all(isinstance(o, StoreError) for o in outcomes)


async def test_an_error_in_the_check_process_arrives_whole(tmp_path, checker, seed):
    """A check process that cannot open its fact-check store answers every post with that error (503)."""
    db = str(tmp_path / "missing-dir" / "service.sqlite")
    app = create_app(ServiceSettings(db=db, warm_up=False, check_processes=1), checker=checker)
    try:
        async with _client(app) as c:
            r = await c.post("/v1/check", json=seed)
    finally:
        app.state.service.close()
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "store_error"
