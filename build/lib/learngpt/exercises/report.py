"""A pytest plugin that `learngpt course check` loads: one JSON line per test, in a learner's terms.

For every test it records the outcome and, for a failure, what kind it is: a TODO not written
yet (NotImplementedError("TODO 3-1: ...")), a claim that does not hold (the assertion's message),
or an error in the learner's code (the exception and the line of mygpt/ it came from). The file
is named by the LEARNGPT_CHECK_REPORT environment variable.
"""

from __future__ import annotations

import json
import os
import re
import traceback

import pytest

TODO = re.compile(r"^TODO (\d+-\d+): ", re.MULTILINE)


def _write(record: dict) -> None:
    with open(os.environ["LEARNGPT_CHECK_REPORT"], "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


def describe(exc: BaseException) -> dict:
    """kind ("todo", "assertion", "error"), message, and the learner's line if there is one."""
    if isinstance(exc, NotImplementedError) and TODO.search(str(exc)):
        return {"kind": "todo", "todo": TODO.search(str(exc))[1], "message": str(exc)}
    if isinstance(exc, AssertionError):
        # pytest appends its own explanation ("assert 0.2 < 0.06 ..."); the message comes first.
        message = str(exc).split("\nassert ")[0].strip() or "an assertion failed"
        return {"kind": "assertion", "message": message}
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "mygpt" in f.filename]
    where = f"{os.path.relpath(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    code = frames[-1].line if frames else ""
    message = f"{type(exc).__name__}: {exc}"
    return {"kind": "error", "message": message, "where": where, "code": code}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or report.failed:
        record = {"test": item.name, "outcome": report.outcome}
        if report.failed and call.excinfo is not None:
            record.update(describe(call.excinfo.value))
        _write(record)


def pytest_collectreport(report):
    if report.failed:  # the test file could not even be imported: usually a mygpt/ file
        lines = [line for line in str(report.longrepr).splitlines() if line.strip()]
        learner = [line.strip() for line in lines if "mygpt" in line]
        message = lines[-1].lstrip("E ").strip() if lines else "the tests could not be loaded"
        where = learner[-1] if learner else ""
        _write({"test": report.nodeid, "outcome": "failed", "kind": "error", "message": message,
                "where": where, "code": ""})  # fmt: skip
