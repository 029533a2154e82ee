"""Example requests and answers of every API route, for ``/docs`` and ``/openapi.json``.

The answers in ``examples.json`` are real: :func:`build_examples` sends the example requests
to a service built here (a temporary report store and a fact-check store of the example
fact-checks below) and keeps what it answers. Regenerate them after the report or the
models change::

    python -m overclaim.web.examples

The example post and fact-checks are made up (``example.org`` addresses); the answers are
what this version of overclaim says about them.
"""

from __future__ import annotations

import json
import sys
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path
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


def build_examples() -> dict[str, Any]:
    """Send each route its example request on a fresh service and keep the answers."""
    from fastapi.testclient import TestClient

    from overclaim.store.factchecks import FactCheck, FactCheckStore
    from overclaim.web.app import ServiceSettings, create_app

    with tempfile.TemporaryDirectory() as folder:
        db = str(Path(folder) / "examples.sqlite")
        FactCheckStore(db).add([FactCheck(**record) for record in EXAMPLE_FACTCHECKS])
        app = create_app(ServiceSettings(db=db, warm_up=False, check_processes=0, api_key="your-key"))
        headers = {"X-API-Key": "your-key"}
        with TestClient(app) as client:
            check = client.post("/v1/check", json=EXAMPLE_POST, headers=headers)
            check.raise_for_status()
            report_id = check.headers["X-Report-Id"]
            batch = client.post("/v1/batch", json={"posts": [EXAMPLE_POST, {"headline": "No body here"}]},
                                headers=headers)
            match = client.post("/v1/match", json=EXAMPLE_CLAIM, headers=headers)
            stored = client.get(check.headers["X-Report-Link"].replace("format=html", "format=json"))
            health = client.get("/healthz")
            schema = client.get("/v1/schema", headers=headers)
        for answer in (batch, match, stored, health, schema):
            answer.raise_for_status()
        full_schema = schema.json()
        return {
            "check": {"request": EXAMPLE_POST, "response": check.json(),
                      "headers": {k: check.headers[k] for k in ("X-Report-Id", "Location", "X-Report-Link")}},
            "batch": {"request": {"posts": [EXAMPLE_POST, {"headline": "No body here"}]}, "response": batch.json()},
            "match": {"request": EXAMPLE_CLAIM, "response": match.json()},
            "report": {"report_id": report_id, "token": check.headers["X-Report-Link"].rsplit("token=", 1)[1],
                       "response": stored.json()},
            "healthz": {"response": health.json()},
            # The schema is long: its first keys, as /v1/schema starts.
            "schema": {"response": {k: full_schema[k] for k in ("$schema", "$id", "title", "type", "required")}},
        }


@lru_cache(maxsize=1)
def load_examples() -> dict[str, Any]:
    """The shipped examples (``{}`` when the file is missing: the reference then shows none)."""
    try:
        text = (resources.files("overclaim.web") / EXAMPLES_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return json.loads(text)  # type: ignore[no-any-return]


def main() -> None:
    """Write ``examples.json`` next to this module."""
    out = Path(__file__).with_name(EXAMPLES_FILE)
    out.write_text(json.dumps(build_examples(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
