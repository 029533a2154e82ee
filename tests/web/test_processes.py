"""Checks in separate processes (``serve --processes N``): same answers as in-process checks, errors whole."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures.process import BrokenProcessPool

import httpx
import psutil
import pytest

from overclaim import Checker
from overclaim.config import Config
from overclaim.report import Report
from overclaim.web.app import ServiceSettings, create_app

pytestmark = pytest.mark.anyio


# A non-default config: the check processes must use the app's checker settings, not their own.
CONFIG = Config(evidence_top_k=2)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("processes") / "service.sqlite")
    app = create_app(ServiceSettings(db=db, warm_up=False, check_processes=2), checker=Checker(CONFIG))
    yield app
    app.state.service.close()


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def same_report(got: dict, want: Report) -> None:
    expected = json.loads(want.to_json())
    for report in (got, expected):
        report.pop("elapsed_ms", None)
        report.pop("checked_at", None)  # (the second it ran)
    assert got == expected


async def test_check_in_a_process_equals_the_check_here(client, app, seed):
    r = await client.post("/v1/check", json=seed)
    assert r.status_code == 200
    here = Checker(CONFIG, factchecks=app.state.service.settings.db)  # the service's own fact-check store
    same_report(r.json(), here.check(seed["headline"], seed["body"]))
    assert len(r.json()["evidence"]) == 2
    stored = await client.get(r.headers["location"])
    assert stored.status_code == 200 and stored.json() == r.json()


async def test_plain_text_is_read_in_the_process(client, seed_text, checker):
    r = await client.post("/v1/check", content=seed_text.encode(), headers={"content-type": "text/plain"})
    assert r.status_code == 200
    headline, body = seed_text.split("\n", 1)
    assert r.json()["verdict"]["label"] == checker.check(headline.strip(), body).verdict.label


@pytest.mark.parametrize(
    "payload, status, code, field",
    [({"headline": "Council approves budget"}, 422, "empty_field", "body"),
     ({"headline": 5, "body": "text"}, 422, "wrong_type", "headline")],
)
async def test_input_errors_raised_in_a_process_arrive_whole(client, payload, status, code, field):
    r = await client.post("/v1/check", json=payload)
    assert r.status_code == status
    error = r.json()["error"]
    assert error["code"] == code and f"field '{field}'" in error["message"]


async def test_batch_spreads_posts_and_keeps_their_order(client, seed):
    posts = [seed, {"headline": "Council approves budget"}, {**seed, "id": "third"}, "not an object"]
    r = await client.post("/v1/batch", json={"posts": posts})
    assert r.status_code == 200
    out = r.json()
    assert [x["index"] for x in out["results"]] == [0, 1, 2, 3] and out["errors"] == 2
    assert out["results"][1]["error"]["code"] == "empty_field"
    assert out["results"][3]["error"]["code"] == "malformed"
    assert out["results"][2]["report"]["post"]["id"] == "third"
    stored = await client.get(f"/v1/reports/{out['results'][2]['id']}")
    assert stored.json() == out["results"][2]["report"]


async def test_page_checks_in_a_process(client, seed):
    r = await client.post("/", data=seed)
    assert r.status_code == 200
    assert "overstated" in r.text.lower()


async def test_a_dead_check_process_costs_no_request(client, app, seed):
    assert (await client.post("/v1/check", json=seed)).status_code == 200
    pool = app.state.service.pool
    workers = list(pool._processes.values())  # noqa: SLF001 - the test needs the pool's processes
    psutil.Process(workers[0].pid).kill()
    workers[0].join(10)
    # The broken pool fails every job it holds; each is sent once more to new processes.
    answers = await asyncio.gather(*(client.post("/v1/check", json=seed) for _ in range(3)))
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert app.state.service.pool is not pool


async def test_concurrent_posts_checked_together_each_get_their_own_report(client, app):
    from tests.conftest import load_jsonl

    posts = [{"headline": p["headline"], "body": p["body"], "id": p["id"]} for p in load_jsonl("verdict_posts.jsonl")]
    answers = await asyncio.gather(*(client.post("/v1/check", json=p) for p in posts))
    assert [r.status_code for r in answers] == [200] * len(posts)
    here = Checker(CONFIG, factchecks=app.state.service.settings.db)
    for post, r in zip(posts, answers, strict=True):
        same_report(r.json(), here.check(post["headline"], post["body"], id=post["id"]))


async def _gone(process) -> bool:
    for _ in range(100):
        if not process.is_alive():
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_group_past_its_time_limit_has_its_processes_replaced(tmp_path, seed):
    # A batch may take 1 s, /v1/check 30 s: the single posts show the service still answers.
    settings = ServiceSettings(db=str(tmp_path / "service.sqlite"), warm_up=False, check_processes=1,
                               check_timeout_s=30.0, batch_timeout_s=1.0, max_request_bytes=8_000_000)
    app = create_app(settings, checker=Checker(CONFIG))
    service = app.state.service
    # 16 posts of 199,000 characters (the most a body may have): one took 0.36 s to check on the
    # 2-core CI machine, so a group of them runs for seconds, far past the batch's 1 s.
    body = " ".join([seed["body"]] * 200)[:199_000]
    long_posts = [{"headline": seed["headline"], "body": body, "id": str(i)} for i in range(16)]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        await service.start_processes()
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
            for _ in range(2):  # the second time on processes started after the first were killed
                pool = service.pool
                (process,) = pool._processes.values()  # noqa: SLF001 - the test needs the pool's process
                r = await client.post("/v1/batch", json={"posts": long_posts})
                assert r.status_code == 504
                assert r.json()["error"]["code"] == "timeout"
                # The process still checking them is stopped and replaced, instead of staying busy.
                assert await _gone(process)
                assert service._pool is not pool  # noqa: SLF001
                r = await client.post("/v1/check", json=seed)
                assert r.status_code == 200
                assert r.json()["verdict"]["label"] == "overstated"
    finally:
        service.close()


async def test_a_pool_that_does_not_start_in_time_is_replaced(tmp_path, seed, monkeypatch):
    import overclaim.web.dispatch as web_app

    settings = ServiceSettings(db=str(tmp_path / "service.sqlite"), warm_up=False, check_processes=1)
    app = create_app(settings, checker=Checker(CONFIG))
    service = app.state.service
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
            monkeypatch.setattr(web_app, "START_LIMIT_S", 0.01)  # no process loads its models this fast
            pool = service.pool
            r = await client.post("/v1/check", json=seed)
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "stopping" and "did not start" in r.json()["error"]["message"]
            assert service._pool is not pool  # noqa: SLF001
            monkeypatch.setattr(web_app, "START_LIMIT_S", 120.0)
            r = await client.post("/v1/check", json=seed)
            assert r.status_code == 200
    finally:
        service.close()


async def test_start_waits_for_every_process(tmp_path):
    settings = ServiceSettings(db=str(tmp_path / "service.sqlite"), warm_up=False, check_processes=2)
    service = create_app(settings, checker=Checker(CONFIG)).state.service
    try:
        await service.start_processes()
        # Both processes have their models: a job that needs them runs at once in each.
        from overclaim.web.dispatch import _ready

        pids = {service.pool.submit(_ready) for _ in range(4)}
        assert len({job.result(timeout=2) for job in pids}) == 2
    finally:
        service.close()


def test_a_stuck_pool_fails_its_queued_jobs_as_broken_not_cancelled():
    # Cancelled jobs would read as a shutdown to their dispatchers; broken ones are sent again.
    import concurrent.futures
    import multiprocessing
    import time

    from overclaim.web.dispatch import _discard

    pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    jobs = [pool.submit(time.sleep, 60) for _ in range(4)]
    time.sleep(0.5)
    _discard(pool)
    done, _ = concurrent.futures.wait(jobs, timeout=30)
    assert len(done) == len(jobs)
    assert all(not job.cancelled() and isinstance(job.exception(), BrokenProcessPool) for job in jobs)


async def test_close_does_not_wait_for_a_check_that_does_not_end(tmp_path):
    import time

    from overclaim.web.dispatch import CLOSE_GRACE_S

    service = create_app(ServiceSettings(db=str(tmp_path / "s.sqlite"), warm_up=False, check_processes=1),
                         checker=Checker(CONFIG)).state.service
    await service.start_processes()
    (process,) = service.pool._processes.values()  # noqa: SLF001
    job = service.pool.submit(time.sleep, 600)
    while not job.running():  # a job still queued would only be cancelled
        time.sleep(0.01)
    started = time.monotonic()
    service.close()
    waited = time.monotonic() - started
    assert not job.cancelled()
    assert CLOSE_GRACE_S - 0.5 <= waited < CLOSE_GRACE_S + 5  # the grace, then the kill
    assert await _gone(process)  # (polled: the pool's own thread may be reaping it at this moment)
