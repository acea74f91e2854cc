"""Small-signal modes of a dynamic case at its initial operating point (``cosim modes``).

The dynamic grid of the case's ``[dynamics]`` section is built with the site at
its initial power (the factory's power in its first grid step, or the section's
``p_site0_mw`` / ``q_site0_mvar``) and linearised
(:func:`federates.dynamics.modes.modes`). Every oscillatory mode at or above
:data:`JUDGED_MIN_HZ` is judged against ``requirements.damping_min`` (default
5 %, assumed planning practice): the ``damping`` check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cosim.analysis.checks import Check, judge
from cosim.case import Case
from cosim.errors import CaseError
from federates.dynamics.config import DynamicsConfig
from federates.dynamics.model import DynamicGrid
from federates.dynamics.modes import Mode, modes

#: modes below this frequency [Hz] are governor / slow control modes, not judged
JUDGED_MIN_HZ = 0.1


def dynamic_grid(case: Case) -> DynamicGrid:
    """The dynamic grid of a case at its initial operating point (raises CaseError)."""
    from cosim.engine.federation import dynamics_params

    if not case.dynamic:
        raise CaseError(f"case {case.name!r} has no enabled [dynamics] section")
    cfg = DynamicsConfig.model_validate(dynamics_params(case))
    try:
        return DynamicGrid.from_config(cfg, base_dir=case.base_dir)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        raise CaseError(f"dynamics: {exc}", case.name) from None


def case_modes(case: Case) -> list[Mode]:
    """Oscillatory modes of the case's dynamic grid, lowest frequency first."""
    return modes(dynamic_grid(case))


def judged(found: list[Mode]) -> list[Mode]:
    """The modes the damping check judges (oscillatory, at or above :data:`JUDGED_MIN_HZ`)."""
    return [m for m in found if m.freq_hz >= JUDGED_MIN_HZ]


def damping_check(found: list[Mode], damping_min: float) -> Check:
    """``damping``: the least damped judged mode against ``damping_min`` [-]."""
    worst = min(judged(found), key=lambda m: m.damping_ratio, default=None)
    value = None if worst is None else worst.damping_ratio
    note = "no oscillatory mode at or above 0.1 Hz"
    if worst is not None:
        note = f"least damped: {worst.freq_hz:.3f} Hz ({worst.kind}), linearised at t = 0"
    return Check(
        id="damping",
        name="Damping of oscillatory modes (min)",
        value=value,
        limit=damping_min,
        unit="1",
        source="assumed planning practice (3-5 % is common); requirements.damping_min",
        passed=judge(value, damping_min, ">="),
        op=">=",
        basis="assessed",
        note=note,
        where=None if worst is None else max(worst.participation, key=worst.participation.get),
    )


def modes_json(found: list[Mode], check: Check, grid: DynamicGrid | None = None) -> dict[str, Any]:
    """Content of ``modes.json``: every oscillatory mode, the damping check and, with the grid,
    which machines run on typical dynamic data (and whose rating was assumed)."""
    out: dict[str, Any] = {"modes": [m.as_dict() for m in found], "checks": [check.as_dict()]}
    if grid is not None:
        out["dynamic_data"] = {
            "typical_machines": grid.typical_machines,
            "rating_assumed": grid.rating_assumed,
        }
    return out


def write_modes(case: Case, out_dir: Path) -> tuple[list[Mode], Check, Path]:
    """Compute the modes of ``case`` and write ``out_dir/modes.json``."""
    grid = dynamic_grid(case)
    found = modes(grid)
    check = damping_check(found, case.requirements.damping_min)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "modes.json"
    path.write_text(json.dumps(modes_json(found, check, grid), indent=2))
    return found, check, path


def modes_table(found: list[Mode], damping_min: float) -> str:
    """A terminal table of the modes (frequency, damping, kind, largest participants)."""
    lines = [f"{'f [Hz]':>8} {'damping':>8}  {'kind':<11} participation (largest)"]
    for m in found:
        top = sorted(m.participation.items(), key=lambda kv: -kv[1])[:3]
        part = ", ".join(f"{g} {v:.2f}" for g, v in top)
        flag = (
            "  < damping_min"
            if m.freq_hz >= JUDGED_MIN_HZ and m.damping_ratio < damping_min
            else ""
        )
        lines.append(f"{m.freq_hz:8.3f} {100 * m.damping_ratio:7.1f}%  {m.kind:<11} {part}{flag}")
    return "\n".join(lines)
