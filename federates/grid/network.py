"""Networks of a case: loading by name or file, attaching the factory, checks (pure, no helics).

Readers live here, at the edge: :func:`load_network` returns a pandapower net
for a bundled name (:data:`NETWORKS`, each with its source), a SimBench code
(``1-MV-rural--0-sw``; needs the ``simbench`` package), a pandapower JSON
file, a MATPOWER ``.m`` / ``.mat`` file (pandapower's converter) or a PSS/E RAW
file (:mod:`federates.grid.psse_raw`, versions 32-34). Problems
are :class:`federates.errors.ConfigError` with one line each.
"""

from __future__ import annotations

import contextlib
import json
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandapower as pp
import pandapower.networks as pn

from federates.errors import ConfigError

if TYPE_CHECKING:
    from federates.grid.config import PoiTransformerConfig, TransformerConfig


@dataclass(frozen=True)
class NetworkInfo:
    """A bundled network: how to build it and where it comes from."""

    build: Callable[[], pp.pandapowerNet]
    source: str
    kind: str  # "transmission" or "distribution"


_MATPOWER = "MATPOWER case file via pandapower.networks"


def _pglib_case118() -> pp.pandapowerNet:
    from federates.grid.pglib import PGLIB_CASE118_JSON

    return pp.from_json(str(PGLIB_CASE118_JSON))


NETWORKS: dict[str, NetworkInfo] = {
    "case9": NetworkInfo(pn.case9, f"WSCC 9-bus (Anderson & Fouad); {_MATPOWER}", "transmission"),
    "case14": NetworkInfo(
        pn.case14, f"IEEE 14-bus test case (UW archive); {_MATPOWER}", "transmission"
    ),
    "case30": NetworkInfo(
        pn.case30, f"IEEE 30-bus test case (UW archive); {_MATPOWER}", "transmission"
    ),
    "case39": NetworkInfo(
        pn.case39, f"IEEE 39-bus New England (Athay et al. 1979); {_MATPOWER}", "transmission"
    ),
    "case57": NetworkInfo(
        pn.case57, f"IEEE 57-bus test case (UW archive); {_MATPOWER}", "transmission"
    ),
    "case118": NetworkInfo(
        pn.case118, f"IEEE 118-bus test case (UW archive); {_MATPOWER}", "transmission"
    ),
    "pglib_case118": NetworkInfo(
        _pglib_case118,
        "IEEE 118-bus from PGLib-OPF v23.07 (IEEE PES task force on benchmarks, CC BY 4.0) with "
        "thermal ratings and generator limits; pandapower AC-OPF dispatch "
        "(federates.grid.pglib)",
        "transmission",
    ),
    "case1354pegase": NetworkInfo(
        pn.case1354pegase,
        f"PEGASE 1354-bus European HV (Josz et al. 2016, Fliscounakis et al. 2013); {_MATPOWER}",
        "transmission",
    ),
    "case33bw": NetworkInfo(
        pn.case33bw,
        "IEEE 33-bus feeder, Baran & Wu, IEEE Trans. Power Delivery 4(2), 1989; "
        "pandapower.networks.case33bw",
        "distribution",
    ),
    "cigre_mv": NetworkInfo(
        lambda: pn.create_cigre_network_mv(with_der=False),
        "CIGRE TB 575 (2014) MV benchmark, European "
        "configuration; pandapower.networks.create_cigre_network_mv",
        "distribution",
    ),
    "cigre_hv": NetworkInfo(
        pn.create_cigre_network_hv,
        "CIGRE TB 575 (2014) HV transmission benchmark; "
        "pandapower.networks.create_cigre_network_hv",
        "transmission",
    ),
}
ALIASES = {
    "ieee9": "case9",
    "ieee14": "case14",
    "ieee30": "case30",
    "ieee39": "case39",
    "ieee57": "case57",
    "ieee118": "case118",
    "pglib118": "pglib_case118",
    "pegase1354": "case1354pegase",
    "ieee33": "case33bw",
}
SIMBENCH_CODE = re.compile(r"^\d-(EHV|HV|MV|LV)(-[A-Za-z0-9]+)*--\d-(sw|no_sw)$", re.IGNORECASE)


def network_source(spec: str) -> str:
    """One line saying where the network ``spec`` comes from.

    Parameters
    ----------
    spec : str
        Bundled network name or alias, SimBench code, or file path.

    Returns
    -------
    str
        Source of the network.
    """
    name = ALIASES.get(spec, spec)
    if name in NETWORKS:
        return NETWORKS[name].source
    if SIMBENCH_CODE.match(spec):
        return f"SimBench benchmark grid {spec} (simbench.de; Meinecke et al. 2020)"
    return f"user file {spec}"


def load_network(
    spec: str, base_dir: Path = Path("."), *, key: str = "grid.network"
) -> pp.pandapowerNet:
    """A bundled network by name, a SimBench code, or a pandapower JSON / MATPOWER file.

    Parameters
    ----------
    spec : str
        Bundled network name or alias, SimBench code, or path of a ``.json``, ``.m``, ``.mat``
        or ``.raw`` file.
    base_dir : pathlib.Path, default Path(".")
        Directory that a relative file path is resolved against.
    key : str, default "grid.network"
        Configuration key named in error messages.

    Returns
    -------
    pandapower.pandapowerNet
        The network.
    """
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".raw":
        from federates.grid.psse_raw import read_raw

        path = path if path.is_absolute() else base_dir / path
        if not path.is_file():
            raise ConfigError(f"{key}: file not found: {path}")
        return read_raw(path)
    if path.suffix.lower() in (".json", ".m", ".mat"):
        path = path if path.is_absolute() else base_dir / path
        if not path.is_file():
            raise ConfigError(f"{key}: file not found: {path}")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if path.suffix.lower() == ".json":
                    check_json_classes(path, key)
                    net = pp.from_json(str(path))
                else:
                    from pandapower.converter.matpower.from_mpc import from_mpc

                    net = from_mpc(str(path))
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - any parser failure is a case error
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ConfigError(f"{key}: {path.name} does not parse: {first}") from None
        if not isinstance(net, pp.pandapowerNet) or not len(net.bus):
            raise ConfigError(f"{key}: {path.name} holds no network buses")
        return net
    name = ALIASES.get(spec, spec)
    if name in NETWORKS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return NETWORKS[name].build()
    if SIMBENCH_CODE.match(spec):
        try:
            import simbench
        except ImportError:
            raise ConfigError(
                f"{key}: {spec!r} is a SimBench code but the simbench package is not installed "
                "(pip install simbench)"
            ) from None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return simbench.get_simbench_net(spec)
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(f"{key}: SimBench code {spec!r} not available: {exc}") from None
    names = ", ".join(sorted(NETWORKS))
    raise ConfigError(
        f"{key}: {spec!r} is not a pandapower network name (bundled: {names}), "
        "a SimBench code or a .json/.m/.mat/.raw file"
    )


#: packages whose classes a pandapower JSON file may name (pandapower's reader imports the
#: ``_module`` of every object it meets, before any check of its own)
JSON_MODULES = ("pandapower", "numpy", "pandas")
#: plain types that pandapower writes under ``builtins``
JSON_BUILTINS = frozenset({"bool", "int", "float", "str", "list", "dict", "tuple", "set"})


def json_class_paths(data: object) -> Iterator[tuple[str, str]]:
    """Every ``(_module, _class)`` pair of decoded pandapower JSON, nested strings included.

    pandapower stores tables and controllers as JSON text inside the JSON, which
    its reader decodes again: every string that is itself JSON is searched too.

    Parameters
    ----------
    data : object
        Decoded JSON (dicts, lists, strings).

    Yields
    ------
    tuple of (str, str)
        ``(_module, _class)`` of each object that names a class.
    """
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "_module" in node or "_class" in node:
                yield str(node.get("_module", "")), str(node.get("_class", ""))
            stack.extend(node.values())
            stack.extend(node.keys())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and node.lstrip()[:1] in ("{", "["):
            with contextlib.suppress(ValueError):  # text, not JSON: pandapower does not decode it
                stack.append(json.loads(node))


def _allowed_class_path(module: str, cls: str) -> bool:
    if module == "builtins":
        return cls in JSON_BUILTINS
    return any(module == pkg or module.startswith(pkg + ".") for pkg in JSON_MODULES)


def check_json_classes(path: Path, key: str = "grid.network") -> None:
    """Refuse a pandapower JSON file that names a class outside pandapower, numpy and pandas.

    Runs before :func:`pandapower.from_json`, which would import the module of
    every class path in the file (any installed module, with its import side
    effects).

    Raises
    ------
    ConfigError
        One line naming the file and the first refused class path.

    Parameters
    ----------
    path : pathlib.Path
        pandapower JSON file.
    key : str, default "grid.network"
        Configuration key named in error messages.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{key}: {path} does not parse: {first}") from None
    for module, cls in json_class_paths(data):
        if not _allowed_class_path(module, cls):
            raise ConfigError(
                f"{key}: {path}: refused class path {module}.{cls!s} "
                f"(a network file may only hold {', '.join(JSON_MODULES)} objects)"
            )


# ---------------------------------------------------------------- topology


def energized_buses(net: pp.pandapowerNet) -> set[int]:
    """Buses connected to a slack (ext_grid / slack gen) through in-service branches and closed
    switches.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        The network.

    Returns
    -------
    set of int
        pandapower indices of the energized buses.
    """
    import pandapower.topology as top

    g = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
    roots = set(net.ext_grid.bus[net.ext_grid.in_service].tolist())
    if "slack" in net.gen:
        roots |= set(net.gen.bus[net.gen.in_service & net.gen.slack.astype(bool)].tolist())
    live: set[int] = set()
    for r in roots:
        if r in g and r not in live:
            import networkx as nx

            live |= set(nx.node_connected_component(g, r))
    return live


def bus_problem(net: pp.pandapowerNet, bus: int, key: str, label: str) -> str | None:
    """One line when ``bus`` is not a live bus of ``net`` (missing, out of service, dead).

    Parameters
    ----------
    net : pandapower.pandapowerNet
        The network.
    bus : int
        pandapower bus index.
    key : str
        Configuration key named in the message.
    label : str
        Name of the network in the message.

    Returns
    -------
    str or None
        The problem, or ``None`` for a live bus.
    """
    if bus not in net.bus.index:
        lo, hi = net.bus.index.min(), net.bus.index.max()
        return f"{key}: {bus} is not a bus of {label} (buses {lo}..{hi})"
    if not bool(net.bus.at[bus, "in_service"]):
        return f"{key}: bus {bus} of {label} is out of service"
    if bus not in energized_buses(net):
        return (
            f"{key}: bus {bus} of {label} is not connected to any slack (ext_grid) "
            "through in-service branches"
        )
    return None


# ---------------------------------------------------------------- attaching the site


@dataclass(frozen=True)
class Site:
    """Where the factory sits in a network."""

    load: int  # pandapower load index of the factory
    poi_bus: int  # the network's bus at the point of interconnection
    site_bus: int  # the bus of the factory load (== poi_bus without a POI transformer)
    trafo: int | None  # index of the POI transformer the case added


def add_transformer(
    net: pp.pandapowerNet, hv_bus: int, lv_bus: int, cfg: TransformerConfig, name: str
) -> int:
    """A two-winding transformer from a case section; returns its index.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        The network, modified in place.
    hv_bus : int
        High-voltage bus (its ``vn_kv`` [kV] is the rated HV voltage).
    lv_bus : int
        Low-voltage bus (its ``vn_kv`` [kV] is the rated LV voltage).
    cfg : TransformerConfig
        Rating [MVA], impedances [%] and tap changer.
    name : str
        Name of the transformer.

    Returns
    -------
    int
        Index in ``net.trafo``.
    """
    return pp.create_transformer_from_parameters(
        net,
        hv_bus,
        lv_bus,
        sn_mva=cfg.sn_mva,
        vn_hv_kv=float(net.bus.at[hv_bus, "vn_kv"]),
        vn_lv_kv=float(net.bus.at[lv_bus, "vn_kv"]),
        vkr_percent=cfg.vkr_percent,
        vk_percent=cfg.vk_percent,
        pfe_kw=0.0,
        i0_percent=0.0,
        tap_side=cfg.tap_side,
        tap_neutral=0,
        tap_min=cfg.tap_min,
        tap_max=cfg.tap_max,
        tap_step_percent=cfg.tap_step_percent,
        tap_pos=cfg.tap_pos,
        name=name,
        tap_changer_type="Ratio",
    )


def attach_factory(
    net: pp.pandapowerNet,
    poi_bus: int,
    p_mw: float = 0.0,
    q_mvar: float = 0.0,
    poi_transformer: PoiTransformerConfig | None = None,
) -> Site:
    """Add the factory as a load at ``poi_bus``, or behind a new step-down transformer.

    Parameters
    ----------
    net : pandapower.pandapowerNet
        The network, modified in place.
    poi_bus : int
        Bus at the point of interconnection.
    p_mw : float, default 0.0
        Initial active power of the factory load [MW], positive = consumption.
    q_mvar : float, default 0.0
        Initial reactive power of the factory load [Mvar], positive = consumption.
    poi_transformer : PoiTransformerConfig, optional
        Step-down transformer to a new site bus; ``None`` puts the load at ``poi_bus``.

    Returns
    -------
    Site
        Load index, POI bus, site bus and transformer index.
    """
    if poi_bus not in net.bus.index:
        raise ConfigError(
            f"factory.poi_bus: {poi_bus} is not a bus of the network "
            f"({net.bus.index.min()}..{net.bus.index.max()})"
        )
    site_bus, trafo = poi_bus, None
    if poi_transformer is not None:
        site_bus = pp.create_bus(
            net,
            vn_kv=poi_transformer.lv_kv,
            name="ai_factory_site",
            zone=net.bus.at[poi_bus, "zone"] if "zone" in net.bus else None,
        )
        trafo = add_transformer(
            net, poi_bus, site_bus, poi_transformer, "ai_factory_poi_transformer"
        )
    load = pp.create_load(net, site_bus, p_mw=p_mw, q_mvar=q_mvar, name="ai_factory")
    return Site(load=int(load), poi_bus=int(poi_bus), site_bus=int(site_bus), trafo=trafo)


def scaled_network(
    spec: str, base_dir: Path = Path("."), load_scale: float = 1.0, *, key: str = "grid.network"
) -> pp.pandapowerNet:
    """:func:`load_network` with every load's P and Q multiplied by ``load_scale``.

    Parameters
    ----------
    spec : str
        Network name, SimBench code or file path (see :func:`load_network`).
    base_dir : pathlib.Path, default Path(".")
        Directory that a relative file path is resolved against.
    load_scale : float, default 1.0
        Multiplier of every load's P and Q [-].
    key : str, default "grid.network"
        Configuration key named in error messages.

    Returns
    -------
    pandapower.pandapowerNet
        The network.
    """
    net = load_network(spec, base_dir, key=key)
    if load_scale != 1.0:
        net.load["p_mw"] *= load_scale
        net.load["q_mvar"] *= load_scale
    return net


def total_generation_mw(net: pp.pandapowerNet) -> float:
    """Total in-service generation after a power flow of ``net`` [MW] (gen + sgen + ext_grid).

    Parameters
    ----------
    net : pandapower.pandapowerNet
        A solved network.

    Returns
    -------
    float
        Sum of the positive injections [MW].
    """
    total = 0.0
    for table in ("res_gen", "res_sgen", "res_ext_grid"):
        if table in net and len(net[table]):
            total += float(np.nansum(np.clip(net[table].p_mw.to_numpy(float), 0.0, None)))
    return total


def thevenin_network(
    scr: float, rx_ratio: float, p_site_mw: float, vn_kv: float = 138.0, v_source_pu: float = 1.0
) -> pp.pandapowerNet:
    """A weak grid: bus 0 = ideal source, bus 1 = POI behind ``Z = V_n^2 / (scr * p_site_mw)``.

    ``S_sc`` at the POI is ``scr * p_site_mw`` [MVA] (plain Thevenin figure, no
    IEC 60909 voltage factor). The source's own short-circuit power is 1000x
    larger so that a short-circuit calculation sees the impedance only.

    Parameters
    ----------
    scr : float
        Short-circuit ratio at the POI [-], > 0.
    rx_ratio : float
        R/X ratio of the source impedance [-], >= 0.
    p_site_mw : float
        Site rating the SCR refers to [MW], > 0.
    vn_kv : float, default 138.0
        Nominal voltage of both buses [kV].
    v_source_pu : float, default 1.0
        Source voltage magnitude [pu].

    Returns
    -------
    pandapower.pandapowerNet
        The two-bus network.
    """
    if scr <= 0 or p_site_mw <= 0 or rx_ratio < 0:
        raise ValueError(
            f"need scr > 0, p_site_mw > 0, rx_ratio >= 0 (got {scr}, {p_site_mw}, {rx_ratio})"
        )
    s_sc = scr * p_site_mw
    net = pp.create_empty_network(
        name=f"Thevenin source behind an impedance: SCR {scr:g} for a {p_site_mw:g} MW site, "
        f"R/X {rx_ratio:g}",
        sn_mva=100.0,
    )
    b0 = pp.create_bus(net, vn_kv, name="source")
    b1 = pp.create_bus(net, vn_kv, name="POI")
    pp.create_ext_grid(
        net,
        b0,
        vm_pu=v_source_pu,
        s_sc_max_mva=1000.0 * s_sc,
        rx_max=rx_ratio,
        s_sc_min_mva=1000.0 * s_sc,
        rx_min=rx_ratio,
        name="Thevenin source",
    )
    x_pu = net.sn_mva / s_sc / float(np.sqrt(1.0 + rx_ratio**2))
    pp.create_impedance(
        net,
        b0,
        b1,
        rft_pu=rx_ratio * x_pu,
        xft_pu=x_pu,
        sn_mva=net.sn_mva,
        name="Thevenin impedance",
    )
    return net
