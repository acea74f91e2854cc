"""Study subcommands of ``cosim``: sweep, hosting-capacity, broker, federate, summarize.

:func:`register` adds them to the ``cosim`` parser.
Each returns an exit code: 0 when everything ran, 1 when a run (or the
federation) failed; user mistakes raise :class:`cosim.errors.CosimError`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cosim.cli.args import (
    add_overrides,
    checked_case,
    interface_address,
    split_ints,
    wall_limit,
)
from cosim.errors import CaseError

MAX_ERRORS_SHOWN = 10


def _add_pool(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run on this Dask distributed scheduler (one task per run) instead of a local pool",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="local pool size = concurrent federations (default: one per CPU)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def cmd_sweep(args: argparse.Namespace) -> int:
    """``cosim sweep``: run the sweep, print counts, failures, table and plots."""
    from cosim.studies.sweep import run_sweep

    if args.case is None and not args.cases:
        raise CaseError("give a CASE or --cases A.toml B.toml")
    res = run_sweep(
        args.case,
        args.grid,
        args.output,
        cases=args.cases,
        overrides=args.overrides,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
        plots=not args.no_plots,
    )
    df = res.frame
    failed = res.failed
    n_pass = int((df["verdict"] == "pass").sum()) if len(df) else 0
    print(
        f"sweep {res.dir}: {len(df)} runs ({res.reused} reused), {len(df) - len(failed)} ok, "
        f"{len(failed)} failed, {n_pass} pass every check"
    )
    for r in failed.head(MAX_ERRORS_SHOWN).itertuples():
        first = (r.error or "failed").splitlines()[0]
        print(f"  FAILED {r.run_id}: {first}")
    if len(failed) > MAX_ERRORS_SHOWN:
        print(f"  ... and {len(failed) - MAX_ERRORS_SHOWN} more (column 'error' of the table)")
    print(f"  table: {res.table}")
    for p in res.plots:
        print(f"  plot:  {p}")
    return 1 if len(failed) else 0


def cmd_hosting(args: argparse.Namespace) -> int:
    """``cosim hosting-capacity``: one line per bus and BESS setting."""
    from cosim.studies.hosting import describe, hosting_capacity

    if args.with_bess or args.without_bess:
        bess = [s for s, on in ((True, args.with_bess), (False, args.without_bess)) if on]
    else:
        bess = [True, False]
    res = hosting_capacity(
        args.case,
        split_ints(args.bus),
        args.output,
        bess=bess,
        min_mw=args.min_mw,
        max_mw=args.max_mw,
        tol_mw=args.tol_mw,
        overrides=args.overrides,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
    )
    print(f"hosting capacity (factory.it_mw, within {args.tol_mw:g} MW) in {res.dir}:")
    for line in describe(res.frame):
        print(f"  {line}")
    print(f"  table: {res.table}")
    if res.plot is not None:
        print(f"  plot:  {res.plot}")
    return 0


def cmd_broker(args: argparse.Namespace) -> int:
    """``cosim broker``: the broker alone; exit 0 when the federation finished ok."""
    from cosim.engine.distributed import run_broker_only

    limit = wall_limit(args.wall_limit)
    interface = interface_address(args.interface)
    case = checked_case(args.case, args.overrides)
    out = Path(args.output) if args.output else Path("runs") / case.name
    return run_broker_only(case, out, interface, args.port, wall_limit_s=limit)


def cmd_federate(args: argparse.Namespace) -> int:
    """``cosim federate``: one federate joined to a running broker."""
    from cosim.engine.distributed import run_single_federate
    from cosim.engine.supervisor import tail

    limit = wall_limit(args.wall_limit)
    case = checked_case(args.case, args.overrides)
    out = Path(args.output) if args.output else Path("runs") / case.name
    interface = interface_address(args.interface) if args.interface else None
    res = run_single_federate(
        args.name,
        case,
        args.broker,
        out,
        wall_limit_s=limit,
        progress=not args.quiet,
        interface=interface,
    )
    if res.ok:
        print(
            f"federate {res.name} done in {res.wall_s:.1f} s; "
            f"series in {out.resolve() / 'timeseries'}"
        )
        return 0
    print(
        f"federate {res.name} failed (exit code {res.returncode}); "
        f"last lines of {res.log}:\n{tail(res.log)}"
    )
    return 1


def cmd_summarize(args: argparse.Namespace) -> int:
    """``cosim summarize``: summary.json of a separately started federation."""
    from cosim.cli.run import print_summary
    from cosim.engine.distributed import finish_run

    summary = finish_run(args.run_dir)
    print_summary(summary, Path(args.run_dir).resolve())
    return 0 if summary.get("status") == "ok" else 1


def register(sub: Any) -> None:
    """Add the study subcommands to the ``cosim`` subparsers."""
    p = sub.add_parser(
        "sweep",
        help="run a case over a grid of parameter values (local pool or Dask)",
        description="Run the cartesian product of --grid values (times --cases); each run "
        "in DIR/runs/<run-id>/, the table in DIR/sweep.parquet, plots in DIR/plots/. "
        "Re-running the same command resumes: finished runs are reused.",
    )
    p.add_argument("case", nargs="?", help="case file or bundled case name (or use --cases)")
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="values of one case key, e.g. --grid bess.p_mw=0,50,100 (repeatable)",
    )
    p.add_argument(
        "--cases", nargs="+", default=[], metavar="CASE", help="sweep over these case files too"
    )
    p.add_argument("-o", "--output", required=True, help="sweep directory")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    add_overrides(
        p, "override a case key for every run, e.g. --set horizon.duration_s=600 (repeatable)"
    )
    _add_pool(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser(
        "hosting-capacity",
        help="largest factory (factory.it_mw) per bus that passes every check",
        description="Bisection over factory.it_mw at each bus, with and/or without the BESS; "
        "reports the binding constraint. Re-running resumes (finished runs are reused).",
    )
    p.add_argument("case", help="case file or bundled case name")
    p.add_argument(
        "--bus",
        action="append",
        required=True,
        metavar="B1,B2,...",
        help="POI buses to study, e.g. --bus 12,49 (repeatable)",
    )
    p.add_argument("--with-bess", action="store_true", help="only with the case's BESS")
    p.add_argument("--without-bess", action="store_true", help="only without BESS (default: both)")
    p.add_argument(
        "--min-mw", type=float, default=10.0, help="smallest size tried [MW] (default 10)"
    )
    p.add_argument(
        "--max-mw", type=float, default=1000.0, help="largest size tried [MW] (default 1000)"
    )
    p.add_argument(
        "--tol-mw", type=float, default=10.0, help="resolution of the result [MW] (default 10)"
    )
    p.add_argument("-o", "--output", required=True, help="study directory")
    add_overrides(
        p, "override a case key for every run, e.g. --set horizon.duration_s=600 (repeatable)"
    )
    _add_pool(p)
    p.set_defaults(func=cmd_hosting)

    p = sub.add_parser(
        "broker",
        help="start only the broker of a case (federates join with `cosim federate`)",
        description="Build the case into DIR, start helics_broker on --interface:--port, "
        "print the command for each federate, wait, then write DIR/summary.json.",
    )
    p.add_argument("case", help="case file or bundled case name")
    p.add_argument(
        "--interface",
        default="127.0.0.1",
        help="address to bind (default 127.0.0.1 = this machine only; 0.0.0.0 = all interfaces)",
    )
    p.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    p.add_argument("-o", "--output", help="run directory (default: runs/<case name>)")
    p.add_argument(
        "--wall-limit",
        type=float,
        default=None,
        metavar="S",
        help="stop after S wall-clock seconds",
    )
    add_overrides(
        p, "override a case key for every run, e.g. --set horizon.duration_s=600 (repeatable)"
    )
    p.set_defaults(func=cmd_broker)

    p = sub.add_parser(
        "federate",
        help="start one federate of a case, joined to a running broker",
        description="Run federate NAME of CASE against the broker at --broker; its series "
        "go to DIR/timeseries/, its log to DIR/logs/NAME.log.",
    )
    p.add_argument(
        "name", help="federate name (see the broker's printout, e.g. factory, transmission)"
    )
    p.add_argument(
        "--case", required=True, help="case file or bundled case name (the same as the broker's)"
    )
    p.add_argument(
        "--broker", required=True, metavar="tcp://HOST:PORT", help="address of the broker"
    )
    p.add_argument(
        "--interface",
        default=None,
        help="local address this federate listens on (default: the one that routes to the broker)",
    )
    p.add_argument("-o", "--output", help="run directory (default: runs/<case name>)")
    p.add_argument(
        "--wall-limit",
        type=float,
        default=None,
        metavar="S",
        help="stop after S wall-clock seconds",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    add_overrides(
        p, "override a case key for every run, e.g. --set horizon.duration_s=600 (repeatable)"
    )
    p.set_defaults(func=cmd_federate)

    p = sub.add_parser(
        "summarize", help="write summary.json of a run whose federates were started separately"
    )
    p.add_argument("run_dir")
    p.set_defaults(func=cmd_summarize)
