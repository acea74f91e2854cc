"""What every adapter factory reads from its own config (pure: no helics import).

A federate's config (``configs/<name>.json``, written by the build) is
self-contained: its ``cosim`` section carries the federate's own parameters
(``params``) and the time grid (``time_grid``); nothing else is read.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

from federates.common.timegrid import time_grid
from federates.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def params_of(config: dict[str, Any], model: type[M]) -> M:
    """The federate's parameters (``cosim.params`` of its config), validated by ``model``.

    Raises
    ------
    ConfigError
        One line per problem, naming the config's federate and the key.
    """
    data = config.get("cosim", {}).get("params")
    name = config.get("name", "federate")
    if not isinstance(data, dict):
        raise ConfigError("cosim.params: missing (rebuild the federation)", f"configs/{name}.json")
    try:
        return model.model_validate(data, context={"base_dir": data.get("base_dir", ".")})
    except ValidationError as exc:
        problems = [
            f"cosim.params.{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()
        ]
        raise ConfigError(problems, f"configs/{name}.json") from None


def timing(config: dict[str, Any]) -> tuple[np.ndarray, float]:
    """The shared solve instants ``t_s`` [s] and the horizon [s] of a federate's config."""
    tg = config["cosim"]["time_grid"]
    return time_grid(**tg), float(tg["duration_s"])
