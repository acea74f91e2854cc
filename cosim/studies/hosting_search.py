"""The pure hosting-capacity search: judge one run, bisect over the factory size.

:func:`bisect_capacity` finds the largest passing size on the grid
``min_mw + k * tol_mw`` (plus ``max_mw``) with any evaluator; an evaluation of
a real run comes from its record (:func:`evaluation_from_record`). The
*binding constraint* of a failing run is its failing check with the largest
relative excess over its limit (:func:`violations`), located with the check's
own ``where`` / ``t_s`` or the summary's metrics (:data:`LOCATE`). No I/O, no
federation: :mod:`cosim.studies.hosting` runs the search on real runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cosim.errors import CaseError, CosimError


@dataclass(frozen=True)
class Violation:
    """A failing check of one run: which, by how much, where and when."""

    check: str
    value: Any = None
    limit: Any = None
    unit: str = ""
    where: str | None = None
    t_s: float | None = None
    source: str = ""
    excess: float = math.nan  # relative excess over the limit (0.1 = 10 % beyond)
    detail: str = ""  # e.g. why a run failed

    def describe(self) -> str:
        """``thermal: 104.2 % vs limit 100 % (line 45, t=1234 s)``."""
        text = self.check + (f": {self.detail}" if self.detail and self.value is None else "")
        if self.value is not None:
            text += (
                f": {format_number(self.value)} {self.unit}".rstrip()
                + f" vs limit {format_number(self.limit)} {self.unit}".rstrip()
            )
        place = ", ".join(
            p for p in (self.where, None if self.t_s is None else f"t={self.t_s:g} s") if p
        )
        return f"{text} ({place})" if place else text


@dataclass(frozen=True)
class Evaluation:
    """The outcome of one size: passed or not, and the failing checks (most severe first)."""

    it_mw: float
    passed: bool
    violations: tuple[Violation, ...] = ()
    run_id: str = ""
    error: str = ""
    poi_p_max_mw: float | None = None

    @property
    def binding(self) -> Violation | None:
        """The most severe violation (None when the size passed)."""
        return self.violations[0] if self.violations else None


@dataclass
class Capacity:
    """The result of one search.

    ``status`` is ``bracketed`` (capacity within ``tol_mw`` of the limit),
    ``below_range`` (even ``min_mw`` fails: capacity reported as 0) or
    ``above_range`` (``max_mw`` passes: capacity is at least ``max_mw``).
    """

    capacity_mw: float
    status: Literal["bracketed", "below_range", "above_range"]
    passing: Evaluation | None  # the largest passing size
    failing: Evaluation | None  # the smallest failing size (its violations bind)
    history: list[Evaluation] = field(default_factory=list)

    @property
    def binding(self) -> Violation | None:
        """What binds: the most severe violation at the smallest failing size."""
        return self.failing.binding if self.failing is not None else None


def size_grid(min_mw: float, max_mw: float, tol_mw: float) -> list[float]:
    """Sizes a search may try: ``min_mw + k * tol_mw`` below ``max_mw``, then ``max_mw``."""
    if not 0 < min_mw < max_mw:
        raise CaseError(f"hosting range: need 0 < min ({min_mw:g}) < max ({max_mw:g}) MW")
    if tol_mw <= 0:
        raise CaseError(f"hosting tolerance: {tol_mw:g} MW is not > 0")
    n = math.ceil((max_mw - min_mw) / tol_mw - 1e-9)
    return [round(min_mw + k * tol_mw, 6) for k in range(n)] + [float(max_mw)]


def bisect_capacity(
    evaluate: Callable[[float], Evaluation],
    min_mw: float,
    max_mw: float,
    tol_mw: float,
    *,
    prefetch: Callable[[Sequence[float]], None] | None = None,
) -> Capacity:
    """Largest size in ``[min_mw, max_mw]`` that passes, by bisection on :func:`size_grid`.

    ``evaluate(size)`` runs (or fakes) one size; each size is evaluated at most
    once. ``prefetch(sizes)`` is told up front that both ends will be needed, so
    an evaluator backed by a pool can run them at the same time.
    Evaluations: 2 + ceil(log2(number of grid intervals)) at most.
    """
    sizes = size_grid(min_mw, max_mw, tol_mw)
    history: list[Evaluation] = []
    cache: dict[int, Evaluation] = {}

    def at(k: int) -> Evaluation:
        if k not in cache:
            cache[k] = evaluate(sizes[k])
            history.append(cache[k])
        return cache[k]

    lo, hi = 0, len(sizes) - 1
    if prefetch is not None:
        prefetch([sizes[lo], sizes[hi]])
    if not at(lo).passed:
        return Capacity(0.0, "below_range", None, at(lo), history)
    if at(hi).passed:
        return Capacity(sizes[hi], "above_range", at(hi), None, history)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if at(mid).passed:
            lo = mid
        else:
            hi = mid
    return Capacity(sizes[lo], "bracketed", at(lo), at(hi), history)


def relative_excess(value: Any, limit: Any) -> float:
    """How far ``value`` lies beyond ``limit``, relative to it (a range ``[lo, hi]`` too).

    NaN when unknown.
    """
    try:
        v = float(value)
        if isinstance(limit, list | tuple) and len(limit) == 2:
            lo, hi = float(limit[0]), float(limit[1])
            if v < lo:
                return (lo - v) / abs(lo) if lo else lo - v
            return (v - hi) / abs(hi) if v > hi and hi else max(v - hi, 0.0)
        lim = float(limit)
    except (TypeError, ValueError):
        return math.nan
    return abs(v - lim) / abs(lim) if lim else abs(v)


#: where and when a failing check happened, as summary key paths (used when the check itself
#: carries no ``where`` / ``t_s``); "POI" / "BESS" name the place when no key does
LOCATE: dict[str, tuple[str, str | None]] = {
    "thermal": ("grid.loading_max_branch", "grid.loading_max_t_s"),
    "thermal_emergency": ("grid.loading_max_branch", "grid.loading_max_t_s"),
    "ramp": ("POI", "poi.ramp_max_t_s"),
    "rvc": ("POI", "poi.rvc_max_t_s"),
    "pf_lag": ("POI", None),
    "pf_lead": ("POI", None),
    "pst": ("POI", None),
    "plt": ("POI", None),
    "osc": ("POI", None),
    "scr": ("POI", None),
    "ride_through_recovery": ("POI", None),
    "soc_window": ("BESS", None),
    "soc_drift": ("BESS", None),
}


def _get(summary: Mapping[str, Any], path: str | None) -> Any:
    node: Any = summary
    for part in (path or "").split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def locate(check_id: str, summary: Mapping[str, Any]) -> tuple[str | None, float | None]:
    """Where and when check ``check_id`` was worst, from the summary's metrics (None: unknown)."""
    m = re.fullmatch(r"v_range_([ab])_(min|max)", check_id)
    if m:
        side = "low" if m[2] == "min" else "high"
        episodes = [
            e for e in _get(summary, f"grid.range_{m[1]}.episodes") or [] if e.get("kind") == side
        ]
        if episodes:
            worst = max(episodes, key=lambda e: e.get("excess") or 0.0)
            return worst.get("element"), worst.get("t_worst_s")
        return _get(summary, f"grid.v_{m[2]}_bus"), _get(summary, f"grid.v_{m[2]}_t_s")
    where_key, when_key = LOCATE.get(check_id, (None, None))
    if where_key == "POI":
        bus = _get(summary, "case.poi_bus")
        where = "POI" if bus is None else f"POI bus {bus}"
    elif where_key == "BESS":
        where = "BESS"
    else:
        where = _get(summary, where_key)
    return where, _get(summary, when_key)


def violations(summary: Mapping[str, Any], error: str = "") -> tuple[Violation, ...]:
    """The failing checks that decide the verdict, most severe (largest relative excess) first.

    Informational checks (``kind: info``) and checks that are not assessed (a
    ``screening`` proxy, or ``not assessed`` for lack of data) are left out, as the
    verdict leaves them out. Where and when come from
    the check (``where``, ``t_s``) or else from the summary's metrics
    (:func:`locate`). A run whose status is not ok gives the single violation
    ``run`` carrying the first line of its error.
    """
    if summary.get("status") != "ok" or error:
        reason = (error or (summary.get("run") or {}).get("reason") or "run failed").splitlines()[0]
        return (Violation("run", detail=reason),)
    found = _nonconverged(summary)
    for c in summary.get("checks") or []:
        if not isinstance(c, Mapping) or c.get("passed") is not False or c.get("kind") == "info":
            continue
        if c.get("basis", "assessed") != "assessed":  # screening / not assessed: never binding
            continue
        check_id = str(c.get("id") or c.get("name") or "?")
        where, t_s = locate(check_id, summary)
        where = c.get("where", where)
        t_s = c.get("t_s", t_s)
        found.append(
            Violation(
                check=check_id,
                value=c.get("value"),
                limit=c.get("limit"),
                unit=str(c.get("unit") or ""),
                where=None if where is None else str(where),
                t_s=None if t_s is None else float(t_s),
                source=str(c.get("source") or ""),
                excess=relative_excess(c.get("value"), c.get("limit")),
                detail=str(c.get("note") or ""),
            )
        )
    found.sort(key=lambda v: -v.excess if not math.isnan(v.excess) else math.inf)
    return tuple(found)


def _nonconverged(summary: Mapping[str, Any]) -> list[Violation]:
    """A power flow that did not converge is never a pass, whatever the verdict says.

    Without a converged power flow the voltage and thermal checks have no data
    (``not applicable``) and cannot fail, which a search toward voltage collapse
    would otherwise read as a pass.
    """
    steps = _get(summary, "grid.nonconverged_steps")
    per_net = steps if isinstance(steps, Mapping) else {"grid": steps}
    return [
        Violation(
            "power_flow_converged",
            value=int(n),
            limit=0,
            unit="steps",
            where=str(net),
            detail=f"power flow did not converge at {int(n)} grid steps",
            excess=math.inf,
        )
        for net, n in per_net.items()
        if isinstance(n, int | float) and n > 0
    ]


def evaluation_from_record(it_mw: float, record: Mapping[str, Any], run_id: str = "") -> Evaluation:
    """Judge one run's record (``{status, error, summary}``) for the search.

    Raises :class:`CosimError` when a run completed but its summary carries no
    verdict (the checks could not be evaluated), since the search would be blind.
    """
    summary = record.get("summary") or {}
    error = str(record.get("error") or "")
    ok = record.get("status") == "ok" and not error
    verdict = summary.get("verdict")
    if ok and verdict not in ("pass", "fail"):
        why = summary.get("summary_error", "no 'verdict' key")
        raise CosimError(
            f"run {run_id} has no verdict in its summary.json ({why}); "
            "hosting capacity needs the checks"
        )
    passed = ok and verdict == "pass" and not _nonconverged(summary)
    poi = summary.get("poi") if isinstance(summary.get("poi"), Mapping) else {}
    return Evaluation(
        it_mw=float(it_mw),
        passed=passed,
        violations=() if passed else violations(summary, error),
        run_id=run_id,
        error=error.splitlines()[0] if error else "",
        poi_p_max_mw=poi.get("p_max_mw"),
    )


def format_number(x: Any) -> str:
    """A float with 4 significant digits; anything else as ``str``."""
    return f"{x:.4g}" if isinstance(x, float) else str(x)
