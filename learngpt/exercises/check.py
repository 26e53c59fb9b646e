"""Running a step's tests on the learner's code and saying what happened, in a learner's words.

`check(workspace, step)` runs tests/test_<step>.py in a fresh Python (so that edited files are
read again) with the learngpt.exercises.report plugin, and returns one line per test. The last
result of each step is kept in the workspace (.learngpt/checks.json) for `course progress`.
"""

from __future__ import annotations

import hashlib
import signal
from dataclasses import dataclass, field
from pathlib import Path

from learngpt.exercises import explain, integrity, limits
from learngpt.exercises.catalog import DEFAULT_LANG, catalog, text
from learngpt.exercises.runner import Session, run_tests
from learngpt.exercises.syllabus import STEPS, files_of, get_step, get_todo, todos_of
from learngpt.exercises.workspace import damaged, lang_of, read_state, write_state

CHECKS = "checks.json"


@dataclass
class TestResult:
    test: str
    passed: bool
    reason: str = ""  # why it failed, for a learner
    todo: str | None = None  # the unwritten TODO it stopped at
    mistakes: list[str] = field(default_factory=list)  # the named mistakes its failure shows
    todos: list[str] = field(default_factory=list)  # the TODOs it exercises
    broken_file: str | None = None  # the learner file that could not be loaded ("mygpt/x.py")


@dataclass
class StepResult:
    step: int
    tests: list[TestResult] = field(default_factory=list)
    blocked_by: int | None = None  # an earlier step whose TODOs are not written yet
    numbers: list[dict] = field(default_factory=list)  # what the tests measured (testkit.record)
    collected: int | None = None  # how many tests pytest found (the others never ran)

    @property
    def passed(self) -> bool:
        return self.blocked_by is None and bool(self.tests) and all(t.passed for t in self.tests)

    @property
    def not_run(self) -> int:
        """Tests that were collected but never ran (a time-out stops the step)."""
        return max((self.collected or 0) - len(self.tests), 0)


def todo_written(workspace: Path, todo_id: str) -> bool:
    """False while the TODO's NotImplementedError is still in the learner's files."""
    marker = f"TODO {todo_id}: "
    mygpt = workspace / "mygpt"
    return not any(marker in p.read_text(encoding="utf-8") for p in mygpt.glob("*.py"))


def step_written(workspace: Path, step: int) -> bool:
    return all(todo_written(workspace, t.id) for t in todos_of(step))


def fingerprint(workspace: Path, step: int) -> str:
    """A hash of the code a step runs: its stored result counts only while that is unchanged."""
    steps = {step, *get_step(step).needs}
    names = sorted({f.name for k in steps for f in files_of(k)})
    digest = hashlib.sha256()
    for name in names:
        path = workspace / "mygpt" / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b""))
    return digest.hexdigest()


def reason(record: dict, lang: str, step: int) -> tuple[str, str | None]:
    """The learner's explanation of one failed test, and the TODO it stopped at, if any."""
    why, todo = _reason(record, lang, step)
    return "\n".join([why, *record.get("notes", [])]), todo


def _reason(record: dict, lang: str, step: int) -> tuple[str, str | None]:
    special = explain.special(record, lang, step)
    if special is not None:
        return special, None
    kind = record.get("kind")
    if kind == "todo":
        todo = get_todo(record["todo"])
        name = todo.name(lang)
        if todo.step != step:
            return text("result.needs_todo", lang, todo=name, step=todo.step), todo.id
        instruction = todo.instruction(lang)
        return text("result.todo_unwritten", lang, todo=name, instruction=instruction), todo.id
    if kind == "skipped":
        return text("channel.skipped", lang), None
    if kind == "exited":
        return text("channel.exited", lang, how=ended_how(record["exit_code"], lang)), None
    if kind == "error":
        where = record.get("where")
        code = record.get("code", "").strip()
        at = text("result.raised_at", lang, where=where, code=code) if where else ""
        return text("result.raised", lang, message=record["message"], where=at), None
    return record.get("message") or text("result.failed", lang), None


def check(
    workspace: Path,
    step: int,
    lang: str | None = None,
    timeout: float = limits.DEFAULT_S,
    select: list[str] | None = None,
) -> StepResult:
    """Step `step`'s tests on the learner's code (not run when an earlier step is unwritten, nor
    when the step's tests are not the course's); `select` runs only those tests."""
    get_step(step)  # a step that does not exist fails here, before anything runs
    result = StepResult(step)
    lang = lang_of(workspace, lang)
    missing = [k for k in get_step(step).needs if not step_written(workspace, k)]
    tampered = integrity.changed(workspace, step)
    if tampered:
        why = text("check.tampered", lang, files=", ".join(tampered))
        result.tests.append(TestResult(tampered[0], False, why))
    elif missing:
        result.blocked_by = missing[0]
    else:
        session = run_tests(workspace, step, timeout, lang, select)
        records = session.records
        result.numbers = [r for r in records if "number" in r]  # testkit.record's lines
        collected = [r["count"] for r in records if r.get("kind") == "collected"]
        result.collected = collected[0] if collected else None
        told: set[str] = set()  # each mistake is named at its first failure
        for record in (r for r in records if "test" in r):
            result.tests.append(result_of(record, lang, step, told))
        untrusted = why_it_cannot_count(session, result, lang)
        if untrusted:
            result.tests.append(TestResult(f"test_{step}.py", False, untrusted))
    remember(workspace, result)
    return result


def why_it_cannot_count(session: Session, result: StepResult, lang: str) -> str | None:
    """Why a run whose tests all passed (or that has none) does not count: bytes on the channel
    that the checker did not send, or a test session that did not end normally with a record for
    every test (an exit, a crash, pytest stopped). None when it counts, or a test failed anyway."""
    if session.tampered:
        return text("channel.forged", lang)
    if session.complete or not all(t.passed for t in result.tests):
        return None
    end = session.end
    if end is not None and not result.tests:
        return text("check.no_test_ran", lang)
    if end is not None:
        how = text("channel.how_pytest", lang, status=end["exitstatus"])
    else:
        how = ended_how(session.exit_code, lang)
    return text("channel.incomplete", lang, how=how)


def ended_how(exit_code: int | None, lang: str) -> str:
    """How the test process ended, in words: its exit status, the signal, or silence."""
    if exit_code is None:
        return text("channel.how_silent", lang)
    if exit_code < 0:
        return text("channel.how_signal", lang, signal=_signal_name(-exit_code))
    return text("channel.how_exit", lang, status=exit_code)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def result_of(record: dict, lang: str, step: int, told: set[str]) -> TestResult:
    """One test's record as the learner reads it; the named mistakes not in `told` yet are
    explained (and added to it)."""
    failed = record["outcome"] != "passed"  # a skip is not a pass: the course's tests never skip
    why, todo = reason(record, lang, step) if failed else ("", None)
    mistakes = record.get("mistakes") or []
    if failed:
        why = explain.with_mistakes([m for m in mistakes if m not in told], why, lang, step)
        told.update(mistakes)
    todos = record.get("todos")
    todos = [t.id for t in todos_of(step)] if todos is None else todos
    broken = record.get("file") if record.get("kind") == "load" else None
    return TestResult(record["test"], not failed, why, todo, mistakes, todos, broken)


def remember(workspace: Path, result: StepResult) -> None:
    checks = last_checks(workspace)
    checks[str(result.step)] = {
        "passed": result.passed,
        "fingerprint": fingerprint(workspace, result.step),
        "failing_todos": sorted({t.todo for t in result.tests if t.todo}),
        "tests": [
            {
                "test": t.test,
                "passed": t.passed,
                "todos": t.todos,
                "blocked_by": t.todo,
                "mistakes": t.mistakes,
                "broken_file": t.broken_file,
            }  # fmt: skip
            for t in result.tests
        ],
    }
    write_state(workspace, CHECKS, checks)


def last_checks(workspace: Path) -> dict[str, dict]:
    """The kept result of each step's last check (checks.json); an entry that is not what
    `remember` writes is damaged state, named as such."""
    checks = read_state(workspace, CHECKS)
    for step, last in checks.items():
        if not _as_remembered(last):
            raise damaged(workspace, CHECKS, None, "state.bad_checks", {"step": step})
    return checks


def _as_remembered(last: object) -> bool:
    """Whether `last` has the shape `remember` writes (what the status functions read)."""
    if not isinstance(last, dict) or not isinstance(last.get("tests", []), list):
        return False
    tests = last.get("tests", [])
    return (
        isinstance(last.get("passed"), bool)
        and isinstance(last.get("fingerprint"), str)
        and all(isinstance(t, dict) and isinstance(t.get("passed"), bool) for t in tests)
    )


def waiting_on(workspace: Path, step: int) -> tuple[int, str] | None:
    """(the earlier step, its file) when the last check of `step` failed only because a file of
    an earlier step cannot be loaded (a syntax error there): the step waits on that file."""
    last = last_checks(workspace).get(str(step))
    failed = [t for t in (last or {}).get("tests", []) if not t["passed"]]
    broken = {t.get("broken_file") for t in failed}
    own = {f"mygpt/{f.name}" for f in files_of(step)}
    if not failed or None in broken or broken & own:
        return None
    file = sorted(broken)[0]
    owner = next(k for k in STEPS if file in {f"mygpt/{f.name}" for f in files_of(k.number)})
    return owner.number, file


def step_status(workspace: Path, step: int) -> str:
    """done (its last check passed on the code as it is now), failing, waiting (on a file of an
    earlier step that cannot be loaded: waiting_on), not started, unchecked."""
    last = last_checks(workspace).get(str(step))
    if not any(todo_written(workspace, t.id) for t in todos_of(step)):
        return "not started"
    if last is None or last["fingerprint"] != fingerprint(workspace, step):
        return "unchecked"
    if last["passed"]:
        return "done"
    return "waiting" if waiting_on(workspace, step) else "failing"


def _counts_against(test: dict, todo_id: str) -> bool:
    """A failed test counts against a TODO it exercises unless it stopped at another TODO, or
    every mistake it names is in another TODO."""
    if test.get("blocked_by") and test["blocked_by"] != todo_id:
        return False
    mistakes = test.get("mistakes") or []
    return not mistakes or any(m.split(".")[0] == todo_id for m in mistakes)


def todo_status(workspace: Path, todo_id: str) -> str:
    """done when the tests that exercise it passed on the code as it is now; failing when one
    of them failed on its account; waiting, not started, unchecked as its step."""
    if not todo_written(workspace, todo_id):
        return "not started"
    step = get_todo(todo_id).step
    status = step_status(workspace, step)
    if status != "failing":
        return status
    tests = [
        t
        for t in last_checks(workspace)[str(step)].get("tests", [])
        if todo_id in t.get("todos", [])
    ]
    if any(not t["passed"] and _counts_against(t, todo_id) for t in tests):
        return "failing"
    return "done" if any(t["passed"] for t in tests) else "unchecked"


def current_step(workspace: Path) -> int:
    """The first step that is not done (the last step when every one is)."""
    for step in STEPS:
        if step_status(workspace, step.number) != "done":
            return step.number
    return STEPS[-1].number


def status_word(status: str, lang: str, workspace: Path | None = None, step: int = 0) -> str:
    """A step's or TODO's status ("done", "not started", ...) in the learner's language; for
    "waiting", which step and file it waits on."""
    if status == "waiting" and workspace is not None:
        waits = waiting_on(workspace, step)
        if waits:
            return text("status.waiting_on", lang, step=waits[0], file=waits[1])
    return str(catalog(lang).get(f"status.{status}", status))


def format_numbers(result: StepResult, lang: str) -> list[str]:
    """What the step's tests measured, then the course's questions to answer from it."""
    step = get_step(result.step)
    lines = []
    if result.numbers:
        lines.append(text("result.numbers", lang))
        lines += ["  " + text(n["number"], lang, **n.get("fields", {})) for n in result.numbers]
    if step.questions(lang):
        lines.append(text("result.questions", lang))
        lines += [f"  {i}. {q}" for i, q in enumerate(step.questions(lang), start=1)]
        lines.append(text("result.answers", lang, step=step.number))
    return lines


def format_result(result: StepResult, lang: str = DEFAULT_LANG) -> str:
    step = get_step(result.step)
    lines = [text("result.header", lang, step=step.number, title=step.title(lang))]
    if not result.passed:
        lines.append("  " + text("result.lesson", lang, lesson=f"lessons/{step.lesson}.md"))
    if result.blocked_by is not None:
        lines.append(text("result.blocked", lang, step=step.number, needs=result.blocked_by))
        return "\n".join(lines)
    told: set[str] = set()  # a TODO's instruction is shown once, at its first failing test
    for t in result.tests:
        lines.append(f"  {text('result.pass' if t.passed else 'result.fail', lang)}  {t.test}")
        if t.passed:
            continue
        if t.todo in told:
            why = text("result.todo_see_above", lang, todo=get_todo(t.todo).name(lang))
        else:
            why = t.reason
        if t.todo:
            told.add(t.todo)
        lines.extend(f"        {line}" for line in why.splitlines())
    passed = sum(t.passed for t in result.tests)
    verdict = text("result.done" if result.passed else "result.not_yet", lang)
    summary = dict(passed=passed, total=len(result.tests), step=step.number, verdict=verdict)
    if result.not_run:
        lines.append(text("result.summary_not_run", lang, not_run=result.not_run, **summary))
    else:
        lines.append(text("result.summary", lang, **summary))
    if result.passed:
        lines += format_numbers(result, lang)
    return "\n".join(lines)
