"""What the routes share (:class:`Service`): settings, the checker, the report store, checks in threads or processes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from overclaim.config import Config
from overclaim.errors import (
    CheckTimeoutError,
    FetchError,
    InternalCheckError,
    OverclaimError,
    WrongTypeError,
    reraise_control_flow,
)
from overclaim.fetch import AddressPolicy, fetch_url
from overclaim.pipeline import STAGES, Checker
from overclaim.report import FactCheckMatch, Post, Report
from overclaim.store.factchecks import FactCheckFilter
from overclaim.web.auth import report_token
from overclaim.web.dispatch import CheckProcesses
from overclaim.web.jobs import PostJob
from overclaim.web.settings import ServiceSettings

log = logging.getLogger("overclaim.web")
T = TypeVar("T")


class Service(CheckProcesses):
    """What the routes share: settings, the checker, the stores, the thread limiter, the check processes."""

    def __init__(self, settings: ServiceSettings, checker: Checker | None, policy: AddressPolicy) -> None:
        self.settings = settings
        factchecks = settings.factchecks or settings.db
        self.checker = checker or Checker(Config(profile=settings.profile), factchecks=factchecks)
        # /v1/match runs only what matching needs: normalize (disguised words read
        # as clean words, as the match stage sees headlines) and match.
        self.match_checker = Checker(
            self.checker.config,
            factchecks=factchecks,
            skip=frozenset(name for name, _ in STAGES if name not in ("normalize", "match")),
        )
        self.policy = policy
        self.limiter = anyio.CapacityLimiter(max(1, settings.check_threads))
        self._store: Any = None
        self._init_processes()

    async def check_job(self, job: PostJob, timeout: float) -> tuple[str | None, str]:
        """Check one post (in a check process when there are any, see :meth:`check_queued`): its report id and JSON."""
        if self.settings.check_processes <= 0:
            report_id, _, text = await self.run(lambda: self.check_and_store(job.post()), timeout, "the check")
            return report_id, text
        return await self.check_queued(job, timeout)


    @property
    def store(self) -> Any:
        """The report store (opened on first use), or None when reports are not kept."""
        if self._store is None and self.settings.db:
            from overclaim.store.reports import ReportStore

            self._store = ReportStore(self.settings.db)
        return self._store

    async def run(self, fn: Callable[[], T], timeout: float, what: str) -> T:
        """Run CPU-bound ``fn`` in a worker thread, giving up (504) after ``timeout`` seconds."""
        with anyio.move_on_after(timeout):
            return await anyio.to_thread.run_sync(fn, limiter=self.limiter, abandon_on_cancel=True)
        raise CheckTimeoutError(f"{what} took longer than {timeout:g} s")

    def check_and_store(self, post: Post) -> tuple[str | None, Report, str]:
        """Check one post and store its report: the id (None when reports are not kept), the report, its JSON."""
        report = self.checker.check_post(post)
        text = report.to_json(indent=None)  # serialized once, for the store and the response
        store = self.store
        return (store.add(report, text) if store is not None else None), report, text

    def check_and_store_many(self, jobs: list[PostJob]) -> list[tuple[str | None, str] | OverclaimError]:
        """Read, check and store several posts: each one's report id and JSON, or its error.

        The posts that read are checked together (:meth:`~overclaim.Checker.check_many`, the
        same reports for less CPU); if that raises, one by one, so an error lands on its own
        post. An unexpected error becomes an :class:`InternalCheckError` (logged here).
        """
        outcomes: list[tuple[str | None, str] | OverclaimError | None] = [None] * len(jobs)
        posts: list[tuple[int, Post]] = []
        for k, job in enumerate(jobs):
            try:
                posts.append((k, job.post()))
            except BaseException as exc:  # noqa: BLE001 - one post must not fail the others
                reraise_control_flow(exc)  # a library panic is this post's error too
                outcomes[k] = _own_error(exc, "reading")
        checked: list[tuple[int, Report]] = []
        try:
            checked = list(zip([k for k, _ in posts], self.checker.check_many([p for _, p in posts]), strict=True))
        except BaseException as first:  # noqa: BLE001 - told apart below, post by post
            reraise_control_flow(first)
            for k, post in posts:
                try:
                    checked.append((k, self.checker.check_post(post)))
                except BaseException as exc:  # noqa: BLE001 - one post must not fail the others
                    reraise_control_flow(exc)
                    outcomes[k] = _own_error(exc, "checking")
        texts = [report.to_json(indent=None) for _, report in checked]  # serialized once: store and response
        store = self.store
        ids: list[Any]
        try:
            ids = store.add_many([r for _, r in checked], texts) if store is not None else [None] * len(checked)
        except Exception:  # noqa: BLE001 - told apart below, report by report
            ids = []
            for (_, report), text in zip(checked, texts, strict=True):
                try:
                    ids.append(store.add(report, text))
                except Exception as exc:  # noqa: BLE001
                    ids.append(_own_error(exc, "storing"))
        for (k, _), report_id, text in zip(checked, ids, texts, strict=True):
            outcomes[k] = report_id if isinstance(report_id, OverclaimError) else (report_id, text)
        return outcomes  # type: ignore[return-value]

    def report_links(self, report_id: str) -> tuple[str, str]:
        """The links (paths) to a stored report as a page and as JSON, which open it without the API key.

        With an API key, each carries the report's read-only token (:func:`report_token`); without
        one, the service is open and the plain links do.
        """
        query = "" if self.settings.api_key is None else f"token={report_token(self.settings.api_key, report_id)}"
        return (f"/v1/reports/{report_id}?format=html" + (f"&{query}" if query else ""),
                f"/v1/reports/{report_id}" + (f"?{query}" if query else ""))

    def fetch_post(self, url: object) -> Post:
        """Fetch ``url`` (guarded) and read it as an article page."""
        return self.fetch_job(url).post()

    def fetch_job(self, url: object) -> PostJob:
        """Fetch ``url`` (guarded): the page, to be read as an article where the check runs."""
        if not self.settings.allow_fetch:
            raise FetchError("fetching URLs is off on this service (start it with --allow-fetch)", field="url")
        if not isinstance(url, str) or not url.strip():
            raise WrongTypeError("must be an http(s) URL", field="url")
        page = fetch_url(
            url,
            max_bytes=self.settings.fetch_max_bytes,
            timeout=self.settings.fetch_timeout_s,
            policy=self.policy,
        )
        return PostJob("fetched", page, page.url)

    def matches_for(self, claim: str, body: str | None, where: FactCheckFilter | None = None) -> list[FactCheckMatch]:
        """Fact-checks for ``claim``, found as ``/v1/check`` finds them for a headline.

        The claim is normalized first (disguised words read as the clean words the
        match stage searches for); ``body`` defaults to the claim. ``where`` filters the
        matches (language, age, publisher) in the match stage's search.
        """
        if not self.match_checker.factchecks:
            from overclaim.errors import StoreError

            raise StoreError("this service has no fact-check store (start it with --store or --factchecks)")
        if not where:
            return self.match_checker.check(claim, body or claim).matches
        from overclaim.readers import check_text
        from overclaim.stages.match import FactCheckMatcher, clean_text

        check_text(claim, field="claim")
        stage = next(s for s in self.match_checker.stages if isinstance(s, FactCheckMatcher))
        return stage.find(clean_text(claim, self.match_checker.config).strip(), where)



def _own_error(exc: BaseException, doing: str) -> OverclaimError:
    """``exc`` as one post's error: an :class:`OverclaimError` as it is, anything else logged and made internal."""
    if isinstance(exc, OverclaimError):
        return exc
    log.error("internal error while %s a post", doing, exc_info=exc)
    return InternalCheckError(f"internal error while {doing} this post: {type(exc).__name__}")


__all__ = ["Service"]
