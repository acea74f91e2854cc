"""The default case's summary.json equals its stored golden copy, key by key."""

from __future__ import annotations

import json

import pytest

from tests.integration.golden import (
    GOLDEN,
    differences,
    golden_summary,
    run_default,
    strip_volatile,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_default_case_summary_equals_the_golden_copy(tmp_path) -> None:
    actual = run_default(tmp_path / "run")
    diff = differences(golden_summary(), actual)
    assert not diff, f"{len(diff)} differences from {GOLDEN.name}:\n" + "\n".join(diff[:60])


def test_golden_comparison_ignores_only_volatile_fields_and_key_order() -> None:
    golden = golden_summary()
    shuffled = json.loads(json.dumps(golden, sort_keys=False))
    shuffled = dict(reversed(list(shuffled.items())))
    noisy = {**shuffled, "wall_s": 12.3, "run": {"host": "elsewhere", "host_pid": 1}}
    assert differences(golden, strip_volatile(noisy)) == []
    changed = json.loads(json.dumps(golden))
    changed["poi"]["p_max_mw"] *= 1 + 1e-6
    assert differences(golden, changed) == [
        f"poi.p_max_mw: {golden['poi']['p_max_mw']!r} != {changed['poi']['p_max_mw']!r}"
    ]
    changed["poi"]["p_max_mw"] = golden["poi"]["p_max_mw"] * (1 + 1e-12)
    assert differences(golden, changed) == []
