"""Every public function and method of the pure models and metrics that takes an argument has a
numpydoc ``Parameters`` section (units in brackets)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASES = ("federates/factory", "federates/grid", "federates/dynamics", "cosim/metrics")
SKIP = (
    "federate.py",
    "transmission.py",
    "distribution.py",
    "frequency_federate.py",
    "adapter.py",
    "__init__.py",
)


def _args(fn: ast.FunctionDef) -> list[str]:
    names = [a.arg for a in fn.args.args] + [a.arg for a in fn.args.kwonlyargs]
    return [a for a in names if a not in ("self", "cls")]


def _lacks_parameters(fn: ast.FunctionDef) -> bool:
    return bool(_args(fn)) and "Parameters" not in (ast.get_docstring(fn) or "")


def _missing() -> list[str]:
    miss = []
    for base in BASES:
        for path in sorted((ROOT / base).glob("*.py")):
            if path.name in SKIP:
                continue
            rel = path.relative_to(ROOT)
            for node in ast.parse(path.read_text()).body:
                if getattr(node, "name", "_").startswith("_"):
                    continue
                if isinstance(node, ast.FunctionDef):
                    found = [(node.name, node)]
                elif isinstance(node, ast.ClassDef):
                    found = [
                        (f"{node.name}.{m.name}", m)
                        for m in node.body
                        if isinstance(m, ast.FunctionDef) and not m.name.startswith("_")
                    ]
                else:
                    continue
                miss += [f"{rel}:{name}" for name, fn in found if _lacks_parameters(fn)]
    return miss


def test_public_functions_document_parameters() -> None:
    assert _missing() == []
