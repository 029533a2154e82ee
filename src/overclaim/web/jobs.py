"""A post as a request carries it (:class:`PostJob`), read into a :class:`~overclaim.report.Post` where checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from overclaim.errors import WrongTypeError
from overclaim.fetch import FetchedPage
from overclaim.report import Post


def post_from_json(record: object, source: str = "request") -> Post:
    """A post from a parsed JSON object: its fields, or an HTML page under ``html``."""
    from overclaim.readers import parse_html, post_from_record

    if isinstance(record, dict) and record.get("html") is not None and not record.get("body"):
        html = record["html"]
        if not isinstance(html, str):
            raise WrongTypeError(f"must be text, got {type(html).__name__}", source=source, field="html")
        url = record.get("url") if isinstance(record.get("url"), str) else None
        return parse_html(html, source=source, url=url)
    return post_from_record(record, source=source)


@dataclass(frozen=True)
class PostJob:
    """A post as a request carries it, read into a :class:`Post` where it is checked.

    Reading is CPU work too (trafilatura for HTML), so it runs in the worker thread
    or check process, under the check's time limit. Picklable, for check processes.
    """

    kind: str  # "record" (parsed JSON), "html", "text", "fetched" (a FetchedPage) or "post"
    value: Any
    source: str = "request"

    def post(self) -> Post:
        """The post (raises :class:`InputError` when it cannot be read)."""
        from overclaim.readers import parse_html, parse_text, post_from_page

        if self.kind == "post":
            return self.value  # type: ignore[no-any-return]
        if self.kind == "fetched":
            page: FetchedPage = self.value
            return post_from_page(page)  # as `overclaim check URL` reads it
        if self.kind == "html":
            return parse_html(self.value, source=self.source)
        if self.kind == "text":
            return parse_text(self.value, source=self.source)
        return post_from_json(self.value, self.source)


__all__ = ["PostJob", "post_from_json"]
