"""report.html of a synthetic run: every section and figure is there, self-contained."""

import base64
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cosim.analysis.report import KEY_METRICS, write_report
from cosim.analysis.report.plots import BASELINE_PLOTS, PLOTS
from cosim.case import load_case
from tests.cosim.synthetic_run import make_run_dir

SECTIONS = ["verdict", "metrics", "violations", "plots", "notes", "case"]


class _Doc(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.figures: dict[str, str] = {}
        self.skipped: set[str] = set()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self._fig: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "figure":
            self._fig = a.get("data-plot")
        if "data-skipped" in a:
            self.skipped.add(a["data-skipped"])
        if tag == "img" and self._fig:
            self.figures[self._fig] = a.get("src", "")
        self.urls += [v for k, v in a.items() if k in ("src", "href") and v]

    def handle_endtag(self, tag):
        if tag == "figure":
            self._fig = None

    def handle_data(self, data):
        self.text.append(data)


def _parse(path: Path) -> _Doc:
    doc = _Doc()
    doc.feed(path.read_text(encoding="utf-8"))
    return doc


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, _Doc]:
    run = make_run_dir(tmp_path_factory.mktemp("r") / "run")
    make_run_dir(run / "baseline", bess=False)
    path = write_report(run)
    return run, _parse(path)


def test_sections_in_order_verdict_first(report):
    run, doc = report
    order = [i for i in doc.ids if i in SECTIONS + ["baseline"]]
    assert order == ["verdict", "metrics", "violations", "plots", "baseline", "notes", "case"]
    assert doc.ids.index("plots") < doc.ids.index("bess-control") < doc.ids.index("baseline")


def test_every_plot_is_an_embedded_png_and_a_file(report):
    run, doc = report
    for spec in PLOTS + BASELINE_PLOTS:
        assert spec.id in doc.figures, (
            f"figure {spec.id} missing (skipped: {spec.id in doc.skipped})"
        )
        src = doc.figures[spec.id]
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert (run / "plots" / f"{spec.id}.png").read_bytes() == png


def test_self_contained(report):
    run, doc = report
    assert "script" not in doc.tags and "link" not in doc.tags and "iframe" not in doc.tags
    assert all(u.startswith(("data:", "#")) for u in doc.urls), [
        u for u in doc.urls if not u.startswith("data:")
    ]


def test_content_verdict_metrics_case(report):
    run, doc = report
    text = " ".join(doc.text)
    assert "FAIL" in text  # synthetic run fails Range A and thermal
    assert "ANSI C84.1 Range A" in text and "Southern Co" in text and "NERC TPL-001" in text
    for _, label, _ in KEY_METRICS:
        assert label in text
    assert "Baseline (BESS off)" in text
    assert 'name = "synthetic"' in text  # the case file at the end
    assert "transmission:line.1" in text  # the thermal violation is listed


def test_absent_data_is_skipped_with_a_note(tmp_path):
    run = make_run_dir(tmp_path / "run", frequency=False)
    doc = _parse(write_report(run))
    assert "frequency" in doc.skipped and "frequency" not in doc.figures
    assert "no frequency series" in " ".join(doc.text)
    assert "baseline" not in doc.ids
    assert not (run / "plots" / "frequency.png").exists()


def test_report_of_a_run_without_series(tmp_path):
    run = make_run_dir(tmp_path / "run", status="failed")
    for p in (run / "timeseries").glob("*.parquet"):
        p.unlink()
    doc = _parse(write_report(run))
    assert {s for s in SECTIONS} <= set(doc.ids)
    assert {spec.id for spec in PLOTS} == doc.skipped


def test_bess_control_section_states_the_cases_own_attenuation(report):
    """The 0.2-3 Hz attenuation of the case's controller as built, with the plot and the table."""
    from federates.factory.response import attenuation_table

    run, doc = report
    text = " ".join(doc.text)
    b = load_case(run / "case.toml").bess
    own = attenuation_table((b.latency_s,), (b.response_tau_s,), b.control_period_s)[0]
    assert f"{own.simulated_db:.1f} dB" in text
    assert "bess_control" in doc.figures
    assert (run / "plots" / "bess_control.png").is_file()
