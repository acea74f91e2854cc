"""Compare two runs: the delta of every numeric metric and the checks that changed.

A comparison is plain data (JSON-ready)::

    {"a": label, "b": label, "verdict": {"a": ..., "b": ...},
     "metrics": [{"metric": "poi.p_max_mw", "a": 300.0, "b": 280.0,
                  "delta": -20.0, "delta_percent": -6.67}, ...],
     "checks": [{"id", "name", "a_passed", "b_passed", "a_value", "b_value", "changed"}, ...]}

``delta = b - a``: with ``a`` the baseline (BESS off) and ``b`` the run with
the BESS, a negative delta of a ramp or an oscillation is what the BESS buys.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from cosim.analysis.jsonio import flatten, write_json

#: summary keys that are bookkeeping, not metrics
_SKIP = (
    "requirements",
    "checks",
    "notes",
    "case",
    "run",
    "n1.ranking",
    "n1.intact",
    "n1.snapshots",
    "ride_through.event_list",
    "bess.rainflow_depth_hist",
)


def flatten_metrics(summary: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a summary as ``{"poi.p_max_mw": value}`` (bools, text and lists left out).

    Parameters
    ----------
    summary : a summary
    prefix : prefix of every key

    Returns
    -------
    dict
        dotted key -> value; a nested metric that is null becomes NaN, so a metric
        one run has and the other lacks still shows up.
    """
    out: dict[str, float] = {}
    for key, value in flatten(summary, skip=_SKIP, prefix=prefix).items():
        nested = "." in key[len(prefix) :]
        if isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value):
                out[key] = float(value)
        elif value is None and nested:
            out[key] = math.nan
    return out


def compare_summaries(
    a: dict[str, Any], b: dict[str, Any], label_a: str = "A", label_b: str = "B"
) -> dict[str, Any]:
    """Deltas ``b - a`` of every numeric metric, and the checks whose outcome differs.

    Metrics present in only one summary (or null in one) are listed with a
    null value and a null delta. ``delta_percent`` is relative to ``|a|``
    (null when ``a`` is 0 or missing).
    """
    fa, fb = flatten_metrics(a), flatten_metrics(b)
    rows = []
    for key in sorted(set(fa) | set(fb)):
        va, vb = fa.get(key, math.nan), fb.get(key, math.nan)
        if math.isnan(va) and math.isnan(vb):
            continue
        delta = vb - va if not (math.isnan(va) or math.isnan(vb)) else None
        pct = 100.0 * delta / abs(va) if delta is not None and va != 0 else None
        rows.append(
            {"metric": key, "a": _none(va), "b": _none(vb), "delta": delta, "delta_percent": pct}
        )
    ca = {c.get("id", c.get("name")): c for c in a.get("checks") or []}
    cb = {c.get("id", c.get("name")): c for c in b.get("checks") or []}
    checks = []
    for cid in list(ca) + [k for k in cb if k not in ca]:
        x, y = ca.get(cid, {}), cb.get(cid, {})
        checks.append(
            {
                "id": cid,
                "name": y.get("name") or x.get("name"),
                "unit": y.get("unit") or x.get("unit"),
                "limit": y.get("limit", x.get("limit")),
                "a_value": x.get("value"),
                "b_value": y.get("value"),
                "a_passed": x.get("passed"),
                "b_passed": y.get("passed"),
                "changed": x.get("passed") != y.get("passed"),
            }
        )
    return {
        "a": label_a,
        "b": label_b,
        "verdict": {"a": a.get("verdict"), "b": b.get("verdict")},
        "metrics": rows,
        "checks": checks,
    }


def _none(x: float) -> float | None:
    return None if math.isnan(x) else x


def _load_summary(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "summary.json"
    old = json.loads(path.read_text()) if path.is_file() else {}
    if old.get("checks"):
        return old
    from cosim.analysis.summary import build_summary
    from cosim.engine.results import load_results

    results = load_results(run_dir)
    if not results.info:
        results.info = {"status": old.get("status", "unknown")}
    return build_summary(results, results.case)


def compare_runs(run_a: Path | str, run_b: Path | str) -> dict[str, Any]:
    """Compare two run directories (their summary.json; rebuilt when it lacks checks)."""
    a, b = Path(run_a), Path(run_b)
    return compare_summaries(_load_summary(a), _load_summary(b), str(a), str(b))


def _fmt(x: Any, width: int = 12) -> str:
    if x is None:
        return "n/a".rjust(width)
    if isinstance(x, bool):
        return str(x).rjust(width)
    if isinstance(x, float):
        return (f"{x:.4g}" if abs(x) < 1e6 else f"{x:.3e}").rjust(width)
    if isinstance(x, list):
        return (
            "[" + ", ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in x) + "]"
        ).rjust(width)
    return str(x).rjust(width)


def _passed(p: Any) -> str:
    return {True: "pass", False: "FAIL", None: "n/a"}.get(p, str(p))


def render_comparison(cmp: dict[str, Any], changed_only: bool = False) -> str:
    """The comparison as a text table (metrics, then checks).

    ``changed_only`` hides metrics whose delta is 0 and checks that did not change.
    """
    lines = [
        f"A: {cmp['a']}",
        f"B: {cmp['b']}",
        f"verdict: A {cmp['verdict']['a']}  ->  B {cmp['verdict']['b']}",
        "",
    ]
    width = max([len(r["metric"]) for r in cmp["metrics"]] + [6])
    lines.append(f"{'metric':<{width}} {'A':>12} {'B':>12} {'B - A':>12} {'%':>9}")
    for r in cmp["metrics"]:
        if changed_only and r["delta"] == 0:
            continue
        pct = "" if r["delta_percent"] is None else f"{r['delta_percent']:+.1f}"
        lines.append(
            f"{r['metric']:<{width}} {_fmt(r['a'])} {_fmt(r['b'])} {_fmt(r['delta'])} {pct:>9}"
        )
    lines += ["", f"{'check':<44} {'A':>6} {'B':>6}"]
    for c in cmp["checks"]:
        if changed_only and not c["changed"]:
            continue
        mark = "  <- changed" if c["changed"] else ""
        lines.append(
            f"{str(c['name'])[:44]:<44} {_passed(c['a_passed']):>6} "
            f"{_passed(c['b_passed']):>6}{mark}"
        )
    return "\n".join(lines)


def write_comparison_json(cmp: dict[str, Any], path: Path | str) -> Path:
    """Write a comparison as indented JSON."""
    return write_json(cmp, path)
