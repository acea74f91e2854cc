"""report.html in a real browser: headless Chromium (system package) loads it offline without
errors.

Skipped when no Chromium is installed (``apt-get install chromium``).
"""

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from cosim.analysis.report import write_report
from cosim.analysis.report.plots import BASELINE_PLOTS, PLOTS
from tests.cosim.synthetic_run import make_run_dir

CHROMIUM = next(
    (
        p
        for p in (
            "/usr/bin/chromium",
            shutil.which("chromium") or "",
            shutil.which("chromium-browser") or "",
        )
        if p and os.access(p, os.X_OK)
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)"
)

# after load: count the images that did not decode, and write the result into the DOM
_PROBE = """<script>addEventListener('load', () => {
  const bad = [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt);
  document.body.dataset.imagesTotal = String(document.images.length);
  document.body.dataset.imagesBroken = String(bad.length);
});</script>"""


def _dump_dom(page: Path, profile: Path) -> tuple[str, str]:
    """Load ``page`` offline in headless Chromium; return (serialised DOM, log)."""
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--dump-dom",
        page.as_uri(),
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the browser we started, and its children
        proc.communicate()
        pytest.fail("headless Chromium did not finish within 90 s")
    assert proc.returncode == 0, err[-2000:]
    return out, err


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    run = make_run_dir(tmp_path_factory.mktemp("b") / "run")
    make_run_dir(run / "baseline", bess=False)
    return write_report(run)


def test_report_loads_with_every_section_and_no_console_error(report, tmp_path):
    dom, log = _dump_dom(report, tmp_path / "profile")
    for section in ("verdict", "metrics", "violations", "plots", "baseline", "notes", "case"):
        assert f'id="{section}"' in dom, section
    for spec in PLOTS + BASELINE_PLOTS:
        assert f'data-plot="{spec.id}"' in dom, spec.id
    console = [ln for ln in log.splitlines() if ":CONSOLE" in ln]
    assert console == [], console
    assert "Verdict" in dom and "Interconnection study: synthetic" in dom


def test_every_image_decodes(report, tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text(
        report.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"), encoding="utf-8"
    )
    dom, _ = _dump_dom(probe, tmp_path / "profile")
    total = re.search(r'data-images-total="(\d+)"', dom)
    broken = re.search(r'data-images-broken="(\d+)"', dom)
    assert total and broken, "probe script did not run"
    assert int(total.group(1)) == len(PLOTS + BASELINE_PLOTS)
    assert int(broken.group(1)) == 0
