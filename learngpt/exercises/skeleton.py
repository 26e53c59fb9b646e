"""Learner files made from the reference: the classes of learngpt/course, solutions stripped.

In learngpt/course/stepNN_*.py every piece the learner writes sits between
`# BEGIN SOLUTION <todo id>` and `# END SOLUTION` (as nbgrader marks solutions). The skeleton
keeps everything else and puts in each region a `raise NotImplementedError` that carries the
TODO's instruction, so the reference and the exercises cannot drift apart.
"""

from __future__ import annotations

import ast
import io
import re
import textwrap
import tokenize
from importlib.resources import files

from learngpt.exercises.catalog import DEFAULT_LANG, text
from learngpt.exercises.syllabus import WORKSPACE_FILES, WorkspaceFile, get_todo

BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION (?P<id>\S+)\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
CLASS_NAMES = {name: f for f in WORKSPACE_FILES for name in f.classes}
PROSE = re.compile(r"[A-Za-z']{2,}[ ,:;]+[A-Za-z']{2,}[ ,:;]+[A-Za-z']{2,}")  # 3 words in a row
STANDARD_IMPORTS = {
    "torch": "import torch",
    "F": "import torch.nn.functional as F",
    "nn": "from torch import nn",
}


def todo_error(todo_id: str, lang: str, indent: str) -> list[str]:
    """The lines that stand in for a solution: raise NotImplementedError("TODO 5-1: ...").

    One language, the workspace's. A week-2 TODO's comment also names the course's own label.
    """
    todo = get_todo(todo_id)
    lines = [f"{indent}# {todo.name(lang)}", f"{indent}raise NotImplementedError("]
    paragraph = f"TODO {todo_id}: {todo.instruction(lang)}"
    pieces = textwrap.wrap(paragraph, 100 - len(indent) - 8, break_long_words=False)
    for i, piece in enumerate(pieces):
        # Adjacent string literals join: keep the space the wrap took out.
        lines.append(f"{indent}    {piece + (' ' if i < len(pieces) - 1 else '')!r}")
    lines.append(f"{indent})")
    return lines


def strip_solutions(source: str, lang: str = DEFAULT_LANG) -> str:
    """`source` with every solution region replaced by its TODO's NotImplementedError."""
    out: list[str] = []
    region: str | None = None
    for line in source.splitlines():
        begin = BEGIN.match(line)
        if begin:
            region = begin["id"]
            out.extend(todo_error(region, lang, begin["indent"]))
        elif END.match(line):
            region = None
        elif region is None:
            out.append(line)
    return "\n".join(out) + "\n"


def keep_solutions(source: str) -> str:
    """`source` without the markers: the answer key."""
    lines = source.splitlines()
    return "\n".join(line for line in lines if not (BEGIN.match(line) or END.match(line))) + "\n"


def without_english(source: str) -> str:
    """`source` without its English prose: docstrings, and comments of three words or more.

    The reference is written in English; a workspace in another language keeps one language
    (its TODOs, lessons and messages say what the code is for) and the code's shape notes.
    """
    drop: set[int] = set()  # 1-based line numbers
    for node in ast.walk(ast.parse(textwrap.dedent(source))):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                drop.update(range(body[0].lineno, body[0].end_lineno + 1))
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT and PROSE.search(token.string):
            row, col = token.start
            if "SOLUTION" in token.string:
                continue  # the markers strip_solutions reads
            if lines[row - 1][:col].strip():
                lines[row - 1] = lines[row - 1][:col].rstrip()
            else:
                drop.add(row)
    return "\n".join(line for n, line in enumerate(lines, start=1) if n not in drop) + "\n"


def class_source(module_name: str, class_name: str) -> str:
    """The source text of one class of learngpt/course/<module_name>.py, read as text: never
    imported, so that `course solution` and `course reset` need no torch."""
    source = (files("learngpt") / "course" / f"{module_name}.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return "\n".join(source.splitlines()[first - 1 : node.end_lineno]) + "\n"
    raise LookupError(f"learngpt.course.{module_name} has no class {class_name}")


def imports_for(code: str, own: tuple[str, ...]) -> list[str]:
    """The import lines `code` needs: torch, and the course classes it names (not in strings)."""
    names = {n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name)}
    lines = ["from __future__ import annotations", ""]
    lines += [line for name, line in STANDARD_IMPORTS.items() if name in names]
    local = [
        f"from mygpt.{CLASS_NAMES[name].name[:-3]} import {name}"
        for name in CLASS_NAMES
        if name not in own and name in names
    ]
    return lines + ([""] if local else []) + local


def workspace_source(file: WorkspaceFile, solutions: bool = False, lang: str = DEFAULT_LANG) -> str:
    """The text of mygpt/<file.name>: its classes, with TODOs (or with the solutions)."""
    classes = [class_source(file.module, name) for name in file.classes]
    if lang != "en":
        classes = [without_english(c) for c in classes]
    strip = keep_solutions if solutions else lambda source: strip_solutions(source, lang)
    body = "\n\n".join(strip(c) for c in classes)
    # Imports follow the complete code, so a skeleton imports what its solution will need.
    imports = imports_for("\n".join(keep_solutions(c) for c in classes), file.classes)
    step = int(file.module[4:6])
    doc = '"""' + text("stub.doc", lang, step=step, classes=", ".join(file.classes)) + '"""'
    return "\n".join([doc, "", *imports, "", "", body.rstrip()]) + "\n"


def package_init(lang: str = DEFAULT_LANG) -> str:
    """mygpt/__init__.py: every class importable as `from mygpt import HeadVer4`, lazily.

    A class's file is imported when the class is first asked for (PEP 562's module __getattr__),
    so a syntax error in one file fails only the steps whose tests use it.
    """
    lines = [
        '"""' + text("stub.init", lang),
        "",
        text("stub.init_lazy", lang) + '"""',
        "",
        "from importlib import import_module",
        "",
        "FILES = {",
        *(f'    "{name}": "{f.name[:-3]}",' for f in WORKSPACE_FILES for name in f.classes),
        "}",
        "__all__ = list(FILES)",
        "",
        "",
        "def __getattr__(name):",
        "    if name not in FILES:",
        '        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")',
        '    value = getattr(import_module(f"{__name__}.{FILES[name]}"), name)',
        "    globals()[name] = value",
        "    return value",
        "",
        "",
        "def __dir__():",
        "    return sorted([*globals(), *FILES])",
    ]
    return "\n".join(lines) + "\n"
