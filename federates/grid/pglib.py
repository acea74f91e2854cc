"""PGLib-OPF networks with a feasible AC dispatch (pure, no helics).

PGLib-OPF (IEEE PES Task Force on Benchmarks for Validation of Emerging Power
System Algorithms; Babaeinejadsarookolaee et al., "The Power Grid Library for
Benchmarking AC Optimal Power Flow Algorithms", arXiv:1908.02788, 2019;
data under CC BY 4.0) gives the IEEE 118-bus system with thermal ratings
(``rate_a``), generator P and Q limits and costs. Its generator set points are
not a solved operating point (every ``Vg = 1.0``, ``Pg`` at mid-range), and
loaded as they are, nine lines start above their rating.

:func:`opf_dispatch` turns such a file into an operating point: pandapower's
AC optimal power flow (``pandapower.runopp``, interior point) with the file's
costs, within :class:`DispatchMargins` (branches at most 80 % of ``rate_a``,
buses within 0.96-1.04 pu) so that the base case has room for a new load and
sits inside ANSI C84.1 Range A. The generators keep the OPF's active power and
voltage set points. :func:`build_pglib_case118` is the deterministic recipe
of the shipped ``cases/data/pglib_opf_case118_ieee_opf.json``.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandapower as pp

DATA_DIR = Path(__file__).resolve().parents[2] / "cases" / "data"
PGLIB_CASE118_M = DATA_DIR / "pglib_opf_case118_ieee.m"
PGLIB_CASE118_JSON = DATA_DIR / "pglib_opf_case118_ieee_opf.json"


class DispatchError(RuntimeError):
    """The optimal power flow found no feasible dispatch."""


@dataclass(frozen=True)
class DispatchMargins:
    """Operating limits of the dispatch, tighter than the file's own.

    Attributes
    ----------
    vm_min_pu, vm_max_pu : bus voltage band of the dispatch [pu]; each bus keeps
        the tighter of this and its file limits
    loading_max_percent : branch loading limit of the dispatch [% of rating]
    """

    vm_min_pu: float = 0.96
    vm_max_pu: float = 1.04
    loading_max_percent: float = 80.0


def read_matpower(path: Path) -> pp.pandapowerNet:
    """A MATPOWER ``.m`` case through pandapower's converter (``matpowercaseframes``).

    Parameters
    ----------
    path : pathlib.Path
        MATPOWER case file.

    Returns
    -------
    pandapower.pandapowerNet
        The converted network.
    """
    from pandapower.converter.matpower.from_mpc import from_mpc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return from_mpc(str(path))


def opf_dispatch(
    net: pp.pandapowerNet, margins: DispatchMargins = DispatchMargins()
) -> pp.pandapowerNet:
    """A copy of ``net`` whose generators hold an AC-OPF dispatch within ``margins``.

    Parameters
    ----------
    net : network with costs (``poly_cost``) and generator limits, e.g. from
        :func:`read_matpower`
    margins : limits the dispatch must respect

    Returns
    -------
    A copy with ``gen.p_mw`` [MW], ``gen.vm_pu`` [pu] and ``ext_grid.vm_pu`` [pu]
    from the OPF solution; the OPF limits are left as in the file.

    Raises
    ------
    DispatchError
        when the OPF does not converge.
    """
    work = copy.deepcopy(net)
    bus = work.bus
    bus["min_vm_pu"] = np.maximum(bus.min_vm_pu.fillna(0.0).to_numpy(float), margins.vm_min_pu)
    bus["max_vm_pu"] = np.minimum(bus.max_vm_pu.fillna(2.0).to_numpy(float), margins.vm_max_pu)
    for table in ("line", "trafo", "trafo3w"):
        if len(work[table]):
            work[table]["max_loading_percent"] = margins.loading_max_percent
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pp.runopp(work, verbose=False)
    except pp.OPFNotConverged:
        raise DispatchError(f"AC OPF found no dispatch within {margins}") from None
    out = copy.deepcopy(net)
    out.gen["p_mw"] = work.res_gen.p_mw.to_numpy(float)
    out.gen["vm_pu"] = work.res_gen.vm_pu.to_numpy(float)
    for i, b in out.ext_grid.bus.items():
        out.ext_grid.at[i, "vm_pu"] = float(work.res_bus.vm_pu.at[b])
        out.ext_grid.at[i, "va_degree"] = 0.0
    out.name = f"{net.name or 'network'}; AC-OPF dispatch within {margins}"
    return out


def build_pglib_case118(path: Path = PGLIB_CASE118_M) -> pp.pandapowerNet:
    """PGLib-OPF IEEE 118 (v23.07) with the dispatch of :func:`opf_dispatch` (default margins).

    Parameters
    ----------
    path : pathlib.Path, default PGLIB_CASE118_M
        MATPOWER file of the PGLib case.

    Returns
    -------
    pandapower.pandapowerNet
        The dispatched network.
    """
    net = opf_dispatch(read_matpower(path))
    net.name = (
        "PGLib-OPF v23.07 pglib_opf_case118_ieee (IEEE PES PGLib, CC BY 4.0); "
        "pandapower AC-OPF dispatch, branches <= 80 % of rate_a, buses 0.96-1.04 pu"
    )
    return net


def write_pglib_case118(path: Path = PGLIB_CASE118_JSON) -> Path:
    """Write :func:`build_pglib_case118` as pandapower JSON (how the shipped file is made).

    Parameters
    ----------
    path : pathlib.Path, default PGLIB_CASE118_JSON
        Output JSON file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    pp.to_json(build_pglib_case118(), str(path))
    return path


if __name__ == "__main__":  # python -m federates.grid.pglib
    print(write_pglib_case118())
