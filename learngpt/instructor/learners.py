"""The class: every learner's workspace under the folders given, and what each one's progress is.

`find_learners(paths)` takes workspaces, or folders that hold them (a class folder, a shared
drive: up to DEPTH levels down), and returns one Learner per workspace, and one per folder
that holds none (state "not a workspace"): a stray folder is a row of the report, never an
error for the whole class. `read_learner` reads one workspace as `course progress` shows it: a
step is done only while its last check passed on the code as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from learngpt.exercises.syllabus import STEPS, todos_of
from learngpt.instructor import checker

DEPTH = 3  # a class folder, a team folder, then the learners' workspaces
NOT_A_WORKSPACE = "not a workspace"
TEST_FILE = "tests/test_{}.py"


@dataclass
class StepRow:
    """One learner at one step: what their state says, and (with --verify) what a re-run found."""

    step: int
    state: str  # done, failing, waiting, not started, unchecked
    todos: dict[str, str]  # each TODO's state
    hints: int  # hints taken
    mistakes: list[str]  # the named mistakes the last check's failures showed
    edited: list[str]  # the course's files this step's check reads that were changed
    verified: Verified | None = None
    record_unreadable: bool = False  # its record in the state is not one `course check` writes

    @property
    def mismatch(self) -> bool:
        """The state claims more than the re-run found, or the step's tests were edited."""
        if self.verified is None:
            return False
        claims = self.state == "done" and self.verified.state != "done"
        return claims or bool(self.edited)


@dataclass
class Verified:
    """A step's check re-run in a temporary copy: the learner's code, the course's tests."""

    state: str
    todos: dict[str, str]
    mistakes: list[str]
    passed: int = 0
    total: int = 0
    note: str = ""  # the first failure, in the report's language


@dataclass
class Learner:
    name: str
    path: Path
    workspace: bool = True
    lang: str | None = None
    steps: list[StepRow] = field(default_factory=list)
    last_check: float | None = None  # a time stamp (seconds since the epoch)
    edited: list[str] = field(default_factory=list)  # the course's files that were changed
    broken_state: list[str] = field(default_factory=list)  # state files that cannot be read
    unreadable: str | None = None  # why the workspace could not be read at all

    def done(self, verified: bool = False) -> int:
        """How many steps are done: as the state says, or as the re-run found."""
        if verified:
            return sum(r.verified is not None and r.verified.state == "done" for r in self.steps)
        return sum(r.state == "done" for r in self.steps)


def _holds_workspace(folder: Path, depth: int) -> bool:
    if checker.is_workspace(folder):
        return True
    return depth > 0 and any(_holds_workspace(d, depth - 1) for d in _subfolders(folder))


def _subfolders(folder: Path) -> list[Path]:
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    return [e for e in entries if e.is_dir() and not e.name.startswith((".", "__"))]


def _folders(path: Path, depth: int) -> list[tuple[Path, bool]]:
    """(folder, is a workspace) for `path` and what it holds."""
    if checker.is_workspace(path):
        return [(path, True)]
    if depth == 0 or not _holds_workspace(path, depth):
        return [(path, False)]
    found = []
    for sub in _subfolders(path):
        found += _folders(sub, depth - 1) if _holds_workspace(sub, depth - 1) else [(sub, False)]
    return found


def find_folders(paths: list[Path]) -> list[tuple[Path, bool]]:
    """Every workspace under `paths`, and the folders that hold none, each once, in order."""
    seen, found = set(), []
    for path in paths:
        for folder, is_workspace in _folders(Path(path), DEPTH):
            key = folder.resolve()
            if key not in seen:
                seen.add(key)
                found.append((folder, is_workspace))
    return found


def names(folders: list[Path]) -> list[str]:
    """Each learner's name: the folder's, with its parent's where two learners share one."""
    full = [f.resolve() for f in folders]
    plain = [f.name for f in full]
    return [
        f"{f.parent.name}/{name}" if plain.count(name) > 1 and f.parent.name else name
        for f, name in zip(full, plain, strict=True)
    ]


def step_edits(step: int, edited: list[str]) -> list[str]:
    """Of the course's changed files, those that step's check reads: its own test file, and the
    shared ones (conftest, pytest.ini, config, text), not other steps' tests."""
    tests = {TEST_FILE.format(s.number) for s in STEPS}
    return [f for f in edited if f not in tests or f == TEST_FILE.format(step)]


def read_step(ws: Path, step: int, hints: dict[int, int], edited: list[str]) -> StepRow:
    state = checker.step_state(ws, step)
    row = StepRow(
        step=step,
        state=state or checker.state_without_record(ws, step),
        todos={},
        hints=hints.get(step, 0),
        mistakes=checker.named_mistakes(checker.last_check(ws, step)),
        edited=step_edits(step, edited),
        record_unreadable=state is None,
    )
    row.todos = {t.id: checker.todo_state(ws, t.id, row.state) for t in todos_of(step)}
    return row


def read_learner(name: str, ws: Path, steps: list[int]) -> Learner:
    """One learner's workspace, as `course progress` shows it, at `steps`."""
    learner = Learner(name, ws)
    try:
        learner.lang = checker.lang_of(ws)
        learner.broken_state = checker.broken_state_files(ws)
        learner.edited = checker.edited_course_files(ws)
        hints = checker.hints_taken(ws)
        learner.steps = [read_step(ws, step, hints, learner.edited) for step in steps]
        learner.last_check = checker.last_check_time(ws)
    except (OSError, UnicodeDecodeError) as error:  # a file the report may not read
        learner.unreadable = f"{type(error).__name__}: {error}"
        learner.steps = []
    checks = checker.CHECKS_FILE
    if any(row.record_unreadable for row in learner.steps) and checks not in learner.broken_state:
        learner.broken_state.append(checks)
    return learner


def find_learners(paths: list[Path], steps: list[int]) -> list[Learner]:
    """The class under `paths`, each learner read at `steps` (none found: an empty list)."""
    folders = find_folders(paths)
    named = names([f for f, _ in folders])
    learners = []
    for (folder, is_workspace), name in zip(folders, named, strict=True):
        if is_workspace:
            learners.append(read_learner(name, folder, steps))
        else:
            learners.append(Learner(name, folder, workspace=False))
    return learners
