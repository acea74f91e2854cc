"""The compiled branch loadings (batch.branch_loadings) against their numpy reference."""

from __future__ import annotations

import warnings

import numpy as np
import pandapower.networks as pn
import pytest

from federates.grid.batch import branch_loadings, branch_loadings_numpy
from federates.grid.network import load_network
from federates.grid.powerflow import PowerFlow


@pytest.mark.parametrize("name", ["pglib_case118", "case1354pegase", "cigre_hv", "multivoltage"])
def test_compiled_loadings_equal_numpy_to_round_off(name: str) -> None:
    """Lines, transformers, three-winding transformers (pandapower's multi-voltage example) and
    impedance branches (PGLib 118, multi-voltage), five perturbed solutions at once; an element
    out of service stays 0 and a zero rating gives inf as in numpy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = pn.example_multivoltage() if name == "multivoltage" else load_network(name)
        if name == "cigre_hv":
            net.line.loc[net.line.index[0], "in_service"] = False
            net.line.loc[net.line.index[1], "max_i_ka"] = 0.0
        pf = PowerFlow(net)
        assert pf.solve().converged and pf.engine == "fast"
    # any voltages do (two implementations of one formula): five around a flat profile
    rng = np.random.default_rng(0)
    n = pf._n
    v = np.exp(1j * rng.normal(0.0, 0.05, (n, 5))) * (1 + 0.02 * rng.normal(size=(n, 5)))
    got, ref = branch_loadings(pf, v), branch_loadings_numpy(pf, v)
    for g, r in zip(got, ref, strict=True):
        assert g.shape == r.shape
        np.testing.assert_array_equal(np.isfinite(g), np.isfinite(r))
        fin = np.isfinite(r)
        np.testing.assert_allclose(g[fin], r[fin], rtol=1e-12, atol=1e-12)
    if name == "multivoltage":
        assert got[2].shape[1] == 1 and got[2][0, 0] > 0  # the three-winding transformer
        assert got[3].shape[1] >= 1 and got[3][0, 0] > 0  # the impedance branch
    if name == "cigre_hv":
        assert np.all(got[0][:, 0] == 0.0)  # out of service
        assert np.all(np.isinf(got[0][:, 1]))  # no rating
