"""The layout rules of docs/ARCHITECTURE.md, checked on the source: no import cycles (imports
inside functions count), no import inside a function, blueprints that do not import each
other, no module over 500 lines, and a services/ top level a newcomer can take in at a
glance."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "eventapp"
BLUEPRINTS = ("public", "manage", "organiser", "api", "calendar")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported_modules(name: str, tree: ast.AST) -> set[str]:
    """The eventapp modules a module imports, wherever the import statement stands.

    `from . import views` depends on the module views, not on the package's __init__; a
    name imported from a module depends on that module."""
    is_package = MODULES[name].name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {
    name: imported_modules(name, ast.parse(path.read_text())) for name, path in MODULES.items()
}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_import_graph_has_no_cycle():
    assert find_cycle(GRAPH) is None, " -> ".join(find_cycle(GRAPH))


def test_the_cycle_finder_finds_a_planted_cycle():
    planted = {name: set(deps) for name, deps in GRAPH.items()}
    planted["eventapp.extensions"].add("eventapp.services.registration.register")
    cycle = find_cycle(planted)
    assert cycle is not None and "eventapp.extensions" in cycle


def function_level_imports(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines += [
                sub.lineno for sub in ast.walk(node) if isinstance(sub, ast.Import | ast.ImportFrom)
            ]
    return lines


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_import_hides_inside_a_function(name):
    assert function_level_imports(ast.parse(MODULES[name].read_text())) == []


def test_a_function_level_import_is_found():
    tree = ast.parse("def f():\n    from . import x\n    return x\n")
    assert function_level_imports(tree) == [2]


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_blueprints_do_not_import_each_other(blueprint):
    """What two blueprints share lives in eventapp/web (loader, form errors, roles, fields)."""
    others = {f"eventapp.{other}" for other in BLUEPRINTS if other != blueprint}
    crossing = {
        (name, dep)
        for name, deps in GRAPH.items()
        if name == f"eventapp.{blueprint}" or name.startswith(f"eventapp.{blueprint}.")
        for dep in deps
        if any(dep == other or dep.startswith(other + ".") for other in others)
    }
    assert crossing == set()


def test_services_top_level_is_at_most_a_dozen_modules():
    services = PACKAGE / "services"
    top = [p for p in services.iterdir() if p.suffix == ".py" and p.name != "__init__.py"]
    top += [p for p in services.iterdir() if (p / "__init__.py").exists()]
    assert len(top) <= 12, sorted(p.name for p in top)


@pytest.mark.parametrize("name", sorted(n for n, p in MODULES.items() if p.name == "__init__.py"))
def test_every_package_says_what_it_owns(name):
    assert ast.get_docstring(ast.parse(MODULES[name].read_text()))


MAX_LINES = 500


@pytest.mark.parametrize("name", sorted(MODULES), ids=str)
def test_no_module_is_over_500_lines(name):
    """A module a newcomer can read: split a larger one by responsibility."""
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name]} has {lines} lines"
