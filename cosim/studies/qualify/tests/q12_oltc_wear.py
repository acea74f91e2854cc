"""Q12, OLTC wear: 24 h with an on-load tap changer, with and without the BESS.

Pass when the BESS reduces the tap operations (ratio with / without below 1;
``docs/domain.md``, "Qualification test profiles", Q12).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cosim.studies.qualify.evidence import Figure, Panel
from cosim.studies.qualify.params import Param, Value
from cosim.studies.qualify.tests.base import (
    SUITE_THRESHOLDS,
    Context,
    Frames,
    QualTest,
    RunPlan,
    common_overrides,
    stimulus,
)
from cosim.studies.qualify.verdict import Verdict, arr, check, fmt, reason_of

PARAMS: tuple[Param, ...] = (
    Param(
        "tap_ratio_max",
        1.0,
        "1",
        f"{SUITE_THRESHOLDS} Q12 (tap operations reduced: ratio strictly below)",
        "tap operations with BESS / without must be below this",
    ),
    stimulus("grid_dt_s", 5.0, "s", "assumed (OLTC delays are tens of seconds)", "grid step"),
    stimulus(
        "settle_s",
        300.0,
        "s",
        "assumed (the OLTC's first moves from its initial tap are set-up)",
        "tap operations before this are not counted",
    ),
)


def plan(ctx: Context) -> list[RunPlan]:
    """Runs ``main`` and ``baseline`` (BESS off), the site behind a POI transformer with an OLTC."""
    case = ctx.spec.case()
    extra: dict[str, Any] = {"horizon.grid_dt_s": ctx.v("grid_dt_s"), "outputs.high_rate": False}
    if case.grid.poi_transformer is None or case.grid.poi_transformer.oltc is None:
        # the site behind its own step-down transformer with the grid model's default OLTC,
        # unless the spec has one
        extra["grid.poi_transformer"] = {"oltc": {"trafo": "poi"}}
        ctx.info["oltc"] = "POI step-down transformer added with the grid model's default OLTC"
    return [
        RunPlan("main", common_overrides(ctx, **extra)),
        RunPlan("baseline", common_overrides(ctx, **extra, **{"bess.enabled": False})),
    ]


def tap_operations(
    res: Any, settle_s: float = 0.0
) -> tuple[int | None, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Tap operations after ``settle_s`` [s] (the first moves from the initial tap are set-up,
    not wear), and up to two tap-position series per network for the figure."""
    from cosim.metrics.wear import tap_operations as count

    total, series = None, {}
    for name in ("transmission", "distribution"):
        df = res.frame(name)
        if not len(df):
            continue
        df = df[df["t_s"] >= df["t_s"].iloc[0] + settle_s]
        r = count(df)
        if r["tap_ops"] is not None:
            total = (total or 0) + r["tap_ops"]
            for col in [c for c in df.columns if str(c).startswith("tap_pos.")][:2]:
                series[f"{name} {col}"] = (df["t_s"].to_numpy(float), df[col].to_numpy(float))
    return total, series


def evaluate(ctx: Context, runs: Frames) -> Verdict:
    settle = float(ctx.v("settle_s"))
    w, sw = tap_operations(runs["main"], settle)
    wo, swo = tap_operations(runs["baseline"], settle)
    series = {f"with BESS: {k}": v for k, v in sw.items()} | {
        f"without: {k}": v for k, v in swo.items()
    }
    return tap_ratio(w, wo, ctx.values, series)


def tap_ratio(
    taps_with: int | None,
    taps_without: int | None,
    th: Mapping[str, Value],
    series: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> Verdict:
    """Q12: OLTC tap operations with the BESS / without < ``tap_ratio_max`` (1: reduced).

    Not judged when the network records no taps or when, without the BESS,
    no tap moved (nothing to reduce).

    Parameters
    ----------
    taps_with, taps_without : tap operations counted in each run
    th : the test's parameters
    series : tap positions ``label -> (t_s, position)`` for the figure
    """
    ratio: float | None = None
    cause = None
    note = f"{taps_with} with BESS, {taps_without} without"
    if taps_with is None or taps_without is None:
        cause, note = "stimulus", "the network records no tap positions (no OLTC in the case)"
    elif taps_without == 0:
        cause, note = "stimulus", "no tap operation without the BESS: nothing to reduce"
    else:
        ratio = taps_with / taps_without
    c = check(
        "tap_ratio",
        "tap operations with / without BESS",
        ratio,
        th["tap_ratio_max"],
        "<",
        note=note,
    )
    figs = []
    if series:
        p = Panel("tap position", xlabel="t [h]")
        for label, (t, x) in series.items():
            p.add(label, arr(t) / 3600.0, x, step=True)
        figs.append(
            Figure("q12", "OLTC tap position", [p], f"Tap operations: {note}; ratio {fmt(ratio)}.")
        )
    return Verdict(
        [c],
        reason_of([c]),
        figs,
        cause=cause,
        measures={"taps_with": taps_with, "taps_without": taps_without, "ratio": ratio},
    )


TEST = QualTest(
    "Q12",
    "OLTC wear",
    "24 h with OLTC, with vs without the BESS",
    "tap operations with / without < 1 (reduced)",
    "strong",
    86400.0,
    1800.0,
    PARAMS,
    plan,
    evaluate,
    None,
)
