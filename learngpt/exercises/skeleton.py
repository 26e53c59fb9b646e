"""Learner files made from the reference: the classes of learngpt/course, solutions stripped.

In learngpt/course/stepNN_*.py every piece the learner writes sits between
`# BEGIN SOLUTION <todo id>` and `# END SOLUTION` (as nbgrader marks solutions). The skeleton
keeps everything else and puts in each region a `raise NotImplementedError` that carries the
TODO's instruction, so the reference and the exercises cannot drift apart.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import textwrap

from learngpt.exercises.syllabus import WORKSPACE_FILES, WorkspaceFile, get_todo

BEGIN = re.compile(r"^(?P<indent>\s*)# BEGIN SOLUTION (?P<id>\S+)\s*$")
END = re.compile(r"^\s*# END SOLUTION\s*$")
CLASS_NAMES = {name: f for f in WORKSPACE_FILES for name in f.classes}
STANDARD_IMPORTS = {
    "torch": "import torch",
    "F": "import torch.nn.functional as F",
    "nn": "from torch import nn",
}


def todo_error(todo_id: str, lang: str, indent: str) -> list[str]:
    """The lines that stand in for a solution: raise NotImplementedError("TODO 5-1: ...")."""
    lines = [f"{indent}raise NotImplementedError("]
    paragraphs = [f"TODO {todo_id}: {p}" for p in get_todo(todo_id).instruction(lang).split("\n")]
    for n, paragraph in enumerate(paragraphs):
        pieces = textwrap.wrap(paragraph, 100 - len(indent) - 8, break_long_words=False)
        for i, piece in enumerate(pieces):
            # Adjacent string literals join: keep the space the wrap took out, end with a newline.
            end = " " if i < len(pieces) - 1 else ("\n" if n < len(paragraphs) - 1 else "")
            lines.append(f"{indent}    {piece + end!r}")
    lines.append(f"{indent})")
    return lines


def strip_solutions(source: str, lang: str = "ko") -> str:
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


def class_source(module_name: str, class_name: str) -> str:
    """The source text of one class of learngpt/course/<module_name>.py."""
    source = inspect.getsource(importlib.import_module(f"learngpt.course.{module_name}"))
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


def workspace_source(file: WorkspaceFile, solutions: bool = False, lang: str = "ko") -> str:
    """The text of mygpt/<file.name>: its classes, with TODOs (or with the solutions)."""
    classes = [class_source(file.module, name) for name in file.classes]
    strip = keep_solutions if solutions else lambda source: strip_solutions(source, lang)
    body = "\n\n".join(strip(c) for c in classes)
    # Imports follow the complete code, so a skeleton imports what its solution will need.
    imports = imports_for("\n".join(keep_solutions(c) for c in classes), file.classes)
    step = int(file.module[4:6])
    doc = (
        f'"""Step {step}: {", ".join(file.classes)}. Stuck? `learngpt course hint {step}`; '
        f'the answer: `learngpt course solution {step}`."""'
    )
    return "\n".join([doc, "", *imports, "", "", body.rstrip()]) + "\n"


def package_init() -> str:
    """mygpt/__init__.py: every class importable as `from mygpt import HeadVer4`, lazily.

    A class's file is imported when the class is first asked for (PEP 562's module __getattr__),
    so a syntax error in one file fails only the steps whose tests use it.
    """
    lines = [
        '"""Your GPT, built step by step. The tests import every class from here.',
        "",
        "Each class is loaded from its file when it is first used, so a mistake in one file only",
        'stops the steps that use that file."""',
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
