"""Running a step's tests in a fresh Python, within time limits, leaving no process behind.

The child is pytest with the report plugin (learngpt.exercises.report), which sends one record
as each test starts and one when it ends, over a channel only the checker can write
(learngpt.exercises.channel), and gives each test its time limit (a soft one that fails the
test, a hard one that ends the process). If the child ends in the middle of a test, that test
ran out of time (the stacks the hard limit wrote say where the learner's code was) or the
learner's code ended the process. The first test that runs out of time ends the step's check.
The child runs in its own process group, which is killed at the end, also when the check is
stopped (Ctrl-C, or a signal the command turns into an exception), so nothing the learner's code
started lives on.

No file of the learner's runs before the plugin has taken the channel: the child's Python does
not look for modules in the workspace (-P; from 3.11) until pytest has loaded the plugin, and
pytest reads only the workspace's pytest.ini (-c), which `course check` compared with the
course's, never another config file or options from the environment.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from learngpt.exercises import channel, limits

WATCHDOG_GRACE_S = 30.0  # past a test's limits, with no word from the child, it is killed
SAFE_PATH = ["-P"] if sys.version_info >= (3, 11) else []  # 3.10: the workspace comes first
# pytest options and plugins from the environment would load before the report plugin
NOT_INHERITED = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS", channel.ENV)
STOPPING = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
FRAME = re.compile(
    r'^\s*File "(?P<file>[^"]*mygpt[/\\][^"]*)", line (?P<line>\d+) in (?P<name>\S+)'
)


def command(step: int, select: list[str] | None) -> list[str]:
    tests = [f"tests/test_{step}.py::{name}" for name in select] if select else []
    plugins = ["-p", "learngpt.exercises.report", "-p", "no:cacheprovider", "-p", "no:randomly"]
    return [sys.executable, *SAFE_PATH, "-m", "pytest", *(tests or [f"tests/test_{step}.py"]),
            "-c", "pytest.ini", "--rootdir", ".", "-q", "-s", *plugins]  # fmt: skip


def _kill_group(process: subprocess.Popen) -> None:
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)  # a second one waits till it is done
    try:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def run_child(
    argv: list[str], workspace: Path, env: dict, listener: channel.Listener, idle_s: float
) -> int | None:
    """Run `argv` until it ends, or until nothing came through `listener` for `idle_s` seconds:
    its exit status, or None when it was ended here. Its process group is killed either way."""
    process = None
    try:
        quiet = subprocess.DEVNULL  # (no test reads the terminal, nor writes to it)
        process = subprocess.Popen(argv, cwd=workspace, env=env, stdin=quiet, stdout=quiet,
                                   stderr=quiet, start_new_session=True,
                                   pass_fds=listener.child_fds)  # fmt: skip
        listener.child_started()
        heard = time.monotonic()
        while process.poll() is None:
            if listener.receive(0.1):
                heard = time.monotonic()
            elif time.monotonic() - heard > idle_s:
                return None
        return process.returncode
    finally:
        if process is not None:
            _kill_group(process)
        listener.drain()


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


@dataclass
class Session:
    """What came through the channel from one run of the tests, and how the process ended."""

    records: list[dict]  # in order: "collected", "started", each test's, numbers, "end"
    tampered: bool  # bytes came that the plugin did not send: the run cannot count
    exit_code: int | None  # the test process's exit status (None: ended here, silent too long)

    @property
    def end(self) -> dict | None:
        """The plugin's last record: the session ended (with pytest's exit status)."""
        ends = [r for r in self.records if r.get("kind") == "end"]
        return ends[-1] if ends else None

    @property
    def complete(self) -> bool:
        """The session ended normally (tests passed or failed: pytest's exit status 0 or 1),
        and every test it collected reported how it went."""
        end = self.end
        collected = [r for r in self.records if r.get("kind") == "collected"]
        if self.tampered or end is None or end["exitstatus"] not in (0, 1) or not collected:
            return False
        reported = {r.get("nodeid") for r in self.records if "test" in r}
        return set(collected[0]["nodeids"]) <= reported


def child_environment(lang: str, timeout: float, dump: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    return {**env, "LEARNGPT_LANG": lang, "LEARNGPT_CHECK_TIMEOUT": str(timeout),
            "LEARNGPT_CHECK_DUMP": str(dump), "PYTHONDONTWRITEBYTECODE": "1"}  # fmt: skip


def unfinished(records: list[dict], dump: Path, exit_code: int | None) -> dict | None:
    """The record of the test the process ended in (None if it ended between tests): it ran
    out of time (the hard limit wrote its stacks, or it went silent), or it exited."""
    done = {r["nodeid"] for r in records if "test" in r}
    hung = [r["nodeid"] for r in records if r.get("kind") == "started" and r["nodeid"] not in done]
    if not hung:
        return None
    record = {"test": hung[-1].split("::")[-1], "nodeid": hung[-1], "outcome": "failed",
              "todos": []}  # fmt: skip
    hard_limit = dump.exists() and dump.stat().st_size > 0
    if exit_code is not None and not hard_limit:
        return {**record, "kind": "exited", "exit_code": exit_code}
    return {**record, "kind": "timeout", **where_it_hung(dump)}


def run_tests(
    workspace: Path,
    step: int,
    timeout: float = limits.DEFAULT_S,
    lang: str = "ko",
    select: list[str] | None = None,
) -> Session:
    """The run of tests/test_<step>.py (or of the `select`ed tests): the records the report
    plugin sent, whether anything else wrote to the channel, how the process ended.

    The step stops at its first test that runs out of time (the others would most likely run
    into the same code): the learner sees where it was, fixes it, checks again."""
    with tempfile.TemporaryDirectory() as tmp, channel.Listener() as listener:
        dump = Path(tmp) / "dump"
        env = {**child_environment(lang, timeout, dump), **listener.environment()}
        idle = timeout * limits.TRAINING_FACTOR + limits.HARD_GRACE_S + WATCHDOG_GRACE_S
        exit_code = run_child(command(step, select), workspace, env, listener, idle)
        records = [r for r in listener.records if r.get("kind") != "started"]
        last = unfinished(listener.records, dump, exit_code)
        session = Session(records + ([last] if last else []), listener.tampered, exit_code)
    for record in session.records:  # the limit it ran past (a claim's training has a longer one)
        if record.get("kind") == "timeout":
            record.setdefault("seconds", timeout)
    return session
