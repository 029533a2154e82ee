from __future__ import annotations

import pytest

from tests.conftest import run_overclaim


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Run ``overclaim ARGS`` in process; returns (exit code, stdout, stderr)."""

    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        return run_overclaim(monkeypatch, capsys, *args, stdin=stdin)

    return run
