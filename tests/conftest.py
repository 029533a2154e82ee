from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED_DATA = ROOT.parent / "shared" / "data"
SEED_POST = ROOT / "examples" / "seed_post.txt"


def run_overclaim(monkeypatch, capsys, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Run ``overclaim ARGS`` in this process; returns (exit code, stdout, stderr)."""
    import io
    import sys

    from overclaim.cli import main

    monkeypatch.setattr(sys, "argv", ["overclaim", *args])
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8"))))
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="session")
def checker():
    from overclaim import Checker

    return Checker()


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED_POST.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_report(checker, seed_text):
    headline, body = seed_text.split("\n", 1)
    return checker.check(headline, body)


def load_jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines() if line.strip()]
