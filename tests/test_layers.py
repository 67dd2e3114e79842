"""Imports point one way (issue 22): every plmodel import, those inside functions included, goes to a layer at
or below the importer's, there is no import circle, and only cli/ imports plmodel modules inside functions.

The layers, lowest first: the core on the top floor (units, errors, specs, step, workload, link, ...), then the
folders in LAYERS. A module may import its own layer and those below it; the package's `__init__` (the public
API) sits above everything and nothing inside imports it.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "plmodel"
LAYERS = ("core", "hardware", "accounting", "fleet", "sim", "designs", "analysis", "io", "studies", "explore", "reference",
          "testbed", "cli", "api")
MAX_TOP_FLOOR = 25


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def layer(module: str) -> int:
    """The layer of a module: its folder's, the core's for the top floor, the API's for the package itself."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return LAYERS.index("api")
    folder = parts[1] if (PACKAGE / parts[1]).is_dir() and parts[1] != "paperdata" else "core"
    return LAYERS.index(folder)


def targets(module: str, path: Path, node) -> list:
    """The plmodel modules an import statement names (a package's name where it imports a name from it)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "plmodel"]
    if node.level:
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        prefix = ".".join(base[:len(base) - node.level + 1] + ([node.module] if node.module else []))
    elif (node.module or "").split(".")[0] == "plmodel":
        prefix = node.module
    else:
        return []
    return [f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix for a in node.names]


def imports() -> list:
    """(importer, imported, line, inside a function) for every plmodel import in the package."""
    out = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        top = {id(n) for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
               and not any(isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef)) for p in parents(tree, n))}
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in targets(module, path, node):
                    if target != module and target in MODULES:
                        out.append((module, target, node.lineno, id(node) not in top))
    return out


def parents(tree, node) -> list:
    """The chain of nodes above `node`."""
    chain, by_child = [], {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    while id(node) in by_child:
        node = by_child[id(node)]
        chain.append(node)
    return chain


IMPORTS = imports()


def test_no_import_points_upward():
    """Every plmodel import (inside functions too) goes to the importer's layer or one below it."""
    upward = [f"{a}:{line} -> {b}" for a, b, line, _ in IMPORTS if layer(b) > layer(a)]
    assert not upward


def test_no_import_circle():
    """The import graph, imports inside functions included, has no circle."""
    graph = {}
    for a, b, _, _ in IMPORTS:
        graph.setdefault(a, set()).add(b)
    state, circles = {}, []

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                circles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not circles


def test_imports_inside_functions_only_in_the_cli():
    """plmodel modules are imported inside functions only by cli/ (start-up time)."""
    inner = [f"{a}:{line} -> {b}" for a, b, line, inside in IMPORTS if inside and not a.startswith("plmodel.cli")]
    assert not inner


def test_few_modules_on_the_top_floor():
    """At most 25 modules on plmodel's top floor; the rest live in folders that name their concept."""
    top = [p.name for p in PACKAGE.glob("*.py")]
    assert len(top) <= MAX_TOP_FLOOR, top


def test_layers_name_every_folder():
    """Every folder of the package is a layer (or the paper's data), so the order above covers every module."""
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders <= set(LAYERS) | {"paperdata"}, folders
