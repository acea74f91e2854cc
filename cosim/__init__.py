"""AI-factory / BESS / grid co-simulation on HELICS and pandapower.

Python API: ``run_case(case, **overrides)`` runs a federation and returns a
:class:`cosim.engine.results.Results`; ``load_results(dir)`` reads a finished run.
"""

from cosim.case import Case, load_case
from cosim.errors import CaseError, CosimError, RunError

__all__ = ["Case", "CaseError", "CosimError", "RunError", "load_case", "load_results", "run_case"]


def run_case(case, out_dir=None, **overrides):  # noqa: ANN001, ANN201 - thin re-export
    """Run a case (path, bundled name, dict or Case) and return its Results.

    Keyword overrides use ``__`` for dots: ``run_case("ieee118_factory",
    horizon__duration_s=60)``.
    """
    from cosim.engine.runner import run_case as _run

    return _run(
        case, out_dir=out_dir, overrides={k.replace("__", "."): v for k, v in overrides.items()}
    )


def load_results(directory):  # noqa: ANN001, ANN201
    """Read a finished (or failed, partial) run directory."""
    from cosim.engine.results import load_results as _load

    return _load(directory)
