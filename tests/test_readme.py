"""README.md cannot rot: its first two commands, its example commands and their quoted output are checked.

The RTT table and the Python API block moved to docs/ (tests/test_docs.py checks them there)."""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def run(command: str) -> subprocess.CompletedProcess:
    """`plmodel ...` as a user types it, in a fresh interpreter."""
    args = shlex.split(command)[1:]
    return subprocess.run([sys.executable, "-m", "plmodel", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_readme_opens_with_the_two_commands():
    """The first block: one command runs the estimate without torch, one installs torch first and runs pytest."""
    block = re.search(r"```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert len(block) == 2 and README.index("```bash") < 20
    assert "plmodel estimate --model 13b --rank 64" in block[0] and "torch" not in block[0]
    assert block[1].index("torch==2.13.0") < block[1].index("pip install -e") < block[1].index("pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "torch==2.13.0" in ci and "-e '.[torch,test,ray]'" in ci and "python -m pytest" in ci


def test_readme_is_a_front_page():
    """README stays short: the details live in docs/."""
    assert len(README.splitlines()) <= 150


EXCERPTS = [body for kind, body in FENCE.findall(README) if kind == "console"]
EXAMPLES = [line[2:].strip() for kind, body in FENCE.findall(README) if kind == "text"
            for line in body.splitlines() if line.startswith("$ plmodel ")
            if not re.search(r"path/to|my-phone|calibrate|testbed|sweep|validate|--study", line)]


def test_readme_has_six_examples():
    """Six example commands with excerpts of their output."""
    assert len(EXCERPTS) == 6


@pytest.mark.parametrize("body", EXCERPTS, ids=lambda b: b.splitlines()[0][2:])
def test_readme_excerpt_is_real_output(body):
    """A README example exits 0, and each line quoted under it is a line of its output, in order."""
    command, *quoted = body.splitlines()
    out = run(command[2:])
    assert out.returncode == 0, out.stderr
    printed = iter(line.rstrip() for line in out.stdout.splitlines())
    for line in quoted:
        assert any(line.rstrip() == p for p in printed), line


@pytest.mark.parametrize("command", EXAMPLES)
def test_readme_example_runs(command):
    """Every other example command in README exits 0."""
    out = run(command)
    assert out.returncode == 0, out.stderr
