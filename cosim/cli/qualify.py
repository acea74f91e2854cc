"""``cosim qualify BESS_SPEC``: run the BESS qualification suite."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cosim.cli.args import add_overrides

EPILOG = """\
Tests Q1-Q12 (docs/domain.md, "Qualification test profiles") run as real
HELICS federations, --jobs at a time. Full durations (1 h, 24 h, ...) are the
default. For CI, --duration-scale 0.05 shortens every test to 5 % of its full
duration, never below the minimum its stimulus needs (e.g. Q5 24 h -> 1.2 h,
Q1 1 h -> 180 s); the report marks a shortened run.

Exit status: 0 when every selected test passes, 3 when a test fails or could
not be judged, 2 for a bad spec, 1 for other errors.
"""


def register(sub: Any) -> None:
    """Add the ``qualify`` subcommand."""
    p = sub.add_parser(
        "qualify",
        help="qualify a BESS spec against the Q1-Q12 test profiles",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "spec", help="BESS spec (.toml: [bess] + [controls] + [qualify]) or a full case file"
    )
    p.add_argument(
        "-o", "--output", default=None, help="output directory (default: runs/qualify-<spec name>)"
    )
    p.add_argument("--only", default=None, metavar="Q1,Q7", help="run only these tests")
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="tests in parallel (default: one per core)",
    )
    p.add_argument(
        "--duration-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="multiply each test's duration by X (e.g. 0.05 for CI; default 1 = full durations)",
    )
    add_overrides(
        p,
        "override a spec key, e.g. --set bess.p_mw=50 or --set qualify.Q1.osc_limit_percent=1",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no per-test progress lines")
    p.set_defaults(func=cmd_qualify)


def cmd_qualify(args: argparse.Namespace) -> int:
    from cosim.studies.qualify import load_spec, run_qualification, select_tests

    spec = load_spec(Path(args.spec), args.overrides)
    ids = select_tests(args.only)
    out = Path(args.output) if args.output else Path("runs") / f"qualify-{spec.name}"
    if args.jobs is not None and args.jobs < 1:
        from cosim.errors import CaseError

        raise CaseError(f"--jobs must be >= 1, got {args.jobs}")
    if not args.quiet:
        print(f"qualifying {spec.name}: {', '.join(ids)} -> {out}", file=sys.stderr)

    def progress(rec: dict[str, Any]) -> None:
        if not args.quiet:
            print(
                f"  {rec['id']:4s} {_state(rec):10s} {rec.get('wall_s', 0):7.1f} s  "
                f"{rec.get('name')}",
                file=sys.stderr,
            )

    result = run_qualification(
        spec, out, ids, jobs=args.jobs, duration_scale=args.duration_scale, on_done=progress
    )
    print(
        f"verdict {result['verdict'].upper()} for {spec.name}"
        f"{' (shortened run)' if result['shortened'] else ''}"
    )
    for t in result["tests"]:
        val = t.get("value")
        shown = "n/a" if val is None else f"{val:.4g}"
        thr = t.get("threshold")
        line = (
            f"  {t['id']:4s} {_state(t):10s} {t.get('metric') or '':45.45s} {shown:>10s} "
            f"{t.get('unit') or '':>8s}"
        )
        if thr is not None:
            line += f" (limit {thr:.4g})"
        print(line)
        sf = t.get("shortfall")
        if sf:
            print(f"       {sf['category']}: {sf['explanation']}")
        elif t.get("passed") is not True:
            print(f"       {t.get('reason', '')[:300]}")
    print(f"wrote {out / 'qualification.html'} and {out / 'qualification.json'}")
    return 0 if result["verdict"] == "pass" else 3


def _state(rec: dict[str, Any]) -> str:
    if rec.get("passed") is True:
        return "PASS"
    if rec.get("passed") is False:
        return "FAIL"
    return {"not_run": "NOT RUN", "error": "ERROR"}.get(rec.get("status", ""), "NOT JUDGED")
