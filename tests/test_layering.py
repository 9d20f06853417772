"""The house's layering: no import cycle among the package's modules (Python and Cython), and
no import of the package's own modules hidden inside a function (graph tools and readers miss
those arrows)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import kospi_fast

#: The package as imported: the source tree, or an installed wheel (which ships the .py files
#: and the .pxd headers but not the .pyx sources: then only the Python arrows are checked).
PKG = Path(kospi_fast.__file__).resolve().parent
HAS_PYX = any(PKG.glob("*.pyx"))


def _module(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _targets(node: ast.AST, here: str, modules) -> list[str]:
    """What an import statement depends on: ``from x import m`` of a submodule ``x.m`` is an
    arrow to ``x.m``; ``from x import name`` of anything else an arrow to ``x``."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        base = node.module
        if node.level:
            base = ".".join(here.split(".")[: -node.level] + [node.module])
        return [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    return []


def _graph() -> tuple[dict[str, set[str]], list[str]]:
    modules = {_module(p): p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts}
    modules.update({_module(p): p for p in PKG.rglob("*.pyx")})
    graph: dict[str, set[str]] = {m: set() for m in modules}
    hidden: list[str] = []
    for mod, path in modules.items():
        src = path.read_text(encoding="utf-8")
        if path.suffix == ".pyx":  # Cython: top-level `import`/`from … import`/`cimport` lines
            for m in re.finditer(r"^from\s+(kospi_fast[\w.]*)\s+c?import\s+([\w, ]+)", src, re.M):
                base = m.group(1)
                for name in (x.strip() for x in m.group(2).split(",")):
                    graph[mod].add(f"{base}.{name}" if f"{base}.{name}" in modules else base)
            for m in re.finditer(r"^c?import\s+(kospi_fast[\w.]*)", src, re.M):
                graph[mod].add(m.group(1))
            continue
        tree = ast.parse(src)
        top = set(id(n) for n in tree.body)
        for node in ast.walk(tree):
            for t in _targets(node, mod, modules):
                if not t.startswith("kospi_fast"):
                    continue
                if id(node) not in top and not _in_type_checking(tree, node):
                    hidden.append(f"{path.relative_to(PKG.parent)}:{node.lineno} imports {t}")
                graph[mod].add(t)
    for mod in graph:  # keep only edges to modules of ours (`from x import name` adds x.name)
        graph[mod] = {t for t in graph[mod] if t in modules and t != mod}
    return graph, hidden


def _in_type_checking(tree: ast.Module, node: ast.AST) -> bool:
    for top in tree.body:
        if isinstance(top, ast.If) and "TYPE_CHECKING" in ast.unparse(top.test):
            if any(n is node for n in ast.walk(top)):
                return True
    return False


def test_no_function_level_imports_of_our_own_modules():
    _, hidden = _graph()
    assert hidden == []


def test_no_import_cycles():
    graph, _ = _graph()
    # the package root re-exports everything: edges *into* it are the only ones allowed to
    # close a loop through it, and no module of ours imports it
    assert not [m for m, ts in graph.items() if "kospi_fast" in ts and m != "kospi_fast"], \
        "a module imports the package root"
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycle = stack[stack.index(t):] + [t]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_graph_has_the_arrows_we_know():
    """The checker is not vacuous: it sees known arrows, Python and Cython alike."""
    graph, _ = _graph()
    assert {"kospi_fast.persist", "kospi_fast._session", "kospi_fast.state"} <= graph["kospi_fast.book"]
    assert "kospi_fast.book" not in graph["kospi_fast.persist"]
    if HAS_PYX:  # the source tree: Cython arrows too
        assert "kospi_fast._ticks" in graph["kospi_fast._family"]
        assert "kospi_fast._session" not in graph["kospi_fast._engine"]
