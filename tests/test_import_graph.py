"""The package import graph: no cycle between packages, and arrows only run downward (DESIGN §3).

The imports of every module under ``src/instructmine`` are read with ``ast`` (nothing is
imported or executed), lazy imports inside functions included: they are arrows too. A node is
a top-level package or module (``select``, ``fingerprint``, ...).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from shared_paths import REPO

SRC = REPO / "src" / "instructmine"

#: The core: nothing here may import the stages above it.
CORE = ("stage", "fingerprint", "atomic", "storage", "schema", "io", "indicators", "models")
CORE += ("run_dir", "execute")
ABOVE_CORE = ("train", "select", "search", "rule")

#: (from, to) arrows that point up: the core into a stage, select into the size search built on
#: it, the rule into selection, the proxy harness into the packages that use it.
FORBIDDEN = {(low, high) for low in CORE for high in ABOVE_CORE}
FORBIDDEN |= {("select", "search"), ("rule", "select")}
FORBIDDEN |= {("proxy", user) for user in ("rule", "select", "search")}


def _module_parts(path: Path, root: Path) -> list[str]:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imported(node: ast.AST, parts: list[str], is_package: bool) -> list[str]:
    """Dotted names an import statement refers to (relative ones resolved)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = parts if is_package else parts[:-1]
        base = base[: len(base) - (node.level - 1)]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    return [module] + [f"{module}.{a.name}" for a in node.names]


def import_graph(root: Path = SRC) -> dict[tuple[str, str], set[str]]:
    """``(from node, to node) -> files`` for every import between two top-level nodes."""
    edges: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in sorted(root.rglob("*.py")):
        parts = _module_parts(path, root)
        here = parts[1] if len(parts) > 1 else None
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for name in _imported(node, parts, path.name == "__init__.py"):
                target = name.split(".")
                if target[0] == root.name and len(target) > 1 and target[1] != here:
                    edges[(here, target[1])].add(str(path.relative_to(root)))
    return edges


def cycles(edges: dict[tuple[str, str], set[str]]) -> list[list[str]]:
    """Groups of nodes that reach each other (strongly connected, more than one node)."""
    succ: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        succ[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(set(succ) | {b for _, b in edges}):
        if v not in index:
            visit(v)
    return found


def problems(root: Path = SRC) -> list[str]:
    """One line per package cycle and per forbidden arrow, naming the files that import."""
    edges = import_graph(root)
    out = []
    for group in cycles(edges):
        arrows = [
            f"{a} -> {b} ({', '.join(sorted(edges[(a, b)]))})"
            for a in group
            for b in group
            if (a, b) in edges
        ]
        out.append(f"package cycle {' <-> '.join(group)}: " + "; ".join(arrows))
    for a, b in sorted(set(edges) & FORBIDDEN):
        out.append(f"upward arrow {a} -> {b}: {', '.join(sorted(edges[(a, b)]))}")
    return out


def test_no_package_cycle_and_no_upward_arrow():
    found = problems()
    assert not found, "\n".join(found)


def test_the_walk_sees_real_arrows():
    edges = import_graph()
    assert ("select", "proxy") in edges  # select-compare's proxy fit (a lazy import)
    assert ("search", "select") in edges  # the size search sits on top of select
    assert ("train", "run_dir") in edges and ("models", "run_dir") in edges
    assert len(edges) > 50


def test_a_cycle_and_an_upward_arrow_are_caught(tmp_path):
    pkg = tmp_path / "instructmine"
    for name, text in {
        "__init__.py": "",
        "fingerprint.py": "def f():\n    from instructmine.train.run import x\n",
        "train/__init__.py": "from .run import x\n",
        "train/run.py": "from instructmine import fingerprint\nx = 1\n",
        "select/__init__.py": "",
        "select/walk.py": "from ..search import objective\n",
        "search/__init__.py": "",
        "search/objective.py": "import instructmine.select.walk\n",
    }.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text)
    found = problems(pkg)
    assert any(p.startswith("package cycle fingerprint <-> train") for p in found), found
    assert any(p.startswith("package cycle search <-> select") for p in found), found
    assert "upward arrow fingerprint -> train: fingerprint.py" in found
    assert "upward arrow select -> search: select/walk.py" in found
    assert len(found) == 4
