"""Stored reports: each checked post's report kept under a random id.

    store = ReportStore("overclaim.sqlite")          # SQLite file (WAL)
    store = ReportStore("postgresql://user@host/db")  # PostgreSQL (extra: postgres)
    report_id = store.add(report)
    store.get(report_id)                              # -> Report

The report is stored whole as JSON (the published schema), with a few columns
beside it (verdict, headline, post id, time) for looking reports up by hand.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, Text, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from overclaim.errors import NotFoundError, StoreError
from overclaim.report import Report
from overclaim.store.db import DEFAULT_DB, create_tables, engine

metadata = MetaData()

reports_table = Table(
    "reports",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("schema_version", String(16), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("score", Float, nullable=False),
    Column("post_id", String(256), nullable=True, index=True),
    Column("headline", Text, nullable=False),
    Column("report", Text, nullable=False),
)

# Ids are 32 lower-case hex digits (uuid4): unguessable, so a stored report is
# only readable by whoever was given its id.
_ID_CHARS = frozenset("0123456789abcdef")


def _row(report: Report, report_id: str, now: datetime, text: str | None = None) -> dict[str, object]:
    return {
        "id": report_id,
        "created": now,
        "schema_version": report.schema_version,
        "verdict": report.verdict.label,
        "score": report.verdict.score,
        "post_id": (report.post.id or None) and report.post.id[:256],
        "headline": report.post.headline,
        "report": report.to_json(indent=None) if text is None else text,
    }


class ReportStore:
    """Reports in a database: SQLite file path (default) or database URL.

    Args:
        target: SQLite file path or SQLAlchemy/PostgreSQL URL; the table is
            created on first use.

    Raises:
        StoreError: the database cannot be opened or written.
    """

    def __init__(self, target: str = DEFAULT_DB) -> None:
        self.target = str(target)
        self.engine = engine(self.target)
        try:
            create_tables(metadata, self.engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot create the reports table: {exc.__class__.__name__}", source=self.target) from exc

    def add(self, report: Report, text: str | None = None) -> str:
        """Store one report and return its new id.

        Args:
            report: the report.
            text: its compact JSON (``report.to_json(indent=None)``) when the caller already has it.
        """
        now = datetime.now(timezone.utc)
        return self._insert([_row(report, uuid.uuid4().hex, now, text)])[0]

    def add_many(self, reports: Iterable[Report], texts: Iterable[str] | None = None) -> list[str]:
        """Store reports in one transaction and return their ids, in order.

        Args:
            reports: the reports.
            texts: their compact JSON, in the same order, when the caller already has it.
        """
        now = datetime.now(timezone.utc)
        reports = list(reports)
        jsons: list[str | None] = list(texts) if texts is not None else [None] * len(reports)
        if len(jsons) != len(reports):
            raise ValueError(f"{len(reports)} reports but {len(jsons)} texts")
        return self._insert([_row(r, uuid.uuid4().hex, now, t) for r, t in zip(reports, jsons, strict=True)])

    def _insert(self, rows: list[dict[str, object]]) -> list[str]:
        if not rows:
            return []
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(reports_table), rows)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot store reports: {exc.__class__.__name__}", source=self.target) from exc
        return [str(r["id"]) for r in rows]

    def get(self, report_id: str) -> Report:
        """Return the stored report with this id.

        Raises:
            NotFoundError: no report has this id.
        """
        if len(report_id) != 32 or not set(report_id) <= _ID_CHARS:
            raise NotFoundError(f"no report with id {report_id[:64]!r}")
        try:
            with self.engine.connect() as conn:
                text = conn.execute(select(reports_table.c.report).where(reports_table.c.id == report_id)).scalar()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot read reports: {exc.__class__.__name__}", source=self.target) from exc
        if text is None:
            raise NotFoundError(f"no report with id {report_id!r}")
        return Report.model_validate_json(text)

    def __len__(self) -> int:
        """Count the stored reports."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(reports_table)).scalar() or 0)
