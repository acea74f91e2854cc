"""Issue 12, item 10: `cosim check` reads the traces a case names; one line per problem with
file, row and value, times as the file wrote them."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosim.cli import main

CASE = """
name = "tr"
[horizon]
duration_s = 20
[factory]
poi_bus = 11
profile = "trace"
[factory.trace]
path = "{path}"
unit = "mw"
"""


def _check(tmp_path: Path, trace_text: str | None, capsys: pytest.CaptureFixture[str]) -> str:
    trace = tmp_path / "trace.csv"
    if trace_text is not None:
        trace.write_text(trace_text)
    case = tmp_path / "case.toml"
    case.write_text(CASE.format(path="trace.csv"))
    code = main(["check", str(case)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_missing_trace_fails_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _check(tmp_path, None, capsys)
    assert f"factory.trace: {tmp_path / 'trace.csv'}: cannot read trace" in err


def test_bad_value_names_file_row_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _check(tmp_path, "t_s,p_mw\n0,10\n1,-5\n2,10\n", capsys)
    assert f"{tmp_path / 'trace.csv'}: row 2 (line 3): negative power -5" in err


def test_iso_times_stay_iso_in_the_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "t_s,p_mw\n2024-07-01T00:00:00,10\n2024-07-01T00:00:02,10\n2024-07-01T00:00:01,10\n"
    err = _check(tmp_path, text, capsys)
    assert (
        "row 3 (line 4): time not increasing (2024-07-01T00:00:01 after 2024-07-01T00:00:02)"
        in (err)
    )


def test_bundled_trace_case_checks_and_resolves_against_its_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # not the case folder: the trace path is the case's, not cwd's
    assert main(["check", "trace_driven"]) == 0, capsys.readouterr().err
