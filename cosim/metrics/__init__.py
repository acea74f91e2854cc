"""Metrics of a run: pure functions of result frames and arrays (no I/O).

* :mod:`cosim.metrics.network`: bus voltages vs ANSI C84.1 ranges, branch loading, losses
* :mod:`cosim.metrics.poi`: POI power, power factor, ramps, RVC, flicker estimate, spectrum
* :mod:`cosim.metrics.events`: voltage ride-through and frequency
* :mod:`cosim.metrics.wear`: OLTC tap operations, BESS throughput / EFC / rainflow / SOC
* :mod:`cosim.metrics.grid_strength`: short-circuit ratio and N-1 screening (pandapower)
"""
