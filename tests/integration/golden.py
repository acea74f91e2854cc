"""The golden copy of the default case's summary.json: what is volatile, and how to compare.

The golden copy is ``tests/data/golden/ieee118_factory_summary.json``: the
summary of ``ieee118_factory`` over its full horizon (``outputs.report=false``)
without the fields that change from run to run on the same code (wall time,
host, process id, paths, timestamps, versions). Refresh it only when a change
of the physics or of the judgement is meant to change the summary:

    PYTHONPATH=. python -m tests.integration.golden
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "golden" / "ieee118_factory_summary.json"
CASE = "ieee118_factory"
#: top-level keys that change from run to run (``run`` holds host, pid, return codes, wall time)
VOLATILE_TOP = ("wall_s", "run")
#: keys that are volatile wherever they appear
VOLATILE_ANYWHERE = (
    "wall_s",
    "host",
    "host_pid",
    "pid",
    "timestamp",
    "started",
    "finished",
    "versions",
    "version",
    "out_dir",
    "run_dir",
    "path",
)
REL_TOL = 1e-9


def strip_volatile(summary: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``summary`` without the run-to-run volatile fields."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items() if k not in VOLATILE_ANYWHERE}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk({k: v for k, v in summary.items() if k not in VOLATILE_TOP})


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every difference between two JSON trees, key by key (floats to :data:`REL_TOL`)."""
    here = path or "<root>"
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = [f"{path}.{k}: missing".lstrip(".") for k in expected if k not in actual]
        out += [f"{path}.{k}: unexpected".lstrip(".") for k in actual if k not in expected]
        for k in expected:
            if k in actual:
                out += differences(expected[k], actual[k], f"{path}.{k}".lstrip("."))
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{here}: length {len(expected)} != {len(actual)}"]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += differences(e, a, f"{path}[{i}]")
        return out
    num = (int, float)
    if (
        isinstance(expected, num)
        and isinstance(actual, num)
        and not isinstance(expected, bool)
        and not isinstance(actual, bool)
    ):
        if math.isclose(float(expected), float(actual), rel_tol=REL_TOL, abs_tol=1e-12):
            return []
        return [f"{here}: {expected!r} != {actual!r}"]
    return [] if expected == actual else [f"{here}: {expected!r} != {actual!r}"]


def golden_summary() -> dict[str, Any]:
    """The stored golden copy."""
    return json.loads(GOLDEN.read_text())


def run_default(out_dir: Path) -> dict[str, Any]:
    """Run the default case over its full horizon and return its summary.json, stripped."""
    from cosim import run_case

    run_case(CASE, out_dir, outputs__report=False)
    return strip_volatile(json.loads((Path(out_dir) / "summary.json").read_text()))


def main(argv: list[str]) -> int:
    """Rerun the default case and overwrite the golden copy."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        summary = run_default(Path(tmp) / "run")
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
