"""The project's own import graph, read from the source (no module is imported).

Every ``import asrloop...`` and ``from asrloop... import`` counts, at module level or inside a
function (the project imports heavy modules lazily, and a lazy import is still code the step
runs), and so do relative imports. Used for the pipeline's code dependencies
(:mod:`asrloop.stages`) and by the architecture tests (layers, circles).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from asrloop.commands import step_module

PACKAGE = "asrloop"


def module_name(path: Path, source: Path) -> str:
    """``src/asrloop/model/conformer.py`` -> ``asrloop.model.conformer``."""
    parts = path.relative_to(source).with_suffix("").parts
    name = ".".join((PACKAGE, *parts))
    return name.removesuffix(".__init__")


def module_files(source: Path) -> dict[str, Path]:
    """Every module of the package under ``source`` (``src/asrloop``), by dotted name."""
    return {module_name(path, source): path for path in sorted(source.rglob("*.py"))}


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imported(tree: ast.Module, module: str, is_package: bool) -> Iterable[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(node, module, is_package)
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)  # submodules


@cache
def import_graph(source: Path) -> dict[str, frozenset[str]]:
    """``{module: modules of the project it imports}`` (names that are not modules dropped)."""
    files = module_files(source)
    graph = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"
        names = {n for n in _imported(tree, module, is_package) if n.startswith(PACKAGE)}
        graph[module] = frozenset(n for n in names if n in files and n != module)
    return graph


def parents(module: str) -> list[str]:
    """The packages a module's import runs first: ``asrloop.a.b`` -> ``asrloop``, ``asrloop.a``."""
    parts = module.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]


def closure(start: str, source: Path) -> set[str]:
    """Every project module that importing ``start`` (and calling its code) may load."""
    graph = import_graph(source)
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module in seen or module not in graph:
            continue
        seen.add(module)
        todo += [*graph[module], *(p for p in parents(module) if p in graph)]
    return seen


def _collapsed(files: set[Path], source: Path) -> list[Path]:
    """Folders whose every module is in ``files`` stand for their files (shortest list)."""
    out: list[Path] = []

    def visit(folder: Path) -> None:
        every = sorted(folder.rglob("*.py"))
        if every and all(f in files for f in every) and folder != source:
            out.append(folder)
            return
        out.extend(f for f in sorted(folder.glob("*.py")) if f in files)
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and p.name != "__pycache__"):
            visit(sub)

    visit(source)
    return sorted(out)


def code_dependencies(command: str, source: Path) -> list[Path]:
    """The source files (or whole folders) the step of ``command`` runs."""
    files = module_files(source)
    return _collapsed({files[m] for m in closure(step_module(command), source)}, source)
