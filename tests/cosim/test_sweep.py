"""Sweeps: grid parsing, run ids, expansion, the tidy table, resume and failures.

Real runs on Dask and on a local pool.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cosim.case import Case, load_case
from cosim.engine.build import write_resolved_case
from cosim.errors import CaseError
from cosim.studies.sweep import (
    expand,
    flatten_summary,
    is_finished,
    make_row,
    parse_grid,
    plot_sweep,
    run_id_for,
    run_specs,
    run_sweep,
    sweep_frame,
    write_table,
)

CASE_TOML = 'name = "sw"\nseed = 1\n[horizon]\nduration_s = 10\n[factory]\npoi_bus = 11\n'


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    p = tmp_path / "sw.toml"
    p.write_text(CASE_TOML)
    return p


# ---------------------------------------------------------------- pure parts


def test_parse_grid_parses_values_like_set() -> None:
    grid = parse_grid(
        ["bess.p_mw=0,50.5,100", "grid.network=case118,case30", "bess.enabled=true,false"]
    )
    assert grid == {
        "bess.p_mw": [0, 50.5, 100],
        "grid.network": ["case118", "case30"],
        "bess.enabled": [True, False],
    }


@pytest.mark.parametrize("bad", ["bess.p_mw", "=1,2", "bess.p_mw=1,,2", "bess.p_mw="])
def test_parse_grid_rejects_malformed(bad: str) -> None:
    with pytest.raises(CaseError, match="expected KEY.PATH=V1,V2"):
        parse_grid([bad])


def test_parse_grid_rejects_a_key_given_twice() -> None:
    with pytest.raises(CaseError, match="given twice"):
        parse_grid(["bess.p_mw=1", "bess.p_mw=2"])


def test_run_id_is_stable_unique_and_file_safe() -> None:
    a = run_id_for({"bess.p_mw": 50, "factory.poi_bus": 12})
    assert a == run_id_for({"bess.p_mw": 50, "factory.poi_bus": 12})
    assert a.startswith("p_mw=50_poi_bus=12-")
    assert a != run_id_for({"bess.p_mw": 50, "factory.poi_bus": 49})
    # same last key component, different full key: still different ids
    assert run_id_for({"bess.p_mw": 1}) != run_id_for({"factory.p_mw": 1})
    odd = run_id_for({"grid.network": "/data/my net.json"})
    assert "/" not in odd and " " not in odd


def test_expand_is_the_cartesian_product_with_overrides(case_file: Path) -> None:
    specs = expand(
        [case_file],
        {"bess.p_mw": [0, 50], "factory.poi_bus": [11, 12, 13]},
        ["horizon.duration_s=5"],
    )
    assert len(specs) == 6
    assert len({s.run_id for s in specs}) == 6
    assert {(s.case.bess.p_mw, s.case.factory.poi_bus) for s in specs} == {
        (p, b) for p in (0, 50) for b in (11, 12, 13)
    }
    assert all(s.case.horizon.duration_s == 5 for s in specs)
    assert specs[0].params == {"bess.p_mw": 0, "factory.poi_bus": 11}


def test_expand_over_a_list_of_cases(case_file: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text(CASE_TOML.replace("poi_bus = 11", "poi_bus = 30"))
    specs = expand([case_file, other], {"bess.p_mw": [0, 50]})
    assert [s.params["case"] for s in specs] == ["sw", "sw", "other", "other"]
    assert {s.case.factory.poi_bus for s in specs if s.params["case"] == "other"} == {30}


def test_expand_reports_every_invalid_point_before_running(case_file: Path) -> None:
    with pytest.raises(CaseError) as err:
        expand([case_file], {"bess.soc_min": [0.1, 1.5, 2.0]})
    assert len(err.value.problems) == 2
    assert all("bess.soc_min" in p for p in err.value.problems)


def test_flatten_summary_nests_with_dots_and_expands_checks() -> None:
    summary = {
        "status": "ok",
        "verdict": "fail",
        "wall_s": 3.0,
        "poi": {"p_max_mw": 310.0, "osc_band_hz": [0.1, 20.0], "nested": {"x": 1}},
        "checks": [
            {
                "id": "thermal",
                "name": "Branch loading",
                "value": 104.0,
                "limit": 100.0,
                "passed": False,
            },
            {"id": "soc_window", "value": [0.3, 0.6], "limit": [0.2, 0.8], "passed": True},
        ],
        "run": {"returncodes": {"broker": 0}},
        "events": [{"a": 1}],
    }
    flat = flatten_summary(summary)
    assert flat["poi.p_max_mw"] == 310.0
    assert flat["poi.nested.x"] == 1
    assert json.loads(flat["poi.osc_band_hz"]) == [0.1, 20.0]
    assert flat["checks.thermal.passed"] is False
    assert flat["checks.thermal.value"] == 104.0
    assert json.loads(flat["checks.soc_window.limit"]) == [0.2, 0.8]
    assert not any(k.startswith("run.") for k in flat)
    assert "events" not in flat


def test_make_row_keeps_parameters_apart_from_metrics(case_file: Path, tmp_path: Path) -> None:
    spec = expand([case_file], {"bess.p_mw": [5]})[0]
    record = {
        "status": "ok",
        "error": "",
        "summary": {
            "status": "ok",
            "verdict": "pass",
            "wall_s": 2.5,
            "bess": {"p_mw": 99.0, "soc_min": 0.3},
        },
    }
    row = make_row(spec, record, tmp_path)
    assert row["bess.p_mw"] == 5  # the parameter, not the summary's value
    assert row["summary.bess.p_mw"] == 99.0
    assert row["bess.soc_min"] == 0.3
    assert (row["status"], row["verdict"], row["wall_s"], row["error"]) == ("ok", "pass", 2.5, "")


def test_sweep_frame_writes_parquet_with_mixed_types(tmp_path: Path) -> None:
    rows = [
        {
            "run_id": "a",
            "x": 1,
            "status": "ok",
            "verdict": "pass",
            "error": "",
            "m": 1.0,
            "lim": 100.0,
        },
        {
            "run_id": "b",
            "x": 2,
            "status": "failed",
            "verdict": None,
            "error": "boom",
            "lim": "[0.9, 1.1]",
        },
    ]
    df = sweep_frame(rows, ["x"])
    assert list(df.columns[:7]) == [
        "run_id",
        "x",
        "status",
        "verdict",
        "error",
        "wall_s",
        "run_dir",
    ]
    path = write_table(df, tmp_path / "t.parquet")
    back = pd.read_parquet(path)
    assert back["lim"].tolist() == ["100.0", "[0.9, 1.1]"]
    assert back["error"].tolist() == ["", "boom"]


# ---------------------------------------------------------------- resume and failures (fake runs)


def _fake_run(case: Case, run_dir: Path, fail: bool) -> dict[str, Any]:
    """What a run leaves on disk, without a federation: case.toml and summary.json."""
    run_dir.mkdir(parents=True, exist_ok=True)
    write_resolved_case(case, run_dir / "case.toml")
    summary = {
        "status": "failed" if fail else "ok",
        "wall_s": 1.0,
        "verdict": None if fail else "pass",
        "poi": {"p_max_mw": 1.2 * case.factory.it_mw},
    }
    (run_dir / "summary.json").write_text(json.dumps(summary))
    return {
        "status": summary["status"],
        "error": "federate 'factory' failed: boom" if fail else "",
        "summary": summary,
    }


class FakePool:
    """Runs synchronously in-process; sizes listed in ``fail_sizes`` fail."""

    def __init__(self, fail_sizes: set[float] = frozenset()) -> None:
        self.fail_sizes = fail_sizes
        self.submitted: list[str] = []

    def submit(self, case: Case, run_dir: Path) -> Future:
        self.submitted.append(Path(run_dir).name)
        fut: Future = Future()
        fut.set_result(_fake_run(case, Path(run_dir), case.factory.it_mw in self.fail_sizes))
        return fut

    def as_completed(self, futures: list[Future]) -> list[Future]:
        return list(futures)

    def cancel(self, futures: Any) -> None:
        pass


def test_a_failing_run_is_recorded_and_the_others_complete(case_file: Path, tmp_path: Path) -> None:
    specs = expand([case_file], {"factory.it_mw": [100, 200, 300]})
    rows: dict[str, dict[str, Any]] = {}
    reused = run_specs(specs, tmp_path / "runs", FakePool({200.0}), rows, progress=False)
    df = sweep_frame([rows[s.run_id] for s in specs], ["factory.it_mw"])
    assert reused == 0
    assert df["status"].tolist() == ["ok", "failed", "ok"]
    assert df["error"].tolist()[1].startswith("federate 'factory' failed")
    assert df["poi.p_max_mw"].tolist()[0] == pytest.approx(120.0)


def test_resume_skips_finished_runs_and_reruns_failed_or_changed_ones(
    case_file: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    specs = expand([case_file], {"factory.it_mw": [100, 200, 300]})
    run_specs(specs, runs, FakePool({200.0}), {}, progress=False)
    assert is_finished(runs / specs[0].run_id, specs[0].case)
    assert not is_finished(runs / specs[1].run_id, specs[1].case)  # failed
    # the third run's directory now holds a different case (e.g. edited by hand): stale
    changed = load_case(specs[2].case, {"bess.p_mw": 1.0})
    write_resolved_case(changed, runs / specs[2].run_id / "case.toml")
    second = FakePool()
    rows: dict[str, dict[str, Any]] = {}
    reused = run_specs(specs, runs, second, rows, progress=False)
    assert reused == 1
    assert second.submitted == [specs[1].run_id, specs[2].run_id]
    assert all(r["status"] == "ok" for r in rows.values())


def test_plot_per_parameter(tmp_path: Path) -> None:
    df = sweep_frame(
        [
            {
                "run_id": f"r{i}",
                "a": a,
                "b": b,
                "status": "ok",
                "verdict": v,
                "error": "",
                "poi.p_max_mw": 100.0 + a + len(b),
                "grid.loading_max_percent": 50.0 + a,
            }
            for i, (a, b, v) in enumerate(
                [(0, "x", "pass"), (50, "x", "fail"), (0, "y", "pass"), (50, "y", None)]
            )
        ],
        ["a", "b"],
    )
    paths = plot_sweep(df, ["a", "b"], tmp_path / "plots")
    assert [p.name for p in paths] == ["sweep_a.png", "sweep_b.png"]
    assert all(p.stat().st_size > 5000 for p in paths)


def test_cli_sweep_reports_a_malformed_grid_in_one_line(tmp_path: Path, case_file: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "cosim.cli",
            "sweep",
            str(case_file),
            "--grid",
            "bess.p_mw",
            "-o",
            str(tmp_path / "s"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: --grid 'bess.p_mw': expected KEY.PATH=V1,V2,..."


# ---------------------------------------------------------------- real federations


@pytest.mark.integration
def test_real_sweep_on_a_dask_cluster_on_loopback(case_file: Path, tmp_path: Path) -> None:
    import distributed  # a hard dependency (dask[distributed]): missing is a failure

    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        host="127.0.0.1",
        scheduler_port=0,
        dashboard_address=None,
        protocol="tcp",
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        res = run_sweep(
            case_file,
            ["bess.p_mw=0,50"],
            tmp_path / "sweep",
            scheduler=cluster.scheduler_address,
            progress=False,
        )
    df = pd.read_parquet(tmp_path / "sweep" / "sweep.parquet")
    assert df["bess.p_mw"].tolist() == [0, 50]
    assert df["status"].tolist() == ["ok", "ok"], df["error"].tolist()
    assert df["poi.p_max_mw"].gt(0).all()
    assert len(set(df["run_dir"])) == 2
    for run_dir in df["run_dir"]:
        assert (Path(run_dir) / "timeseries" / "factory.parquet").is_file()
    # the two runs were separate federations, each with its own broker port
    ports = {
        re.search(
            r"--broker_address=\S+:(\d+)",
            json.loads((Path(d) / "configs" / "factory.json").read_text())["coreInitString"],
        ).group(1)
        for d in df["run_dir"]
    }
    assert len(ports) == 2
    assert [p.name for p in res.plots] == ["sweep_bess.p_mw.png"]


@pytest.mark.integration
def test_real_sweep_on_separate_dask_scheduler_and_worker_processes(
    case_file: Path, tmp_path: Path
) -> None:
    """The multi-machine shape: `dask scheduler` and `dask worker` are their own processes (here on
    loopback); each run is a task that starts its own federation inside the worker process."""
    import distributed  # noqa: F401 - a hard dependency: missing is a failure

    sched_file = tmp_path / "scheduler.json"
    dask_cli = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    worker_cli = [sys.executable, "-m", "distributed.cli.dask_worker"]
    logs = {n: (tmp_path / f"{n}.log").open("w") for n in ("scheduler", "worker")}
    procs = [
        subprocess.Popen(
            [
                *dask_cli,
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(sched_file),
            ],
            stdout=logs["scheduler"],
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        procs.append(
            subprocess.Popen(
                [
                    *worker_cli,
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "2",
                    "--no-dashboard",
                ],
                stdout=logs["worker"],
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        run_sweep(
            case_file, ["bess.p_mw=0,50"], tmp_path / "sweep", scheduler=address, progress=False
        )
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for f in logs.values():
            f.close()
    df = pd.read_parquet(tmp_path / "sweep" / "sweep.parquet")
    assert df["status"].tolist() == ["ok", "ok"], df["error"].tolist()
    assert df["bess.p_mw"].tolist() == [0, 50]
    for run_dir in df["run_dir"]:
        assert (Path(run_dir) / "timeseries" / "factory.parquet").is_file()
    # the runs executed in the worker process, not in this one
    pids = {
        json.loads((Path(d) / "summary.json").read_text()).get("run", {}).get("host_pid")
        for d in df["run_dir"]
    }
    assert pids and os.getpid() not in pids and None not in pids


@pytest.mark.integration
def test_real_sweep_cli_local_pool_records_failure_and_resumes(
    case_file: Path, tmp_path: Path
) -> None:
    """One run fails (a 0.5 s wall-clock limit), the other completes; a second call reuses it."""
    out = tmp_path / "sweep"
    cmd = [
        sys.executable,
        "-m",
        "cosim.cli",
        "sweep",
        str(case_file),
        "--grid",
        "run.wall_limit_s=0.5,600",
        "-o",
        str(out),
        "--workers",
        "2",
        "-q",
    ]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert first.returncode == 1, first.stderr
    assert "2 runs (0 reused), 1 ok, 1 failed" in first.stdout
    df = pd.read_parquet(out / "sweep.parquet")
    bad, good = df.iloc[0], df.iloc[1]
    assert bad["status"] == "failed" and "wall-clock limit" in bad["error"]
    assert good["status"] == "ok" and good["error"] == ""
    assert (out / "plots" / "sweep_run.wall_limit_s.png").is_file()
    shutil.rmtree(Path(good["run_dir"]) / "timeseries")  # proves the finished run is not run again
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert "2 runs (1 reused), 1 ok, 1 failed" in second.stdout, second.stdout + second.stderr
    assert not (Path(good["run_dir"]) / "timeseries").exists()
