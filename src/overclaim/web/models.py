"""The request and answer bodies of the API, for validation and the OpenAPI docs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from overclaim.report import FactCheckMatch, Report


class ErrorDetail(BaseModel):
    """What went wrong, in one line."""

    code: str
    message: str
    field: str | None = None
    line: int | None = None


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx answer."""

    error: ErrorDetail


class CheckRequest(BaseModel):
    """A post to check: headline and body, or `html`, or `url` (with fetching allowed)."""

    headline: str | None = None
    body: str | None = None
    id: str | None = None
    url: str | None = Field(default=None, description="Fetched when headline/body/html are absent (--allow-fetch).")
    outlet: str | None = None
    published: str | None = None
    html: str | None = Field(default=None, description="An article page; title and main text are extracted.")


class BatchRequest(BaseModel):
    """Posts to check (each like a `CheckRequest` without `url`)."""

    posts: list[dict[str, Any]]


class BatchItem(BaseModel):
    """One post's result: a report with its id, or an error."""

    index: int
    id: str | None = None
    link: str | None = Field(default=None, description="The stored report's page; opens without the API key.")
    report: Report | None = None
    error: ErrorDetail | None = None


class BatchResponse(BaseModel):
    """Results in the order of the posts."""

    results: list[BatchItem]
    count: int
    errors: int


class MatchRequest(BaseModel):
    """A claim (or a headline) to look up in the fact-check store, with optional filters."""

    claim: str | None = None
    headline: str | None = None
    body: str | None = None
    language: str | list[str] | None = Field(
        default=None, description="Only fact-checks in this language or these ('en' takes 'en-GB')."
    )
    max_age_days: int | None = Field(
        default=None, ge=0, description="Only fact-checks reviewed (else claimed) at most this many days ago."
    )
    publisher: str | list[str] | None = Field(
        default=None, description="Only fact-checks by this publisher: part of its name, or its site."
    )


class MatchResponse(BaseModel):
    """Stored fact-checks that may cover the claim, best first."""

    claim: str
    matches: list[FactCheckMatch]


__all__ = [
    "BatchItem", "BatchRequest", "BatchResponse", "CheckRequest", "ErrorBody", "ErrorDetail", "MatchRequest",
    "MatchResponse",
]
