"""``overclaim serve``: the HTTP API and web page (FastAPI app served by uvicorn)."""

from __future__ import annotations

import asyncio
import inspect
import os
from typing import Annotated

import typer

from overclaim.cli.apps import app
from overclaim.cli.options import Profile, ProfileOption, deprecated_spelling, one_spelling
from overclaim.errors import InputError
from overclaim.store.db import DEFAULT_DB


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    store: Annotated[
        str | None,
        typer.Option("--store", help=f"Report store: SQLite file path or database URL (postgresql://...); "
                                     f"default: {DEFAULT_DB}."),
    ] = None,
    old_db: Annotated[str | None, deprecated_spelling("--db", "--store")] = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Keep no reports (GET /v1/reports answers 404).")
    ] = False,
    factchecks: Annotated[
        str | None, typer.Option(help="Fact-check store for matches (default: the --store database).")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(envvar="OVERCLAIM_API_KEY", help="Require this key on every /v1 route (X-API-Key or Bearer)."),
    ] = None,
    allow_fetch: Annotated[
        bool, typer.Option(help="Allow {\"url\": ...} in /v1/check (public http(s) addresses only).")
    ] = False,
    max_request_bytes: Annotated[int, typer.Option(help="Largest request body, in bytes (413 above).")] = 2_000_000,
    max_batch: Annotated[int, typer.Option(help="Most posts in one /v1/batch request.")] = 100,
    timeout: Annotated[float, typer.Option(help="Seconds one check may take (504 above).")] = 30.0,
    workers: Annotated[int, typer.Option(help="Worker processes (each loads the models once).")] = 1,
    threads: Annotated[int, typer.Option(help="Checks run at once in each worker; the rest queue.")] = 1,
    processes: Annotated[
        int,
        typer.Option(help="Check processes fed from one queue (each loads the models once). 0: check in the "
                          "server's threads, where a slow post delays every route and outlasts --timeout."),
    ] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    profile: ProfileOption = Profile.default,
) -> None:
    """Serve the HTTP API (/v1/...), its docs (/docs) and the web page (/)."""
    import uvicorn

    from overclaim.web.app import ServiceSettings, create_app
    from overclaim.web.server import HeaderTimeoutProtocol

    if not 0 < port < 65536:
        raise InputError(f"must be 1-65535, got {port}", field="--port")
    if workers < 1:
        raise InputError(f"must be at least 1, got {workers}", field="--workers")
    if threads < 1:
        raise InputError(f"must be at least 1, got {threads}", field="--threads")
    if processes < 0:
        raise InputError(f"must be 0 or more, got {processes}", field="--processes")
    if api_key is not None and not api_key.strip():
        api_key = None
    db = one_spelling(store, old_db, "--store") or DEFAULT_DB
    settings = ServiceSettings(
        db=None if no_store else db,
        factchecks=factchecks,
        api_key=api_key,
        allow_fetch=allow_fetch,
        max_request_bytes=max_request_bytes,
        max_batch=max_batch,
        check_timeout_s=timeout,
        check_threads=threads,
        check_processes=processes,
        profile=profile.value,
    )
    if settings.db:
        from overclaim.store.reports import ReportStore

        ReportStore(settings.db)  # fail now, with a one-line error, if the database cannot be used
    common: dict[str, object] = {
        "host": host, "port": port, "log_level": log_level, "timeout_keep_alive": 5, "server_header": False,
        "http": HeaderTimeoutProtocol,  # uvicorn's, with a time limit on request headers (slowloris)
    }
    if workers == 1:
        if processes:
            app_ = create_app(settings.model_copy(update={"warm_up": False}))
            # Start the check processes and load their models before listening: a missing
            # model is a one-line error from the process that met it, not a traceback.
            try:
                asyncio.run(app_.state.service.start_processes())
            except BaseException:
                app_.state.service.close()
                raise
            uvicorn.run(app_, **common)  # type: ignore[arg-type]
            return
        app_ = create_app(settings.model_copy(update={"warm_up": False}))
        # Load the models before listening: a missing model is a one-line error, not a traceback.
        app_.state.service.checker.warm_up()
        uvicorn.run(app_, **common)  # type: ignore[arg-type]
        return
    # Worker processes import the app themselves: pass the settings in the environment.
    os.environ.update(settings.to_env())
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
        # uvicorn kills a worker that does not answer its health ping in time (5 s by
        # default); a worker busy with long checks on a loaded machine is not hung.
        common["timeout_worker_healthcheck"] = max(30, int(timeout) + 5)
    uvicorn.run("overclaim.web.app:create_app_from_env", factory=True, workers=workers, **common)  # type: ignore[arg-type]
