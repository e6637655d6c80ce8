"""The package's layers hold: no import cycle, no import pointing up a layer, no hidden deferrals.

Layers, lowest first: core → inputs → stats → sections → present → running. A module may import
from its own layer or any layer below it, never from a layer above (``qa_lib/__init__.py`` says
why each layer exists). An import inside a function body is allowed only for a heavy or optional
third-party package, with a ``# deferred:`` comment saying why; a deferred *qa_lib* import is
always refused, because it is how cycles hide.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "qa_lib"
LAYERS = ["core", "inputs", "stats", "sections", "present", "running"]


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in ast.walk(node):
                if hasattr(sub, "lineno"):
                    lines.add(sub.lineno)
    return lines


def _imports(path: Path) -> list[tuple[str, int, bool, str]]:
    """(imported qa_lib module or third-party name, line, deferred?, source line) for every import."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    typing_only = _type_checking_lines(tree)
    found = []
    top = {id(n) for n in tree.body}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or node.lineno in typing_only:
            continue
        deferred = id(node) not in top and not any(
            isinstance(parent, (ast.Try, ast.If)) and node in ast.walk(parent) and id(parent) in top
            for parent in tree.body)
        names = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                names = ["<relative>"]
            elif node.module == "qa_lib":
                names = [f"qa_lib.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
        else:
            names = [a.name for a in node.names]
        for name in names:
            found.append((name, node.lineno, deferred, lines[node.lineno - 1]))
    return found


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The qa_lib module an import refers to (``from qa_lib.stats import trend`` → qa_lib.stats.trend)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


MODULES = _modules()
EDGES = {m: [(t, line, d, src) for t, line, d, src in _imports(p)] for m, p in MODULES.items()}


def test_every_module_sits_in_a_layer():
    loose = [m for m in MODULES if m != "qa_lib" and _layer(m) is None]
    assert not loose, f"modules outside the layer folders {LAYERS}: {loose}"


def test_no_import_points_up_a_layer():
    upward = []
    for module, edges in EDGES.items():
        here = _layer(module)
        for name, line, _deferred, src in edges:
            if not name.startswith("qa_lib"):
                continue
            target = _resolve(name, MODULES)
            there = _layer(target) if target else None
            if here and there and LAYERS.index(there) > LAYERS.index(here):
                upward.append(f"{MODULES[module].relative_to(PACKAGE.parent)}:{line} ({here} → {there}): {src.strip()}")
    assert not upward, "imports pointing up a layer:\n" + "\n".join(upward)


def test_no_deferred_qa_lib_import_and_every_deferral_says_why():
    bad = []
    for module, edges in EDGES.items():
        for name, line, deferred, src in edges:
            if not deferred:
                continue
            where = f"{MODULES[module].relative_to(PACKAGE.parent)}:{line}: {src.strip()}"
            if name.startswith("qa_lib"):
                bad.append(where + "  (a deferred qa_lib import hides a cycle: move the piece down a layer)")
            elif "# deferred:" not in src:
                bad.append(where + "  (say why with a '# deferred: <reason>' comment, or import at the top)")
    assert not bad, "\n".join(bad)


def test_no_import_cycle():
    graph = {m: sorted({_resolve(n, MODULES) for n, *_ in edges if n.startswith("qa_lib")} - {None, m})
             for m, edges in EDGES.items()}
    # a package's __init__ re-exporting its own modules is not a cycle through the package
    for m in graph:
        graph[m] = [t for t in graph[m] if not (m.startswith(t + ".") or t == "qa_lib")]
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cycles.append(" → ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for m in graph:
        if m not in state:
            visit(m, [m])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("bad_source, problem", [
    ("from qa_lib.running import cli\n", "up"),
    ("def f():\n    from qa_lib.inputs import data\n", "deferred"),
])
def test_the_checks_catch_a_violation(tmp_path, bad_source, problem):
    """The checks above are not vacuous: an upward import and a deferred qa_lib import are found."""
    path = tmp_path / "probe.py"
    path.write_text(bad_source)
    edges = _imports(path)
    if problem == "up":
        target = _resolve(edges[0][0], MODULES)
        assert LAYERS.index(_layer(target)) > LAYERS.index("stats")
    else:
        assert edges[0][2] and edges[0][0].startswith("qa_lib")
