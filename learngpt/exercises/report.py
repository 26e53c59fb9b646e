"""A pytest plugin that `learngpt course check` loads: one JSON line per test, in a learner's terms.

For every test it records the outcome and, for a failure, what kind it is: a TODO not written
yet (NotImplementedError("TODO 3-1: ...")), a claim that does not hold (the assertion's message),
an error in the learner's code (the exception and the line of mygpt/ it came from), a learner
file that cannot be loaded (its line and a caret), or a test that ran out of time (where the
learner's code was). A failure also carries the named mistake the diagnosis finds, if one
matches, and each test the TODOs it exercises (its `todos` marker; by default its step's).

The environment says where to write (LEARNGPT_CHECK_REPORT), each test's time limit in seconds
(LEARNGPT_CHECK_TIMEOUT) and where the hard limit writes the stacks (LEARNGPT_CHECK_DUMP).
"""

from __future__ import annotations

import json
import os
import re
import traceback

import pytest

from learngpt.exercises import limits

TODO = re.compile(r"^TODO (\d+-\d+): ", re.MULTILINE)
STEP_OF_FILE = re.compile(r"test_(\d+)\.py")
_state: dict = {"dump": None, "diagnosed": {}}


def _write(record: dict) -> None:
    with open(os.environ["LEARNGPT_CHECK_REPORT"], "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


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
    """kind ("todo", "assertion", "error", "timeout", "load"), message, the learner's line."""
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
        return {"kind": "timeout", "where": where, "code": code, "frames": chain}
    message = f"{type(exc).__name__}: {exc}"
    return {"kind": "error", "message": message, "where": where, "code": code}


def _mistake(item) -> str | None:
    """The named mistake that matches the learner's code, once per step (None: none matches)."""
    match = STEP_OF_FILE.search(item.path.name)
    if match is None:
        return None
    step = int(match[1])
    if step not in _state["diagnosed"]:
        from learngpt.exercises.diagnose import diagnose_workspace  # only when a test fails

        _state["diagnosed"][step] = diagnose_workspace(step)
    return _state["diagnosed"][step]


def exercised(item) -> list[str]:
    """The TODOs a test exercises, from its `todos` marker: `todos("8-1", "8-2")`, or by the
    value of a parameter, `todos(version={"v1": "6-1", ...})`. None named: its step's."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    todos = []
    for mark in item.iter_markers("todos"):
        todos += list(mark.args)
        todos += [by_value[params[name]] for name, by_value in mark.kwargs.items()
                  if params.get(name) in by_value]  # fmt: skip
    return todos


def pytest_configure(config):
    if os.environ.get("LEARNGPT_CHECK_DUMP"):
        _state["dump"] = open(os.environ["LEARNGPT_CHECK_DUMP"], "w", encoding="utf-8")  # noqa: SIM115


def _seconds() -> float | None:
    value = os.environ.get("LEARNGPT_CHECK_TIMEOUT")
    return float(value) if value else None


def pytest_runtest_logstart(nodeid, location):
    _write({"kind": "started", "nodeid": nodeid})


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
    if report.when == "call" or report.failed:
        record = {"test": item.name, "nodeid": item.nodeid, "outcome": report.outcome,
                  "todos": exercised(item)}  # fmt: skip
        if report.failed and call.excinfo is not None:
            record.update(describe(call.excinfo.value))
            if record["kind"] in ("assertion", "error"):
                record["mistake"] = _mistake(item)
            if record["kind"] == "timeout":  # the next tests would most likely hang there too
                item.session.shouldstop = "a test ran out of time"
        _write(record)


def pytest_exception_interact(node, call, report):
    if isinstance(report, pytest.CollectReport) and call.excinfo is not None:
        exc = call.excinfo.value
        cause = exc.__cause__ if isinstance(exc, pytest.Collector.CollectError) else None
        described = describe(cause or exc)
        if described["kind"] == "error" and cause is None and not described["where"]:
            described["message"] = str(exc).strip().splitlines()[-1] if str(exc) else ""
        _write({"test": node.nodeid, "nodeid": node.nodeid, "outcome": "failed", "todos": [],
                **described})  # fmt: skip
        report.learngpt_written = True


def pytest_collectreport(report):
    if report.failed and not getattr(report, "learngpt_written", False):
        lines = [line for line in str(report.longrepr).splitlines() if line.strip()]
        message = lines[-1].lstrip("E ").strip() if lines else "the tests could not be loaded"
        _write({"test": report.nodeid, "nodeid": report.nodeid, "outcome": "failed",
                "kind": "error", "message": message, "where": "", "code": "",
                "todos": []})  # fmt: skip
