"""REPORT.html (issue 25): one self-contained page whose figures show their points' values on hover."""

import re
from pathlib import Path

import pandas as pd

from plmodel.studies import report
from plmodel.studies.records import run_tasks
from plmodel.studies.sweep import load_sweep


def test_html_report_is_self_contained_and_shows_values_on_hover(tmp_path):
    """Beside REPORT.md: every figure inline as SVG, a hover label a point holding a value of the results,
    nothing fetched (no script or stylesheet from elsewhere), and REPORT.md's tables."""
    path = tmp_path / "s.yaml"
    path.write_text("models: 7b\nranks: [16, 64]\nrtt_ms: [0, 5, 20, 50]\nnetwork: [5g-paper, 5g-median]\n")
    cfg = load_sweep(path)
    df = pd.DataFrame(run_tasks(cfg.tasks, jobs=1, progress=False))
    names = report.write_study(tmp_path / "out", cfg.source, df, cfg, html=True)
    assert "REPORT.html" in names and "REPORT.md" in names
    page = (tmp_path / "out" / "REPORT.html").read_text()
    figures = [n for n in names if n.endswith(".svg")]
    assert figures and page.count("<svg") == len(figures)
    tips = re.findall(r"<title>([^<]*= [^<]*)</title>", page)
    assert len(tips) >= len(df[df["phase"] == "decode"]) // 2
    shown = {float(v) for t in tips for v in re.findall(r"= ([-+\d.e]+)", t)}
    decode = df[df["phase"] == "decode"]["tokens_per_s"]
    assert any(abs(v - x) <= 1e-5 * abs(x) for x in decode for v in shown)  # a point's value is what was computed
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=\"https?:", page)
    assert "<table>" in page and "<th>" in page


def test_without_html_no_page_is_written(tmp_path):
    """REPORT.html is written only when asked for: a study's folder is otherwise as before."""
    path = tmp_path / "s.yaml"
    path.write_text("models: 7b\nranks: 16\nnetwork: 5g-paper\n")
    cfg = load_sweep(path)
    df = pd.DataFrame(run_tasks(cfg.tasks, jobs=1, progress=False))
    assert "REPORT.html" not in report.write_study(Path(tmp_path / "out"), cfg.source, df, cfg)


def test_sweep_html_option_writes_the_page(tmp_path):
    """`plmodel sweep --html` writes REPORT.html beside REPORT.md."""
    import subprocess
    import sys

    cfg = tmp_path / "s.yaml"
    cfg.write_text("models: 7b\nranks: [16, 64]\nrtt_ms: [0, 20]\nnetwork: 5g-paper\n")
    out = subprocess.run([sys.executable, "-m", "plmodel", "sweep", str(cfg), "--out", str(tmp_path / "o"), "--html"],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert "<svg" in (tmp_path / "o" / "REPORT.html").read_text()
