"""Running a step's tests in a fresh Python, within time limits, leaving no process behind.

The child is pytest with the report plugin (learngpt.exercises.report), which writes one JSON
line as each test starts and one when it ends, and gives each test its time limit (a soft one
that fails the test, a hard one that ends the process). If the child ends in the middle of a
test (the hard limit), that test ran out of time: the stacks the hard limit wrote say where the
learner's code was. The first test that runs out of time ends the step's check. The child runs
in its own process group, which is killed at the end, so nothing the learner's code started
lives on.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from learngpt.exercises import limits

WATCHDOG_GRACE_S = 30.0  # past a test's limits, with no word from the child, it is killed
FRAME = re.compile(
    r'^\s*File "(?P<file>[^"]*mygpt[/\\][^"]*)", line (?P<line>\d+) in (?P<name>\S+)'
)


def command(step: int, select: list[str] | None) -> list[str]:
    tests = [f"tests/test_{step}.py::{name}" for name in select] if select else []
    plugins = ["-p", "learngpt.exercises.report", "-p", "no:cacheprovider", "-p", "no:randomly"]
    return [sys.executable, "-m", "pytest", *(tests or [f"tests/test_{step}.py"]), "-q", "-s",
            *plugins]  # fmt: skip


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_child(argv: list[str], workspace: Path, env: dict, report: Path, idle_s: float) -> None:
    """Run `argv` until it ends, or until `report` has not grown for `idle_s` seconds."""
    process = subprocess.Popen(argv, cwd=workspace, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        size, heard = -1, time.monotonic()
        while process.poll() is None:
            if report.stat().st_size != size:
                size, heard = report.stat().st_size, time.monotonic()
            elif time.monotonic() - heard > idle_s:
                break
            time.sleep(0.1)
    finally:
        _kill_group(process)


def where_it_hung(dump: Path) -> dict:
    """The learner's frames in the stacks the hard limit wrote (innermost first there)."""
    text = dump.read_text(encoding="utf-8", errors="replace") if dump.exists() else ""
    frames = [FRAME.match(line) for line in text.splitlines()]
    learner = [f for f in frames if f is not None][::-1]  # oldest first
    chain = [f"{_short(f['file'])}:{f['line']} ({f['name']})" for f in learner]
    where = f"{_short(learner[-1]['file'])}:{learner[-1]['line']}" if learner else ""
    return {"where": where, "frames": chain, "code": _line(learner[-1]) if learner else ""}


def _short(filename: str) -> str:
    return "mygpt/" + re.split(r"mygpt[/\\]", filename)[-1]


def _line(frame: re.Match) -> str:
    try:
        lines = Path(frame["file"]).read_text(encoding="utf-8").splitlines()
        return lines[int(frame["line"]) - 1].strip()
    except (OSError, IndexError, UnicodeDecodeError):
        return ""


def run_tests(
    workspace: Path,
    step: int,
    timeout: float = limits.DEFAULT_S,
    lang: str = "ko",
    select: list[str] | None = None,
) -> list[dict]:
    """The report plugin's records of tests/test_<step>.py (or of the `select`ed tests).

    The step stops at its first test that runs out of time (the others would most likely run
    into the same code): the learner sees where it was, fixes it, checks again."""
    with tempfile.TemporaryDirectory() as tmp:
        report, dump = Path(tmp) / "report.jsonl", Path(tmp) / "dump"
        report.touch()
        env = {**os.environ, "LEARNGPT_CHECK_REPORT": str(report), "LEARNGPT_LANG": lang,
               "LEARNGPT_CHECK_TIMEOUT": str(timeout), "LEARNGPT_CHECK_DUMP": str(dump),
               "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip
        idle = timeout * limits.TRAINING_FACTOR + limits.HARD_GRACE_S + WATCHDOG_GRACE_S
        run_child(command(step, select), workspace, env, report, idle)
        lines = report.read_text(encoding="utf-8").splitlines()
        new = [json.loads(line) for line in lines if line.strip()]
        records = [r for r in new if r.get("kind") != "started"]  # with testkit.record's numbers
        done = {r["nodeid"] for r in records if "nodeid" in r}
        hung = [r["nodeid"] for r in new if r.get("kind") == "started" and r["nodeid"] not in done]
        if hung:  # the hard limit ended the process in the middle of this test
            records.append({"test": hung[-1].split("::")[-1], "nodeid": hung[-1],
                            "outcome": "failed", "kind": "timeout", "todos": [],
                            **where_it_hung(dump)})  # fmt: skip
    for record in records:  # the limit it ran past (a claim's training has a longer one)
        if record.get("kind") == "timeout":
            record.setdefault("seconds", timeout)
    return records
