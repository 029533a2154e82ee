"""Which stored fact-checks a search may return: language, age and publisher filters."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from overclaim.errors import (
    EmptyFieldError,
    InputError,
)
from overclaim.store.claimreview import FactCheck

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class FactCheckFilter:
    """Which stored fact-checks a search may return: by language, age and publisher (all must hold).

    Empty fields do not filter. A record lacking the field a filter asks about (no language,
    no date that reads as ISO 8601, no publisher) is left out: its language or age is unknown.

    Attributes:
        languages: language codes; ``en`` takes ``en``, ``en-GB``, ``en_US`` (case-insensitive).
        max_age_days: the review date (else the claim date, which is never later) at most this
            many days before ``today``.
        publishers: the fact-checker's name holding one of these (case-insensitive:
            ``afp`` takes "AFP Factuel"), or the host of its URL or of the review's URL being one
            of them or under one (``politifact.com`` takes www.politifact.com).
        today: the day ages are counted from; the current UTC day when None.
    """

    languages: tuple[str, ...] = ()
    max_age_days: int | None = None
    publishers: tuple[str, ...] = ()
    today: datetime.date | None = None

    @classmethod
    def of(
        cls, languages: Iterable[str] = (), max_age_days: int | None = None, publishers: Iterable[str] = (),
        today: datetime.date | None = None,
    ) -> FactCheckFilter:
        """A filter from user input, checked.

        Raises:
            EmptyFieldError: a blank language or publisher (naming the field).
            InputError: a negative age.
        """
        langs = tuple(_filter_values(languages, "language"))
        pubs = tuple(_filter_values(publishers, "publisher"))
        if max_age_days is not None and (isinstance(max_age_days, bool) or max_age_days < 0):
            raise InputError(f"must be a number of days, 0 or more, got {max_age_days!r}", field="max_age_days")
        return cls(langs, max_age_days, pubs, today)

    def __bool__(self) -> bool:
        return bool(self.languages or self.publishers or self.max_age_days is not None)

    def describe(self) -> str:
        """The filters in words: "language en or fr; reviewed in the last 30 days; publisher afp"."""
        parts = []
        if self.languages:
            parts.append("language " + " or ".join(self.languages))
        if self.max_age_days is not None:
            parts.append(f"reviewed in the last {self.max_age_days} days")
        if self.publishers:
            parts.append("publisher " + " or ".join(self.publishers))
        return "; ".join(parts)

    def accepts(self, fc: FactCheck) -> bool:
        """Whether ``fc`` passes every filter that is set."""
        if self.languages:
            lang = (fc.language or "").strip().lower().replace("_", "-")
            if not any(lang == code or lang.startswith(code + "-") for code in self.languages):
                return False
        if self.max_age_days is not None:
            day = _iso_day(fc.review_date) or _iso_day(fc.claim_date)
            today = self.today or datetime.datetime.now(datetime.timezone.utc).date()
            if day is None or (today - day).days > self.max_age_days:
                return False
        if self.publishers:
            name = (fc.reviewer or "").casefold()
            hosts = {_host(fc.reviewer_url), _host(fc.url)} - {""}
            if not any(p in name or any(h == p or h.endswith("." + p) for h in hosts) for p in self.publishers):
                return False
        return True


def _filter_values(values: Iterable[str], name: str) -> Iterator[str]:
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise EmptyFieldError("must not be blank", field=name)
        yield value.strip().casefold().replace("_", "-") if name == "language" else value.strip().casefold()


def _iso_day(value: str | None) -> datetime.date | None:
    """The day of an ISO 8601 date or timestamp ("2024-02-01", "2024-02-01T00:00:00Z"), or None."""
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def _host(url: str | None) -> str:
    """The lower-cased host of a URL without a leading ``www.``; "" when there is none."""
    from urllib.parse import urlsplit

    if not url:
        return ""
    try:
        host = urlsplit(url if "://" in url else f"https://{url}").hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")
