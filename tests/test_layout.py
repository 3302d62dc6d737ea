"""The code's shape, as issues 9 and 19 ask it to stay: no import cycles and no module over about 400 lines, in
inpaint/ and in tests/; no function-local imports hiding a cycle in inpaint/; and no test module importing another
test module or a conftest (what they share lives in plain helper modules such as tests/live.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPAINT = ROOT / "inpaint"
TESTS = ROOT / "tests"
MAX_LINES = 400


def _modules(package: Path) -> dict[str, Path]:
    """Dotted name -> path of every Python module in the package; inpaint's generated migrations left out."""
    modules = {}
    for path in package.rglob("*.py"):
        if path.is_relative_to(INPAINT / "migrations"):
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _all_modules() -> dict[str, Path]:
    return {**_modules(INPAINT), **_modules(TESTS)}


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The known modules this one imports (``from x import y`` counts y when y is a module)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {module for module in found if module in known and module != name}


def _is_test_module_or_conftest(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


def test_no_module_imports_one_that_imports_it_back():
    modules = _all_modules()
    graph = {name: _imports(path, name, set(modules)) for name, path in modules.items()}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        for target in graph[node]:
            if target in trail:
                cycles.append(trail[trail.index(target):] + [target])
            elif len(trail) < len(graph):
                visit(target, trail + [target])

    for start in graph:
        visit(start, [start])
    assert not cycles, cycles[:3]


def test_no_module_is_over_about_400_lines():
    long = {name: len(path.read_text().splitlines()) for name, path in _all_modules().items()}
    assert all(lines <= MAX_LINES for lines in long.values()), {n: c for n, c in long.items() if c > MAX_LINES}


def test_no_test_module_imports_another_test_module_or_a_conftest():
    # pytest imports test modules and conftests itself; importing one from another runs its module-level code and
    # hands over its fixtures by accident. Shared helpers belong in plain modules.
    modules = _modules(TESTS)
    offenders = {name: sorted(imported for imported in _imports(path, name, set(modules))
                              if _is_test_module_or_conftest(imported))
                 for name, path in modules.items() if path.name.startswith("test_")}
    assert not any(offenders.values()), {name: found for name, found in offenders.items() if found}


def test_imports_sit_at_the_top_of_every_module():
    for name, path in _modules(INPAINT).items():
        for function in ast.walk(ast.parse(path.read_text())):
            if name == "inpaint.apps" and getattr(function, "name", "") == "ready":
                continue  # Django's documented place to connect signal receivers
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = [node for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))]
                assert not inner, f"{name}.{function.name} imports inside a function"


def test_scripts_are_at_most_about_400_lines_and_import_no_cycle():
    """The same for the page's ES modules under static/: their size, and their ``import … from "./x.js"`` graph."""
    scripts = [path.resolve() for path in (INPAINT.parent / "static").rglob("*.js")]
    long = {path.name: len(path.read_text().splitlines()) for path in scripts}
    assert all(lines <= MAX_LINES for lines in long.values()), {n: c for n, c in long.items() if c > MAX_LINES}
    found = re.compile(r"""^\s*(?:import\s*|(?:import|export)\b[^'";]*?\bfrom\s*)["'](\.{1,2}/[^"']+)["']""", re.M)
    graph = {path: {(path.parent / target).resolve() for target in found.findall(path.read_text())} for path in scripts}
    cycles = []

    def visit(node: Path, trail: list[Path]) -> None:
        for target in graph.get(node, ()):
            if target in trail:
                cycles.append([p.name for p in trail[trail.index(target):] + [target]])
            else:
                visit(target, trail + [target])

    for start in graph:
        visit(start, [start])
    assert sum(map(len, graph.values())) > 0 and not cycles, cycles[:3]


# The services that only read (for the page and the card tags) and the pure time helpers: anything that
# changes a job lives elsewhere, and these must not reach it, so a read can never write by the way.
READ_ONLY_SERVICES = {"inpaint.services.selectors", "inpaint.services.cards", "inpaint.services.durations"}


def test_the_reads_for_the_page_import_no_service_that_changes_a_job():
    modules = _modules(INPAINT)
    services = {name for name in modules if name.startswith("inpaint.services.")}
    for name in sorted(READ_ONLY_SERVICES):
        reached = _imports(modules[name], name, set(modules)) & services
        assert reached <= READ_ONLY_SERVICES, f"{name} imports {sorted(reached - READ_ONLY_SERVICES)}"
