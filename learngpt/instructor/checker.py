"""The class report's one door into the course checker (learngpt.exercises).

The report reads a workspace only as `course progress` and `course check` do, through the
checker's public functions: check.step_status, check.todo_status, check.todo_written,
check.status_word and check.check; integrity.changed and integrity.shipped; workspace.find and
workspace.lang_of; the state files the checker keeps (.learngpt/). When the checker changes
(its states, its result records), this module is the one to follow it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from learngpt.errors import UserError
from learngpt.exercises import check, integrity, tutor, workspace
from learngpt.exercises.catalog import DEFAULT_LANG
from learngpt.exercises.syllabus import todos_of

STATE_FILES = ("workspace.json", check.CHECKS, tutor.HINTS)
CHECKS_FILE = f"{workspace.STATE_DIR}/{check.CHECKS}"  # as the report names it


def is_workspace(folder: Path) -> bool:
    try:
        workspace.find(folder)
    except (UserError, OSError):
        return False
    return True


def lang_of(ws: Path) -> str:
    """The workspace's language (the course's, where its state file cannot be read)."""
    try:
        return workspace.lang_of(ws)
    except (AttributeError, TypeError, ValueError):
        return DEFAULT_LANG


def state_path(ws: Path, name: str) -> Path:
    return ws / workspace.STATE_DIR / name


def broken_state_files(ws: Path) -> list[str]:
    """The learner's state files that exist but are not what the course writes there (a JSON
    object): `course progress` reads them as empty."""
    broken = []
    for name in STATE_FILES:
        path = state_path(ws, name)
        if not path.exists():
            continue
        try:
            ok = isinstance(json.loads(path.read_text(encoding="utf-8")), dict)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            ok = False
        if not ok:
            broken.append(f"{workspace.STATE_DIR}/{name}")
    return broken


def _read(ws: Path, name: str) -> dict:
    try:
        state = workspace.read_state(ws, name)
    except (OSError, ValueError):  # workspace.DamagedState among them
        return {}
    return state if isinstance(state, dict) else {}


def step_state(ws: Path, step: int) -> str | None:
    """The step's state as `course progress` shows it (done, failing, waiting, not started,
    unchecked); None when the learner's record of the step is not one `course check` writes."""
    try:
        return check.step_status(ws, step)
    except (LookupError, TypeError, AttributeError, ValueError):
        return None


def state_without_record(ws: Path, step: int) -> str:
    """The step's state when its record cannot be read: as if it had never been checked."""
    return "unchecked" if any_todo_written(ws, step) else "not started"


def todo_state(ws: Path, todo_id: str, step_state_now: str) -> str:
    """A TODO's state as `course progress` shows it (its step's, where that cannot be read)."""
    try:
        return check.todo_status(ws, todo_id)
    except (LookupError, TypeError, AttributeError, ValueError):
        return step_state_now


def any_todo_written(ws: Path, step: int) -> bool:
    return any(check.todo_written(ws, t.id) for t in todos_of(step))


def last_check(ws: Path, step: int) -> dict:
    """The record `course check` kept of the step's last check ({} if none)."""
    record = _read(ws, check.CHECKS).get(str(step))
    return record if isinstance(record, dict) else {}


def named_mistakes(record: dict) -> list[str]:
    """The named mistakes (catalog keys, `mistakes.<key>`) the failed tests of a check record
    showed, each once, in order. (A test names one, `mistake`, or several, `mistakes`.)"""
    found: list[str] = []
    for test in record.get("tests") or []:
        if not isinstance(test, dict) or test.get("passed"):
            continue
        keys = test.get("mistakes") or [test.get("mistake")]
        found += [k for k in keys if isinstance(k, str) and k not in found]
    return found


def tests_passed(record: dict) -> tuple[int, int]:
    """(passed, total) of a check record's tests."""
    tests = [t for t in record.get("tests") or [] if isinstance(t, dict)]
    return sum(bool(t.get("passed")) for t in tests), len(tests)


def hints_taken(ws: Path) -> dict[int, int]:
    """How many hints the learner has seen, by step."""
    taken = {}
    for step, count in _read(ws, tutor.HINTS).items():
        if str(step).isdigit() and isinstance(count, int):
            taken[int(step)] = count
    return taken


def last_check_time(ws: Path) -> float | None:
    """When `course check` last wrote the learner's results (the state file's time)."""
    try:
        return state_path(ws, check.CHECKS).stat().st_mtime
    except OSError:
        return None


def edited_course_files(ws: Path) -> list[str]:
    """The course's files (tests, conftest, config, text) that differ from the shipped ones."""
    return integrity.changed(ws)


def state_word(state: str, lang: str) -> str:
    return check.status_word(state, lang)


def copy_for_checking(ws: Path, target: Path) -> None:
    """Into the empty folder `target`: the learner's code (mygpt/) and the course's shipped
    files (tests, conftest, pytest.ini, config, text); never the learner's tests or state."""
    shutil.copytree(ws / "mygpt", target / "mygpt", ignore=_not_code, symlinks=False)
    for relative, source in integrity.shipped().items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, Path):
            shutil.copyfile(source, path)
        else:
            path.write_bytes(source)


def _not_code(folder: str, names: list[str]) -> set[str]:
    """What copytree leaves out of mygpt/: caches, and linked folders (they may lead anywhere)."""
    return {
        n
        for n in names
        if n == "__pycache__" or (Path(folder, n).is_symlink() and Path(folder, n).is_dir())
    }


def run_check(copy: Path, step: int, lang: str, timeout: float) -> check.StepResult:
    """`course check N` on the copy: each test under `timeout`, in a child process that is
    ended, with its children, when it runs past the limit."""
    return check.check(copy, step, lang, timeout)
