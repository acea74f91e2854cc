"""Base of every case-file section of the factory: unknown keys are errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def _bool_to_section(value: Any) -> Any:
    """Let ``controls.smoothing = true`` stand for ``controls.smoothing.enabled = true``."""
    return {"enabled": value} if isinstance(value, bool) else value
