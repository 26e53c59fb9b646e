"""A pytest plugin that `learngpt course check` loads: one JSON line per test, in a learner's terms.

For every test it records the outcome and, for a failure, what kind it is: a TODO not written
yet (NotImplementedError("TODO 3-1: ...")), a claim that does not hold (the assertion's message),
an error in the learner's code (the exception and the line of mygpt/ it came from), a learner
file that cannot be loaded (its line and a caret), or a test that ran out of time (where the
learner's code was), with the notes a test added (an edge case it is at). Each test carries the
TODOs it exercises (its `todos` marker; by default its step's), and a failure the named mistakes
the diagnosis finds in those TODOs (for an error, only in the files it passed through). A first
line names the tests collected, so that the check can say how many never ran; a last one says
that the session ended, and with what exit status.

The records go to `course check` over its channel (learngpt.exercises.channel: signed lines on a
pipe), which this module takes when pytest loads it, before any test or learner file is
imported. The environment says each test's time limit in seconds (LEARNGPT_CHECK_TIMEOUT) and
where the hard limit writes the stacks (LEARNGPT_CHECK_DUMP); both are read here, once.
"""

from __future__ import annotations

import os
import re
import traceback

import pytest

from learngpt.exercises import channel, limits
from learngpt.exercises.syllabus import get_todo, todos_of

TODO = re.compile(r"^TODO (\d+-\d+): ", re.MULTILINE)
STEP_OF_FILE = re.compile(r"test_(\d+)\.py")
# Taken as pytest loads this plugin, while it reads its command line: nothing of the learner's
# has run yet. (Later, learner code could change the environment, and the key is gone from it.)
_state: dict = {
    "dump": None,
    "diagnosed": {},
    "sender": channel.Sender.from_environment(),
    "seconds": float(os.environ.get("LEARNGPT_CHECK_TIMEOUT") or 0) or None,
}


def send(record: dict) -> None:
    """Send `record` to `course check` (nothing when pytest runs outside a check)."""
    if _state["sender"] is not None:
        _state["sender"].send(record)


def learner_frames(tb) -> list[traceback.FrameSummary]:
    """The frames of a traceback that are in the learner's files (mygpt/), oldest first."""
    return [f for f in traceback.extract_tb(tb) if f"mygpt{os.sep}" in f.filename]


def _relative(filename: str) -> str:
    head, sep, tail = filename.rpartition(f"mygpt{os.sep}")
    return f"mygpt/{tail}" if sep else filename


def _load_error(exc: BaseException) -> dict | None:
    """A learner file that cannot be loaded: a syntax error, or an error while it is imported."""
    if isinstance(exc, SyntaxError) and exc.filename and f"mygpt{os.sep}" in exc.filename:
        offset = max((exc.offset or 1) - 1, 0)
        code = (exc.text or "").rstrip("\n")
        stripped = code.lstrip()
        caret = " " * max(offset - (len(code) - len(stripped)), 0) + "^"
        return {"kind": "load", "file": _relative(exc.filename), "line": exc.lineno or 0,
                "message": f"{type(exc).__name__}: {exc.msg}", "code": stripped,
                "caret": caret}  # fmt: skip
    frames = learner_frames(exc.__traceback__)
    if frames and frames[-1].name == "<module>":  # raised while a mygpt/ file was imported
        return {"kind": "load", "file": _relative(frames[-1].filename),
                "line": frames[-1].lineno, "message": f"{type(exc).__name__}: {exc}",
                "code": (frames[-1].line or "").strip(), "caret": ""}  # fmt: skip
    return None


def describe(exc: BaseException) -> dict:
    """kind ("todo", "assertion", "error", "timeout", "load"), message, the learner's line, and
    the notes a test added to the exception (testkit.edge_case)."""
    described = _describe(exc)
    notes = [str(note) for note in getattr(exc, "__notes__", [])]
    return {**described, "notes": notes} if notes else described


def _describe(exc: BaseException) -> dict:
    if isinstance(exc, NotImplementedError) and TODO.search(str(exc)):
        return {"kind": "todo", "todo": TODO.search(str(exc))[1], "message": str(exc)}
    if isinstance(exc, AssertionError):
        # pytest appends its own explanation ("assert 0.2 < 0.06 ..."); the message comes first.
        # (An empty one: check.reason says "failed" in the learner's language.)
        message = str(exc).split("\nassert ")[0].strip()
        return {"kind": "assertion", "message": message}
    load = _load_error(exc)
    if load is not None:
        return load
    frames = learner_frames(exc.__traceback__)
    where = f"{_relative(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    code = (frames[-1].line or "") if frames else ""
    if isinstance(exc, limits.TimeLimit):
        chain = [f"{_relative(f.filename)}:{f.lineno} ({f.name})" for f in frames]
        seconds = {"seconds": exc.args[0]} if exc.args and exc.args[0] else {}
        return {"kind": "timeout", "where": where, "code": code, "frames": chain, **seconds}
    message = f"{type(exc).__name__}: {exc}"
    return {"kind": "error", "message": message, "where": where, "code": code}


def explaining(todos: list[str], exc: BaseException) -> list[str]:
    """The TODOs whose mistakes could explain the failure `exc` of a test that exercises `todos`:
    all of them for a claim that does not hold (an AssertionError); for an error, those whose
    class's file the error passed through."""
    if isinstance(exc, AssertionError):
        return list(todos)
    files = {_relative(f.filename) for f in learner_frames(exc.__traceback__)}
    return [todo for todo in todos if get_todo(todo).file in files]


def mistakes_in(todos: list[str]) -> list[str]:
    """The named mistakes the diagnosis finds in the learner's `todos` (each probed once a run)."""
    from learngpt.exercises.diagnose import diagnose_workspace  # only when a test fails (torch)

    found = []
    for todo in todos:
        if todo not in _state["diagnosed"]:
            _state["diagnosed"][todo] = diagnose_workspace([todo])
        found += [key for key in _state["diagnosed"][todo] if key not in found]
    return found


def todos_of_marks(marks, params: dict, step: int | None) -> list[str]:
    """The TODOs a test exercises, from its `todos` markers: `todos("8-1", "8-2")`, or by the
    value of a parameter, `todos(version={"v1": "6-1", "v2": ("6-2", "2-1")})`. With no marker,
    its step's TODOs; `todos()` names none (the test runs only the course's own code)."""
    marks = list(marks)
    if not marks:
        return [t.id for t in todos_of(step)] if step is not None else []
    todos: list[str] = []
    for mark in marks:
        todos += list(mark.args)
        for name, by_value in mark.kwargs.items():
            value = by_value.get(params.get(name), ())
            todos += [value] if isinstance(value, str) else list(value)
    return list(dict.fromkeys(todos))


def exercised(item) -> list[str]:
    """The TODOs the test `item` exercises (todos_of_marks)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    match = STEP_OF_FILE.search(item.path.name)
    return todos_of_marks(item.iter_markers("todos"), params, int(match[1]) if match else None)


def pytest_configure(config):
    if os.environ.get("LEARNGPT_CHECK_DUMP"):
        _state["dump"] = open(os.environ["LEARNGPT_CHECK_DUMP"], "w", encoding="utf-8")  # noqa: SIM115


def _seconds() -> float | None:
    return _state["seconds"]


def pytest_collection_finish(session):
    nodeids = [item.nodeid for item in session.items]
    send({"kind": "collected", "count": len(nodeids), "nodeids": nodeids})


def pytest_runtest_logstart(nodeid, location):
    send({"kind": "started", "nodeid": nodeid})


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    send({"kind": "end", "exitstatus": int(exitstatus)})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with limits.deadline(_seconds(), _state["dump"]):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    with limits.deadline(_seconds(), _state["dump"]):  # a learner file that loops on import
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or not report.passed:  # a skip too: the course's tests never skip
        record = {"test": item.name, "nodeid": item.nodeid, "outcome": report.outcome,
                  "todos": exercised(item)}  # fmt: skip
        if report.skipped:
            record["kind"] = "skipped"
        if report.failed and call.excinfo is not None:
            exc = call.excinfo.value
            record.update(describe(exc))
            if record["kind"] in ("assertion", "error"):
                record["mistakes"] = mistakes_in(explaining(record["todos"], exc))
            if record["kind"] == "timeout":  # the next tests would most likely hang there too
                item.session.shouldstop = "a test ran out of time"
        send(record)


def pytest_exception_interact(node, call, report):
    if isinstance(report, pytest.CollectReport) and call.excinfo is not None:
        exc = call.excinfo.value
        cause = exc.__cause__ if isinstance(exc, pytest.Collector.CollectError) else None
        described = describe(cause or exc)
        if described["kind"] == "error" and cause is None and not described["where"]:
            described["message"] = str(exc).strip().splitlines()[-1] if str(exc) else ""
        send({"test": node.nodeid, "nodeid": node.nodeid, "outcome": "failed", "todos": None,
                **described})  # fmt: skip
        report.learngpt_written = True


def pytest_collectreport(report):
    if report.failed and not getattr(report, "learngpt_written", False):
        lines = [line for line in str(report.longrepr).splitlines() if line.strip()]
        message = lines[-1].lstrip("E ").strip() if lines else "the tests could not be loaded"
        send({"test": report.nodeid, "nodeid": report.nodeid, "outcome": "failed",
                "kind": "error", "message": message, "where": "", "code": "",
                "todos": None})  # fmt: skip
