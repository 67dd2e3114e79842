"""README.md cannot rot: its first two commands, its example commands and its quoted figures are checked."""

import re
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from plmodel.estimate import estimate as estimate_typed
from plmodel.models import resolve_model
from plmodel.profiles import load_hardware, load_link
from plmodel.specs import AdapterSpec, Scenario

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def estimate(scn) -> dict:
    """The flat record of an estimate (the JSON keys)."""
    return estimate_typed(scn).flat()


def test_readme_opens_with_the_two_commands():
    """The first block: one command runs the estimate without torch, one installs torch first and runs pytest."""
    block = re.search(r"```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert len(block) == 2 and README.index("```bash") < 20
    assert "plmodel estimate --model 13b --rank 64" in block[0] and "torch" not in block[0]
    assert block[1].index("torch==2.13.0") < block[1].index("pip install -e") < block[1].index("pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "torch==2.13.0" in ci and "-e '.[torch,test,ray]'" in ci and "python -m pytest" in ci


EXAMPLES = [line[2:].strip() for line in re.findall(r"^\$ plmodel [^\n#]*", README, re.M)
            if not re.search(r"path/to|my-phone|calibrate|testbed|sweep|validate|--study", line)]


@pytest.mark.parametrize("command", EXAMPLES)
def test_readme_example_runs(command):
    """Every quick example command in README exits 0."""
    args = shlex.split(command)[1:]
    out = subprocess.run([sys.executable, "-m", "plmodel", *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr


def test_readme_rtt_table_is_current():
    """The realistic-mode RTT table in README equals the estimate today."""
    rows = re.findall(r"^\| (\d+) ms \| ([\d.]+) \| ([\d.]+) \| (\d+) ms \|$", README, re.M)
    assert len(rows) == 4
    for rtt_ms, decode, prefill, ttft in rows:
        link = load_link("5g-paper")
        scn = Scenario(resolve_model("7b"), AdapterSpec(64, 64), load_hardware("a100-80g-pcie"),
                       load_hardware("iphone-13-pro-max"), replace(link, rtt_s=int(rtt_ms) / 1e3))
        r = estimate(scn)
        assert f"{r['decode_tokens_per_s']:.2f}" == decode
        assert f"{r['prefill_tokens_per_s']:.1f}" == prefill
        assert f"{r['ttft_s'] * 1e3:.0f}" == ttft
        assert f"**{r['break_even_rtt_s'] * 1e3:.1f} ms**" in README


def test_readme_python_api_runs():
    """README's Python API block runs as written and its commented figure is what it prints."""
    block = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    scope = {}
    exec(block, scope)  # noqa: S102 - our own README
    shown = float(re.search(r"# (\d+\.\d+)", block).group(1))
    assert float(scope["e"].decode.tokens_per_s) == pytest.approx(shown, abs=0.05)
