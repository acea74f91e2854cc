"""What the summary needs from the case's network alone: pre-connection state and grid strength.

:func:`network_context` loads the case's network without the site and computes,
once per network / POI / rating / requirements, what no run series can give:
the pre-connection bus voltages (so violations the network already has are
not charged to the site) and the short-circuit ratio at the POI.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cosim.analysis.frames import Sections, site_rating_mw
from cosim.analysis.requirements import RequirementsConfig
from cosim.metrics.grid_strength import ShortCircuitRatio


@dataclass
class NetworkContext:
    """What the summary needs from the case's network alone (not from the run's series).

    Attributes
    ----------
    net : the transmission network without the site (``grid.load_scale`` applied),
        or None when it did not load
    v_pre_pu : pre-connection bus voltages [pu] by bus id (empty unless
        ``requirements.voltage_preexisting = "attribute"``)
    scr : the short-circuit ratio at the POI, or None
    notes : one line per part that failed
    """

    net: Any = None
    v_pre_pu: dict[str, float] = field(default_factory=dict)
    scr: ShortCircuitRatio | None = None
    notes: list[str] = field(default_factory=list)


#: in-process cache (a sweep worker runs many cases on one network)
_CONTEXTS: dict[str, NetworkContext] = {}
_CONTEXTS_MAX = 4


def _context_key(case: Any) -> str | None:
    """What a :class:`NetworkContext` depends on; None when it cannot be cached."""
    try:
        spec = Path(case.grid.network).expanduser()
        path = spec if spec.is_absolute() else Path(case.base_dir) / spec
        stamp = path.stat().st_mtime_ns if spec.suffix and path.is_file() else None
        req = case.requirements
        return json.dumps(
            [
                case.grid.network,
                str(case.base_dir),
                stamp,
                case.grid.load_scale,
                int(case.factory.poi_bus),
                site_rating_mw(case),
                req.voltage_preexisting,
                req.short_circuit.model_dump(mode="json"),
            ],
            default=str,
        )
    except Exception:  # noqa: BLE001 - an uncacheable case is computed afresh
        return None


def network_context(case: Any, net: Any = None, *, cached: bool = False) -> NetworkContext:
    """Load the case's network and compute the pre-connection voltages and the SCR; never raises.

    It depends on the case's network, POI, site rating and requirements only, so
    :func:`cosim.engine.runner.run_case` computes it while the federation runs, reuses it
    for the baseline run, and keeps the last few in memory for the next runs of
    a sweep worker (``cached``). A cached network is shared: callers copy it
    before changing it.

    Parameters
    ----------
    case : the run's :class:`cosim.case.Case`, or None
    net : the network without the site (default: loaded from ``case.grid.network``)
    cached : reuse / keep the context in the in-process cache

    Returns
    -------
    NetworkContext
    """
    if case is None:
        return NetworkContext(net=net)
    key = _context_key(case) if net is None and cached else None
    if key is not None and key in _CONTEXTS:
        return _CONTEXTS[key]
    ctx = _compute_network_context(case, net)
    if key is not None and ctx.net is not None and not ctx.notes:
        while len(_CONTEXTS) >= _CONTEXTS_MAX:
            _CONTEXTS.pop(next(iter(_CONTEXTS)))
        _CONTEXTS[key] = ctx
    return ctx


def _compute_network_context(case: Any, net: Any) -> NetworkContext:
    ctx = NetworkContext(net=net)
    req: RequirementsConfig = case.requirements
    if ctx.net is None:
        try:
            from federates.grid.network import scaled_network

            ctx.net = scaled_network(case.grid.network, case.base_dir, case.grid.load_scale)
        except Exception as exc:  # noqa: BLE001 - SCR / N-1 / pre-existing checks are skipped
            ctx.notes.append(f"network not loaded for SCR / N-1 ({type(exc).__name__}: {exc})")
            return ctx
    sec = Sections()
    if req.voltage_preexisting == "attribute":
        sec.run(
            "pre-connection voltages", lambda: ctx.v_pre_pu.update(preconnection_voltages(ctx.net))
        )

    def scr() -> None:
        from cosim.metrics.grid_strength import short_circuit_ratio

        ctx.scr = short_circuit_ratio(
            ctx.net, int(case.factory.poi_bus), site_rating_mw(case) or 0.0, req.short_circuit
        )

    sec.run("scr", scr)
    ctx.notes += sec.notes
    return ctx


def preconnection_voltages(net: Any) -> dict[str, float]:
    """Bus voltages [pu] of the case's network without the site (one power flow).

    Parameters
    ----------
    net : pandapower network without the site (not modified)

    Returns
    -------
    dict
        bus id (text) -> voltage [pu].
    """
    import pandapower as pp

    pre = copy.deepcopy(net)
    pp.runpp(pre, numba=False)
    return {str(b): float(v) for b, v in pre.res_bus.vm_pu.items()}
