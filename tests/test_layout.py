"""The package layout: one version, models apart from training, no import cycles between modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import overclaim
from overclaim import version

SRC = Path(overclaim.__file__).resolve().parent

# Import edges (importer, imported) left out of the cycle check, each on a cycle through a file
# another branch was rewriting when this test was written. Each entry goes once its file imports
# the right module; the list is meant to end empty (an entry no longer on a cycle fails the test).
ALLOWED_CYCLE_EDGES: frozenset[tuple[str, str]] = frozenset()


def _modules() -> dict[str, Path]:
    """Dotted name -> file of every module of the package (a package is its ``__init__.py``)."""
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of the nodes under ``if TYPE_CHECKING:`` (never run, so never part of a cycle)."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            ids.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    return ids


def imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that module ``name`` imports, wherever the import is written.

    Counts ``import`` statements at module level and inside functions (lazy imports), and modules
    named in strings that are imported by name: ``"overclaim.x:Attr"`` specs (the pipeline's
    STAGES) and module names listed in a list or tuple (registries such as the CLI's
    COMMAND_MODULES). An import of ``a.b.c`` counts as one of the module ``a.b.c`` (or, for a
    name that is not a module, of the nearest enclosing one), not of the packages above it.
    """

    def module_of(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_only(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str | None] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(module_of(a.name) for a in node.names if a.name.split(".")[0] == "overclaim")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            if base.split(".")[0] != "overclaim":
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else module_of(base))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("overclaim."):
            module, colon, _ = node.value.partition(":")
            if colon and module in modules:
                found.add(module)
        elif isinstance(node, (ast.List, ast.Tuple)):
            found.update(
                e.value for e in node.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str) and e.value in modules
                and e.value.startswith("overclaim.")
            )
    found.discard(name)
    found.discard(None)
    return {m for m in found if m is not None}


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    modules = _modules()
    return {name: imports(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted, in name order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def _describe(group: list[str], graph: dict[str, set[str]]) -> str:
    members = set(group)
    return "; ".join(f"{m} -> {', '.join(sorted(graph[m] & members))}" for m in group)


def test_the_import_graph_is_read_from_the_source() -> None:
    graph = import_graph()
    assert "overclaim.context" in graph["overclaim.stages.segment"]  # module level
    assert "overclaim.models.stance" in graph["overclaim.stages.stance"]  # inside a method
    assert "overclaim.stages.stance" in graph["overclaim.pipeline"]  # a STAGES spec
    assert "overclaim.cli.check" in graph["overclaim.cli"]  # COMMAND_MODULES
    assert "overclaim.context" not in graph["overclaim.models.verdict"]  # only under TYPE_CHECKING
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_modules() -> None:
    graph = import_graph()
    trimmed = {m: {d for d in deps if (m, d) not in ALLOWED_CYCLE_EDGES} for m, deps in graph.items()}
    found = cycles(trimmed)
    assert not found, "import cycles: " + " | ".join(_describe(g, trimmed) for g in found)


def test_every_allowed_cycle_edge_is_still_an_edge_on_a_cycle() -> None:
    graph = import_graph()
    on_cycle = {m for group in cycles(graph) for m in group}
    stale = sorted(
        (a, b) for a, b in ALLOWED_CYCLE_EDGES if b not in graph.get(a, set()) or not {a, b} <= on_cycle
    )
    assert not stale, f"no longer on an import cycle, remove from ALLOWED_CYCLE_EDGES: {stale}"


def test_nothing_under_models_imports_training() -> None:
    graph = import_graph()
    models = {m: deps for m, deps in graph.items() if m == "overclaim.models" or m.startswith("overclaim.models.")}
    assert "overclaim.models.stance" in models and "overclaim.models.stance_features" in models
    wrong = {m: sorted(d for d in deps if d.split(".")[:2] == ["overclaim", "training"]) for m, deps in models.items()}
    assert not any(wrong.values()), {m: d for m, d in wrong.items() if d}


def test_the_version_is_written_once_and_read_by_the_package_report_and_build() -> None:
    tomllib = pytest.importorskip("tomllib")
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


def test_every_stage_follows_the_one_protocol() -> None:
    """Each stage of STAGES is a Stage: the pipeline calls batch() on every one, no per-stage fallback."""
    import importlib

    from overclaim.pipeline import STAGES
    from overclaim.stages.base import Stage

    for name, spec in STAGES:
        module, cls_name = spec.split(":")
        cls = getattr(importlib.import_module(module), cls_name)
        assert issubclass(cls, Stage), f"stage {name} ({spec}) does not derive from overclaim.stages.base.Stage"


def test_a_stage_that_defines_neither_method_is_refused() -> None:
    from overclaim.stages.base import Stage

    with pytest.raises(TypeError, match="must define __call__"):
        type("Empty", (Stage,), {})
