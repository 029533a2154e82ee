"""The check processes and the queue in front of them (micro-batching), mixed into the service.

With ``ServiceSettings.check_processes`` above 0, the HTTP process reads requests and a pool of
spawned processes checks the posts: each post joins one queue, and one dispatcher task per
process takes what is waiting when its process is free (at most ``Config.batch_posts``, shared
with the processes that are idle too) and has it checked together. A process that dies has the
pool replaced and its posts sent once more, alone; a group that runs past its posts' time limits
has the pool replaced too (:meth:`CheckProcesses._check_in_pool`).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from overclaim.config import Config
from overclaim.errors import (
    CheckTimeoutError,
    InternalCheckError,
    OverclaimError,
    ServiceStoppingError,
)
from overclaim.fetch import AddressPolicy, public_only
from overclaim.pipeline import Checker, gc_paused
from overclaim.web.jobs import PostJob
from overclaim.web.settings import ServiceSettings

if TYPE_CHECKING:
    from overclaim.web.service import Service

log = logging.getLogger("overclaim.web")

# The service of a check process (see ServiceSettings.check_processes), built by its
# initializer, or the error that stopped it (re-raised by every job, so it reaches the
# HTTP process whole instead of as a broken pool).
_PROCESS_SERVICE: Service | None = None
_PROCESS_ERROR: OverclaimError | None = None


def _start_check_process(
    make_service: Callable[[ServiceSettings, Checker, AddressPolicy], Service],
    settings: ServiceSettings,
    config: Config,
    skip: frozenset[str],
) -> None:
    global _PROCESS_SERVICE, _PROCESS_ERROR
    try:
        checker = Checker(config, factchecks=settings.factchecks or settings.db, skip=skip)
        service = make_service(settings.model_copy(update={"check_processes": 0}), checker, public_only)
        checker.warm_up()
    except OverclaimError as exc:
        _PROCESS_ERROR = exc
        return
    _PROCESS_SERVICE = service
    # The models live as long as the process: keep them out of the garbage collector's walks.
    gc.freeze()


def _process_service() -> Service:
    if _PROCESS_SERVICE is None:
        raise _PROCESS_ERROR or InternalCheckError("the check process did not start")
    return _PROCESS_SERVICE


def _ready() -> int:
    """Return the process id once its models are loaded.

    The process is held 50 ms, so the pool's other such jobs go to other processes (see
    :meth:`CheckProcesses._start`).
    """
    _process_service()
    time.sleep(0.05)
    return os.getpid()


def _check_in_process(jobs: list[PostJob]) -> list[tuple[str | None, str] | OverclaimError]:
    with gc_paused():  # the reports are freed before the collector runs again (see gc_paused)
        return _process_service().check_and_store_many(jobs)


@dataclass
class _Queued:
    """A post waiting for a check process, where its answer goes, and how long its request waits."""

    job: PostJob
    future: asyncio.Future[tuple[str | None, str]]
    timeout: float


def _settle(item: _Queued, outcome: tuple[str | None, str] | BaseException) -> None:
    if item.future.done():  # its request gave up (time limit, client gone)
        return
    if isinstance(outcome, BaseException):
        item.future.set_exception(outcome)
    else:
        item.future.set_result(outcome)


def _drop_outcome(future: asyncio.Future[Any]) -> None:
    """Read an abandoned group's outcome, so asyncio does not log it as never retrieved."""
    if not future.cancelled():
        future.exception()


def _discard(pool: ProcessPoolExecutor) -> None:
    """Shut down a broken or stuck pool and kill its processes.

    A broken pool terminates its other processes itself, but one caught starting (still
    loading its models) can outlive that, and the pool's manager thread would then wait for
    it for ever, holding up the server's exit. Jobs still queued are not cancelled: the
    killed processes make the pool fail them with :class:`BrokenProcessPool`, which their
    dispatchers answer by sending the posts again (a cancelled job would read as a shutdown).
    """
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=False)
    for process in processes:
        process.kill()


# Seconds Service.close() gives running checks to end before it kills their processes.
CLOSE_GRACE_S = 5.0
# Seconds a new pool's processes get to load their models before its posts get a 503 and the
# pool is replaced. Start-up took 3-5 s per process on the 2-core CI machine (two at once), so
# this only ends a start-up that hangs (an unreadable model store on a network disk, say).
START_LIMIT_S = 120.0


class CheckProcesses:
    """The check processes of a service (a mixin of :class:`~overclaim.web.service.Service`).

    The service provides ``settings`` and ``checker``, and ``check_and_store_many`` in its processes.
    """

    settings: ServiceSettings
    checker: Checker

    def _init_processes(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        # Posts waiting for a check process, and one dispatcher task per process (see check_queued).
        self._queue: asyncio.Queue[_Queued] | None = None
        self._dispatchers: list[asyncio.Task[None]] = []
        self._idle = 0  # dispatchers waiting for a post
        # The pool whose processes are known to be up (models loaded), so a group's time there is
        # checking time, not start-up (see _check_in_pool).
        self._started: ProcessPoolExecutor | None = None

    @property
    def pool(self) -> ProcessPoolExecutor | None:
        """The check processes (started on first use), or None when checks run in threads here."""
        if self._pool is None and self.settings.check_processes > 0:
            # spawn: check processes never start as a copy of this threaded server, and each pool's
            # processes stand alone (a shared fork server did not survive a killed check process).
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.settings.check_processes, mp_context=ctx,
                initializer=_start_check_process,
                # (the service's own class builds the service of each process)
                initargs=(cast("Callable[[ServiceSettings, Checker, AddressPolicy], Service]", type(self)),
                          self.settings, self.checker.config, self.checker.skip),
            )
        return self._pool

    async def start_processes(self) -> None:
        """Start every check process and load its models (a missing model fails here)."""
        if self.pool is not None:
            await self._start(self.pool)

    async def _start(self, pool: ProcessPoolExecutor) -> None:
        """Wait until each of ``pool``'s processes has loaded its models (at once when known to have).

        A process that does not come up within :data:`START_LIMIT_S` seconds has the pool replaced
        and raises :class:`ServiceStoppingError` (the posts waiting on it get a 503).
        """
        if pool is self._started:
            return
        loop = asyncio.get_running_loop()
        wanted = self.settings.check_processes

        async def every_process_up() -> None:
            # One round of jobs can all be taken by the first process up, so ask until each
            # process has answered (every round holds each process 50 ms at most).
            seen: set[int] = set()
            while len(seen) < wanted:
                seen.update(await asyncio.gather(*(loop.run_in_executor(pool, _ready) for _ in range(wanted))))

        try:
            await asyncio.wait_for(every_process_up(), START_LIMIT_S)
        except asyncio.TimeoutError:
            log.error("the check processes did not start within %g s; replacing them", START_LIMIT_S)
            if self._pool is pool:
                self._pool = None
                _discard(pool)
            raise ServiceStoppingError(
                f"the check processes did not start within {START_LIMIT_S:g} s; send the post again"
            ) from None
        self._started = pool

    def close(self) -> None:
        """Stop the check processes, if any (posts still waiting get a 503).

        Checks running in them get :data:`CLOSE_GRACE_S` seconds to end; then their processes
        are killed, so a check that does not end cannot hold up the server's exit.
        """
        self._stop_dispatchers()
        pool, self._pool = self._pool, None
        if pool is not None:
            processes = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            deadline = time.monotonic() + CLOSE_GRACE_S
            for process in processes:
                process.join(max(0.0, deadline - time.monotonic()))
            for process in processes:
                if process.is_alive():
                    process.kill()
                    process.join(5)

    async def check_queued(self, job: PostJob, timeout: float) -> tuple[str | None, str]:
        """Check one post in a check process: its report id and JSON.

        The post joins a queue. One dispatcher per process takes what is waiting when its process
        is free (at most ``Config.batch_posts``; split evenly with the processes that are idle too)
        and has it checked together (``check_and_store_many``): a post waits for no other post,
        and under load the processes spend less CPU per post, so more posts are answered.
        """
        loop = asyncio.get_running_loop()
        queue = self._queue
        if queue is None or not self._dispatchers or self._dispatchers[0].get_loop() is not loop:
            self._stop_dispatchers()  # those of an earlier event loop (tests run one per test)
            queue = self._queue = asyncio.Queue()
            self._dispatchers = [loop.create_task(self._dispatch(queue)) for _ in range(self.settings.check_processes)]
        item = _Queued(job, loop.create_future(), timeout)
        queue.put_nowait(item)
        try:
            return await asyncio.wait_for(item.future, timeout)
        except asyncio.TimeoutError:
            raise CheckTimeoutError(f"the check took longer than {timeout:g} s") from None

    def _stop_dispatchers(self) -> None:
        """Cancel the dispatcher tasks (from any thread); their waiting posts get a 503."""
        for task in self._dispatchers:
            try:
                task.get_loop().call_soon_threadsafe(task.cancel)
            except RuntimeError:  # its event loop is closed already
                pass
        self._dispatchers, self._queue = [], None

    async def _dispatch(self, queue: asyncio.Queue[_Queued]) -> None:
        """Feed one check process: what is waiting, up to ``batch_posts`` posts, shared with idle ones."""
        size = max(1, self.checker.config.batch_posts)
        items: list[_Queued] = []
        try:
            while True:
                self._idle += 1
                try:
                    items = [await queue.get()]
                finally:
                    self._idle -= 1
                # Split what is waiting with the processes that are idle now, rather than check it
                # all while they wait; when the others are busy (under load), take it all.
                share = min(size, -(-(1 + queue.qsize()) // (1 + self._idle)))
                while len(items) < share and not queue.empty():
                    items.append(queue.get_nowait())
                items = [i for i in items if not i.future.done()]
                if items:
                    try:
                        await self._check_in_pool(items)
                    except Exception as exc:  # noqa: BLE001 - the dispatcher must outlive any one batch
                        if not isinstance(exc, OverclaimError):
                            log.exception("check process dispatch failed")
                            exc = InternalCheckError(f"the check failed: {type(exc).__name__}")
                        for item in items:
                            _settle(item, exc)
                items = []
        except asyncio.CancelledError:
            # Shutting down: nothing waiting (in this batch or the queue) is left hanging.
            while not queue.empty():
                items.append(queue.get_nowait())
            for item in items:
                _settle(item, ServiceStoppingError("the service stopped before checking this post; send it again"))
            raise

    async def _check_in_pool(self, items: list[_Queued], retry: bool = True) -> None:
        pool = self.pool
        assert pool is not None
        # A group may run as long as its most patient post may wait, counted once the processes
        # are up (a new pool's start-up is not the posts' fault). Past that, every request in it
        # has had its 504, and a process still busy (a post that does not end) would be lost to the
        # service for good: the pool's processes are replaced instead (the other process's posts
        # go to the new ones, as when a process dies).
        limit = max(i.timeout for i in items)
        running: asyncio.Future[Any] | None = None
        try:
            await self._start(pool)
            items = [i for i in items if not i.future.done()]  # requests that gave up while it started
            if not items:
                return
            # Submitting raises BrokenProcessPool when the pool is broken, and RuntimeError when
            # another dispatcher shut it down while this one waited (both handled below).
            running = asyncio.get_running_loop().run_in_executor(pool, _check_in_process, [i.job for i in items])
            outcomes = await asyncio.wait_for(asyncio.shield(running), limit)
        except asyncio.CancelledError:
            if running is not None:
                running.cancel()
            raise
        except asyncio.TimeoutError:
            assert running is not None
            running.add_done_callback(_drop_outcome)
            log.warning("a group of %d posts ran past %g s; replacing the check processes", len(items), limit)
            if self._pool is pool:
                self._pool = None
                _discard(pool)
            for item in items:
                _settle(item, CheckTimeoutError(f"the check took longer than {limit:g} s"))
            return
        except BrokenProcessPool:
            # A check process died (out of memory, a crash in a library), and the pool failed
            # every job it held: start new processes and send each post once more, alone, so
            # only a post that kills its process twice costs its request.
            if self._pool is pool:
                self._pool = None
                _discard(pool)
            if not retry:
                for item in items:
                    _settle(item, InternalCheckError("the check process died while checking this post"))
                return
            waiting = [item for item in items if not item.future.done()]  # the others' requests have given up
            await asyncio.gather(*(self._check_in_pool([item], retry=False) for item in waiting))
            return
        except RuntimeError:  # (after BrokenProcessPool, one of its kind)
            if running is not None or self._pool is pool:
                raise
            # The pool was replaced (another group ran past its limit) before this group reached
            # it: nothing of this group ran, so it goes to the new pool as it is.
            await self._check_in_pool(items, retry)
            return
        for item, outcome in zip(items, outcomes, strict=True):
            _settle(item, outcome)
