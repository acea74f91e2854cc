"""The case file: a TOML description of a whole study, parsed into a typed schema.

A case is validated completely before any process starts; every problem is one
line naming the key path, the value and what is allowed, e.g.
``bess.soc_min: 1.2 is not <= 1``. Any key can be overridden with
``key.path=value`` strings (values parsed as TOML, falling back to a string).

Relative file paths inside a case are resolved against the case file's folder.
"""

from __future__ import annotations

import math
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cosim.analysis.requirements import RequirementsConfig
from cosim.errors import CaseError
from federates.common.paths import resolve_case_path
from federates.common.timegrid import time_grid
from federates.dynamics.cases import BUNDLED
from federates.dynamics.config import DynamicsConfig
from federates.factory.config import BessConfig, ControlsConfig, FactoryConfig
from federates.grid.config import DistributionConfig, EventConfig, FrequencyConfig, GridConfig

CASES_DIR = Path(__file__).resolve().parents[1] / "cases"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


#: most grid steps (solve instants, event windows included) of one run; 10 million = 116 days at 1 s
MAX_GRID_STEPS = 10_000_000
#: most factory internal steps of one run; 100 million = 58 days at 50 ms
MAX_FACTORY_STEPS = 100_000_000
#: most base steps exchanged in one synchronisation (one HELICS vector, 8 bytes each: ``--maxsize``)
MAX_SYNC_STEPS = 100_000
#: characters that reorder displayed text (Unicode bidi embeddings, overrides and isolates)
BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a plain label (it names the default run directory ``runs/<name>``).

    A label has no path separator, no ``..``, no control character and no bidi
    override, and is not ``.``; None when it is fine.
    """
    if "/" in name or "\\" in name:
        return "a name is a label, not a path: no '/' or '\\'"
    if ".." in name or name.strip() == ".":
        return "a name is a label, not a path: no '..' or '.'"
    for ch in name:
        if ch in BIDI_CONTROLS:
            return f"bidirectional control character U+{ord(ch):04X} is not allowed"
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            return f"control character U+{ord(ch):04X} is not allowed"
    if not name.strip():
        return "a name needs a visible character"
    return None


class HorizonConfig(_Section):
    duration_s: float = Field(3600.0, gt=0, description="simulated horizon [s]")
    grid_dt_s: float = Field(1.0, gt=0, description="quasi-static grid step [s]")
    factory_dt_s: float = Field(
        0.05, gt=0, le=1.0, description="factory internal step [s]; docs/domain.md: 10-100 ms"
    )
    event_dt_s: float = Field(0.01, gt=0, description="grid step inside event windows [s]")
    event_margin_s: float = Field(
        1.0, ge=0, description="refined time before and after each event [s]"
    )
    sync_interval_s: float | None = Field(
        None,
        gt=0,
        description=(
            "exchange values every this many seconds of base steps (vectors of per-step "
            "values); None = every grid step (exact). Event windows are always exchanged "
            "every step."
        ),
    )


class OutputsConfig(_Section):
    high_rate: bool = Field(True, description="record the factory's internal-step POI series")
    report: bool = Field(True, description="write report.html and plots after the run")


class RunConfig(_Section):
    wall_limit_s: float | None = Field(
        None, gt=0, description="stop the federation after this wall time [s]"
    )
    core_type: str = Field(
        "tcp",
        pattern="^(zmq|tcp|tcpss|zmqss)$",
        description="HELICS core; tcp is the fastest here "
        "(bare 2-federate exchange ~1,900 steps/s vs ~1,400 for zmq, with less CPU)",
    )
    log_level: str = Field(
        "warning", pattern="^(error|warning|summary|connections|timing|debug|trace)$"
    )
    hang_timeout_s: float = Field(
        20.0,
        gt=0,
        le=86400,
        description="stop the run and name the hung federate when no federate advanced for "
        "this long [s]",
    )
    one_process: bool = Field(
        False,
        description="run every federate as a thread of one process on one core, joined "
        "through HELICS's in-process core (no broker process, no socket): every-step "
        "exchange about 1.7x faster; a crash of native code ends the whole run "
        "(federates.common.together)",
    )
    cpu_affinity: str = Field(
        "auto",
        pattern="^(auto|off)$",
        description="auto: a lone run pins each federate to its own core (every-step exchange "
        "+33 % on 2 cores); in a local pool with no more workers than cores, each worker's "
        "runs on its own core; off: the OS places them "
        "(cosim.engine.cpu_affinity)",
    )


DYNAMIC_GRID_DT_S = (0.01, 0.05)  # exchange step of a dynamic case [s] (issue 15: 10-50 ms)


class DynamicsSection(DynamicsConfig):
    """``[dynamics]``: the transmission federate is the RMS dynamic grid (``federates.dynamics``).

    Every key but ``enabled`` is :class:`federates.dynamics.config.DynamicsConfig`'s; the
    dynamic grid is exchanged with the factory at ``horizon.grid_dt_s`` (10-50 ms), in sync
    blocks of ``horizon.sync_interval_s`` when set.
    """

    enabled: bool = Field(True, description="False keeps the quasi-static transmission federate")
    p_site0_mw: float | None = Field(  # type: ignore[assignment]
        None,
        description="Site consumption in the initial power flow [MW]; None: the factory's power "
        "in its first grid step (so the run starts in equilibrium).",
    )
    q_site0_mvar: float | None = Field(  # type: ignore[assignment]
        None, description="Site reactive consumption in the initial power flow [Mvar]; None: as P."
    )

    @field_validator("case")
    @classmethod
    def _case_file(cls, value: str, info: ValidationInfo) -> str:
        """A case file is made absolute (and checked to exist); a bundled name is kept."""
        return value if value in BUNDLED else resolve_case_path(value, info)

    @field_validator("dyr")
    @classmethod
    def _dyr_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        return None if value is None else resolve_case_path(value, info)

    def params(self) -> dict[str, Any]:
        """The dynamic federate's own parameters (``cosim.params`` of its config)."""
        return self.model_dump(mode="json", exclude={"enabled"})


class Case(_Section):
    """A whole study. Section classes live next to the models they configure."""

    name: str = Field("case", min_length=1)
    description: str = ""
    seed: int = Field(0, ge=0)
    horizon: HorizonConfig = HorizonConfig()
    factory: FactoryConfig = FactoryConfig()
    bess: BessConfig = BessConfig()
    controls: ControlsConfig = ControlsConfig()
    grid: GridConfig = GridConfig()
    distribution: DistributionConfig | None = None
    frequency: FrequencyConfig = FrequencyConfig()
    events: list[EventConfig] = []
    requirements: RequirementsConfig = RequirementsConfig()
    dynamics: DynamicsSection | None = None
    outputs: OutputsConfig = OutputsConfig()
    run: RunConfig = RunConfig()

    # folder that relative paths in the case are resolved against (not a case key)
    base_dir: Path = Field(Path("."), exclude=True)

    @field_validator("name")
    @classmethod
    def _label(cls, value: str) -> str:
        problem = name_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        h = self.horizon
        if h.grid_dt_s > h.duration_s:
            raise ValueError("horizon.grid_dt_s must not exceed horizon.duration_s")
        if h.factory_dt_s > h.grid_dt_s:
            raise ValueError("horizon.factory_dt_s must not exceed horizon.grid_dt_s")
        if self.dynamic:
            lo, hi = DYNAMIC_GRID_DT_S
            if not lo - 1e-12 <= self.horizon.grid_dt_s <= hi + 1e-12:
                raise ValueError(
                    f"horizon.grid_dt_s ({self.horizon.grid_dt_s:g} s) must be {lo:g}-{hi:g} s "
                    "on a dynamic case (the dynamic grid's exchange step)"
                )
            if self.distribution is not None:
                raise ValueError("dynamics: a T&D case (distribution) cannot run dynamically yet")
            if self.frequency.enabled:
                raise ValueError(
                    "frequency.enabled: a dynamic case has its own frequency (the dynamic grid's "
                    "centre of inertia reaches the factory); drop [frequency]"
                )
        problems = [
            f"events.{i}.t_s: {e.t_s:g} is not before the end of the horizon "
            f"(horizon.duration_s = {h.duration_s:g})"
            for i, e in enumerate(self.events)
            if e.t_s >= h.duration_s
        ]
        problems += self._size_problems()
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def dynamic(self) -> bool:
        """True when the transmission federate is the RMS dynamic grid."""
        return self.dynamics is not None and self.dynamics.enabled

    def _size_problems(self) -> list[str]:
        """Runs too long to hold: more than :data:`MAX_GRID_STEPS` or :data:`MAX_FACTORY_STEPS`."""
        h = self.horizon
        out = []
        n_grid = h.duration_s / h.grid_dt_s
        for e in self.events:  # an upper bound of the steps the event windows add
            start, end = e.window_s(h.event_margin_s)
            n_grid += (min(end, h.duration_s) - start) / min(h.event_dt_s, h.grid_dt_s) + 2
        if not math.isfinite(n_grid) or n_grid > MAX_GRID_STEPS:
            out.append(
                f"horizon.grid_dt_s: {h.grid_dt_s:g} s over horizon.duration_s {h.duration_s:g} s "
                f"(and horizon.event_dt_s {h.event_dt_s:g} s in event windows) is {n_grid:.3g} "
                f"grid steps, more than the {MAX_GRID_STEPS:,} a run may have"
            )
        n_factory = h.duration_s / h.factory_dt_s
        if not math.isfinite(n_factory) or n_factory > MAX_FACTORY_STEPS:
            out.append(
                f"horizon.factory_dt_s: {h.factory_dt_s:g} s over horizon.duration_s "
                f"{h.duration_s:g} s is {n_factory:.3g} factory steps, more than the "
                f"{MAX_FACTORY_STEPS:,} a run may have"
            )
        if h.sync_interval_s is not None and h.sync_interval_s / h.grid_dt_s > MAX_SYNC_STEPS:
            out.append(
                f"horizon.sync_interval_s: {h.sync_interval_s:g} s is "
                f"{h.sync_interval_s / h.grid_dt_s:.3g} grid steps per exchange, more than "
                f"{MAX_SYNC_STEPS:,} (at most {MAX_SYNC_STEPS * h.grid_dt_s:g} s with "
                f"horizon.grid_dt_s {h.grid_dt_s:g} s)"
            )
        return out

    def resolve(self, path: str | Path) -> Path:
        """A path from the case, resolved against the case file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    def time_grid_params(self) -> dict[str, Any]:
        """The parameters of the shared solve instants (:mod:`federates.common.timegrid`)."""
        h = self.horizon
        return {
            "duration_s": h.duration_s,
            "dt_s": h.grid_dt_s,
            "windows": [[*e.window_s(h.event_margin_s), h.event_dt_s] for e in self.events],
            "instants": [x for e in self.events for x in (e.t_s, e.t_s + (e.duration_s or 0.0))]
            + self._dynamic_fault_instants(),
        }

    def _dynamic_fault_instants(self) -> list[float]:
        """Inception, clearing and reclosing of the dynamic case's faults [s] (on every grid)."""
        if not self.dynamic:
            return []
        out: list[float] = []
        for f in self.dynamics.faults:
            out += [f.start_s, f.clear_s, getattr(f, "reclose_s", None)]
        return sorted({x for x in out if x is not None})

    def time_grid(self) -> np.ndarray:
        """Solve instants ``t_s`` shared by every federate (refined around events)."""
        return time_grid(**self.time_grid_params())

    def to_dict(self) -> dict[str, Any]:
        """The resolved case as plain data (TOML-writable: no None values)."""
        return _drop_none(self.model_dump(mode="json"))


def _drop_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _drop_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_drop_none(v) for v in obj]
    return obj


# ---------------------------------------------------------------- loading


def find_case(name_or_path: str | Path) -> Path:
    """A case file path, or the bundled case of that name (``cosim cases`` lists them)."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        if not p.is_file():
            raise CaseError(f"case file not found: {p}")
        return p
    bundled = CASES_DIR / f"{name_or_path}.toml"
    if bundled.is_file():
        return bundled
    names = ", ".join(c.stem for c in bundled_cases()) or "none"
    raise CaseError(f"no case file or bundled case named {name_or_path!r} (bundled: {names})")


def bundled_cases() -> list[Path]:
    return sorted(CASES_DIR.glob("*.toml"))


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"a.b.c=value"`` -> (["a","b","c"], value parsed as TOML or kept as string)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise CaseError(f"--set {text!r}: expected KEY.PATH=VALUE")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key.split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str] | dict[str, Any]) -> dict[str, Any]:
    """Set dotted keys in a raw case dict (a list of ``k=v`` or a mapping k -> value)."""
    items = (
        [parse_override(o) for o in overrides]
        if isinstance(overrides, list)
        else [(k.split("."), v) for k, v in overrides.items()]
    )
    for path, value in items:
        node = data
        for part in path[:-1]:
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            if not isinstance(nxt, dict):
                raise CaseError(f"--set {'.'.join(path)}: {part} is not a table")
            node = nxt
        node[path[-1]] = value
    return data


def format_errors(exc: ValidationError) -> list[str]:
    """One line per pydantic error: ``key.path: value — what is allowed``."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(case)"
        value = err.get("input")
        kind, ctx, msg = err["type"], err.get("ctx") or {}, err["msg"]
        shown = _short(value)
        if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
            op = {
                "greater_than_equal": ">=",
                "less_than_equal": "<=",
                "greater_than": ">",
                "less_than": "<",
            }[kind]
            bound = next(iter(ctx.values()))
            lines.append(f"{loc}: {shown} is not {op} {bound}")
        elif kind == "extra_forbidden":
            lines.append(f"{loc}: unknown key (value {shown})")
        elif kind == "missing":
            lines.append(f"{loc}: required key is missing")
        elif kind == "literal_error":
            lines.append(f"{loc}: {shown} is not one of {ctx.get('expected', '')}")
        elif kind == "value_error" and not err["loc"]:
            # the case-wide checks name their keys themselves, one problem per line
            lines += msg.removeprefix("Value error, ").splitlines()
        elif kind == "value_error":
            lines.append(f"{loc}: {msg.removeprefix('Value error, ')}")
        elif kind == "finite_number":
            lines.append(f"{loc}: {shown} is not a finite number")
        else:
            lines.append(f"{loc}: {shown} is invalid: {msg}")
    return lines


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def nonfinite_keys(data: Any, path: str = "") -> list[str]:
    """Key paths of every NaN or infinite number in raw case data (no section accepts one)."""
    if isinstance(data, float) and not math.isfinite(data):
        return [path or "(case)"]
    if isinstance(data, dict):
        items: Any = data.items()
    elif isinstance(data, (list, tuple)):
        items = enumerate(data)
    else:
        return []
    return [k for key, v in items for k in nonfinite_keys(v, f"{path}.{key}" if path else str(key))]


def case_from_dict(
    data: dict[str, Any], base_dir: Path = Path("."), source: str | None = None
) -> Case:
    """Validate raw case data; raise :class:`CaseError` with every problem."""
    bad = nonfinite_keys(data)
    if bad:
        raise CaseError([f"{key}: not a finite number" for key in bad], source)
    try:
        case = Case.model_validate({**data, "base_dir": base_dir}, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise CaseError(format_errors(exc), source) from None
    return case


def read_case_dict(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text()
    except OSError as exc:
        raise CaseError(f"cannot read case file: {exc.strerror}", str(path)) from None
    except UnicodeDecodeError as exc:
        raise CaseError(
            f"not a text (UTF-8) case file: byte 0x{exc.object[exc.start]:02x} "
            f"at offset {exc.start}",
            str(path),
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CaseError(f"not valid TOML: {exc}", str(path)) from None
    data.pop("meta", None)  # written by `cosim run` into the resolved case
    return data


def load_case(
    case: str | Path | Case | dict[str, Any],
    overrides: list[str] | dict[str, Any] | None = None,
) -> Case:
    """A validated :class:`Case` from a path, a bundled name, a dict or a Case."""
    if isinstance(case, Case):
        if not overrides:
            return case
        data, base, source = case.to_dict(), case.base_dir, case.name
    elif isinstance(case, dict):
        data, base, source = dict(case), Path("."), None
    else:
        path = find_case(case)
        data, base, source = read_case_dict(path), path.resolve().parent, str(path)
    if overrides:
        data = apply_overrides(data, overrides)
    return case_from_dict(data, base, source)
