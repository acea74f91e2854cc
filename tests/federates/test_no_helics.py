"""The pure models import no helics: only the adapters and the shared loop may.

Each module is imported in a fresh interpreter, which then reports whether
``helics`` ended up in ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADAPTER_NAMES = {"federate.py", "transmission.py", "distribution.py", "frequency_federate.py"}
ADAPTER_PATHS = {Path("federates/common/loop.py")}
FACTORY_PURE = ["load", "trace", "ride_through", "bess", "controls", "site", "config"]

_PROBE = """
import importlib, json, sys
out = {}
for name in sys.argv[1:]:
    before = "helics" in sys.modules
    importlib.import_module(name)
    out[name] = (not before) and ("helics" in sys.modules)
print(json.dumps(out))
"""


def _pure_modules() -> list[str]:
    mods = []
    for path in sorted((ROOT / "federates").rglob("*.py")):
        rel = path.relative_to(ROOT)
        if path.name in ADAPTER_NAMES or rel in ADAPTER_PATHS:
            continue
        mods.append(".".join(rel.with_suffix("").parts).removesuffix(".__init__"))
    return mods


def _imports_helics(*modules: str) -> dict[str, bool]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def probe() -> dict[str, bool]:
    """Import the factory models first, then every other pure module, in one interpreter."""
    factory = [f"federates.factory.{n}" for n in FACTORY_PURE]
    rest = [m for m in _pure_modules() if m not in factory]
    return _imports_helics(*factory, *rest)


@pytest.mark.parametrize("name", FACTORY_PURE)
def test_factory_model_does_not_import_helics(name: str, probe: dict[str, bool]) -> None:
    # modules are imported one after another in a fresh interpreter; the first one
    # that pulls helics in (directly or through its imports) is flagged
    assert probe[f"federates.factory.{name}"] is False


def test_no_pure_federates_module_imports_helics(probe: dict[str, bool]) -> None:
    mods = _pure_modules()
    assert "federates.factory.site" in mods and "federates.factory.federate" not in mods
    assert set(mods) <= set(probe)
    assert not any(probe.values()), f"imports helics: {[m for m, v in probe.items() if v]}"


def test_the_probe_detects_helics() -> None:
    """Guard against a probe that can never fail."""
    import helics  # noqa: F401 - a hard dependency: missing is a failure, not a skip

    assert _imports_helics("helics") == {"helics": True}
