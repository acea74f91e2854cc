"""Grid-dynamics commands of ``cosim``: modes, oscillation (dynamic cases only)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cosim.cli.args import add_case_args, checked_case
from cosim.errors import CaseError

EPILOG = """\
A dynamic case has a [dynamics] section (bundled: kundur_factory, ieee39_factory).
Exit status: 0 when the checks pass, 3 when a check fails (damping below
requirements.damping_min; forced speed oscillation above
requirements.speed_osc_pp_max_mhz), 2 for a bad case or argument, 1 for other errors.
"""


def cmd_modes(args: argparse.Namespace) -> int:
    from cosim.studies.modes import modes_table, write_modes

    case = checked_case(args.case, args.overrides)
    found, check, path = write_modes(case, Path(args.output))
    print(f"{case.name}: {len(found)} oscillatory modes at the initial operating point")
    print(modes_table(found, case.requirements.damping_min))
    verdict = "ok" if check.passed is not False else "FAIL"
    print(f"damping check: {verdict} (min {check.value}, limit {check.limit}; {check.note})")
    data = json.loads(path.read_text()).get("dynamic_data", {})
    if data.get("typical_machines"):
        print(
            f"dynamic data: TYPICAL (federates.dynamics.typical) for "
            f"{len(data['typical_machines'])} machine(s), rating assumed for "
            f"{len(data['rating_assumed'])}"
        )
    print(f"wrote {path}")
    return 3 if check.passed is False else 0


def _freqs(text: str) -> list[float]:
    try:
        out = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise CaseError(f"--freqs {text!r}: expected numbers like 0.5,1.1,2") from None
    if not out or any(not 0.05 <= f <= 10.0 for f in out):
        raise CaseError(f"--freqs {text!r}: each frequency must be 0.05-10 Hz")
    return out


def cmd_oscillation(args: argparse.Namespace) -> int:
    from cosim.analysis.checks import Check, judge
    from cosim.analysis.report.dynamics import oscillation_figure, to_png
    from cosim.studies.modes import case_modes
    from cosim.studies.oscillation import sweep

    freqs = _freqs(args.freqs)
    if args.amplitude_mw is not None and not args.amplitude_mw > 0:
        raise CaseError("--amplitude-mw must be > 0")
    case = checked_case(args.case, args.overrides)
    found = case_modes(case)
    points = sweep(
        case,
        freqs,
        found,
        amplitude_mw=args.amplitude_mw,
        settle_s=args.settle_s,
        measure_s=args.measure_s,
    )
    req = case.requirements
    worst = max(points, key=lambda p: p["speed_dev_pp_max_mhz"])
    check = Check(
        id="oscillation",
        name="Forced generator speed oscillation, peak to peak (max over the sweep)",
        value=worst["speed_dev_pp_max_mhz"],
        limit=req.speed_osc_pp_max_mhz,
        unit="mHz",
        source=req.limit("speed_osc_pp_max_mhz").source,
        passed=judge(worst["speed_dev_pp_max_mhz"], req.speed_osc_pp_max_mhz, "<="),
        basis="assessed",
        note=f"at {worst['f_hz']:g} Hz, {worst['forcing']}",
    )
    em = [m.as_dict() for m in found if m.kind != "control"]
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"case": case.name, "points": points, "modes": em}
    doc["checks"] = [check.as_dict()]
    (out / "oscillation.json").write_text(json.dumps(doc, indent=2))
    (out / "oscillation.png").write_bytes(to_png(oscillation_figure(points, em)))
    _print_points(points)
    print(f"oscillation check: {'FAIL' if check.passed is False else 'ok'} ({check.note})")
    print(f"wrote {out / 'oscillation.json'} and {out / 'oscillation.png'}")
    return 3 if check.passed is False else 0


def _print_points(points: list[dict[str, Any]]) -> None:
    print(
        f"{'f [Hz]':>7} {'speed pp [mHz]':>15} {'branch pp [MW]':>15} {'POI V pp [%]':>13}"
        "  resonance"
    )
    for p in points:
        res = ", ".join(
            f"{r['line_hz']:.2f} Hz in {r['mode_hz']:.2f} Hz {r['kind']}" for r in p["resonance"]
        )
        nb = p.get("no_bess")
        speed = f"{p['speed_dev_pp_max_mhz']:.1f}"
        if nb:
            speed += f" ({nb['speed_dev_pp_max_mhz']:.1f})"
        print(
            f"{p['f_hz']:7.3f} {speed:>15} {p['branch_osc_max_mw']:15.1f}"
            f" {p['poi_v_osc_percent']:13.2f}  {res or '-'}"
        )
    if any("no_bess" in p for p in points):
        print("(speed without BESS in brackets)")


def register(sub: Any) -> None:
    """Add the ``modes`` and ``oscillation`` subcommands."""
    p = sub.add_parser(
        "modes",
        help="electromechanical modes of a dynamic case (linearised at t = 0)",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_case_args(p)
    p.add_argument("-o", "--output", required=True, help="output directory (modes.json)")
    p.set_defaults(func=cmd_modes)

    p = sub.add_parser(
        "oscillation",
        help="forced-oscillation sweep of a dynamic case (training swing or sine per frequency)",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_case_args(p)
    p.add_argument("--freqs", required=True, metavar="F1,F2,...", help="forcing frequencies [Hz]")
    p.add_argument(
        "--amplitude-mw",
        type=float,
        default=None,
        help="force a sine of this amplitude [MW] instead of the factory's training swing "
        "(no BESS comparison then)",
    )
    p.add_argument("--settle-s", type=float, default=10.0, help="transient left to decay [s]")
    p.add_argument(
        "--measure-s", type=float, default=10.0, help="measured window, at least 5 periods [s]"
    )
    p.add_argument("-o", "--output", required=True, help="output directory (oscillation.json)")
    p.set_defaults(func=cmd_oscillation)
