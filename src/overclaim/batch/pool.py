"""Where a batch's chunks are checked: in this process, a local process pool, or a Dask cluster.

Each way yields the chunks' results in input order with at most a few chunks per worker
in flight, so the reader never runs ahead of the checkers and memory stays flat. A worker
that dies costs only the record that killed it (a ``worker_crash`` record); the others
are checked again.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from overclaim.batch.job import Job
from overclaim.batch.records import RawRecord
from overclaim.batch.worker import Result, check_chunk, crash_results, init_worker, worker_checker
from overclaim.errors import InputError

# Chunks in flight per worker: keeps every worker busy while the next result is
# written, and bounds memory (records waiting = workers x this x chunk size).
INFLIGHT_PER_WORKER = 4

# The function a worker runs on a chunk (a module attribute so tests can swap in one that crashes).
_chunk_function: Callable[[Job, Sequence[RawRecord]], list[Result]] = check_chunk


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def chunks_of(records: Iterable[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    """``records`` in lists of ``size`` (the last one shorter)."""
    it = iter(records)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


class _Pending(Protocol):
    def result(self) -> list[Result]: ...


def _bounded(submit: Callable[[list[RawRecord]], _Pending], chunks: Iterable[list[RawRecord]], inflight: int,
             on_failure: Callable[[list[RawRecord], Exception], list[Result]]) -> Iterator[list[Result]]:
    """Results of ``submit(chunk)`` in input order, with at most ``inflight`` chunks pending.

    Works with Dask futures; the reader stops while the window is full, so memory
    does not grow with the input. A chunk whose future fails gets ``on_failure``'s results.
    """
    pending: deque[tuple[list[RawRecord], _Pending]] = deque()

    def take() -> list[Result]:
        chunk, future = pending.popleft()
        try:
            return future.result()
        except Exception as exc:  # noqa: BLE001 - a lost worker must cost records, not the batch
            return on_failure(chunk, exc)

    for chunk in chunks:
        pending.append((chunk, submit(chunk)))
        if len(pending) >= inflight:
            yield take()
    while pending:
        yield take()


def _ignore_sigint() -> None:
    """In a worker process: leave Ctrl-C to the batch's own process, which stops the run and the pool.

    Ctrl-C in a terminal reaches every process of the group; a worker that took it would die
    with a traceback and cost its chunk a ``worker_crash`` record.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _LocalPool:
    """A process pool that is rebuilt when a worker dies, with a generation count to tell old futures."""

    def __init__(self, job: Job, workers: int) -> None:
        methods = multiprocessing.get_all_start_methods()
        # forkserver/spawn: workers start from a clean interpreter, never from a copy of
        # a process that runs threads (the progress bar, Dask's event loop).
        self.ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        if isinstance(self.ctx, multiprocessing.context.ForkServerContext):
            # Import the worker code and the pipeline once in the fork server (1.3 of the 1.8 CPU
            # seconds a worker takes to start); models still load in each worker, on its probe.
            from overclaim.pipeline import STAGES

            self.ctx.set_forkserver_preload(["overclaim.batch.worker", *(spec.split(":")[0] for _, spec in STAGES)])
        self.job, self.workers, self.generation = job, workers, 0
        self.pool = self._new()
        # Load the models in every worker before the first chunk; a missing model
        # (ModelError) stops the batch here, with its own message, instead of
        # turning every record into an error.
        for probe in [self.pool.submit(init_worker, job) for _ in range(workers)]:
            probe.result()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=self.ctx, initializer=_ignore_sigint)

    def submit(self, chunk: list[RawRecord]) -> tuple[Future[list[Result]], int]:
        return self.pool.submit(_chunk_function, self.job, chunk), self.generation

    def restart(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new()
        self.generation += 1

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _run_pool(job: Job, chunks: Iterable[list[RawRecord]], workers: int) -> Iterator[list[Result]]:
    """Chunks checked by ``workers`` processes, results in input order.

    When a worker dies the pool is rebuilt: the chunk being waited for is re-checked a
    record at a time, so only a record that kills its worker becomes a ``worker_crash``
    record, and the other chunks lost with the old pool are sent again.
    """
    lp = _LocalPool(job, workers)
    pending: deque[tuple[list[RawRecord], Future[list[Result]], int]] = deque()

    def isolated(raw: RawRecord) -> Result:
        future, _ = lp.submit([raw])
        try:
            return future.result()[0]
        except BrokenProcessPool:
            lp.restart()
            return crash_results(job, [raw], "the worker process died while checking this record")[0]

    def take() -> list[Result]:
        chunk, future, generation = pending.popleft()
        while True:
            try:
                return future.result()
            except BrokenProcessPool:
                if generation < lp.generation:  # lost with a pool that was already replaced: send again
                    future, generation = lp.submit(chunk)
                    continue
                # This chunk was running when its worker died. Re-check it a record at a time
                # with nothing else in the new pool, so only a record that kills its worker
                # gets a worker_crash record; then send the chunks lost with the old pool again.
                lp.restart()
                results = [isolated(raw) for raw in chunk]
                lost = list(pending)
                pending.clear()
                pending.extend((c, *lp.submit(c)) for c, _, _ in lost)
                return results

    try:
        for chunk in chunks:
            pending.append((chunk, *lp.submit(chunk)))
            if len(pending) >= workers * INFLIGHT_PER_WORKER:
                yield take()
        while pending:
            yield take()
    finally:
        lp.close()


def run_local(job: Job, chunks: Iterable[list[RawRecord]], workers: int) -> Iterator[list[Result]]:
    """Chunks checked by ``workers`` local processes (1: in this process), results in input order."""
    if workers > 1:
        yield from _run_pool(job, chunks, workers)
        return
    worker_checker(job)
    for chunk in chunks:
        yield _chunk_function(job, chunk)


def run_dask(job: Job, chunks: Iterable[list[RawRecord]], scheduler: Any) -> Iterator[list[Result]]:
    """Connect to the Dask scheduler now (a bad address fails before any work), then stream results."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - the extra is missing
        raise InputError("needs Dask: pip install 'overclaim[dask]'", field="--scheduler") from exc
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler) if own else scheduler
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}", field="--scheduler") from exc
    try:
        # Load the models once in every worker process before the first chunk.
        client.run(init_worker, job)
    except BaseException:
        if own:
            client.close()
        raise
    return _dask_results(job, chunks, client, own)


def _dask_results(job: Job, chunks: Iterable[list[RawRecord]], client: Any, own: bool) -> Iterator[list[Result]]:
    def failed(chunk: list[RawRecord], exc: Exception) -> list[Result]:
        # Dask has already retried the task on other workers (distributed.scheduler.allowed-failures).
        return crash_results(job, chunk, f"the Dask task failed: {type(exc).__name__}: {str(exc)[:300]}")

    try:
        threads = sum(client.nthreads().values()) or 1
        yield from _bounded(lambda c: client.submit(check_chunk, job, c, pure=False), chunks,
                            threads * INFLIGHT_PER_WORKER, failed)
    finally:
        if own:
            client.close()
