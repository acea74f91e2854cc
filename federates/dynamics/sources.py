"""Where a dynamic case comes from: the engine's JSON, PSS/E RAW (+ DYR), pandapower, MATPOWER.

``dynamics.case`` is a bundled name, a JSON file in the engine's dict format, a PSS/E
RAW file (``.raw``, with ``dynamics.dyr`` optional), a pandapower JSON file or a
MATPOWER ``.m`` / ``.mat`` file. The last two carry no dynamic data: they run only with
``dynamics.defaults = "typical"`` (see :mod:`federates.dynamics.from_pandapower`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from federates.dynamics.cases import BUNDLED, case_path, load_case
from federates.errors import ConfigError


def _resolve(path: str, base_dir: Path | None, key: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    if not p.is_file():
        raise ConfigError(f"{key}: file not found: {p}")
    return p


def _is_pandapower_json(path: Path) -> bool:
    try:
        head = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(head, dict) and "pandapower" in str(head.get("_module", ""))


def load_dynamic_case(
    case: str,
    base_dir: Path | None = None,
    *,
    dyr: str | None = None,
    defaults: str = "none",
) -> dict[str, Any]:
    """The engine's dict case of ``dynamics.case`` (typical data added when asked).

    Parameters
    ----------
    case : str
        Bundled name, or path of an engine JSON, ``.raw``, pandapower JSON or MATPOWER file.
    base_dir : pathlib.Path, optional
        Directory that relative paths are resolved against.
    dyr : str, optional
        PSS/E DYR file of a ``.raw`` case.
    defaults : {"none", "typical"}, default "none"
        Dynamic data for machines without any (typical: by rating [MVA], reported).

    Returns
    -------
    dict of str to Any
        The case; ``typical_dynamics`` lists the machines given typical data.
    """
    suffix = Path(case).suffix.lower() if case not in BUNDLED else ""
    if dyr is not None and suffix != ".raw":
        raise ConfigError(f"dynamics.dyr: a DYR file goes with a .raw case, not {case!r}")
    if suffix == ".raw":
        from federates.dynamics.psse_dyr import load_psse

        raw = _resolve(case, base_dir, "dynamics.case")
        dyr_path = _resolve(dyr, base_dir, "dynamics.dyr") if dyr is not None else None
        return load_psse(raw, dyr_path, defaults=defaults)
    path = _resolve(case, base_dir, "dynamics.case") if suffix in (".m", ".mat", ".json") else None
    if path is not None and (suffix != ".json" or _is_pandapower_json(path)):
        from federates.dynamics.from_pandapower import from_pandapower
        from federates.grid.network import load_network

        net = load_network(str(path), key="dynamics.case")
        return from_pandapower(net, name=path.name, defaults=defaults)
    data = load_case(str(case_path(case, base_dir)))
    if defaults == "typical":
        from federates.dynamics.typical import with_typical_dynamics

        data = with_typical_dynamics(data)
    return data
