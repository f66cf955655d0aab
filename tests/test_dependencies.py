"""pyproject.toml declares exactly what the code imports.

Every third-party module kim_excel imports belongs to a declared runtime dependency, and
every runtime dependency is imported by kim_excel. The tests and benchmarks may import
runtime and test dependencies only. Import names are mapped to distributions through the
installed packages' metadata (``python-dateutil`` → ``dateutil``).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]

    def names(requirements: list[str]) -> set[str]:
        return {canonical(re.match(r"[A-Za-z0-9._-]+", r).group(0)) for r in requirements}

    return names(project["dependencies"]), names(project["optional-dependencies"]["test"])


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def imported(*folders: str) -> dict[str, set[str]]:
    """Top-level modules outside the standard library → the files importing them."""
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in (
                            "kim_excel", "tests", "benchmarks", "__future__"):
                        found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@cache
def installed() -> dict[str, list[str]]:
    return packages_distributions()


def distributions(modules) -> dict[str, set[str]]:
    by_module = installed()
    return {module: {canonical(d) for d in by_module.get(module, [module])}
            for module in modules}


def test_runtime_dependencies_are_exactly_what_kim_excel_imports():
    runtime, _ = declared()
    used = distributions(imported("kim_excel"))
    undeclared = {m: d for m, d in used.items() if not d & runtime}
    assert not undeclared, f"imported but not declared: {undeclared}"
    provided = set().union(*used.values())
    unused = runtime - provided
    assert not unused, f"declared but never imported by kim_excel: {sorted(unused)}"


def test_tests_and_benchmarks_import_only_declared_packages():
    runtime, test = declared()
    used = distributions(imported("tests", "benchmarks"))
    undeclared = {m: d for m, d in used.items() if not d & (runtime | test)}
    assert not undeclared, f"imported by tests but not declared: {undeclared}"


def test_pandas_is_neither_declared_nor_imported():
    runtime, test = declared()
    assert "pandas" not in runtime | test
    assert "pandas" not in imported("kim_excel", "tests", "benchmarks")


def test_the_checks_see_a_missing_declaration():
    """The mapping must work, or the checks above would pass on nothing."""
    used = distributions(imported("kim_excel"))
    assert used["dateutil"] == {"python-dateutil"}
    assert used["python_calamine"] == {"python-calamine"}
    assert "olefile" in used and "click" in used
    assert len(used) >= 10
