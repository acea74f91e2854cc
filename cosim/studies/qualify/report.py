"""qualification.json and qualification.html: one verdict per test, with the plots that prove it.

The HTML is one self-contained file (inline CSS, figures as base64 PNG) that
opens offline: the overall verdict, a table of every test (metric, value,
threshold, unit, source, pass/fail), what the BESS failed vs what the site or
grid made impossible (and how much the rating would have to grow), then one
section per test with its stimulus, checks, parameters used and figures.
The report only renders; every number comes from the test records.

A check in ``qualification.json`` (``tests[].checks[]``) has the keys ``id``,
``name``, ``value``, ``limit``, ``threshold`` (the same as ``limit``, under the
name the report and files written before ``id`` / ``limit`` were added use),
``op``, ``unit``, ``source``, ``passed`` and ``note``
(:func:`cosim.studies.qualify.verdict.check_record`).
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

from cosim.analysis.report.html import img_tag
from cosim.studies.qualify.evidence import Figure
from cosim.studies.qualify.shortfall import describe


def render_figures(figures: list[Figure], out_dir: Path) -> list[Path]:
    """Draw each figure as ``out_dir/<name>.png`` (matplotlib, Agg) and return the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fig in figures:
        n = max(len(fig.panels), 1)
        f, axes = plt.subplots(n, 1, figsize=(9, 2.6 * n + 0.6), squeeze=False)
        for ax, panel in zip(axes[:, 0], fig.panels, strict=False):
            for tr in panel.traces:
                if tr.x.size == 0:
                    continue
                if tr.style in ("o", "x"):
                    ax.plot(tr.x, tr.y, tr.style, label=tr.label)
                elif tr.step:
                    ax.step(tr.x, tr.y, where="post", label=tr.label, lw=1.0)
                else:
                    ax.plot(tr.x, tr.y, tr.style, label=tr.label, lw=1.0)
            if panel.band is not None:
                ax.axhspan(
                    panel.band[0], panel.band[1], color="tab:green", alpha=0.12, label="allowed"
                )
                for y in panel.band:
                    ax.axhline(y, color="tab:green", lw=0.8, ls="--")
            for label, y in panel.hlines:
                if y is not None and math.isfinite(y):
                    ax.axhline(y, color="tab:red", lw=0.9, ls="--", label=label or None)
            for label, a, b in panel.vspans:
                ax.axvspan(a, b, color="grey", alpha=0.15, label=label or None)
            if panel.logx:
                ax.set_xscale("log")
            if panel.logy:
                ax.set_yscale("log")
            if panel.xlim is not None:
                ax.set_xlim(*panel.xlim)
            ax.set_ylabel(panel.ylabel)
            ax.set_xlabel(panel.xlabel)
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7, loc="best")
        f.suptitle(fig.title, fontsize=11)
        f.tight_layout()
        path = out_dir / f"{fig.name}.png"
        f.savefig(path, dpi=90)
        plt.close(f)
        paths.append(path)
    return paths


# ---------------------------------------------------------------- JSON


def _jsonable(obj: Any) -> Any:
    from cosim.analysis.jsonio import jsonable

    return jsonable(obj)


def write_reports(result: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``qualification.json`` and ``qualification.html`` into ``out_dir``."""
    out_dir = Path(out_dir)
    data = _jsonable(result)
    jpath = out_dir / "qualification.json"
    jpath.write_text(json.dumps(data, indent=2, allow_nan=False))
    hpath = out_dir / "qualification.html"
    hpath.write_text(render_html(data))
    return jpath, hpath


# ---------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;\
max-width:1100px;color:#222}
h1{margin-bottom:4px} h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:32px}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:13px}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}
.pass{color:#fff;background:#2e7d32;padding:1px 6px;border-radius:3px;font-weight:600}
.fail{color:#fff;background:#c62828;padding:1px 6px;border-radius:3px;font-weight:600}
.na{color:#fff;background:#757575;padding:1px 6px;border-radius:3px;font-weight:600}
.verdict{font-size:20px;margin:8px 0}
.note{color:#555;font-size:13px}
.short{background:#fff8e1;border:1px solid #ffe082;padding:6px 10px;margin:8px 0}
figure{margin:12px 0} figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:12px;color:#555}
code{background:#f4f4f4;padding:0 3px}
"""


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _badge(passed: Any, status: str | None = None) -> str:
    if passed is True:
        return '<span class="pass">PASS</span>'
    if passed is False:
        return '<span class="fail">FAIL</span>'
    label = "NOT RUN" if status == "not_run" else "ERROR" if status == "error" else "NOT JUDGED"
    return f'<span class="na">{label}</span>'


def _num(x: Any) -> str:
    if isinstance(x, bool) or x is None:
        return _e(x if x is not None else "n/a")
    if isinstance(x, int | float):
        if not math.isfinite(float(x)):
            return "n/a"
        return f"{x:.4g}"
    if isinstance(x, list):
        return "[" + ", ".join(_num(v) for v in x) + "]"
    return _e(x)


def _img(path: str | None) -> str:
    if not path or not Path(path).is_file():
        return '<p class="note">(figure missing)</p>'
    return img_tag(Path(path).read_bytes(), Path(path).stem)


def render_html(result: dict[str, Any]) -> str:
    """The whole report as one HTML string."""
    spec = result.get("spec", {})
    tests = result.get("tests", [])
    bess = spec.get("bess", {})
    name = _e(spec.get("name"))
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>BESS qualification: {name}</title><style>{_CSS}</style></head><body>"
    ]
    parts.append(f"<h1>BESS qualification: {_e(spec.get('name'))}</h1>")
    verdict = result.get("verdict")
    vb = _badge(True if verdict == "pass" else False if verdict == "fail" else None)
    shown = vb if verdict in ("pass", "fail") else _e(str(verdict).upper())
    parts.append(
        f"<p class='verdict'>Verdict: {shown} "
        f"({sum(t.get('passed') is True for t in tests)} of {len(tests)} tests pass)</p>"
    )
    kind = (
        "full case"
        if spec.get("full_case")
        else "BESS spec on reference " + _e(spec.get("reference"))
    )
    parts.append(
        f"<p class='note'>Spec: {_e(spec.get('source') or 'inline')} ({kind}); "
        f"BESS {_num(bess.get('p_mw'))} MW / {_num(bess.get('e_mwh'))} MWh, "
        f"PCS {_num(bess.get('s_mva'))} MVA, RTE {_num(bess.get('rte'))}, "
        f"SOC {_num(bess.get('soc_min'))}-{_num(bess.get('soc_max'))}. "
        f"Wall time {_num(result.get('wall_s'))} s with {result.get('jobs')} test(s) "
        "in parallel.</p>"
    )
    if result.get("shortened"):
        parts.append(
            "<div class='short'><b>Shortened run</b> "
            f"(duration scale {_num(result.get('duration_scale'))}): "
            "tests ran shorter than their full durations (see each test), for CI. "
            "A qualification claim needs the full durations (the default).</div>"
        )
    parts.append(
        "<h2>Tests</h2><table><tr><th>test</th><th>result</th><th>metric</th><th>value</th>"
        "<th>threshold</th><th>unit</th><th>source</th></tr>"
    )
    for t in tests:
        op = next(
            (c.get("op") for c in t.get("checks", []) if c.get("name") == t.get("metric")), ""
        )
        parts.append(
            f"<tr><td><a href='#{_e(t['id'])}'>{_e(t['id'])}</a> {_e(t.get('name'))}</td>"
            f"<td>{_badge(t.get('passed'), t.get('status'))}</td><td>{_e(t.get('metric'))}</td>"
            f"<td>{_num(t.get('value'))}</td><td>{_e(op)} {_num(t.get('threshold'))}</td>"
            f"<td>{_e(t.get('unit'))}</td><td>{_e(t.get('source'))}</td></tr>"
        )
    parts.append("</table>")
    parts.append(_shortfall_section(tests, bess))
    for t in tests:
        parts.append(_test_section(t))
    parts.append(
        "<p class='note'>Generated by <code>cosim qualify</code>. Thresholds and stimulus figures: "
        "docs/domain.md (Qualification test profiles); values changed by the spec are marked "
        "'case file'.</p></body></html>"
    )
    return "\n".join(parts)


def _shortfall_section(tests: list[dict[str, Any]], bess: dict[str, Any]) -> str:
    failed = [t for t in tests if t.get("passed") is False]
    out = ["<h2>What failed, and why</h2>"]
    if not failed:
        out.append("<p>No test failed.</p>")
        return "\n".join(out)
    cats = {
        "bess": "The BESS failed (its rating was enough)",
        "rating": "The rating is too small for the site",
        "site": "The site makes it impossible",
        "grid": "The grid makes it impossible",
    }
    out.append(
        "<table><tr><th>test</th><th>cause</th><th>explanation</th><th>needed P [MW]</th>"
        "<th>needed E [MWh]</th><th>grow P by [MW]</th><th>grow E by [MWh]</th></tr>"
    )
    grow_p = grow_e = 0.0
    for t in failed:
        sf = t.get("shortfall") or {}
        need = sf.get("need") or {}
        cat = cats.get(sf.get("category"), "not analysed")
        if t.get("status") == "failed" and not sf:
            cat = "federation failed"
        out.append(
            f"<tr><td>{_e(t['id'])}</td><td>{_e(cat)}</td>"
            f"<td>{_e(sf.get('explanation') or t.get('reason'))}</td>"
            f"<td>{_num(need.get('p_mw'))}</td><td>{_num(need.get('e_mwh'))}</td>"
            f"<td>{_num(sf.get('grow_p_mw'))}</td><td>{_num(sf.get('grow_e_mwh'))}</td></tr>"
        )
        if sf.get("category") == "rating":
            grow_p = max(grow_p, sf.get("grow_p_mw") or 0.0)
            grow_e = max(grow_e, sf.get("grow_e_mwh") or 0.0)
    out.append("</table>")
    if grow_p or grow_e:
        out.append(
            f"<p><b>Rating needed to pass the rating-limited tests:</b> "
            f"{_num((bess.get('p_mw') or 0) + grow_p)} MW / "
            f"{_num((bess.get('e_mwh') or 0) + grow_e)} MWh "
            f"(rated {_num(bess.get('p_mw'))} MW / {_num(bess.get('e_mwh'))} MWh). "
            "Computed from the site's recorded load: the power and energy an ideal BESS needs "
            "to make the POI follow a passing trajectory.</p>"
        )
    return "\n".join(out)


def _test_section(t: dict[str, Any]) -> str:
    badge = _badge(t.get("passed"), t.get("status"))
    out = [f"<h2 id='{_e(t['id'])}'>{_e(t['id'])} {_e(t.get('name'))} {badge}</h2>"]
    dur = t.get("duration_s")
    short = (
        " (shortened; full: " + _num(t.get("full_duration_s")) + " s)" if t.get("shortened") else ""
    )
    out.append(
        f"<p><b>Stimulus:</b> {_e(t.get('stimulus'))}; {_num(dur)} s{_e(short)}, "
        f"{_e(t.get('grid'))} grid.<br>"
        f"<b>Pass when:</b> {_e(t.get('criterion'))}.<br><b>Result:</b> {_e(t.get('reason'))}</p>"
    )
    if t.get("shortfall"):
        out.append(f"<p><b>Shortfall:</b> {_e(describe(t['shortfall']))}</p>")
    elif t.get("need") and t.get("passed"):
        n = t["need"]
        out.append(
            "<p class='note'>Rating used by an ideal BESS for this test: "
            f"{_num(n.get('p_mw'))} MW / "
            f"{_num(n.get('e_mwh'))} MWh ({_e(n.get('basis'))}).</p>"
        )
    if t.get("checks"):
        out.append(
            "<table><tr><th>check</th><th>value</th><th>threshold</th><th>unit</th><th>source</th>"
            "<th>result</th><th>note</th></tr>"
        )
        for c in t["checks"]:
            out.append(
                f"<tr><td>{_e(c['name'])}</td><td>{_num(c.get('value'))}</td><td>{_e(c.get('op'))} "
                f"{_num(c.get('threshold'))}</td><td>{_e(c.get('unit'))}</td>"
                f"<td>{_e(c.get('source'))}</td>"
                f"<td>{_badge(c.get('passed'))}</td><td>{_e(c.get('note'))}</td></tr>"
            )
        out.append("</table>")
    for f in t.get("figures", []):
        out.append(
            f"<figure>{_img(f.get('png'))}<figcaption>{_e(f.get('caption'))}</figcaption></figure>"
        )
    if t.get("params"):
        out.append(
            "<details><summary>Parameters used</summary><table><tr><th>parameter</th><th>value</th>"
            "<th>unit</th><th>source</th></tr>"
        )
        for k, v in t["params"].items():
            out.append(
                f"<tr><td>{_e(k)}</td><td>{_num(v.get('value'))}</td><td>{_e(v.get('unit'))}</td>"
                f"<td>{_e(v.get('source'))}</td></tr>"
            )
        out.append("</table></details>")
    if t.get("info"):
        out.append(
            "<details><summary>Test set-up</summary>"
            f"<pre>{_e(json.dumps(t['info'], indent=1)[:4000])}</pre></details>"
        )
    runs = t.get("runs") or {}
    if runs:
        out.append(
            "<p class='note'>Runs: "
            + "; ".join(
                f"{_e(k)}: {_e(v.get('status'))} in {_num(v.get('wall_s'))} s "
                f"(<code>{_e(v.get('dir'))}</code>)"
                for k, v in runs.items()
            )
            + "</p>"
        )
    if t.get("traceback"):
        out.append(f"<details><summary>Error</summary><pre>{_e(t['traceback'])}</pre></details>")
    return "\n".join(out)
