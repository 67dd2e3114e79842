"""The design stays easy to see (issue 10): small modules, short functions, few positional parameters.

Limits (STYLE.md): a module about 300 lines, a function about 40, at most 6 positional parameters
(self and cls not counted; keyword-only parameters are named at every call, so they are free).
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "plmodel"
MODULE_LINES, FUNCTION_LINES, POSITIONAL = 320, 45, 6


def functions():
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path.relative_to(PACKAGE.parent), node


def test_modules_are_small():
    """No module of the package is longer than about 300 lines."""
    long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MODULE_LINES}
    assert not long


def test_functions_are_short():
    """No function is longer than about 40 lines (its docstring included)."""
    long = {f"{p}:{f.name}": f.end_lineno - f.lineno + 1 for p, f in functions()
            if f.end_lineno - f.lineno + 1 > FUNCTION_LINES}
    assert not long


def test_few_positional_parameters():
    """No function takes more than 6 positional parameters."""
    wide = {}
    for p, f in functions():
        names = [a.arg for a in f.args.posonlyargs + f.args.args if a.arg not in ("self", "cls")]
        if len(names) > POSITIONAL:
            wide[f"{p}:{f.name}"] = len(names)
    assert not wide
