"""Branch ratings judged against what each voltage level can carry; PGLib IEEE 118 as shipped."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandapower as pp
import pytest

from federates.grid.loading import branch_loadings_percent, preconnection_loadings
from federates.grid.network import load_network, thevenin_network
from federates.grid.pglib import PGLIB_CASE118_JSON, PGLIB_CASE118_M, build_pglib_case118
from federates.grid.ratings import (
    BRANCH_KINDS,
    assess_ratings,
    overloaded,
    plausible_max_mva,
)


def test_plausible_bound_follows_the_kv_class_table() -> None:
    # sqrt(3) * V * n * 1.6 kA with n = 1, 2, 2, 3, 4, 6 sub-conductors
    for kv, n in ((69.0, 1), (138.0, 2), (230.0, 2), (345.0, 3), (500.0, 4), (765.0, 6)):
        assert plausible_max_mva(kv) == pytest.approx(np.sqrt(3) * kv * n * 1.6)
    assert plausible_max_mva(138.0) < 3960.0  # pandapower case118's smallest 138 kV line rating


def test_pandapower_case118_has_no_usable_ratings() -> None:
    a = assess_ratings(load_network("case118"))
    assert a.status == "none"
    trafos = [b for b in a.branches if b.kind == "trafo"]
    assert trafos and not any(b.rated for b in trafos)
    assert all("exceeds what a" in b.reason for b in trafos)
    assert not a.rated_names()


def _zero_rate_a(src: Path, dst: Path) -> Path:
    """The MATPOWER file with rateA (column 6 of mpc.branch) set to 0 on every branch."""
    text = src.read_text()
    head, rest = text.split("mpc.branch = [", 1)
    block, tail = rest.split("];", 1)
    rows = []
    for line in block.splitlines():
        cols = line.split()
        if len(cols) >= 13:
            cols[5] = "0.0"
            line = "\t" + "\t".join(cols)
        rows.append(line)
    dst.write_text(head + "mpc.branch = [" + "\n".join(rows) + "];" + tail)
    return dst


def test_matpower_rate_a_zero_counts_as_unrated(tmp_path: Path) -> None:
    path = _zero_rate_a(PGLIB_CASE118_M, tmp_path / "norate.m")
    assert re.search(r"mpc\.branch = \[\s*\n\t1\t2\t[\d.]+\t[\d.]+\t[\d.]+\t0\.0", path.read_text())
    a = assess_ratings(load_network(str(path)))
    assert a.status == "none"
    assert {b.kind for b in a.unrated()} == {"line", "trafo", "impedance"}
    assert all("rateA = 0" in b.reason for b in a.unrated())


def test_pglib_case118_ratings_come_from_the_file() -> None:
    net = load_network("pglib_case118")
    a = assess_ratings(net)
    assert a.status == "file"
    kinds = {b.kind for b in a.branches}
    assert kinds == {"line", "trafo", "impedance"} and kinds <= set(BRANCH_KINDS)
    assert len(a.branches) == len(net.line) + len(net.trafo) + len(net.impedance)
    # IEEE branch 68-116 (345/138 kV, given as a line in the file, rate_a 7,218 MVA)
    assert [b.name for b in a.unrated()] == ["impedance.1"]
    assert a.by_name()["impedance.1"].rating_mva == pytest.approx(7218.0)
    assert a.by_name()["line.0"].rating_mva == pytest.approx(151.0, rel=1e-9)  # rate_a of 1-2
    assert "impedance.1" in a.note
    assert assess_ratings(net, source="assumed").status == "assumed"


def test_thevenin_source_impedance_is_an_equivalent_not_a_branch() -> None:
    a = assess_ratings(thevenin_network(2.5, 0.1, 300.0))
    (imp,) = a.branches
    assert imp.kind == "impedance" and not imp.rated and "equivalent" in imp.reason
    assert a.status == "none"


def test_shipped_pglib_network_is_the_documented_recipe() -> None:
    shipped = pp.from_json(str(PGLIB_CASE118_JSON))
    built = build_pglib_case118()
    np.testing.assert_allclose(shipped.gen.p_mw, built.gen.p_mw, atol=1e-3)
    np.testing.assert_allclose(shipped.gen.vm_pu, built.gen.vm_pu, atol=1e-5)
    assert shipped.ext_grid.vm_pu.iat[0] == pytest.approx(built.ext_grid.vm_pu.iat[0], abs=1e-5)


def test_pglib_dispatch_is_feasible_with_reactive_limits() -> None:
    """The OPF dispatch keeps every rated branch within 80 % and every bus in 0.96-1.04 pu."""
    net = load_network("pglib_case118")
    loads = preconnection_loadings(net)
    a = assess_ratings(net)
    assert set(loads) == {b.name for b in a.branches}
    assert not overloaded(loads, a, 80.0 + 1e-3)
    work = load_network("pglib_case118")
    pp.runpp(work, enforce_q_lims=True, numba=False)
    assert work.res_bus.vm_pu.between(0.96 - 1e-6, 1.04 + 1e-6).all()
    assert branch_loadings_percent(work) == pytest.approx(loads)


def test_overloaded_lists_only_rated_branches() -> None:
    a = assess_ratings(load_network("pglib_case118"))
    loads = {"line.0": 120.0, "line.1": 90.0, "impedance.1": 300.0, "trafo.0": float("nan")}
    assert overloaded(loads, a) == {"line.0": 120.0}
