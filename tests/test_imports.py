"""No import cycles among the platform's own modules.

Why a test: a cycle works until someone imports the modules in the other order, and then fails
at import time with a half-initialised module; it also hides that two modules are one concern
split badly (geo/load.py and geo/projects.py imported each other). Every import counts, also
one inside a function (that is how the cycles were hidden). The graph is read from the source
with ``ast``, so the test imports nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("cli", "api", "geo", "layers")
LEVELS = {"cli": 3, "api": 2, "layers": 1, "geo": 0}
"""Data flows one way, cli → api → layers → geo: a module imports its own package or those
below it, never one above (the CLI may start the API; the API never runs a command)."""
SCRIPTS = ("data/samples",)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path)] = path
    return found


def imports_of(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that ``path`` imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                targets.add(full if full in modules else base)
    return {t for t in targets if t in modules and t != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_our_modules_import_each_other_without_cycles():
    modules = our_modules()
    graph = {name: imports_of(path, name, modules) for name, path in modules.items()}
    # Packages' __init__ import nothing of their own, so a module's package is no edge back.
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def upward(graph: dict[str, set[str]]) -> list[str]:
    """The imports of a module of a package above its own (``LEVELS``)."""
    level = {name: LEVELS[name.split(".")[0]] for name in graph}
    return sorted(f"{name} -> {target}" for name, targets in graph.items()
                  for target in targets if level.get(target, -1) > level[name])  # fmt: skip


def test_imports_flow_from_the_cli_down_to_the_store():
    modules = our_modules()
    assert {name.split(".")[0] for name in modules} == set(LEVELS)
    graph = {name: imports_of(path, name, modules) for name, path in modules.items()}
    assert upward(graph) == []


def test_the_direction_check_finds_an_import_upwards():
    graph = {"cli.main": {"api.app", "geo.db"}, "api.app": {"layers.maps"}, "layers.maps": set(),
             "geo.db": {"cli.main"}, "geo.load": {"layers.maps", "geo.db"}}  # fmt: skip
    assert upward(graph) == ["geo.db -> cli.main", "geo.load -> layers.maps"]


def test_scripts_use_the_platform_below_the_api():
    """Data scripts use geo and layers; none imports the CLI (cli/), which would pull the
    whole web app into a data script (data/samples/rasters.py did)."""
    for folder in SCRIPTS:
        for path in (REPO / folder).glob("*.py"):
            tree = ast.parse(path.read_text(), str(path))
            names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
            names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            assert not any(n and n.split(".")[0] == "cli" for n in names), path
