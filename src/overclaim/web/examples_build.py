"""Renew ``web/examples.json``: the example requests sent to a real service, its answers kept.

    python -m overclaim.web.examples_build

Apart from :mod:`overclaim.web.examples` (the data the app reads) because it builds the app:
the app importing the examples and the examples importing the app would be an import cycle.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from overclaim.web.examples import EXAMPLE_CLAIM, EXAMPLE_FACTCHECKS, EXAMPLE_POST, EXAMPLES_FILE


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


def main() -> None:
    """Write ``examples.json`` next to this module."""
    out = Path(__file__).with_name(EXAMPLES_FILE)
    out.write_text(json.dumps(build_examples(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
