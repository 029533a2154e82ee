"""The package layout: one version, models apart from training, no import cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import overclaim
from overclaim import version

SRC = Path(overclaim.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def test_the_version_is_written_once_and_read_by_the_package_report_and_build() -> None:
    import tomllib

    from overclaim.pipeline import STAGES, Checker

    assigned = [
        name
        for name, path in _modules().items()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__version__" for t in node.targets)
    ]
    assert assigned == ["overclaim.version"]
    assert overclaim.__version__ == version.__version__
    report = Checker(skip={name for name, _ in STAGES}).check("A headline", "A body.")
    assert report.overclaim_version == version.__version__
    project = tomllib.loads((SRC.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "overclaim.version.__version__"}
