"""What the learner asks for besides a check: progress, hints, solutions, and watching files."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from learngpt.exercises.catalog import DEFAULT_LANG, text
from learngpt.exercises.check import current_step, status_word, step_status, todo_status
from learngpt.exercises.columns import pad
from learngpt.exercises.skeleton import workspace_source
from learngpt.exercises.syllabus import STEPS, files_of, get_step, todos_of
from learngpt.exercises.workspace import damaged, read_state, write_state

HINTS = "hints.json"


def _row(step: str, todo: str, status: str, what: str) -> str:
    # Hangul is two columns wide in a terminal: pad by columns, not by characters
    return f"{pad(step, 5)} {pad(todo, 6)} {pad(status, 12)} {what}"


def progress_table(workspace: Path, lang: str = DEFAULT_LANG) -> str:
    """Every step and its TODOs: done / failing / waiting on an earlier file / not started /
    unchecked."""
    header = [
        text("progress.step", lang),
        text("progress.todo", lang),
        text("progress.status", lang),
        text("progress.what", lang),
    ]
    lines = [_row(*header)]
    for step in STEPS:
        status = status_word(step_status(workspace, step.number), lang, workspace, step.number)
        lines.append(_row(str(step.number), "", status, step.title(lang)))
        for todo in todos_of(step.number):
            what = re.split(r"[:.] ", todo.instruction(lang))[0]  # its first clause
            status = status_word(todo_status(workspace, todo.id), lang, workspace, step.number)
            lines.append(_row("", todo.id, status, what))
    lines.append(text("progress.legend", lang))
    return "\n".join(lines)


def current(workspace: Path, lang: str, action: str) -> tuple[int, str]:
    """The step an `action` given no number acts on (the first step not done yet, else the last)
    and the line that says which it is, and how to ask for another."""
    step = current_step(workspace)
    done = step_status(workspace, step) == "done"
    said = text("current.all_done" if done else "current.step", lang, step=step, action=action)
    return step, said


def next_hint(workspace: Path, step: int, lang: str = DEFAULT_LANG) -> str:
    """One more hint for `step` than last time (hints so far are kept in the workspace)."""
    hints = get_step(step).hints(lang)
    seen = hints_seen(workspace, lang)
    shown = min(seen.get(str(step), 0) + 1, len(hints))
    write_state(workspace, HINTS, {**seen, str(step): shown})
    lines = [
        text("hint.line", lang, step=step, n=i + 1, total=len(hints), hint=hints[i])
        for i in range(shown)
    ]
    if shown == len(hints):
        lines.append(text("hint.last", lang, step=step))
    return "\n".join(lines)


def hints_seen(workspace: Path, lang: str) -> dict[str, int]:
    """How many hints of each step the learner has seen (hints.json); a count that is not a
    whole number from 0 is damaged state, named as such."""
    seen = read_state(workspace, HINTS, lang)
    for step, count in seen.items():
        if type(count) is not int or count < 0:  # (True is an int, but not a count)
            fields = {"step": step, "value": json.dumps(count)}
            raise damaged(workspace, HINTS, lang, "state.bad_hints", fields)
    return seen


def solution(step: int, lang: str = DEFAULT_LANG) -> str:
    """The reference code of the files the learner edits in `step`."""
    get_step(step)
    parts = []
    for f in files_of(step):
        parts.append(f"# ---- mygpt/{f.name} " + "-" * (80 - len(f.name)))
        parts.append(workspace_source(f, solutions=True, lang=lang))
    return "\n".join(parts)


def snapshot(workspace: Path) -> dict[str, float]:
    return {p.name: p.stat().st_mtime for p in sorted((workspace / "mygpt").glob("*.py"))}


def changes(workspace: Path, interval: float = 0.5) -> Iterator[None]:
    """Yield once now, then once each time a file in mygpt/ is saved (polling the mtimes)."""
    seen = snapshot(workspace)
    yield
    while True:
        time.sleep(interval)
        now = snapshot(workspace)
        if now != seen:
            seen = now
            yield


def watch(workspace: Path, on_change: Callable[[], None], interval: float = 0.5) -> None:
    """Call `on_change` now and after every save, until Ctrl-C (KeyboardInterrupt) stops it."""
    for _ in changes(workspace, interval):
        on_change()
