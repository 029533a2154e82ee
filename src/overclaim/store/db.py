"""Database engines: a file path means SQLite (WAL mode), a URL means that database.

engine("overclaim.sqlite")                        # SQLite file, WAL journal
engine("postgresql+psycopg://user@localhost/db")  # PostgreSQL (extra: postgres)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event

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
