"""Example requests and answers of every API route, for ``/docs`` and ``/openapi.json``.

The answers in ``examples.json`` are real: ``overclaim.web.examples_build`` sends the example
requests to a service it builds (a temporary report store and a fact-check store of the example
fact-checks below) and keeps what it answers. Regenerate them after the report or the
models change::

    python -m overclaim.web.examples_build

The example post and fact-checks are made up (``example.org`` addresses); the answers are
what this version of overclaim says about them.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

EXAMPLES_FILE = "examples.json"

EXAMPLE_POST: dict[str, str] = {
    "id": "post-1",
    "headline": "Coffee prevents cancer, scientists prove",
    "body": (
        "A study of 5,000 adults found that people who drank three or more cups of coffee a day had "
        "slightly lower rates of liver cancer, researchers at the University of Leeds said on Monday. "
        "The authors cautioned that the study shows an association, not a cause. "
        "\"We cannot say that coffee prevents cancer,\" said Dr. Jane Ward, who led the study. "
        "People who drink a lot of coffee may differ in other ways, such as diet and exercise, a person "
        "familiar with the research said."
    ),
    "url": "https://news.example.org/2025/06/coffee-cancer",
    "outlet": "Example News",
    "published": "2025-06-02",
}

EXAMPLE_TEXT = "Coffee prevents cancer, scientists prove\nA study of 5,000 adults found that ..."

EXAMPLE_HTML = (
    "<html><head><title>Coffee prevents cancer, scientists prove</title></head>"
    "<body><article><h1>Coffee prevents cancer, scientists prove</h1><p>A study of 5,000 adults found ...</p>"
    "</article></body></html>"
)

EXAMPLE_FACTCHECKS: list[dict[str, str]] = [
    {
        "claim_id": "https://factcheck.example.org/coffee-cancer#claim",
        "claim": "Drinking coffee prevents cancer",
        "claimant": "Social media posts",
        "claim_date": "2025-05-20",
        "rating": "Misleading",
        "reviewer": "Example Fact Check",
        "url": "https://factcheck.example.org/coffee-cancer",
        "language": "en",
        "review_date": "2025-05-28",
    },
    {
        "claim_id": "https://factcheck.example.org/tea-memory#claim",
        "claim": "Green tea cures memory loss",
        "rating": "False",
        "reviewer": "Example Fact Check",
        "url": "https://factcheck.example.org/tea-memory",
        "language": "en",
        "review_date": "2025-04-02",
    },
]

EXAMPLE_CLAIM = {"claim": "Coffee prevents cancer"}


@lru_cache(maxsize=1)
def load_examples() -> dict[str, Any]:
    """The shipped examples (``{}`` when the file is missing: the reference then shows none)."""
    try:
        text = (resources.files("overclaim.web") / EXAMPLES_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return json.loads(text)  # type: ignore[no-any-return]
