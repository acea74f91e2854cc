"""Read, merge and validate a BESS spec file into a :class:`QualifySpec`.

The spec's tables are deep-merged onto the reference case (see
:mod:`cosim.studies.qualify.spec` for the format); each ``[qualify.Q<n>]``
table is checked against that test's parameters
(:data:`cosim.studies.qualify.tests.REGISTRY`).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cosim.case import apply_overrides, find_case, format_errors, read_case_dict
from cosim.errors import CaseError
from cosim.studies.qualify.params import resolve
from cosim.studies.qualify.spec import SPEC_TABLES, QualifyOptions, QualifySpec, deep_merge
from cosim.studies.qualify.tests import REGISTRY, params_of
from federates.errors import ConfigError


def _reference(name: str, base_dir: Path) -> tuple[dict[str, Any], Path]:
    p = Path(name).expanduser()
    if p.suffix == ".toml" and not p.is_absolute():
        p = base_dir / p
    path = find_case(p if p.suffix == ".toml" else name)
    return read_case_dict(path), path.resolve().parent


def load_spec(
    spec: str | Path | dict[str, Any], overrides: list[str] | dict[str, Any] | None = None
) -> QualifySpec:
    """Read and validate a spec (file path or raw dict).

    ``overrides`` are dotted keys as in :func:`cosim.case.load_case`.

    Raises
    ------
    CaseError
        for an unreadable file, a bad ``[qualify]`` table, an unknown test id
        or parameter, or a merged case that does not validate.
    """
    if isinstance(spec, dict):
        data, base_dir, source, stem = copy.deepcopy(spec), Path("."), None, "spec"
    else:
        path = Path(spec)
        if not path.is_file():
            raise CaseError(f"BESS spec not found: {path}")
        data, base_dir, source, stem = (
            read_case_dict(path),
            path.resolve().parent,
            str(path),
            path.stem,
        )
    if overrides:
        data = apply_overrides(data, overrides)
    q = data.pop("qualify", {}) or {}
    if not isinstance(q, dict):
        raise CaseError("qualify: must be a table", source)
    tests = {k: v for k, v in q.items() if k.upper().startswith("Q") and k[1:].isdigit()}
    opts_raw = {k: v for k, v in q.items() if k not in tests}
    try:
        options = QualifyOptions.model_validate(opts_raw)
    except ValidationError as exc:
        raise CaseError([f"qualify.{line}" for line in format_errors(exc)], source) from None
    problems = []
    for tid, table in tests.items():
        if tid not in REGISTRY:
            problems.append(f"qualify.{tid}: unknown test (known: {', '.join(REGISTRY)})")
            continue
        if not isinstance(table, dict):
            problems.append(f"qualify.{tid}: must be a table")
            continue
        try:
            resolve(tid, params_of(tid), table)
        except ValueError as exc:
            problems.extend(str(exc).splitlines())
    if problems:
        raise CaseError(problems, source)
    full = any(k not in SPEC_TABLES for k in data)
    ref_data, ref_dir = _reference(options.reference, base_dir)
    merged = deep_merge(ref_data, data)
    name = str(data.get("name") or stem)
    merged["name"] = name
    # relative paths of the reference resolve against its folder unless the spec is a full case
    spec_obj = QualifySpec(
        name,
        source,
        base_dir if full else ref_dir,
        merged,
        options,
        {k: dict(v) for k, v in tests.items()},
        full,
    )
    try:
        spec_obj.case()
    except ConfigError as exc:
        raise CaseError(exc.problems, source) from None
    return spec_obj
