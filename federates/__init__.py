"""HELICS federates: each is a pure model (no helics import) plus a thin adapter.

Sign conventions (stated once, used everywhere; pandapower's *load* convention):

* ``p_mw`` / ``q_mvar`` at the POI are positive when the site **draws** power
  from the grid (import, consumption). A lagging power factor means ``q_mvar > 0``.
* BESS ``p_bess_mw`` follows pandapower's ``storage`` element: positive while
  **charging** (it adds to the site's import), negative while discharging.
  Hence ``p_poi_mw = p_site_mw + p_bess_mw`` and the same for Q.
* Voltages are in per unit of the bus nominal voltage (``vm_pu``), frequency in
  hertz (``f_hz``), time in seconds from the start of the case (``t_s``).
"""
