"""One check: a judged value against a limit, with where it comes from and what it rests on.

The same :class:`Check` serves the interconnection study's verdict
(``summary.json`` -> ``checks``) and the BESS qualification suite.

Every check states its **basis**:

* ``"assessed"``: the model behind it represents the phenomenon;
* ``"screening"``: a proxy (e.g. 1 s quasi-static voltage for flicker and rapid
  voltage change, or an aggregate frequency model);
* ``"not assessed"``: data is missing (e.g. a network without branch ratings);
  ``passed`` is then None.

A verdict counts only assessed checks and says how many others there were.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

Basis = Literal["assessed", "screening", "not assessed"]
BASES: tuple[Basis, ...] = ("assessed", "screening", "not assessed")
Op = Literal["<=", ">=", "<", "=="]
#: relative tolerance of a comparison against a limit
RTOL = 1e-9


@dataclass(frozen=True)
class Check:
    """One condition: ``value op limit``.

    Attributes
    ----------
    id : short identifier (``ramp``, ``thermal``, ``Q1.osc`` ...)
    name : what is judged, in words
    value : the judged figure (unit ``unit``), None when there is no data
    limit : the limit (a number, a ``(low, high)`` band or a word)
    unit : unit of ``value`` and ``limit``
    source : where the limit comes from
    passed : True / False, or None when not judged
    op : the comparison
    kind : ``"limit"`` decides the verdict; ``"info"`` is reported only
    basis : ``"assessed"``, ``"screening"`` or ``"not assessed"``
    note : one line: how it was judged, or why not
    where : the element (``network:bus``, a branch, ``"POI"``) of the judged value
    t_s : simulated time [s] of the judged value
    """

    id: str
    name: str
    value: Any
    limit: Any
    unit: str
    source: str
    passed: bool | None
    op: Op = "<="
    kind: Literal["limit", "info"] = "limit"
    basis: Basis = "assessed"
    note: str = ""
    where: str | None = None
    t_s: float | None = None

    def __post_init__(self) -> None:
        if self.basis not in BASES:
            raise ValueError(f"basis {self.basis!r} is not one of {BASES}")

    @property
    def decides(self) -> bool:
        """True when the check counts in the verdict: an assessed limit."""
        return self.kind == "limit" and self.basis == "assessed"

    @property
    def margin(self) -> float:
        """Relative distance to the limit, negative when failed (for ranking)."""
        v, lim = self.value, self.limit
        if not isinstance(v, int | float) or not isinstance(lim, int | float):
            return -math.inf
        if not math.isfinite(v):
            return -math.inf
        scale = max(abs(lim), 1e-12)
        d = (v - lim) if self.op == ">=" else (lim - v)
        return d / scale

    def with_(self, **changes: Any) -> Check:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The check as ``summary.json`` writes it."""
        return {
            "id": self.id,
            "name": self.name,
            "value": self.value,
            "limit": list(self.limit) if isinstance(self.limit, tuple) else self.limit,
            "unit": self.unit,
            "source": self.source,
            "passed": self.passed,
            "kind": self.kind,
            "basis": self.basis,
            "note": self.note,
            "where": self.where,
            "t_s": self.t_s,
        }


def judge(value: float | None, limit: float, op: Op) -> bool | None:
    """``value op limit`` with a :data:`RTOL` relative tolerance; None when there is no value.

    Parameters
    ----------
    value : the judged figure, or None
    limit : the limit, same unit
    op : ``"<="``, ``">="``, ``"<"`` (strict, tolerance against passing) or ``"=="``
    """
    if value is None or not math.isfinite(value):
        return None
    tol = RTOL * max(abs(limit), 1.0)
    if op == "<":
        return value < limit - tol
    if op == "==":
        return abs(value - limit) <= tol
    return value <= limit + tol if op == "<=" else value >= limit - tol


def verdict(checks: list[Check]) -> dict[str, Any]:
    """The verdict over the checks that decide it (assessed limits).

    Returns
    -------
    dict with ``verdict`` ("pass" / "fail" / "incomplete": an assessed limit
    could not be judged), ``assessed`` (how many decided), ``failed`` (ids),
    ``screening`` and ``not_assessed`` (how many others there were).
    """
    deciding = [c for c in checks if c.decides]
    failed = [c.id for c in deciding if c.passed is False]
    unjudged = [c.id for c in deciding if c.passed is None]
    return {
        "verdict": "fail" if failed else ("incomplete" if unjudged else "pass"),
        "assessed": len(deciding),
        "failed": failed,
        "unjudged": unjudged,
        "screening": sum(c.basis == "screening" for c in checks),
        "not_assessed": sum(c.basis == "not assessed" for c in checks),
    }
