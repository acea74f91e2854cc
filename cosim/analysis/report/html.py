"""HTML of the report: one self-contained page (inline CSS, PNGs as data URIs, no script)."""

from __future__ import annotations

import base64
import html
from typing import Any

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#222;
background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:1em 2em 4em;background:#fff}
h1{font-size:1.5em;margin-bottom:.2em}
h2{border-bottom:2px solid #1f5fa8;padding-bottom:.2em;margin-top:2em}
h3{font-size:1.05em;margin:1.4em 0 .4em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1em;width:100%}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f0f3f7}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pass{color:#1e7d32;font-weight:600}.fail{color:#b71c1c;font-weight:700}.na{color:#888}
.info{color:#555;font-style:italic}
.badge{display:inline-block;padding:.2em .8em;border-radius:.3em;color:#fff;font-weight:700}
.badge.pass{background:#2e7d32;color:#fff}.badge.fail{background:#c62828;color:#fff}
.badge.na{background:#777;color:#fff}
figure{margin:1em 0 2em}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}
.skipped{border:1px dashed #bbb;padding:.6em 1em;color:#666;background:#fcfcfc;margin:1em 0}
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:1em;overflow-x:auto;font-size:.8em}
nav a{margin-right:1em;font-size:.9em}
.muted{color:#777;font-size:.85em}
"""


def esc(x: Any) -> str:
    """HTML-escaped text."""
    return html.escape(str(x), quote=True)


def fmt(x: Any) -> str:
    """A value for a table cell: 4 significant digits, lists joined, None as n/a."""
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
            return f"{x:.3e}"
        return f"{x:.4g}"
    if isinstance(x, list):
        return ", ".join(fmt(v) for v in x)
    return str(x)


def result_cell(passed: Any, kind: str = "limit") -> str:
    """pass / FAIL / n/a cell (informational checks in italics)."""
    if passed is None:
        return '<td class="na">n/a</td>'
    text, cls = ("pass", "pass") if passed else ("FAIL", "fail")
    if kind == "info":
        return f'<td class="info">{text} (info)</td>'
    return f'<td class="{cls}">{text}</td>'


def table(headers: list[str], rows: list[list[str]], cls: str = "", raw: bool = False) -> str:
    """A table; cells are escaped unless ``raw`` (then they are ready ``<td>`` elements)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = []
    for r in rows:
        cells = (
            "".join(r)
            if raw
            else "".join(
                f'<td class="num">{esc(c)}</td>' if _numeric(c) else f"<td>{esc(c)}</td>" for c in r
            )
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _numeric(c: str) -> bool:
    try:
        float(str(c))
        return True
    except ValueError:
        return False


def td(text: Any, num: bool = False) -> str:
    cls = ' class="num"' if num else ""
    return f"<td{cls}>{esc(text)}</td>"


def img_tag(png: bytes, alt: str) -> str:
    """An ``<img>`` with the PNG inlined as a data URI (the page stays self-contained)."""
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{data}">'


def figure(plot_id: str, title: str, png: bytes, caption: str = "") -> str:
    """A figure with its PNG inlined as a data URI."""
    cap = f"{esc(title)}" + (f" — {esc(caption)}" if caption else "")
    return (
        f'<figure id="plot-{esc(plot_id)}" data-plot="{esc(plot_id)}"><h3>{esc(title)}</h3>'
        f"{img_tag(png, title)}<figcaption>{cap}</figcaption></figure>"
    )


def skipped(plot_id: str, title: str, reason: str) -> str:
    """The note left where a plot without data would be."""
    return (
        f'<div class="skipped" id="plot-{esc(plot_id)}" data-skipped="{esc(plot_id)}">'
        f"<h3>{esc(title)}</h3>Plot skipped: {esc(reason)}.</div>"
    )


def page(title: str, body: str) -> str:
    """The whole document."""
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )
