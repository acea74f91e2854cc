"""What the summary needs from the case's networks alone: pre-connection state, ratings, SCR.

:func:`network_context` loads the case's networks without the site and computes,
once per network / POI / rating / requirements, what no run series can give:

* the pre-connection bus voltages and branch loadings of the transmission
  network and of the distribution feeder (so violations a network already has
  are not charged to the site). The feeder is solved alone, its slack at the
  transmission's pre-connection voltage of the substation bus; when the case
  adds a substation transformer (whose controls set the feeder's voltage) the
  feeder's state is not computed and every feeder element counts, with a remark;
* whether each network's branch ratings can be trusted (:func:`ratings_status`);
* the short-circuit ratio at the POI, and the ESCR / WSCR with the inverter
  plants near it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cosim.analysis.frames import Sections, site_rating_mw
from cosim.analysis.requirements import RequirementsConfig
from cosim.metrics.grid_strength import InverterInteraction, ShortCircuitRatio

RatingsStatus = Literal["file", "assumed", "none"]
#: the worse of two ratings statuses wins when networks are combined
RATINGS_ORDER: tuple[RatingsStatus, ...] = ("file", "assumed", "none")


@dataclass(frozen=True)
class Ratings:
    """Whether a network's branch ratings can be trusted.

    Attributes
    ----------
    status : ``"file"`` (real ratings from the network data), ``"assumed"``
        (ratings the project assumed) or ``"none"`` (no usable ratings)
    reason : one line: why
    unrated : branches (``"line.3"``) whose rating is not usable; they are not judged
    """

    status: RatingsStatus = "file"
    reason: str = ""
    unrated: tuple[str, ...] = ()


@dataclass
class NetworkContext:
    """What the summary needs from the case's networks alone (not from the run's series).

    Attributes
    ----------
    net : the transmission network without the site (``grid.load_scale`` applied),
        or None when it did not load
    v_pre_pu : pre-connection bus voltages [pu] of the transmission network by bus id
        (empty unless ``requirements.voltage_preexisting = "attribute"``)
    v_pre_by_network : the same for every network (``"transmission"``, ``"distribution"``)
    loading_pre_percent : pre-connection branch loadings [% of rating] by network and
        branch (``{"transmission": {"line.3": 87.0}}``; empty unless
        ``requirements.thermal_preexisting = "attribute"``)
    ratings : :class:`Ratings` by network
    scr : the short-circuit ratio at the POI, or None
    interaction : ESCR / WSCR with the inverter plants near the POI, or None
    notes : one line per part that failed
    remarks : one line per simplification the summary should state (not a failure)
    loaded : the network loaded (``net`` may still be None: a context computed in a
        child process, :func:`network_context_apart`, does not carry the network)
    """

    net: Any = None
    v_pre_pu: dict[str, float] = field(default_factory=dict)
    v_pre_by_network: dict[str, dict[str, float]] = field(default_factory=dict)
    loading_pre_percent: dict[str, dict[str, float]] = field(default_factory=dict)
    ratings: dict[str, Ratings] = field(default_factory=dict)
    scr: ShortCircuitRatio | None = None
    interaction: InverterInteraction | None = None
    notes: list[str] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    loaded: bool = False


def ratings_status(net: Any) -> tuple[RatingsStatus, str, list[str]]:
    """``(status, reason, unrated_branches)`` of a network's branch ratings.

    The judgement is :func:`federates.grid.ratings.ratings_status`: every
    branch rating compared with what its voltage class can carry.

    Parameters
    ----------
    net : pandapower network

    Returns
    -------
    status : ``"file"``, ``"assumed"`` or ``"none"``
    reason : one line
    unrated_branches : branches (``"line.3"``, ``"trafo.1"``) without a usable rating
    """
    from federates.grid.ratings import ratings_status as judge

    status, reason, unrated = judge(net)
    return status, str(reason), [str(b) for b in unrated]


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
                req.thermal_preexisting,
                req.short_circuit.model_dump(mode="json"),
                case.distribution.model_dump(mode="json") if case.distribution else None,
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
    if getattr(case, "dynamic", False):  # the transmission network is the dynamic case's
        return NetworkContext(net=net, notes=["SCR and N-1 not computed on a dynamic case"])
    key = _context_key(case) if net is None and cached else None
    if key is not None and key in _CONTEXTS:
        return _CONTEXTS[key]
    ctx = _compute_network_context(case, net)
    if key is not None and ctx.net is not None and not ctx.notes:
        while len(_CONTEXTS) >= _CONTEXTS_MAX:
            _CONTEXTS.pop(next(iter(_CONTEXTS)))
        _CONTEXTS[key] = ctx
    return ctx


def network_context_apart(case: Any) -> NetworkContext:
    """:func:`network_context` computed in a child process, without the network itself.

    Loading pandapower and the network costs the supervising process ~200 MB
    that it would keep for the rest of the run; a child process returns only
    the figures (``net`` None, ``loaded`` True). When the summary needs the
    network afterwards (``requirements.n1_screening``), for a dynamic case, or
    when no child process can be started, it is computed here
    (``network_context(case, cached=True)``). Kept in the in-process cache too.

    Parameters
    ----------
    case : the run's :class:`cosim.case.Case`, or None

    Returns
    -------
    NetworkContext
    """
    from cosim.engine.apart import call_apart

    if not _computed_apart(case):
        return network_context(case, cached=True)
    key = _apart_key(case)
    if key is not None and key in _CONTEXTS:
        return _CONTEXTS[key]
    try:
        ctx = call_apart(_context_without_network, case)
    except Exception:  # noqa: BLE001 - the child failed (not the context: it never raises)
        return network_context(case, cached=True)
    if key is not None and ctx.loaded and not ctx.notes:
        while len(_CONTEXTS) >= _CONTEXTS_MAX:
            _CONTEXTS.pop(next(iter(_CONTEXTS)))
        _CONTEXTS[key] = ctx
    return ctx


def _computed_apart(case: Any) -> bool:
    """Whether :func:`network_context_apart` computes the case's context in a child: not
    without a case, for a dynamic case or with N-1 screening (the summary needs the
    network), nor for a short run (in process: its memory is small)."""
    from cosim.engine.apart import worth_apart

    if case is None or getattr(case, "dynamic", False) or case.requirements.n1_screening:
        return False
    return worth_apart(case)


def _apart_key(case: Any) -> str | None:
    """The cache key of a context computed apart (None: it cannot be cached)."""
    key = _context_key(case)
    return None if key is None else "apart:" + key


def _context_without_network(case: Any) -> NetworkContext:
    return dataclasses.replace(network_context(case), net=None)


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
    ctx.loaded = True
    sec = Sections()
    sec.run("ratings", lambda: ctx.ratings.update(transmission=Ratings(*_ratings(ctx.net))))
    sec.run("pre-connection state", lambda: _preconnection(ctx, "transmission", ctx.net, req))
    ctx.v_pre_pu = ctx.v_pre_by_network.get("transmission", {})
    if case.distribution is not None:
        sec.run("feeder pre-connection state", lambda: _feeder(ctx, case, req))

    def scr() -> None:
        from cosim.metrics.grid_strength import inverter_interaction, short_circuit_ratio

        bus, rating = int(case.factory.poi_bus), site_rating_mw(case) or 0.0
        ctx.scr = short_circuit_ratio(ctx.net, bus, rating, req.short_circuit)
        ctx.interaction = inverter_interaction(ctx.net, bus, rating, req.short_circuit)

    if case.distribution is None or not case.distribution.hosts_factory:
        sec.run("scr", scr)
    ctx.notes += sec.notes
    return ctx


def _ratings(net: Any) -> tuple[RatingsStatus, str, tuple[str, ...]]:
    status, reason, unrated = ratings_status(net)
    return status, reason, tuple(unrated)


def _preconnection(ctx: NetworkContext, name: str, net: Any, req: RequirementsConfig) -> None:
    attribute_v = req.voltage_preexisting == "attribute"
    attribute_t = req.thermal_preexisting == "attribute"
    if not (attribute_v or attribute_t):
        return
    volts, loads = preconnection_state(net)
    if attribute_v:
        ctx.v_pre_by_network[name] = volts
    if attribute_t:
        ctx.loading_pre_percent[name] = loads


def _feeder(ctx: NetworkContext, case: Any, req: RequirementsConfig) -> None:
    from federates.grid.network import scaled_network

    dist = case.distribution
    feeder = scaled_network(
        dist.network, case.base_dir, dist.load_scale, key="distribution.network"
    )
    ctx.ratings["distribution"] = Ratings(*_ratings(feeder))
    if dist.substation_transformer is not None:  # its controls set the feeder's operating point
        ctx.remarks.append(
            "feeder pre-connection state not computed (the case's substation transformer and "
            "its controls set the feeder's voltage): every feeder bus and branch is judged "
            "against its limit"
        )
        return
    v_sub = ctx.v_pre_pu.get(str(dist.substation_bus))
    if v_sub is not None and len(feeder.ext_grid):
        feeder.ext_grid["vm_pu"] = v_sub
    _preconnection(ctx, "distribution", feeder, req)


def preconnection_voltages(net: Any) -> dict[str, float]:
    """Bus voltages [pu] of a network without the site (one power flow).

    Parameters
    ----------
    net : pandapower network without the site (not modified)

    Returns
    -------
    dict
        bus id (text) -> voltage [pu].
    """
    return preconnection_state(net)[0]


def preconnection_state(net: Any) -> tuple[dict[str, float], dict[str, float]]:
    """Bus voltages [pu] and branch loadings [% of rating] of a network without the site.

    One power flow (pandapower). Loadings cover lines and two- and three-winding
    transformers, named as the recorded columns (``"line.3"``, ``"trafo.1"``).

    Parameters
    ----------
    net : pandapower network without the site (not modified)

    Returns
    -------
    voltages : bus id (text) -> voltage [pu]
    loadings : branch -> loading [% of rating]
    """
    import pandapower as pp

    pre = copy.deepcopy(net)
    pp.runpp(pre, numba=False, enforce_q_lims=True)
    volts = {str(b): float(v) for b, v in pre.res_bus.vm_pu.items()}
    loads: dict[str, float] = {}
    for kind in ("line", "trafo", "trafo3w"):
        res = getattr(pre, f"res_{kind}", None)
        if res is not None and len(res) and "loading_percent" in res:
            loads.update(
                {f"{kind}.{i}": float(v) for i, v in res["loading_percent"].items() if v == v}
            )
    return volts, loads


def known_contexts(cases: Iterable[Any]) -> dict[str, NetworkContext]:
    """The network contexts the runs of ``cases`` compute apart, computed in this process.

    For a study's own process, which has loaded the networks to check them: its
    workers are handed the result (:func:`learn_contexts`) instead of each
    computing the same context in its apart child during its first run (0.4 s of
    CPU on PGLib 118). Only what :func:`network_context_apart` would compute in a
    child and keep: without the network, complete (no notes).
    """
    known: dict[str, NetworkContext] = {}
    for case in cases:
        key = _apart_key(case) if _computed_apart(case) else None
        if key is None or key in known:
            continue
        ctx = _context_without_network(case)
        if ctx.loaded and not ctx.notes:
            known[key] = ctx
    return known


def learn_contexts(known: dict[str, NetworkContext]) -> None:
    """Use contexts computed by another process (:func:`known_contexts`)."""
    _CONTEXTS.update(known)
