"""PSS/E DYR dynamic data for the engine, and RAW (+ DYR) files as a dynamic case.

Records are ``BUS 'MODEL' ID p1 p2 ... /`` (parameters in PSS/E's order, a record may
span lines). Mapped to the engine's (tops) models:

* ``GENROU`` (T'do, T''do, T'qo, T''qo, H, D, Xd, Xq, X'd, X'q, X''d, Xl, S(1.0),
  S(1.2)): ``GEN`` with the same reactances [pu on MBASE] and time constants [s];
  ``X''q = X''d`` (as in GENROU); leakage ``Xl`` and saturation are not modelled.
* ``GENSAL`` (T'do, T''do, T''qo, H, D, Xd, Xq, X'd, X''d, Xl, S(1.0), S(1.2)):
  ``GEN`` with ``X'q = Xq`` (no q-axis transient circuit) and ``T'qo`` 1 s (a state
  that stays at zero).
* ``GENCLS`` (H, D): ``GEN`` with every reactance the RAW record's ``ZX`` (the
  classical model: constant voltage behind ``X'd``); ``H = 0`` (PSS/E's infinite bus)
  becomes 1000 s.
* ``SEXS`` (TA/TB, TB, K, TE, EMIN, EMAX): ``SEXS`` (``T_a = TA``, ``T_b = TB``).
* ``TGOV1`` (R, T1, VMAX, VMIN, T2, T3, Dt): ``TGOV1``.
* ``STAB1`` (K/T, T, T1/T3, T3, T2/T4, T4, HLIM): ``STAB1`` (``K`` the washout gain
  ``K/T`` times ``T``; lead-lags ``T1/T3`` and ``T2/T4``).

Other models (IEEE exciters such as IEEEX1, ESST1A, EXST1, governors such as IEEEG1,
HYGOV, stabilisers such as IEEEST) have no equivalent implemented here: they are
listed in a warning and their machine gets typical data when ``defaults =
"typical"``; otherwise they are refused. Records for buses without a machine are
ignored with a warning.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pandapower as pp

from federates.dynamics.from_pandapower import MachineDynamics, from_pandapower
from federates.errors import ConfigError
from federates.grid.psse_raw import machine_name, read_raw

N_PARAMS = {"GENROU": 14, "GENSAL": 12, "GENCLS": 2, "SEXS": 6, "TGOV1": 7, "STAB1": 7}
INFINITE_H_S = 1000.0  # inertia of a GENCLS with H = 0 (PSS/E's infinite bus) [s]
_TOKEN = re.compile(r"'[^']*'|\"[^\"]*\"|[^\s,'\"]+")


class DyrError(ConfigError):
    """A DYR file that cannot be read or used (one line naming the file and line)."""


def dyr_records(path: str | Path) -> list[tuple[int, list[str]]]:
    """The records of a DYR file: (line where it starts, tokens with quotes removed).

    Parameters
    ----------
    path : str or pathlib.Path
        The DYR file.

    Returns
    -------
    list of tuple of (int, list of str)
        One entry per record.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="latin-1").splitlines()
    except OSError as exc:
        raise DyrError(f"{path}: cannot be read ({exc.strerror})") from None
    out: list[tuple[int, list[str]]] = []
    tokens: list[str] = []
    start = 0
    for k, line in enumerate(lines, start=1):
        body, end = _until_slash(line)
        found = [t.strip("'\"") for t in _TOKEN.findall(body)]
        if found and not tokens:
            start = k
        tokens += found
        if end and tokens:
            out.append((start, tokens))
            tokens = []
    if tokens:
        raise DyrError(f"{path.name}:{start}: record not terminated by '/'")
    return out


def _until_slash(line: str) -> tuple[str, bool]:
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "/":
            return line[:i], True
    return line, False


def read_dyr(
    path: str | Path, net: pp.pandapowerNet, *, defaults: str = "none"
) -> dict[str, MachineDynamics]:
    """Dynamic data of the machines of ``net`` (from :func:`read_raw`) from a DYR file.

    Parameters
    ----------
    path : str or pathlib.Path
        The DYR file.
    net : pandapower.pandapowerNet
        The network of the matching RAW file (machine names ``G<bus>[_<id>]``, ``xdss_pu``
        the machines' ``ZX`` [pu on MBASE]).
    defaults : {"none", "typical"}, default "none"
        ``"typical"``: a machine with a model not read here falls back to typical data
        (warning); ``"none"``: such a model is an error.

    Returns
    -------
    dict of str to MachineDynamics
        Dynamic data by machine name.
    """
    path = Path(path)
    xdss = _machine_reactances(net)
    out: dict[str, MachineDynamics] = {}
    unknown: dict[str, list[str]] = {}
    ignored: list[str] = []
    for line, tok in dyr_records(path):
        where = f"{path.name}:{line}"
        if len(tok) < 3 or not re.fullmatch(r"-?\d+", tok[0]):
            raise DyrError(f"{where}: not a DYR record (BUS 'MODEL' ID ...): {' '.join(tok)[:60]}")
        bus, model, mid = int(tok[0]), tok[1].upper(), tok[2]
        name = machine_name(bus, mid)
        if name not in xdss:
            ignored.append(f"{model} at bus {bus} id {mid}")
            continue
        if model not in N_PARAMS:
            unknown.setdefault(name, []).append(f"{model} ({where})")
            continue
        par = _params(tok[3:], N_PARAMS[model], model, where)
        dyn = out.setdefault(name, MachineDynamics(source=f"DYR {path.name}"))
        _apply(dyn, model, par, xdss[name], where)
    if ignored:
        msg = f"{path.name}: records without a machine ignored: {'; '.join(ignored)}"
        warnings.warn(msg, stacklevel=2)
    if unknown:
        listed = "; ".join(f"{n}: {', '.join(m)}" for n, m in unknown.items())
        if defaults != "typical":
            raise DyrError(
                f"{path.name}: models not read ({listed}); supported: {', '.join(N_PARAMS)} "
                '(or set dynamics.defaults = "typical" to give these machines typical data)'
            )
        msg = f"{path.name}: models not read, typical data used instead: {listed}"
        warnings.warn(msg, stacklevel=2)
        for n in unknown:
            out.pop(n, None)
    return out


def _machine_reactances(net: pp.pandapowerNet) -> dict[str, float]:
    out = {}
    for kind in ("gen", "ext_grid"):
        table = net[kind]
        col = table["xdss_pu"] if "xdss_pu" in table else [float("nan")] * len(table)
        out.update({str(n): float(x) for n, x in zip(table["name"], col, strict=True)})
    return out


def _params(tokens: list[str], n: int, model: str, where: str) -> list[float]:
    if len(tokens) < n:
        raise DyrError(f"{where}: {model} needs {n} parameters, found {len(tokens)}")
    try:
        return [float(t) for t in tokens[:n]]
    except ValueError:
        bad = next(t for t in tokens[:n] if not _is_float(t))
        raise DyrError(f"{where}: {model} parameter {bad!r} is not a number") from None


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _apply(dyn: MachineDynamics, model: str, p: list[float], xdss: float, where: str) -> None:
    """Map one record (parameters ``p`` in PSS/E's order) onto the engine's models."""
    if model == "GENROU":
        tdo_t, tdo_st, tqo_t, tqo_st, h, d, xd, xq, xd_t, xq_t, xd_st = p[:11]
        dyn.gen = _gen(h, d, xd, xq, xd_t, xq_t, xd_st, tdo_t, tqo_t, tdo_st, tqo_st)
    elif model == "GENSAL":
        tdo_t, tdo_st, tqo_st, h, d, xd, xq, xd_t, xd_st = p[:9]
        dyn.gen = _gen(h, d, xd, xq, xd_t, xq, xd_st, tdo_t, 1.0, tdo_st, tqo_st)
    elif model == "GENCLS":
        if not xdss > 0:
            raise DyrError(f"{where}: GENCLS needs the machine's ZX > 0 in the RAW file")
        h = p[0] if p[0] > 0 else INFINITE_H_S
        dyn.gen = _gen(h, p[1], xdss, xdss, xdss, xdss, xdss, 1.0, 1.0, 0.05, 0.05)
    elif model == "SEXS":
        ta_tb, tb, k, te, emin, emax = p
        if tb <= 0 or te <= 0:
            raise DyrError(f"{where}: SEXS needs TB > 0 and TE > 0")
        sexs = {"K": k, "T_a": ta_tb * tb, "T_b": tb, "T_e": te, "E_min": emin, "E_max": emax}
        dyn.controllers.append(("avr", "SEXS", sexs))
    elif model == "TGOV1":
        r, t1, vmax, vmin, t2, t3, dt = p
        if r <= 0 or t1 <= 0 or t3 <= 0:
            raise DyrError(f"{where}: TGOV1 needs R > 0, T1 > 0 and T3 > 0")
        gov = {"R": r, "D_t": dt, "V_min": vmin, "V_max": vmax, "T_1": t1, "T_2": t2, "T_3": t3}
        dyn.controllers.append(("gov", "TGOV1", gov))
    else:  # STAB1
        k_t, t, t1_t3, t3, t2_t4, t4, hlim = p
        if t <= 0 or t3 <= 0 or t4 <= 0:
            raise DyrError(f"{where}: STAB1 needs T > 0, T3 > 0 and T4 > 0")
        stab = {"K": k_t * t, "T": t, "T_1": t1_t3 * t3, "T_2": t2_t4 * t4}
        stab |= {"T_3": t3, "T_4": t4, "H_lim": hlim}
        dyn.controllers.append(("pss", "STAB1", stab))


def _gen(*values: float) -> dict[str, float]:
    keys = ("H", "D", "X_d", "X_q", "X_d_t", "X_q_t", "X_d_st", "T_d0_t", "T_q0_t")
    keys += ("T_d0_st", "T_q0_st")
    out = dict(zip(keys, values, strict=True))
    out["X_q_st"] = out["X_d_st"]
    return out


def load_psse(
    raw: str | Path, dyr: str | Path | None = None, *, defaults: str = "none"
) -> dict[str, Any]:
    """A RAW file (and its DYR file) as the engine's dict case.

    Parameters
    ----------
    raw : str or pathlib.Path
        The PSS/E RAW file (versions 32-34).
    dyr : str or pathlib.Path, optional
        The DYR file; without it every machine needs ``defaults = "typical"``.
    defaults : {"none", "typical"}, default "none"
        Dynamic data for machines the DYR file does not describe.

    Returns
    -------
    dict of str to Any
        The case (see :func:`federates.dynamics.from_pandapower.from_pandapower`).
    """
    net = read_raw(raw)
    machines = read_dyr(dyr, net, defaults=defaults) if dyr is not None else {}
    return from_pandapower(net, name=Path(raw).name, defaults=defaults, machines=machines)
