from __future__ import annotations

import sys

import pytest


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Run ``overclaim ARGS`` in process; returns (exit code, stdout, stderr)."""

    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        from overclaim.cli import main

        monkeypatch.setattr(sys, "argv", ["overclaim", *args])
        if stdin is not None:
            import io

            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8"))))
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run
