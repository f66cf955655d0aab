"""The house: stages that only import downwards, no cycles, no hidden imports (STYLE 1, 14).

The graph is built from every import statement in ``kim_excel/``, the ones inside functions
included, so a cycle cannot hide behind a function-level import.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "kim_excel"
# Lower stages never import higher ones; input and ledger are siblings that import neither
# each other nor anything but core.
STAGES = {"core": 0, "input": 1, "ledger": 1, "documents": 2, "commands": 3, "cli": 4}
SIBLINGS = {("input", "ledger"), ("ledger", "input")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def imports() -> dict[str, list[tuple[str, int, bool]]]:
    """module → (imported kim_excel module, line, inside a function?) for every import."""
    graph: dict[str, list[tuple[str, int, bool]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = graph.setdefault(module_name(path), [])
        nested = {id(node) for top in tree.body for node in ast.walk(top)
                  if isinstance(top, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                  and node is not top}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                if target.startswith("kim_excel.") and is_module(target):
                    found.append((target, node.lineno, id(node) in nested))
    return graph


def is_module(name: str) -> bool:
    path = PACKAGE.parent / name.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def stage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in STAGES) else None


def test_every_module_lives_in_a_stage():
    loose = [m for m in imports() if m.count(".") >= 1 and stage(m) not in STAGES
             and m != "kim_excel.__main__"]
    assert not loose, f"modules outside the stages {list(STAGES)}: {loose}"
    assert set(imports()) >= {f"kim_excel.{s}" for s in STAGES}


def test_no_stage_imports_a_higher_one():
    wrong = []
    for module, targets in imports().items():
        own = stage(module)
        if own is None:
            continue
        for target, line, _ in targets:
            theirs = stage(target)
            if theirs is None or theirs == own:
                continue
            if STAGES[theirs] > STAGES[own] or (own, theirs) in SIBLINGS:
                wrong.append(f"{module}:{line} ({own}) imports {target} ({theirs})")
    assert not wrong, "\n".join(wrong)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_even_through_function_level_imports():
    graph = {m: {t for t, _, _ in targets if t != m and not m.startswith(t + ".")}
             for m, targets in imports().items()}
    assert cycles(graph) == []


def test_the_cycle_check_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_a_function_level_import_of_our_own_modules_says_why():
    """STYLE 14: an import inside a function hides an edge from a reader; it is allowed for
    a command's modules that another command never needs, with a comment saying so."""
    silent = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for target, line, inside in imports()[module_name(path)]:
            text = lines[line - 1]
            if inside and "#" not in text and "#" not in lines[line - 2]:
                silent.append(f"{path.relative_to(PACKAGE.parent)}:{line} {target}")
    assert not silent, "\n".join(sorted(set(silent)))
