"""docs/ cannot rot: its transcripts are run, its links resolve, its Python runs and the site builds."""

import re
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from plmodel import AdapterSpec, Scenario, estimate, load_hardware, load_link, resolve_model

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
LINK = re.compile(r"\]\(([^)\s]+)\)")

#: Commands shown in ```text blocks and not run by the tests, each with why. Every other `$ plmodel`
#: line of a text block is run from the repository root and must exit 0 (its output is not compared).
NOT_RUN = {
    r"^plmodel (validate|calibrate|testbed)\b": "needs torch; calibrate takes 20-50 s, testbed two free cores",
    r"^plmodel sweep\b": "writes a folder (commands/sweep.md's console block runs one into a temporary folder)",
    r"--study\b": "a capacity study of many cases: minutes",
}


def blocks(path: Path, kind: str) -> list:
    """The bodies of the fenced blocks of one `kind` (console, text, python) in a page."""
    return [body for k, body in FENCE.findall(path.read_text()) if k == kind]


def transcript(body: str) -> list:
    """[(args, expected output lines)] of a console block: each `$ plmodel ...` line and what follows it."""
    runs = []
    for line in body.splitlines():
        if line.startswith("$ "):
            assert line.startswith("$ plmodel "), line
            runs.append((shlex.split(line[2:])[1:], []))
        else:
            runs[-1][1].append(line.rstrip())
    return runs


def run(args: list, cwd: Path) -> subprocess.CompletedProcess:
    """`plmodel ARGS` in a fresh interpreter, as a user types it."""
    return subprocess.run([sys.executable, "-m", "plmodel", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def lines(text: str) -> list:
    """Lines without trailing whitespace, and no trailing empty lines."""
    out = [line.rstrip() for line in text.splitlines()]
    while out and not out[-1]:
        out.pop()
    return out


CONSOLE = [pytest.param(body, id=f"{page.relative_to(DOCS)}#{i}")
           for page in PAGES for i, body in enumerate(blocks(page, "console"))]
SHOWN = sorted({line[2:].strip() for page in PAGES for body in blocks(page, "text")
                for line in body.splitlines() if line.startswith("$ plmodel ")})
IN_CONSOLE = {shlex.join(["plmodel", *args]) for param in CONSOLE for args, _ in transcript(param.values[0])}
SHOWN_RUN = [c for c in SHOWN
             if not any(re.search(p, c) for p in NOT_RUN) and shlex.join(shlex.split(c)) not in IN_CONSOLE]


@pytest.mark.parametrize("body", CONSOLE)
def test_console_transcript_is_what_the_command_prints(body, tmp_path):
    """Each `$ plmodel ...` of a console block exits 0 and prints exactly the lines that follow it."""
    for args, expected in transcript(body):
        out = run(args, tmp_path)
        assert out.returncode == 0, out.stderr
        assert lines(out.stdout) == lines("\n".join(expected)), f"plmodel {shlex.join(args)}"


def test_docs_have_transcripts():
    """Every command page with a cheap command holds a console transcript the test above runs."""
    assert len(CONSOLE) >= 6
    for name in ("estimate", "capacity", "plan", "sweep"):
        assert blocks(DOCS / "commands" / f"{name}.md", "console"), name


@pytest.mark.parametrize("command", SHOWN_RUN)
def test_shown_command_runs(command):
    """A command shown in a text block and not on the NOT_RUN list exits 0."""
    out = run(shlex.split(command)[1:], ROOT)
    assert out.returncode == 0, out.stderr


def test_not_run_list_is_used():
    """Every NOT_RUN entry still names a command the docs show (the list cannot hide stale reasons)."""
    for pattern in NOT_RUN:
        assert any(re.search(pattern, c) for c in SHOWN), pattern


def targets(path: Path) -> list:
    """Relative link targets of a page (external links and pure anchors left out), anchors cut."""
    found = [t.split("#")[0] for t in LINK.findall(path.read_text())]
    return [t for t in found if t and not re.match(r"^[a-z]+:", t)]


@pytest.mark.parametrize("page", [ROOT / "README.md", *PAGES], ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(page):
    """Every relative link of README.md and of a docs page names an existing file."""
    for target in targets(page):
        assert (page.parent / target).resolve().is_file(), f"{page.name}: {target}"


def test_readme_maps_the_docs():
    """README links docs/index.md and every page at the top of docs/ (its map of the docs)."""
    linked = {(ROOT / t).resolve() for t in targets(ROOT / "README.md")}
    missing = [p.name for p in DOCS.glob("*.md") if p.resolve() not in linked]
    assert not missing


def test_index_links_every_page():
    """docs/index.md links every other page of docs/."""
    linked = {(DOCS / t).resolve() for t in targets(DOCS / "index.md")}
    missing = [str(p.relative_to(DOCS)) for p in PAGES if p != DOCS / "index.md" and p.resolve() not in linked]
    assert not missing


def nav_pages(node) -> list:
    """The page paths of an mkdocs nav (nested lists of {title: path or list})."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [p for item in node for p in nav_pages(item)]
    return [p for value in node.values() for p in nav_pages(value)]


def test_mkdocs_nav_lists_every_page():
    """mkdocs.yml's nav holds every docs page, and only pages that exist."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["docs_dir"] == "docs" and config["strict"] is True
    assert sorted(nav_pages(config["nav"])) == sorted(str(p.relative_to(DOCS)) for p in PAGES)


PYTHON = [pytest.param(body, id=f"{page.relative_to(DOCS)}#{i}")
          for page in PAGES for i, body in enumerate(blocks(page, "python"))]


@pytest.mark.parametrize("body", PYTHON)
def test_python_block_runs(body):
    """Every python block of the docs runs as written."""
    exec(compile(body, "<docs>", "exec"), {})  # noqa: S102 - our own docs


def test_python_api_figure_is_what_it_prints():
    """docs/python-api.md's block runs and its commented figure is the estimate's decode tokens/s."""
    block = blocks(DOCS / "python-api.md", "python")[0]
    scope = {}
    exec(block, scope)  # noqa: S102 - our own docs
    shown = float(re.search(r"# (\d+\.\d+)", block).group(1))
    assert float(scope["e"].decode.tokens_per_s) == pytest.approx(shown, abs=0.05)


def test_rtt_table_is_current():
    """docs/model.md's realistic-mode RTT table and its break-even RTT equal the estimate today."""
    text = (DOCS / "model.md").read_text()
    rows = re.findall(r"^\| (\d+) ms \| ([\d.]+) \| ([\d.]+) \| (\d+) ms \|$", text, re.M)
    assert len(rows) == 4
    for rtt_ms, decode, prefill, ttft in rows:
        link = replace(load_link("5g-paper"), rtt_s=int(rtt_ms) / 1e3)
        scn = Scenario(resolve_model("7b"), AdapterSpec(64, 64), load_hardware("a100-80g-pcie"),
                       load_hardware("iphone-13-pro-max"), link)
        r = estimate(scn).flat()
        assert f"{r['decode_tokens_per_s']:.2f}" == decode
        assert f"{r['prefill_tokens_per_s']:.1f}" == prefill
        assert f"{r['ttft_s'] * 1e3:.0f}" == ttft
        assert f"**{r['break_even_rtt_s'] * 1e3:.1f} ms**" in text


def test_mkdocs_builds_strict(tmp_path):
    """The site builds with `mkdocs build --strict` (skipped where mkdocs is not installed)."""
    pytest.importorskip("mkdocs")
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f", str(ROOT / "mkdocs.yml"),
                          "-d", str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "site" / "commands" / "estimate" / "index.html").is_file()
