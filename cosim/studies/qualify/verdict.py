"""A test's outcome: its checks (:class:`cosim.analysis.checks.Check`), a reason, figures, a cause.

A check passes when its value is on the allowed side of the limit or on it
(``<=`` / ``>=``, relative tolerance 1e-9 for float round-off; ``<`` is strict).
A value that could not be measured makes the check ``passed = None`` (not
judged) with a note; a test whose stimulus did not happen (e.g. no voltage dip
at the POI in a sag test) has the cause ``"stimulus"`` and is not judged either,
never a silent pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from cosim.analysis.checks import Check, judge
from cosim.studies.qualify.evidence import Figure
from cosim.studies.qualify.params import Value

Op = Literal["<=", ">=", "<"]


def check(
    check_id: str,
    name: str,
    value: float | None,
    th: Value,
    op: Op,
    *,
    limit: float | None = None,
    unit: str | None = None,
    note: str = "",
) -> Check:
    """A :class:`Check` of ``value`` against the parameter ``th`` (or a ``limit`` derived from it).

    Parameters
    ----------
    check_id : short identifier of the condition (``osc_rms``, ``load_loss`` ...)
    name : what is judged, in words
    value : the judged figure (unit ``unit``, else the parameter's); None or
        non-finite when it could not be measured (the check is then not judged)
    th : the parameter the limit comes from (its value, unit and source)
    op : ``"<="``, ``">="`` or ``"<"`` (strict)
    limit : a limit derived from ``th`` (e.g. a % of the rating turned into MW)
    unit : unit of ``value`` and ``limit`` when not the parameter's
    note : one line: how it was judged, or why not
    """
    lim = float(th.value) if limit is None else float(limit)
    v = None if value is None or not math.isfinite(float(value)) else float(value)
    return Check(
        id=check_id,
        name=name,
        value=v,
        limit=lim,
        unit=unit or th.unit,
        source=th.source,
        passed=judge(v, lim, op),
        op=op,
        note=note,
    )


def check_record(c: Check) -> dict[str, Any]:
    """A check as ``qualification.json`` writes it.

    The keys of :meth:`Check.as_dict` without the study-only ones (``kind``,
    ``basis``, ``where``, ``t_s``), plus ``op`` and ``threshold`` (the limit,
    under the name the report and earlier files use); non-finite numbers are None.
    """
    return {
        "id": c.id,
        "name": c.name,
        "value": num(c.value),
        "limit": num(c.limit),
        "threshold": num(c.limit),
        "op": c.op,
        "unit": c.unit,
        "source": c.source,
        "passed": c.passed,
        "note": c.note,
    }


@dataclass
class Verdict:
    """The outcome of one test: checks, reason, figures, and what caused a failure.

    ``cause`` is set by a criterion that can tell the failure is not the
    BESS's: ``"grid"`` (the network fails without the site too, or cannot
    carry it), ``"site"`` (the site's own mean load causes it) or
    ``"stimulus"`` (the test could not be applied). ``measures`` holds extra
    figures for the report and the shortfall analysis.
    """

    checks: list[Check]
    reason: str = ""
    figures: list[Figure] = field(default_factory=list)
    cause: str | None = None
    measures: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        """False when a check failed; None when one could not be judged; else True."""
        if self.cause == "stimulus":
            return None
        states = [c.passed for c in self.checks]
        if any(s is False for s in states):
            return False
        if not states or any(s is None for s in states):
            return None
        return True

    @property
    def governing(self) -> Check | None:
        """The check that decides.

        A failed (else unjudged) one, measured before unmeasured, furthest from
        its limit; else the tightest.
        """
        if not self.checks:
            return None
        return min(
            self.checks,
            key=lambda c: (c.passed is not False, c.passed is not None, c.value is None, c.margin),
        )


def num(x: Any) -> float | None:
    """``x`` as a finite float, else None."""
    if x is None or isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x) if math.isfinite(x) else None


def arr(x: Any) -> np.ndarray:
    """``x`` as a flat float array."""
    return np.asarray(x, dtype=float).reshape(-1)


def fmt(x: float | None, nd: int = 3) -> str:
    """``x`` with ``nd`` significant digits, or ``n/a``."""
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{nd}g}"


def reason_of(checks: list[Check]) -> str:
    """One line: each check's value against its limit and its state."""
    parts = []
    for c in checks:
        state = {True: "ok", False: "FAILS", None: "not judged"}[c.passed]
        parts.append(f"{c.name} {fmt(c.value)} {c.unit} vs {c.op} {fmt(c.limit)} ({state})")
    return "; ".join(parts)


def judged_window(t: np.ndarray, *xs: np.ndarray, start_s: float) -> tuple[np.ndarray, ...]:
    """``t`` and ``xs`` from ``t[0] + start_s`` on (all of them when nothing is left).

    Parameters
    ----------
    t : instants [s]
    xs : series on ``t``
    start_s : time after the first instant not judged (controller start-up) [s]
    """
    sel = t >= t[0] + start_s if t.size else np.zeros(0, dtype=bool)
    if t.size and not sel.any():
        sel = np.ones_like(t, dtype=bool)
    return (t[sel], *(x[sel] for x in xs))
