"""What the learner asks for besides a check: progress, hints, solutions, and watching files."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from learngpt.exercises.check import step_status, todo_status
from learngpt.exercises.skeleton import workspace_source
from learngpt.exercises.syllabus import STEPS, files_of, get_step, todos_of
from learngpt.exercises.workspace import read_state, write_state

HINTS = "hints.json"


def progress_table(workspace: Path) -> str:
    """Every step and its TODOs: done / failing / not started / unchecked."""
    lines = [f"{'step':<5} {'TODO':<6} {'status':<12} what"]
    for step in STEPS:
        lines.append(
            f"{step.number:<5} {'':<6} {step_status(workspace, step.number):<12} {step.title}"
        )
        for todo in todos_of(step.number):
            what = todo.en.split(":")[0]
            lines.append(f"{'':<5} {todo.id:<6} {todo_status(workspace, todo.id):<12} {what}")
    lines.append(
        "not started: a TODO still raises NotImplementedError; done: its last check passed; "
        "failing: its last check failed; unchecked: written, not checked since "
        "(run `learngpt course check N`)"
    )
    return "\n".join(lines)


def next_hint(workspace: Path, step: int) -> str:
    """One more hint for `step` than last time (hints so far are kept in the workspace)."""
    hints = get_step(step).hints
    seen = read_state(workspace, HINTS)
    shown = min(seen.get(str(step), 0) + 1, len(hints))
    write_state(workspace, HINTS, {**seen, str(step): shown})
    lines = [f"step {step}, hint {i + 1}/{len(hints)}: {hints[i]}" for i in range(shown)]
    if shown == len(hints):
        lines.append(
            f"(that was the last hint; `learngpt course solution {step}` shows the answer)"
        )
    return "\n".join(lines)


def solution(step: int) -> str:
    """The reference code of the files the learner edits in `step`."""
    get_step(step)
    parts = []
    for f in files_of(step):
        parts.append(f"# ---- mygpt/{f.name} " + "-" * (80 - len(f.name)))
        parts.append(workspace_source(f, solutions=True))
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
