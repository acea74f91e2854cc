"""A case-file path field: resolved against the case file's folder, checked to exist.

Validate a case with ``context={"base_dir": Path}``; the stored value is then
absolute, so the resolved case written into a run directory still points at
the same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, ValidationInfo


def resolve_case_path(value: str, info: ValidationInfo) -> str:
    base = Path((info.context or {}).get("base_dir", "."))
    p = Path(value).expanduser()
    p = p if p.is_absolute() else (base / p)
    if not p.is_file():
        raise ValueError(f"file not found: {p}")
    return str(p.resolve())


CasePath = Annotated[str, AfterValidator(resolve_case_path)]
"""A ``str`` path in a case, made absolute and checked to exist."""
