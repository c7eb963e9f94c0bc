"""The shape of the code a newcomer relies on, checked on the source itself (``ast``, nothing imported):

* **layers**: the torch-free core (:mod:`grader`) imports nothing of the other packages; the model checks
  (:mod:`checks`) and the pages (:mod:`reports`) import the core only (never each other); the command line and the
  notebook API (:mod:`hw10`) are the only layer that imports both. Every import counts, at module level, inside a
  function or under ``TYPE_CHECKING``; the version module imports nothing;
* no import cycle among the project's modules (imports at module level; those under ``if TYPE_CHECKING``
  and inside functions do not run at import time and are not edges);
* a project import inside a function only outside ``checks`` (torch-free code deferring the model pipeline or a
  heavy part of itself), and then it says so: a ``deferred`` comment on its import block or the line above it;
* every check module a question spec names exists and has the check's shape (q05_codebook.py is the
  model): a docstring, a ``*Measured`` dataclass, ``judge``, ``summary``, ``compute`` and ``decide``.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.spec import load_bank

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("checks", "grader", "hw10", "reports", "questions")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom | ast.Import, path: Path) -> list[str]:
    """The project modules an import statement of ``module`` names (a ``from pkg import sub`` names the submodule)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        names = [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target for a in node.names]
    found = []
    for name in names:
        while name and name not in MODULES:  # `import a.b.c` of an attribute path: its module
            name = name.rpartition(".")[0]
        if name and name.split(".")[0] in PACKAGES:
            found.append(name)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _module_level_imports(tree: ast.Module):
    """Import statements that run when the module is imported (not in functions, not under TYPE_CHECKING)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            stack.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            stack.extend(node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body])


def _function_imports(tree: ast.Module):
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    yield node


TREES = {m: ast.parse(p.read_text(encoding="utf-8"), str(p)) for m, p in MODULES.items()}
GRAPH = {m: sorted({t for node in _module_level_imports(tree) for t in _resolve(m, node, MODULES[m]) if t != m})
         for m, tree in TREES.items()}


def _cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One cycle of ``graph`` (as a path that returns to its start), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for t in graph.get(m, ()):
            if state.get(t) == 1:
                return stack[stack.index(t):] + [t]
            if t not in state:
                found = visit(t)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_project_has_no_import_cycle():
    cycle = _cycle(GRAPH)
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    """The check above can fail: a made-up graph with a cycle is caught."""
    assert _cycle({"a": ["b"], "b": ["c"], "c": ["a"], "d": []}) == ["a", "b", "c", "a"]
    assert _cycle({"a": ["b"], "b": []}) is None


ALLOWED = {"grader": {"grader", "questions"}, "questions": {"questions"},
           "checks": {"checks", "grader", "questions"}, "reports": {"reports", "grader", "questions"},
           "hw10": set(PACKAGES)}
"""Which packages each package may import: the core ← the model checks, the pages ← the command line."""


def upward_imports(trees: dict[str, ast.Module], paths: dict[str, Path]) -> list[str]:
    """``module: imported`` for every import (anywhere in the module) that runs against :data:`ALLOWED`."""
    return [f"{m} imports {t}" for m, tree in trees.items()
            for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
            for t in _resolve(m, node, paths[m]) if t.split(".")[0] not in ALLOWED[m.split(".")[0]]]


def test_each_layer_imports_only_the_layers_below_it():
    offenders = upward_imports(TREES, MODULES)
    assert not offenders, "imports across the layers: " + "; ".join(offenders)


def test_a_planted_upward_import_is_caught():
    """The layer check can fail: the core importing the command line (even deferred, inside a function), the pages
    importing the model checks, and a check importing the pages are each caught; the command line importing all is
    not."""
    sources = {"grader.sheet": "def f():\n    from hw10.cli import main\n",
               "reports.render": "from checks.evidence import Evidence\n",
               "checks.evidence": "import reports.render\n",
               "hw10.grade": "import checks.evidence, reports.render, grader.sheet\n"}
    trees = {m: ast.parse(src) for m, src in sources.items()}
    assert upward_imports(trees, {m: MODULES[m] for m in sources}) == [
        "grader.sheet imports hw10.cli", "reports.render imports checks.evidence",
        "checks.evidence imports reports.render"]


def test_the_version_lives_in_a_module_that_imports_nothing():
    tree = TREES["grader.version"]
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets] == ["__version__"]


def test_project_imports_inside_functions_only_defer_the_model_pipeline_and_say_so():
    offenders = []
    for m, tree in TREES.items():
        lines = MODULES[m].read_text(encoding="utf-8").splitlines()
        for node in _function_imports(tree):
            if not _resolve(m, node, MODULES[m]):
                continue
            first = node.lineno - 1  # the import block it belongs to, and the comment line above that block
            while first > 0 and lines[first - 1].lstrip().startswith(("from ", "import ")):
                first -= 1
            said = any("deferred" in lines[i] for i in range(max(first - 1, 0), node.end_lineno))
            if m.split(".")[0] == "checks" or not said:
                offenders.append(f"{MODULES[m].relative_to(ROOT)}:{node.lineno}")
    assert not offenders, "project imports inside functions: " + ", ".join(offenders)


@pytest.mark.parametrize("spec", list(load_bank()), ids=lambda s: s.id)
def test_each_question_names_a_check_module_with_the_interface(spec):
    module = spec.check.module
    assert module.startswith("checks.questions."), module
    assert module in MODULES, f"{spec.id}: no module {module}"
    defined = {n.name for n in TREES[module].body if isinstance(n, ast.FunctionDef)}
    assert {"judge", "summary", "compute", "decide"} <= defined, f"{module} lacks part of the check's shape"
    classes = [n.name for n in TREES[module].body if isinstance(n, ast.ClassDef)]
    assert any(name.endswith("Measured") for name in classes), f"{module} has no *Measured dataclass"
    assert ast.get_docstring(TREES[module]), f"{module} has no docstring (the procedure and the decision)"
