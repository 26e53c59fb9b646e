"""A learner's workspace: `learngpt course start DIR` writes it, the other course commands read it.

DIR/
  mygpt/          the learner's package: the course's files, TODOs raising NotImplementedError
  tests/          test_1.py ... test_10.py (+ conftest.py): `pytest tests/test_N.py -s -vv`
  input.txt       the course's text;  config.yaml: its training set-up
  pytest.ini      so that plain `pytest` in DIR finds mygpt
  README.md       the steps, what each teaches, which files to edit, the commands
  lessons/        one lesson per step, in the course's words;  img/: the course's figures
  answers/img/    the figures of the answers to the course's questions (`course answers N`)
  .learngpt/      the workspace's language, hint stages and last check results
  .backup/<time>/ the learner's files as they were before reset, restore or start --force

Everything a learner reads is in the workspace's one language (`--lang`, Korean by default).
"""

from __future__ import annotations

import json
import shutil
from importlib.resources import files
from pathlib import Path

from learngpt.errors import UserError
from learngpt.exercises.backup import keep_changed
from learngpt.exercises.catalog import DEFAULT_LANG, LANGS, text
from learngpt.exercises.limits import DEFAULT_S as DEFAULT_TIMEOUT_S
from learngpt.exercises.skeleton import package_init, workspace_source
from learngpt.exercises.syllabus import STEPS, WORKSPACE_FILES, files_of, todos_of
from learngpt.fileio import atomic_write_text
from learngpt.resources import asset, course_config_path, shakespeare_path

STATE_DIR = ".learngpt"
WORKSPACE_STATE = "workspace.json"  # the workspace's language; checks.json, hints.json beside it
STATE_FIXES = {  # how to mend each state file when it is damaged
    WORKSPACE_STATE: "state.fix_workspace",
    "checks.json": "state.fix_checks",
    "hints.json": "state.fix_hints",
}
PYTEST_INI = """[pytest]
# The workspace is the root: `import mygpt` works from every test.
pythonpath = .
testpaths = tests
"""


def workspace_files(lang: str = DEFAULT_LANG, solutions: bool = False) -> dict[str, str]:
    """Every text file of a workspace, by its path relative to the workspace."""
    out = {"mygpt/__init__.py": package_init(lang)}
    for f in WORKSPACE_FILES:
        out[f"mygpt/{f.name}"] = workspace_source(f, solutions=solutions, lang=lang)
    tests = files("learngpt").joinpath("assets", "course", "tests")
    for entry in sorted(tests.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".py"):
            out[f"tests/{entry.name}"] = entry.read_text(encoding="utf-8")
    for entry in sorted(asset("course", lang, "lessons").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".md"):
            out[f"lessons/{entry.name}"] = entry.read_text(encoding="utf-8")
    out["pytest.ini"] = PYTEST_INI
    out["README.md"] = readme(lang)
    out[f"{STATE_DIR}/workspace.json"] = json.dumps({"lang": lang, "solutions": solutions}) + "\n"
    return out


def start(
    directory: Path, lang: str = DEFAULT_LANG, force: bool = False, solutions: bool = False
) -> list[str]:
    """Write a workspace into `directory`; return the paths written.

    A directory with anything in it is refused unless `force` (then the course's files are
    written over the ones there, and nothing else is touched): files it changes are first kept
    in .backup/<time>/, whose path is then the last one returned.
    """
    if lang not in LANGS:
        raise UserError(f"unknown language '{lang}'; use one of: {', '.join(LANGS)}")
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UserError(text("errors.is_a_file", lang, dir=directory))
    if directory.is_dir() and any(directory.iterdir()) and not force:
        raise UserError(text("errors.not_empty", lang, dir=directory))
    texts = workspace_files(lang, solutions)  # everything is made before anything is written
    kept = keep_changed(directory, texts) if directory.is_dir() else None  # the learner's code
    for relative, content in texts.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, content)
    for relative, source in (
        ("input.txt", shakespeare_path()),
        ("config.yaml", course_config_path()),
    ):
        shutil.copyfile(source, directory / relative)
    figures = copy_figures(directory, lang)
    written = [*texts, "input.txt", "config.yaml", *figures]
    return written + ([kept.relative_to(directory).as_posix()] if kept else [])


def copy_figures(directory: Path, lang: str) -> list[str]:
    """The course's figures in `lang` (learngpt/assets/course/<lang>/img, drawn by
    tools/draw_figures.py) into img/, the answers' (learngpt/assets/course/answers/img) into
    answers/img/."""
    written = []
    for relative, source in (
        ("img", asset("course", lang, "img")),
        ("answers/img", asset("course", "answers", "img")),
    ):
        (directory / relative).mkdir(parents=True, exist_ok=True)
        for entry in sorted(source.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".png"):
                (directory / relative / entry.name).write_bytes(entry.read_bytes())
                written.append(f"{relative}/{entry.name}")
    return written


def find(directory: Path | None, lang: str | None = None) -> Path:
    """The workspace at `directory` (default: the current directory or one above it).

    Not a workspace: the error speaks `lang`, or else the course's language.
    """
    candidates = [Path(directory)] if directory else [Path.cwd(), *Path.cwd().parents]
    for candidate in candidates:
        if (candidate / "mygpt").is_dir() and (candidate / "tests").is_dir():
            return candidate
    where = directory or Path.cwd()
    raise UserError(text("errors.not_workspace", lang or DEFAULT_LANG, dir=where))


def lang_of(workspace: Path, override: str | None = None) -> str:
    """The language the workspace was made in (`override`, from --lang, wins). With no state
    file, the course's; with a damaged one, DamagedState (never a quiet switch of language)."""
    if override in LANGS:
        return override
    if not (workspace / STATE_DIR / WORKSPACE_STATE).exists():
        return DEFAULT_LANG
    lang = read_state(workspace, WORKSPACE_STATE, DEFAULT_LANG).get("lang")  # (damaged: unknown)
    if lang in LANGS:
        return lang
    fields = {"value": json.dumps(lang), "langs": ", ".join(LANGS)}
    raise damaged(workspace, WORKSPACE_STATE, DEFAULT_LANG, "state.bad_lang", fields)


class DamagedState(UserError, ValueError):
    """A state file in .learngpt/ that is not what the course writes there: named, with the fix
    (the file is left as it is). A ValueError too, for the readers that skip unreadable state."""


def read_state(workspace: Path, name: str, lang: str | None = None) -> dict:
    """The state file `name` of .learngpt/ ({} when there is none). One that is not a JSON object
    in UTF-8 raises DamagedState, in `lang` (by default the workspace's language)."""
    path = workspace / STATE_DIR / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as error:  # a folder, a file it may not read
        fields = {"error": error.strerror}
        raise damaged(workspace, name, lang, "state.unreadable", fields) from None
    try:
        state = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise damaged(workspace, name, lang, "state.not_utf8") from None
    except json.JSONDecodeError as error:
        raise damaged(workspace, name, lang, "state.not_json", {"line": error.lineno}) from None
    if not isinstance(state, dict):
        raise damaged(workspace, name, lang, "state.not_object")
    return state


def damaged(
    workspace: Path, name: str, lang: str | None, problem: str, fields: dict | None = None
) -> DamagedState:
    """The error for the damaged state file `name`: what is wrong (`problem`, a catalog key, with
    its `fields`) and how to mend it."""
    lang = lang or _lang_for_errors(workspace)
    path = workspace / STATE_DIR / name
    what = text(problem, lang, **(fields or {}))
    fix = text(STATE_FIXES[name], lang, path=path)
    return DamagedState(text("state.damaged", lang, file=path, problem=what, fix=fix))


def _lang_for_errors(workspace: Path) -> str:
    try:
        return lang_of(workspace)
    except DamagedState:
        return DEFAULT_LANG


def write_state(workspace: Path, name: str, state: dict) -> None:
    (workspace / STATE_DIR).mkdir(exist_ok=True)
    atomic_write_text(workspace / STATE_DIR / name, json.dumps(state, indent=1) + "\n")


def readme(lang: str) -> str:
    """The workspace's README.md, the table of contents: steps, lessons, files, commands."""
    rows = []
    for step in STEPS:
        edit = ", ".join(f"`mygpt/{f.name}`" for f in files_of(step.number))
        todos = ", ".join(t.name(lang) for t in todos_of(step.number))
        lesson = text("readme.lesson_link", lang, path=f"lessons/{step.lesson}.md")
        title, teaches = step.title(lang), step.teaches(lang)
        rows.append(f"| {step.number} | {title} | {teaches} | {edit} | {todos} | {lesson} |")
    return text(
        "readme.body", lang, steps="\n".join(rows), language=lang, timeout=DEFAULT_TIMEOUT_S
    )


def reset(workspace: Path, step: int, lang: str | None = None) -> tuple[list[str], Path | None]:
    """Put step `step`'s files back to their stubs (in `lang`, else the workspace's language),
    the learner's versions kept first."""
    lang = lang_of(workspace, lang)
    stubs = {f"mygpt/{f.name}": workspace_source(f, lang=lang) for f in files_of(step)}
    kept = keep_changed(workspace, stubs)
    for relative, content in stubs.items():
        atomic_write_text(workspace / relative, content)
    return list(stubs), kept
