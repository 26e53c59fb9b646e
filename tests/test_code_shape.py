"""The library's shape rules (issue 27): short functions, few parameters, no import circles."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "learngpt"
MAX_LINES, MAX_PARAMS = 60, 8
# **kwargs that are the point of the function: a dataclass-style replace(), and the catalog's
# placeholders (learner-facing text is data: catalog.text(key, lang, **fields))
KWARGS_ALLOWED = {("config.py", "replace"), ("catalog.py", "text"), ("catalog.py", "say")}


def modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return found


def functions(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def parameter_count(node: ast.FunctionDef) -> int:
    a = node.args
    names = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    names += [p.arg for p in (a.vararg, a.kwarg) if p is not None]
    return len([n for n in names if n not in ("self", "cls")])


def test_no_function_is_longer_than_60_lines_or_takes_more_than_8_parameters():
    too_big = []
    for name, tree in modules().items():
        for node in functions(tree):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_LINES or parameter_count(node) > MAX_PARAMS:
                too_big.append(f"{name}.{node.name}: {lines} lines, {parameter_count(node)} params")
    assert too_big == []


def test_no_function_takes_loose_keyword_arguments():
    loose = [
        f"{name}.{node.name}"
        for name, tree in modules().items()
        for node in functions(tree)
        if node.args.kwarg is not None
        and (name.rsplit(".", 1)[-1] + ".py", node.name) not in KWARGS_ALLOWED
    ]
    assert loose == []


def imports(name: str, tree: ast.Module, known: set[str]) -> set[str]:
    """The learngpt modules `name` imports anywhere: at the top, in functions, under
    TYPE_CHECKING. `from learngpt.x import y` is learngpt.x.y when that is a module, else
    learngpt.x (a package's __init__, run by any import of its modules, is not counted)."""
    found = set()
    package = name if (PACKAGE / Path(*name.split(".")[1:]) / "__init__.py").exists() else ""
    package = package or name.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package this module is in
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            names = {f"{base}.{alias.name}" for alias in node.names}
            found |= names & known or {base}  # `from learngpt import checkpoint`: the module
    return {m for m in found if m in known and m != name}


def test_no_import_circles_among_learngpt_modules():
    trees = modules()
    graph = {name: imports(name, tree, set(trees)) for name, tree in trees.items()}
    circles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                circles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert circles == []


def test_the_checker_sees_a_circle_and_a_long_function(tmp_path):
    # the rules would pass vacuously if the parsing found nothing: show it finds real cases
    trees = modules()
    assert "learngpt.model" in imports("learngpt.engine", trees["learngpt.engine"], set(trees))
    long = ast.parse("def f(a, b, c, d, e, f, g, h, i):\n" + "    x = 1\n" * 61)
    node = next(functions(long))
    assert parameter_count(node) == 9 and node.end_lineno - node.lineno + 1 == 62
