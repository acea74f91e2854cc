"""Issue 12, items 2, 4, 12: run directories are ours before anything is deleted, locked while
in use, and every bad command line is one line with exit 2 before any process starts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cosim.cli import main
from cosim.engine.outdir import LOCK_FILE, RUN_MARKER, claim_out_dir, prepare_out_dir
from cosim.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def _one_line_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert len([ln for ln in err.splitlines() if ln.strip()]) == 1, err
    assert expected in err, err


def test_prepare_refuses_a_foreign_directory_and_deletes_nothing(tmp_path: Path) -> None:
    foreign = tmp_path / "home"
    for sub in ("logs", "timeseries", "configs"):
        (foreign / sub).mkdir(parents=True)
        (foreign / sub / "precious.txt").write_text("keep")
    (foreign / "summary.json").write_text("{}")
    with pytest.raises(UsageError, match="not empty and not a run directory"):
        prepare_out_dir(foreign)
    assert sorted(p.name for p in foreign.rglob("*")) == sorted(
        ["logs", "timeseries", "configs", "precious.txt", "precious.txt", "precious.txt"]
        + ["summary.json"]
    )


def test_a_new_run_directory_is_marked_then_cleaned_on_reuse(tmp_path: Path) -> None:
    out = tmp_path / "run"
    prepare_out_dir(out)
    assert (out / RUN_MARKER).is_file()
    (out / "logs").mkdir()
    (out / "logs" / "old.log").write_text("x")
    (out / "notes.txt").write_text("mine")
    prepare_out_dir(out)
    assert not (out / "logs").exists()
    assert (out / "notes.txt").read_text() == "mine"  # only generated parts go


def test_case_name_that_escapes_runs_is_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    victim = tmp_path / "x"
    (victim / "logs").mkdir(parents=True)
    _one_line_exit_2(
        capsys,
        ["run", "ieee118_factory", "--set", "name='../x'", "-q"],
        "name: a name is a label, not a path",
    )
    assert (victim / "logs").is_dir()
    assert not (tmp_path / "runs").exists()


def test_second_run_into_a_held_directory_exits_2_naming_the_holder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "shared"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from cosim.engine.outdir import claim_out_dir\n"
            "with claim_out_dir(sys.argv[1]):\n"
            "    print('held', flush=True)\n"
            "    sys.stdin.read()\n",
            str(out),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        _one_line_exit_2(
            capsys,
            ["run", "ieee118_factory", "-o", str(out), "-q", "--set", "horizon.duration_s=10"],
            f"in use by another run (pid {holder.pid} on ",
        )
        assert time.monotonic() - t0 < 30  # refused before anything starts
        assert not (out / "configs").exists()
    finally:
        holder.communicate("", timeout=30)
    with claim_out_dir(out) as again:  # released with its holder
        assert (again / LOCK_FILE).is_file()


def test_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    with (
        claim_out_dir(tmp_path / "d"),
        pytest.raises(UsageError, match=f"pid {os.getpid()} on"),
        claim_out_dir(tmp_path / "d"),
    ):
        pass


def test_binary_case_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "bin.toml"
    p.write_bytes(b'name = "x"\n\xff\xfe\x00\x01garbage')
    _one_line_exit_2(capsys, ["check", str(p)], "not a text (UTF-8) case file: byte 0xff")


def test_output_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    args = ["--set", "horizon.duration_s=10"]
    _one_line_exit_2(
        capsys, ["run", "ieee118_factory", "-o", str(f), "-q", *args], "exists and is not a dir"
    )
    _one_line_exit_2(
        capsys, ["run", "ieee118_factory", "-o", str(f / "sub"), "-q", *args], "cannot create"
    )
    _one_line_exit_2(capsys, ["build", "ieee118_factory", "-o", str(f)], "is not a directory")
    assert f.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_output_not_writable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        _one_line_exit_2(capsys, ["run", "ieee118_factory", "-o", str(ro), "-q"], "not writable")
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("value", ["-5", "nan", "inf", "0"])
def test_bad_wall_limit(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    _one_line_exit_2(
        capsys,
        ["run", "ieee118_factory", f"--wall-limit={value}", "-q"],
        "--wall-limit",
    )


def test_broker_only_interface_not_an_ip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _one_line_exit_2(
        capsys,
        [
            "run",
            "ieee118_factory",
            "--broker-only",
            "--interface",
            "not-an-ip",
            "-o",
            str(tmp_path),
        ],
        "--interface 'not-an-ip': not an IP address",
    )
    _one_line_exit_2(
        capsys,
        ["broker", "ieee118_factory", "--interface", "not-an-ip", "-o", str(tmp_path)],
        "not an IP address",
    )
