"""docs/reference.md documents every setting, error code, command and route (datasette's docs test).

Each list is read from the code, so a new setting, error, command or route fails here until it is
documented; the error table's exit codes and HTTP statuses must be the ones the code uses.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path

import pytest
import typer.main

import overclaim.errors as errors
from overclaim.config import Config

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference.md"
HEADERS = {"setting", "code", "command", "route"}  # the tables' first cells


def _section(title: str) -> str:
    text = REFERENCE.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else None]


def _rows(title: str) -> dict[str, list[str]]:
    """First cell (without backticks) -> the row's other cells, for each row of the section's table."""
    rows = {}
    for line in _section(title).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) > 1 and not set(cells[0]) <= set("-: "):
            rows[cells[0].strip("`")] = cells[1:]
    return {name: cells for name, cells in rows.items() if name not in HEADERS}


def test_every_setting_is_documented_and_commented_where_it_is_set() -> None:
    documented = _rows("Settings")
    fields = [f.name for f in dataclasses.fields(Config)]
    assert len(fields) >= 20
    missing = [name for name in fields if name not in documented]
    assert not missing, f"settings missing from docs/reference.md: {missing}"
    assert not set(documented) - set(fields), "docs/reference.md lists settings that do not exist"
    # config.py says how each value was set: a comment above the field, or above the group of
    # fields it opens (the fields in between written one a line, with no blank line).
    source = inspect.getsource(Config).splitlines()
    field_line = re.compile(r"\s+\w+: [^=]+=")
    for name in fields:
        above = next(i for i, text in enumerate(source) if re.match(rf"\s+{name}: ", text)) - 1
        while above >= 0 and field_line.match(source[above]):
            above -= 1
        assert source[above].strip().startswith("#"), f"Config.{name} has no comment saying how it was set"


def _error_classes() -> list[type[errors.OverclaimError]]:
    return [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.OverclaimError)]


def test_every_error_code_is_documented_with_its_exit_code_and_http_status() -> None:
    documented = _rows("Error codes")
    classes = _error_classes()
    assert len(classes) >= 20
    for cls in classes:
        assert cls.code in documented, f"error code {cls.code!r} ({cls.__name__}) missing from docs/reference.md"
        exit_code, status = documented[cls.code][0], documented[cls.code][1]
        assert int(exit_code) == cls.exit_code, f"{cls.code}: exit {exit_code} documented, {cls.exit_code} in code"
        assert int(status) == cls.http_status, f"{cls.code}: HTTP {status} documented, {cls.http_status} in code"
    assert set(documented) <= {cls.code for cls in classes}, "docs list error codes that do not exist"


def _commands() -> list[str]:
    from overclaim.cli import app

    def walk(command: object, prefix: list[str]) -> list[str]:
        subs = getattr(command, "commands", None)
        if not subs:
            return [" ".join(prefix)]
        return [path for name, sub in subs.items() for path in walk(sub, [*prefix, name])]

    return walk(typer.main.get_command(app), ["overclaim"])


def test_every_command_is_documented() -> None:
    documented = _rows("Commands")
    commands = _commands()
    assert "overclaim check" in commands and "overclaim eval verdict" in commands
    missing = [c for c in commands if c not in documented]
    assert not missing, f"commands missing from docs/reference.md: {missing}"
    assert set(documented) <= set(commands), "docs list commands that do not exist"


def _routes() -> list[str]:
    from overclaim.web import page
    from overclaim.web.app import ServiceSettings, create_app

    app = create_app(ServiceSettings(warm_up=False, check_processes=0))
    routes = [f"{method.upper()} {path}" for path, ops in app.openapi()["paths"].items() for method in ops]
    tree = ast.parse(Path(page.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # the page's routes are left out of the OpenAPI schema
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "router" and node.func.attr in ("get", "post"):
                routes.append(f"{node.func.attr.upper()} {ast.literal_eval(node.args[0])}")
    return routes


def test_every_route_is_documented() -> None:
    documented = _rows("HTTP routes")
    routes = _routes()
    assert "POST /v1/check" in routes and "GET /" in routes
    missing = [r for r in routes if r not in documented]
    assert not missing, f"routes missing from docs/reference.md: {missing}"
    assert set(documented) <= set(routes), "docs list routes that do not exist"


@pytest.mark.parametrize("title", ["Settings", "Error codes", "Commands", "HTTP routes"])
def test_each_documented_entry_says_what_it_does(title: str) -> None:
    for name, cells in _rows(title).items():
        assert cells and len(cells[-1]) > 10, f"{title}: {name} has no description"
