"""Database engines: a file path means SQLite (WAL mode), a URL means that database.

engine("overclaim.sqlite")                        # SQLite file, WAL journal
engine("postgresql+psycopg://user@localhost/db")  # PostgreSQL (extra: postgres)
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from overclaim.errors import StoreError

DEFAULT_DB = "overclaim.sqlite"


def database_url(target: str | Path) -> str:
    """A SQLAlchemy URL for a path or URL (``postgres://`` is accepted for PostgreSQL)."""
    text = str(target)
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser()}"
    if text.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://") :]
    if text.startswith("postgresql://"):
        text = "postgresql+psycopg://" + text[len("postgresql://") :]
    return text


@lru_cache(maxsize=16)
def engine(target: str) -> Engine:
    """A shared engine for ``target`` (path or URL); SQLite files get WAL and foreign keys."""
    url = database_url(target)
    try:
        eng = create_engine(url, future=True, pool_pre_ping=not url.startswith("sqlite"))
    except Exception as exc:  # noqa: BLE001 - bad URL, missing driver
        raise StoreError(f"cannot open database {target!r}: {exc}") from exc
    if url.startswith("sqlite"):

        @event.listens_for(eng, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    return eng


# Tries of create_tables, and the pause before each retry (seconds, times the try number).
CREATE_TRIES = 5
CREATE_RETRY_PAUSE_S = 0.05


def create_tables(metadata: MetaData, eng: Engine) -> None:
    """``metadata.create_all``, tolerating other processes that create the same tables at the same time.

    ``create_all`` checks, then creates: processes opening a new database together (the check
    processes of ``serve --processes N``, batch workers) can all find a table missing, and all
    but one ``CREATE`` then fail with "already exists" (or "database is locked"). Trying again
    finds the tables made. The last error is raised if every try fails.
    """
    for attempt in range(1, CREATE_TRIES + 1):
        try:
            metadata.create_all(eng, checkfirst=True)
            return
        except SQLAlchemyError:
            if attempt == CREATE_TRIES:
                raise
            time.sleep(CREATE_RETRY_PAUSE_S * attempt)
