"""The service's limits and options: :class:`ServiceSettings` (pydantic-settings).

``overclaim serve`` builds them from its options; ``ServiceSettings.from_env()`` reads them from
``OVERCLAIM_<FIELD>`` environment variables, which is how ``serve --workers N`` passes them on to
the worker processes (:meth:`ServiceSettings.to_env`).
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from overclaim.fetch import FETCH_MAX_BYTES, FETCH_TIMEOUT_S
from overclaim.store.db import DEFAULT_DB


class ServiceSettings(BaseSettings):
    """Limits and options of the service; ``overclaim serve`` sets them from its options.

    Built from its arguments alone; every field can also come from an ``OVERCLAIM_<FIELD>``
    environment variable through :meth:`from_env` (an empty value is None).
    """

    model_config = SettingsConfigDict(env_prefix="OVERCLAIM_", env_parse_none_str="", frozen=True, extra="forbid")

    # Report store (SQLite path or database URL); None keeps no reports.
    db: str | None = DEFAULT_DB
    # Pipeline profile (Config.profile): "default", or "fast" without the entailment cross-encoder.
    profile: str = "default"
    # Fact-check store for matches; None means the same database as ``db``.
    factchecks: str | None = None
    # API key required on every /v1 route (X-API-Key or Authorization: Bearer); None: open.
    api_key: str | None = None
    # Allow {"url": ...} in /v1/check (SSRF-guarded fetch, see overclaim.fetch).
    allow_fetch: bool = False
    # Largest request body. 2 MB holds a post at the pipeline's 200k-character body
    # cap in any script (up to 4 bytes a character is 800 KB) with room for a batch.
    max_request_bytes: int = 2_000_000
    # Most posts in one /v1/batch request.
    max_batch: int = 100
    # Seconds one check (or one whole batch) may take before the answer is 504. With check
    # processes, a group of posts still running past its posts' limits has its processes replaced.
    check_timeout_s: float = 30.0
    batch_timeout_s: float = 120.0
    # Seconds the client has to send its whole request body, counted from its headers (slower
    # senders get 408, however often a byte arrives). 30 s takes the 2 MB cap at 67 KB/s; a post of
    # a few KB needs well under 1 KB/s.
    read_timeout_s: float = 30.0
    # Checks run at once in worker threads; the others queue in order. The pipeline
    # is CPU-bound Python, so threads share one core (GIL) and more of them only
    # interleave: on the load test (50 clients, 15 s, 2 runs each) 1 thread gave
    # 52-53 req/s and p99 1.3-3.8 s, 4 threads 39-50 req/s and p99 4.8-5.7 s (loaded
    # 2-core machine). Use more processes (serve --workers) to use more cores.
    check_threads: int = 1
    # Processes that run the checks of /v1/check, /v1/batch and the page, fed from one
    # queue by the HTTP process (0: checks run in the HTTP process's threads). Each
    # takes the next check as soon as it is free, so the load stays even whatever the
    # clients do; `serve --workers N` instead splits connections between N whole
    # servers, unevenly (figures in benchmarks/results/load_test*.json). At least one by
    # default: a check in the HTTP process's threads can hold the GIL for as long as it
    # runs (a C regex, a parser), which froze every route, /healthz included, and kept the
    # time limit from answering (a 30 s limit answered after 102 s); a check process past
    # its limit is replaced instead. 0 is for tests that pass their own checker.
    check_processes: int = 1
    # URL fetch limits.
    fetch_timeout_s: float = FETCH_TIMEOUT_S
    fetch_max_bytes: int = FETCH_MAX_BYTES
    # Load the models when the service starts rather than on the first request.
    warm_up: bool = True

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the arguments: a variable left in the shell never changes an app built in code or a test."""
        return (init_settings,)

    @classmethod
    def from_env(cls) -> ServiceSettings:
        """Settings from ``OVERCLAIM_<FIELD>`` environment variables (defaults elsewhere)."""
        return cls(**EnvSettingsSource(cls)())

    def to_env(self) -> dict[str, str]:
        """The settings as ``OVERCLAIM_<FIELD>`` variables that :meth:`from_env` reads back (for worker processes)."""
        return {f"OVERCLAIM_{name.upper()}": "" if value is None else str(value)
                for name, value in self.model_dump().items()}


__all__ = ["ServiceSettings"]
