"""The layers point one way: ``cosim`` -> ``federates``, never back; no import circles;
no module over 600 lines; nothing points outside the repository."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cosim", "federates")
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            out[".".join(rel.parts).removesuffix(".__init__")] = path
    return out


def _imports(path: Path, module: str) -> set[str]:
    """Every module named by an import statement (typing-only imports included)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import
                base = module.rsplit(".", node.level)[0]
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_no_federates_module_imports_cosim() -> None:
    bad = {
        name: sorted(m for m in _imports(path, name) if m.split(".")[0] == "cosim")
        for name, path in _modules().items()
        if name.startswith("federates")
    }
    assert {k: v for k, v in bad.items() if v} == {}


def test_no_import_circles() -> None:
    mods = _modules()
    graph = {
        name: {m for m in _imports(path, name) if m in mods and m != name}
        for name, path in mods.items()
    }
    # a package's __init__ re-exporting its children is not a circle of modules
    for name in graph:
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert cycles == []


def test_no_module_over_600_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in _modules().values()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_nothing_points_outside_the_repository() -> None:
    pattern = re.compile(r"\.\./shared|shared/DOMAIN|DOMAIN\.md|\bDOMAIN\b")
    hits = []
    for path in ROOT.rglob("*"):
        if (
            ".git" in path.parts
            or not path.is_file()
            or path.suffix
            not in {
                ".py",
                ".md",
                ".toml",
                ".json",
                ".csv",
            }
        ):
            continue
        if path == Path(__file__):
            continue
        for i, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{i}")
    assert hits == []
