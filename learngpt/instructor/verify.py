"""`course report --verify`: each learner's checks run again, where the learner cannot reach them.

For one learner, a temporary folder gets their code (mygpt/) and the course's shipped tests,
conftest, config and text, never their tests or state; `course check` runs there, step by step,
each test under the same time limit (its child process, and whatever that started, is ended at
the limit). What it measures is set beside what the learner's state claimed. Nothing is written
into the learner's folder. Learners are verified one at a time, or `jobs` at once.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from learngpt.exercises.catalog import text
from learngpt.exercises.syllabus import todos_of
from learngpt.instructor import checker
from learngpt.instructor.learners import Learner, StepRow, Verified


def first_failure(result, lang: str) -> str:
    """What the re-run's first failure was, in one line ("" when the step passed)."""
    if result.blocked_by is not None:
        return text("result.blocked", lang, step=result.step, needs=result.blocked_by).strip()
    for test in result.tests:
        if not test.passed:
            lines = [line.strip() for line in test.reason.splitlines() if line.strip()]
            return f"{test.test}: {lines[0]}" if lines else test.test
    return ""


def verify_step(copy: Path, row: StepRow, lang: str, timeout: float) -> Verified:
    """Check the step again in `copy` (not at all when none of its TODOs is written there)."""
    if not checker.any_todo_written(copy, row.step):
        todos = {t.id: "not started" for t in todos_of(row.step)}
        return Verified("not started", todos, [])
    result = checker.run_check(copy, row.step, lang, timeout)
    state = checker.step_state(copy, row.step)
    record = checker.last_check(copy, row.step)
    passed, total = checker.tests_passed(record)
    todos = {t.id: checker.todo_state(copy, t.id, state) for t in todos_of(row.step)}
    mistakes = checker.named_mistakes(record)
    return Verified(state, todos, mistakes, passed, total, first_failure(result, lang))


def verify_learner(learner: Learner, lang: str, timeout: float) -> Learner:
    """Re-run the learner's checks at the steps of their report; fills each row's `verified`."""
    if not learner.workspace or learner.unreadable:
        return learner
    with tempfile.TemporaryDirectory(prefix="learngpt-verify-") as tmp:
        copy = Path(tmp) / "workspace"
        try:
            checker.copy_for_checking(learner.path, copy)
        except OSError as error:
            learner.unreadable = f"{type(error).__name__}: {error}"
            return learner
        for row in learner.steps:
            row.verified = verify_step(copy, row, lang, timeout)
    return learner


def verify_class(
    learners: list[Learner],
    lang: str,
    timeout: float,
    jobs: int = 1,
    on_done: Callable[[Learner, float], None] | None = None,
) -> None:
    """Verify every learner, `jobs` at once; `on_done(learner, seconds)` as each one ends."""

    def one(learner: Learner) -> None:
        started = time.perf_counter()
        verify_learner(learner, lang, timeout)
        if on_done is not None:
            on_done(learner, time.perf_counter() - started)

    if jobs <= 1:  # in this thread: Ctrl-C ends the check under way, and its child process
        for learner in learners:
            one(learner)
        return
    with ThreadPoolExecutor(jobs) as pool:
        for _ in pool.map(one, learners):
            pass
