"""Run commands of ``cosim``: check, build, run, cases, report, compare.

User mistakes (a malformed case, a missing file, a failed federate) print one
line per problem to stderr and exit non-zero without a traceback: 2 for a case
error, 1 for a failed run, 130 for Ctrl-C. ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cosim.cli.args import add_case_args, checked_case, interface_address, wall_limit
from cosim.errors import CosimError


def cmd_check(args: argparse.Namespace) -> int:
    case = checked_case(args.case, args.overrides)
    print(
        f"{case.name}: ok ({case.horizon.duration_s:g} s, {len(case.time_grid())} grid steps, "
        f"network {case.grid.network}, POI bus {case.factory.poi_bus})"
    )
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from cosim.engine.build import build
    from cosim.engine.outdir import claim_out_dir

    case = checked_case(args.case, args.overrides)
    with claim_out_dir(args.output) as out:
        b = build(case, out)
    print(
        f"wrote {len(b.configs)} federate configs and {b.runner} "
        f"(run it with: helics run --path {b.runner})"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from cosim.engine.runner import run_case

    limit = wall_limit(args.wall_limit)
    interface = interface_address(args.interface)
    case = checked_case(args.case, args.overrides)
    if limit is not None:
        case.run.wall_limit_s = limit
    if args.broker_only:
        from cosim.engine.distributed import run_broker_only

        out = Path(args.output) if args.output else Path("runs") / case.name
        return run_broker_only(case, out, interface, args.port, wall_limit_s=limit)
    out = Path(args.output) if args.output else None
    results = run_case(
        case,
        out,
        baseline=args.baseline,
        progress=not args.quiet,
        report=False if args.no_report else None,
        interface=interface,
    )
    print_summary(results.summary, results.dir)
    if results.baseline is not None:
        from cosim.analysis.compare import compare_summaries, render_comparison

        print("\nBESS vs baseline (BESS off):")
        cmp = compare_summaries(
            results.baseline.summary, results.summary, "baseline (BESS off)", "with BESS"
        )
        print(render_comparison(cmp, changed_only=True))
    return 0


def print_summary(s: dict[str, Any], run_dir: Path) -> None:
    """A short terminal summary of a run."""

    def g(*path: str) -> Any:
        node: Any = s
        for p in path:
            node = node.get(p) if isinstance(node, dict) else None
        return node

    def f(x: Any, fmt: str = ".3f") -> str:
        return "n/a" if x is None else format(x, fmt)

    print(
        f"run {run_dir}: {s.get('status')} in {f(s.get('wall_s'), '.1f')} s wall, "
        f"{s.get('steps', 'n/a')} steps"
    )
    print(
        f"  POI   P {f(g('poi', 'p_min_mw'), '.1f')} .. {f(g('poi', 'p_max_mw'), '.1f')} MW, "
        f"ramp max {f(g('poi', 'ramp_max_mw_per_min'), '.1f')} MW/min, "
        f"V {f(g('poi', 'v_min_pu'))} .. {f(g('poi', 'v_max_pu'))} pu"
    )
    print(
        f"  BESS  SOC {f(g('bess', 'soc_min'))} .. {f(g('bess', 'soc_max'))}, "
        f"throughput {f(g('bess', 'throughput_mwh'), '.2f')} MWh"
    )
    print(
        f"  grid  V {f(g('grid', 'v_min_pu'))} .. {f(g('grid', 'v_max_pu'))} pu, "
        f"max loading {f(g('grid', 'loading_max_percent'), '.1f')} %"
    )
    checks = s.get("checks") or []
    if checks:
        from cosim.analysis.summary import verdict_line

        failed = [c for c in checks if c.get("passed") is False]
        print(f"  verdict {str(s.get('verdict', 'n/a')).upper()}: {verdict_line(s)}")
        for c in failed:
            basis = c.get("basis", "assessed")
            print(
                f"    FAIL {c['name']}: {c['value']} {c.get('unit', '')} vs limit {c['limit']} "
                f"({c.get('source', '')}; {basis})"
            )
    if s.get("summary_error"):
        print(f"  (summary incomplete: {s['summary_error']})")
    print(f"  results: {run_dir}/summary.json, {run_dir}/timeseries/, {run_dir}/report.html")


def cmd_cases(args: argparse.Namespace) -> int:
    from cosim.case import bundled_cases, load_case

    for path in bundled_cases():
        try:
            desc = load_case(path).description.strip().splitlines()[0]
        except (CosimError, IndexError):
            desc = ""
        print(f"{path.stem:28s} {desc}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from cosim.analysis.report import write_report

    path = write_report(Path(args.run_dir))
    print(f"wrote {path}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from cosim.analysis.compare import compare_runs, render_comparison, write_comparison_json

    for d in (args.run_a, args.run_b):
        if not (Path(d) / "summary.json").is_file():
            raise CosimError(f"{d}: not a run directory (no summary.json)")
    table = compare_runs(Path(args.run_a), Path(args.run_b))
    print(render_comparison(table))
    if args.output:
        print(f"wrote {write_comparison_json(table, Path(args.output))}")
    return 0


def register(sub: Any) -> None:
    """Add the run commands to the ``cosim`` subparsers."""

    p = sub.add_parser("check", help="validate a case (and its network) without running it")
    add_case_args(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("build", help="write the HELICS configs and a `helics run` runner JSON")
    add_case_args(p)
    p.add_argument("-o", "--output", required=True, help="output directory")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("run", help="run a case as a HELICS federation")
    add_case_args(p)
    p.add_argument("-o", "--output", help="run directory (default: runs/<case name>)")
    p.add_argument(
        "--baseline", action="store_true", help="also run with the BESS off into DIR/baseline"
    )
    p.add_argument(
        "--wall-limit",
        type=float,
        default=None,
        metavar="S",
        help="stop after S wall-clock seconds",
    )
    p.add_argument("--no-report", action="store_true", help="skip report.html")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--broker-only",
        action="store_true",
        help="start just the broker; federates join with `cosim federate NAME --broker ...`",
    )
    p.add_argument(
        "--interface",
        default="127.0.0.1",
        help="the one address every process of the run listens on (default loopback "
        "127.0.0.1; with --broker-only the broker's, e.g. 0.0.0.0 for every interface)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help="with --broker-only: broker port (default: a free one)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("cases", help="list the bundled cases")
    p.set_defaults(func=cmd_cases)

    p = sub.add_parser("report", help="(re)build report.html of a run directory")
    p.add_argument("run_dir")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("compare", help="deltas of every metric between two runs")
    p.add_argument("run_a")
    p.add_argument("run_b")
    p.add_argument("-o", "--output", help="write the comparison as JSON")
    p.set_defaults(func=cmd_compare)
