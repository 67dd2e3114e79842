"""Start-up: a command imports its own module and what it needs, nothing else (benchmarks/startup.py times it)."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from plmodel.cli import COMMANDS

PACKAGE = Path(__file__).resolve().parents[1] / "plmodel"
#: Packages `plmodel estimate` must not pay for: the simulation, the studies' frames and figures, progress bars, torch.
HEAVY = ("pandas", "matplotlib", "simpy", "tqdm", "scipy", "pyarrow", "torch", "ray", "streamlit")


def modules_after(argv: list) -> list:
    """The modules loaded once `plmodel ARGV` has run, in a fresh interpreter."""
    code = ("import io, sys, contextlib; from plmodel.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(%r)\n    except SystemExit:\n        pass\n"
            "sys.stderr.write(' '.join(sorted(sys.modules)))" % (argv,))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    return out.stderr.split()


def test_estimate_imports_its_command_alone_and_nothing_heavy():
    """`plmodel estimate` loads no other command's module, no simulation or study, and none of HEAVY."""
    loaded = modules_after(["estimate", "--json"])
    assert {m for m in loaded if m.startswith("plmodel.cli.")} == {"plmodel.cli.estimate", "plmodel.cli.scenario_args",
                                                                   "plmodel.cli.text",  # text: the 100-column fit
                                                                   "plmodel.cli.uncertainty"}  # --uncertainty
    assert not [m for m in loaded if m.startswith(("plmodel.sim", "plmodel.studies", "plmodel.testbed"))]
    assert not [m for m in loaded if m.split(".")[0] in HEAVY]


#: Standard modules `plmodel estimate` needs not load for its tables (pathlib brings urllib.parse and ipaddress;
#: statistics brings random; shutil brings bz2 and lzma): they are imported where a user's path, --json, an
#: error's did-you-mean or a percentile asks; the help's width is read without shutil (cli.columns).
UNNEEDED = {"pathlib", "urllib.parse", "ipaddress", "json", "difflib", "statistics", "random", "shutil", "bz2", "lzma"}


def test_estimate_loads_no_unneeded_standard_module():
    """`plmodel estimate` with shipped profiles loads none of UNNEEDED."""
    assert not UNNEEDED & set(modules_after(["estimate"]))


def test_the_help_is_as_wide_as_the_terminal_says():
    """COLUMNS sets the help's width as it does argparse's own (shutil's reading of it, without shutil)."""
    for width in (60, 120):
        out = subprocess.run([sys.executable, "-m", "plmodel", "estimate", "--help"], capture_output=True, text=True,
                             timeout=120, env={**os.environ, "COLUMNS": str(width)})
        description = out.stdout.split("\n\n")[1].splitlines()  # the paragraph after the usage line, wrapped
        assert width - 20 < max(map(len, description)) <= width - 2, (width, description)


def test_top_level_help_imports_no_command():
    """`plmodel --help` lists every command from its one-line help, importing none of their modules."""
    loaded = modules_after(["--help"])
    assert not [m for m in loaded if m.startswith("plmodel.cli.")]


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_has_help(command):
    """Each command's module loads on demand and its --help exits 0."""
    out = subprocess.run([sys.executable, "-m", "plmodel", command, "--help"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.startswith(f"usage: plmodel {command} [options]"), out.stderr


def test_only_the_cli_imports_plmodel_lazily():
    """Outside cli/, no function imports a plmodel module (imports point down the layers, at the top of a file);
    the cli/ may, to keep a command's start-up to what it runs."""
    lazy = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] == "cli":
            continue
        for fn in ast.walk(ast.parse(path.read_text())):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                             else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
                    lazy += [f"{path.relative_to(PACKAGE)}:{fn.name}: {n}" for n in names if n.startswith("plmodel")]
    assert not lazy
