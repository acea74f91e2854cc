"""report.html: one self-contained page an engineer can hand on.

Order: verdict table (every check with its value, limit, unit and the limit's
source), key metrics, violations, plots, the side-by-side baseline section
(when ``DIR/baseline`` exists), notes and limits used, and the case file. PNGs
are embedded as data URIs and also written to ``DIR/plots/``; the page has no
script and no external reference, so it opens offline.

The report only renders: metrics come from ``summary.json`` (built with
:func:`cosim.analysis.summary.build_summary` when missing or without checks); plots are
drawn from the time series.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cosim.analysis.report import html as H
from cosim.analysis.report.plots import BASELINE_PLOTS, PLOTS, PlotData, PlotSpec, Skipped, to_png

__all__ = ["KEY_METRICS", "render_report", "write_report"]

#: metrics shown in the key-metrics table: (summary path, label, unit)
KEY_METRICS: tuple[tuple[str, str, str], ...] = (
    ("poi.p_max_mw", "POI peak import", "MW"),
    ("poi.p_min_mw", "POI minimum import", "MW"),
    ("poi.ramp_max_mw_per_min", "POI ramp max (ramp window)", "MW/min"),
    ("poi.ramp_p99_mw_per_min", "POI ramp p99 (ramp window)", "MW/min"),
    ("poi.ramp_max_mw_per_s", "POI ramp max (1 s)", "MW/s"),
    ("poi.ramp_p99_mw_per_s", "POI ramp p99 (1 s)", "MW/s"),
    ("poi.osc_rms_0p1_2hz_mw", "POI oscillation RMS 0.1-2 Hz", "MW"),
    ("poi.osc_rms_0p2_3hz_mw", "POI oscillation RMS 0.2-3 Hz", "MW"),
    ("poi.osc_rms_3_30hz_mw", "POI oscillation RMS 3-30 Hz", "MW"),
    ("poi.osc_attenuation_0p2_3hz_db", "Attenuation site -> POI, 0.2-3 Hz", "dB"),
    ("site.osc_rms_0p2_3hz_mw", "Site (raw) oscillation RMS 0.2-3 Hz", "MW"),
    ("site.ramp_max_mw_per_min", "Site (raw) ramp max (ramp window)", "MW/min"),
    ("poi.v_min_pu", "POI voltage min", "pu"),
    ("poi.v_max_pu", "POI voltage max", "pu"),
    ("poi.rvc_max_percent", "POI rapid voltage change max", "%"),
    ("poi.pst_max", "Flicker Pst max (estimate)", "-"),
    ("poi.plt", "Flicker Plt (estimate)", "-"),
    ("poi.pf_min_lag", "POI power factor min (lagging)", "-"),
    ("poi.pf_min_lead", "POI power factor min (leading)", "-"),
    ("poi.scr", "Short-circuit ratio at the POI", "-"),
    ("poi.s_sc_mva", "Short-circuit power at the POI", "MVA"),
    ("grid.v_min_pu", "Bus voltage min (all buses)", "pu"),
    ("grid.v_max_pu", "Bus voltage max (all buses)", "pu"),
    ("grid.range_a.count", "Range A violation episodes", "-"),
    ("grid.range_a.duration_s", "Range A time outside (bus-seconds)", "s"),
    ("grid.loading_max_percent", "Branch loading max", "%"),
    ("grid.thermal.count", "Thermal violation episodes", "-"),
    ("grid.losses_mwh", "Network losses", "MWh"),
    ("ride_through.events", "Voltage disturbances", "-"),
    ("ride_through.mw_lost_max", "Largest load loss at the POI", "MW"),
    ("ride_through.recovery_s_max", "Slowest recovery to 90 %", "s"),
    ("ride_through.load_transfers", "Site transfers to backup", "-"),
    ("frequency.nadir_hz", "Frequency nadir", "Hz"),
    ("frequency.zenith_hz", "Frequency zenith", "Hz"),
    ("frequency.rocof_max_hz_per_s", "Largest RoCoF", "Hz/s"),
    ("oltc.tap_ops", "OLTC tap operations", "-"),
    ("bess.throughput_mwh", "BESS throughput", "MWh"),
    ("bess.efc", "BESS equivalent full cycles", "-"),
    ("bess.soc_min", "SOC min", "-"),
    ("bess.soc_max", "SOC max", "-"),
    ("bess.soc_drift", "SOC drift (end - start)", "-"),
)


def _get(d: dict[str, Any] | None, path: str) -> Any:
    node: Any = d or {}
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _load(run_dir: Path) -> tuple[Any, dict[str, Any]]:
    """Results of a run directory and its summary (built when missing or without checks)."""
    from cosim.analysis.summary import build_summary
    from cosim.engine.results import load_results

    results = load_results(run_dir)
    summary = dict(results.summary or {})
    if not summary.get("checks"):
        if not results.info:
            results.info = {
                "status": summary.get("status", "unknown"),
                "wall_s": summary.get("wall_s"),
            }
        summary = {**summary, **build_summary(results, results.case)}
    return results, summary


def _frames(results: Any) -> dict[str, Any]:
    names = ("factory", "factory_hr", "transmission", "distribution", "frequency")
    return {n: results.frame(n) for n in names}


def _plots(
    specs: tuple[PlotSpec, ...], data: PlotData, plot_dir: Path
) -> tuple[list[str], dict[str, Path]]:
    """Render each plot (HTML fragments) and write the PNGs; a plot that errors is a note."""
    parts, files = [], {}
    for spec in specs:
        try:
            fig = spec.build(data)
        except Exception as exc:  # noqa: BLE001 - one plot must not cost the report
            fig = Skipped(f"could not be drawn ({type(exc).__name__}: {exc})")
        if isinstance(fig, Skipped):
            parts.append(H.skipped(spec.id, spec.title, fig.reason))
            continue
        png = to_png(fig)
        path = plot_dir / f"{spec.id}.png"
        path.write_bytes(png)
        files[spec.id] = path
        parts.append(
            H.figure(spec.id, spec.title, png, (spec.build.__doc__ or "").strip().splitlines()[0])
        )
    return parts, files


def _where_when(c: dict[str, Any]) -> str:
    """``bus 75 (transmission), t = 20 s`` from a check's ``where`` / ``t_s``."""
    where, t_s = c.get("where"), c.get("t_s")
    parts = [str(where)] if where else []
    if t_s is not None:
        parts.append(f"t = {H.fmt(t_s)} s")
    return ", ".join(parts)


def _verdict_section(s: dict[str, Any]) -> str:
    from cosim.analysis.summary import verdict_line

    verdict = str(s.get("verdict") or "n/a")
    cls = {"pass": "pass", "fail": "fail"}.get(verdict, "na")
    rows = []
    for c in s.get("checks") or []:
        rows.append(
            [
                H.td(c.get("name")),
                H.td(H.fmt(c.get("value")), num=True),
                H.td(H.fmt(c.get("limit")), num=True),
                H.td(c.get("unit", "")),
                H.result_cell(c.get("passed"), c.get("kind", "limit")),
                H.td(c.get("basis", "")),
                H.td(_where_when(c)),
                H.td(c.get("source", "")),
                H.td(c.get("note", "")),
            ]
        )
    text = (
        f'<p><span class="badge {cls}">{H.esc(verdict.upper())}</span> '
        f"{H.esc(verdict_line(s))}. Only assessed limits decide the verdict; screening "
        "checks rest on a proxy and not-assessed ones on missing data (docs/verdicts.md). "
        "Informational checks do not decide the verdict.</p>"
    )
    headers = ["Check", "Value", "Limit", "Unit", "Result", "Basis", "Where, when"]
    tbl = H.table([*headers, "Source of the limit", "Note"], rows, "checks", raw=True)
    return f'<section id="verdict"><h2>Verdict</h2>{text}{tbl}</section>'


def _metrics_section(s: dict[str, Any], base: dict[str, Any] | None) -> str:
    rows = []
    for path, label, unit in KEY_METRICS:
        v = _get(s, path)
        row = [H.td(label), H.td(H.fmt(v), num=True)]
        if base is not None:
            b = _get(base, path)
            delta = v - b if isinstance(v, int | float) and isinstance(b, int | float) else None
            row += [H.td(H.fmt(b), num=True), H.td(H.fmt(delta), num=True)]
        row += [H.td(unit), H.td(path)]
        rows.append(row)
    headers = ["Metric", "This run"] + (
        ["Baseline (BESS off)", "This - baseline"] if base is not None else []
    )
    headers += ["Unit", "summary.json key"]
    tbl = H.table(headers, rows, "metrics", raw=True)
    return f'<section id="metrics"><h2>Key metrics</h2>{tbl}</section>'


def _episodes_table(episodes: list[dict[str, Any]], what: str) -> str:
    if not episodes:
        return f'<p class="muted">No {H.esc(what)} violation.</p>'
    rows = [
        [
            e.get("element"),
            e.get("kind"),
            H.fmt(e.get("t_start_s")),
            H.fmt(e.get("duration_s")),
            H.fmt(e.get("worst")),
            H.fmt(e.get("t_worst_s")),
        ]
        for e in episodes[:10]
    ]
    return H.table(["Element", "Side", "Start [s]", "Duration [s]", "Worst", "At [s]"], rows)


def _violations_section(s: dict[str, Any]) -> str:
    g = s.get("grid") or {}
    parts = ['<section id="violations"><h2>Violations and events</h2>']
    parts.append("<h3>Bus voltage outside ANSI Range A (largest first)</h3>")
    parts.append(_episodes_table((g.get("range_a") or {}).get("episodes") or [], "Range A"))
    parts.append("<h3>Branch loading above the normal rating</h3>")
    parts.append(_episodes_table((g.get("thermal") or {}).get("episodes") or [], "thermal"))
    rt = (s.get("ride_through") or {}).get("event_list") or []
    parts.append("<h3>Voltage disturbances at the POI (ride-through)</h3>")
    if rt:
        rows = [
            [
                H.fmt(e.get("t_start_s")),
                H.fmt(e.get("duration_s")),
                H.fmt(e.get("v_min_pu")),
                H.fmt(e.get("p_pre_mw")),
                H.fmt(e.get("mw_lost")),
                H.fmt(e.get("recovery_s")),
                {True: "yes", False: "NO", None: "n/a"}[e.get("recovered")],
            ]
            for e in rt[:20]
        ]
        parts.append(
            H.table(
                [
                    "Start [s]",
                    "Duration [s]",
                    "V min [pu]",
                    "P before [MW]",
                    "MW lost",
                    "Recovery [s]",
                    "Recovered in time",
                ],
                rows,
            )
        )
    else:
        parts.append('<p class="muted">No voltage disturbance at the POI.</p>')
    n1 = s.get("n1")
    if n1:
        parts.append(
            f"<h3>N-1 screening ({n1.get('outages_screened')} outages per snapshot set, "
            f"{n1.get('outages_with_violations')} with violations)</h3>"
        )
        rows = [
            [
                r.get("snapshot"),
                r.get("outage"),
                H.fmt(r.get("converged")),
                H.fmt(r.get("v_min_pu")),
                H.fmt(r.get("v_max_pu")),
                H.fmt(r.get("loading_max_percent")),
                H.fmt(r.get("severity")),
            ]
            for r in n1.get("ranking") or []
        ]
        parts.append(
            H.table(
                [
                    "Snapshot",
                    "Outage",
                    "Converged",
                    "V min [pu]",
                    "V max [pu]",
                    "Loading max [%]",
                    "Severity [%-pts] (n/a = diverged/isolated)",
                ],
                rows,
            )
        )
    parts.append("</section>")
    return "".join(parts)


def _baseline_section(s: dict[str, Any], base: dict[str, Any], figs: list[str]) -> str:
    from cosim.analysis.compare import compare_summaries

    cmp = compare_summaries(base, s, "baseline (BESS off)", "this run")
    rows = [
        [
            H.td(c["name"]),
            H.result_cell(c["a_passed"]),
            H.result_cell(c["b_passed"]),
            H.td("changed" if c["changed"] else ""),
        ]
        for c in cmp["checks"]
    ]
    return (
        f'<section id="baseline"><h2>Baseline (BESS off) side by side</h2>'
        f"<p>Verdict: baseline <b>{H.esc(base.get('verdict'))}</b>, "
        f"this run <b>{H.esc(s.get('verdict'))}</b>. "
        f"The key-metrics table above shows both runs and their difference.</p>"
        f"{H.table(['Check', 'Baseline', 'This run', ''], rows, 'baseline-checks', raw=True)}"
        f"{''.join(figs)}</section>"
    )


def _notes_section(s: dict[str, Any]) -> str:
    notes = s.get("notes") or []
    items = "".join(f"<li>{H.esc(n)}</li>" for n in notes) or "<li>none</li>"
    req = s.get("requirements") or {}
    rows = [
        [k, H.fmt(v.get("value")), v.get("unit", ""), v.get("source", "")] for k, v in req.items()
    ]
    sc = _get(s, "poi.sc_defaults_applied") or []
    sc_html = (
        (
            "<h3>Short-circuit data assumed for the SCR</h3><ul>"
            + "".join(f"<li>{H.esc(x)}</li>" for x in sc)
            + "</ul>"
        )
        if sc
        else ""
    )
    return (
        f'<section id="notes"><h2>Notes and limits used</h2><ul>{items}</ul>{sc_html}'
        "<h3>Requirements profile</h3>"
        f"{H.table(['Limit', 'Value', 'Unit', 'Source'], rows, 'limits')}</section>"
    )


def render_report(
    run_dir: Path | str, summary: dict[str, Any] | None = None
) -> tuple[str, dict[str, Path]]:
    """The report HTML of a run directory and the PNGs written under ``run_dir/plots``."""
    run_dir = Path(run_dir)
    results, s = _load(run_dir)
    if summary is not None:
        s = summary
    base_dir = run_dir / "baseline"
    base_results, base = (None, None)
    if (base_dir / "case.toml").is_file():
        base_results, base = _load(base_dir)
    plot_dir = run_dir / "plots"
    plot_dir.mkdir(exist_ok=True)
    data = PlotData(
        _frames(results),
        s,
        results.case,
        _frames(base_results) if base_results is not None else None,
        base,
    )
    from cosim.analysis.report.dynamics import DYNAMIC_PLOTS

    dynamic = bool(s.get("dynamics"))
    figs, files = _plots(PLOTS + (DYNAMIC_PLOTS if dynamic else ()), data, plot_dir)
    name = _get(s, "case.name") or results.case.name
    status = s.get("status", "unknown")
    verdict = str(s.get("verdict") or "n/a")
    nav = (
        ["verdict", "metrics", "violations", "plots"]
        + (["bess-control"] if results.case.bess.enabled else [])
        + (["baseline"] if base is not None else [])
        + ["notes", "case"]
    )
    badge = {"pass": "pass", "fail": "fail"}.get(verdict, "na")
    error = f'<p class="fail">{H.esc(s.get("error"))}</p>' if s.get("error") else ""
    links = "".join(f'<a href="#{n}">{n}</a>' for n in nav)
    head = (
        f"<header><h1>Interconnection study: {H.esc(name)}</h1>"
        f"<p>Run <code>{H.esc(run_dir.resolve())}</code> — status <b>{H.esc(status)}</b>, "
        f"{H.esc(s.get('steps'))} grid steps, {H.esc(H.fmt(s.get('wall_s')))} s wall — verdict "
        f'<span class="badge {badge}">{H.esc(verdict.upper())}</span></p>'
        f"{error}<nav>{links}</nav></header>"
    )
    body = [
        head,
        _verdict_section(s),
        _metrics_section(s, base),
        _violations_section(s),
        f'<section id="plots"><h2>Plots</h2>{"".join(figs)}</section>',
    ]
    try:
        from cosim.analysis.report.bess_control import bess_control_section

        ctrl_html, ctrl_files = bess_control_section(results.case, plot_dir)
    except Exception as exc:  # noqa: BLE001 - one section must not cost the report
        ctrl_html, ctrl_files = f"<p>BESS control section not drawn: {H.esc(exc)}</p>", {}
    if ctrl_html:
        body.append(ctrl_html)
        files.update(ctrl_files)
    if base is not None:
        bfigs, bfiles = _plots(BASELINE_PLOTS, data, plot_dir)
        files.update(bfiles)
        body.append(_baseline_section(s, base, bfigs))
    body.append(_notes_section(s))
    case_text = (
        (run_dir / "case.toml").read_text()
        if (run_dir / "case.toml").is_file()
        else "(case.toml missing)"
    )
    body.append(
        '<section id="case"><h2>Case</h2>'
        f'<p class="muted">The resolved case that produced this run '
        f"(<code>case.toml</code>).</p><pre>{H.esc(case_text)}</pre></section>"
    )
    return H.page(f"cosim report: {name}", "".join(body)), files


def write_report(run_dir: Path | str, summary: dict[str, Any] | None = None) -> Path:
    """Write ``run_dir/report.html`` (and ``run_dir/plots/*.png``); return the HTML path.

    ``summary`` overrides the run's summary.json (default: read it, or build it
    when it is missing or has no checks).
    """
    run_dir = Path(run_dir)
    text, _ = render_report(run_dir, summary)
    out = run_dir / "report.html"
    out.write_text(text, encoding="utf-8")
    return out
