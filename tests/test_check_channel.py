"""Results only the checker can write (issue 35): what learner code does to fool `course check`
never passes a step, and a stopped check leaves no test running.

The runs are real `course check` runs (each a fresh pytest on a workspace), prepared once and
run two at a time by the `checked` fixture, as in tests/test_course_checks.py; the signal tests
start `learngpt course check` and `watch` as processes and send them real signals.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from learngpt.exercises import catalog, channel
from learngpt.exercises.check import step_status
from learngpt.exercises.workspace import start
from tests.test_course_checks import Run, run_checks

STEP_1 = [
    "test_logits_and_loss",
    "test_gpt_ver_1_learns_the_counted_bigram_distribution[0]",
    "test_gpt_ver_1_learns_the_counted_bigram_distribution[1]",
    "test_generate_continues_the_context",
    "test_generate_follows_the_last_tokens_row",
    "test_generate_samples_from_the_softmax_of_the_logits",
    "test_same_seed_same_text_different_seed_different_text",
]
FAST = ["test_logits_and_loss", "test_generate_continues_the_context"]
GENERATE = "    def generate("  # GPTVer1.generate's first line, in the answer key
# Learner code that makes every test of step 1 look passed, in each way open to it: records
# appended to any file the environment names (the old channel), the checker's key taken with
# the checker's own code if it is still there, else records signed with a key of its own on
# every pipe (the environment pointed at it), and plain lines; then an exit before any test runs.
THIEF = f"""
import json, os

def _forge(names={STEP_1!r}):
    ids = ["tests/test_1.py::" + name for name in names]
    records = [{{"kind": "collected", "count": len(ids), "nodeids": ids}}]
    records += [{{"test": n, "nodeid": i, "outcome": "passed", "todos": []}}
                for n, i in zip(names, ids)]
    records.append({{"kind": "end", "exitstatus": 0}})
    lines = "".join(json.dumps(r) + "\\n" for r in records)
    for name, value in list(os.environ.items()):
        if name.startswith("LEARNGPT") and os.path.isfile(value):
            with open(value, "a") as f:
                f.write(lines)
    try:
        from learngpt.exercises import channel
    except ImportError:
        os._exit(0)
    sender = channel.Sender.from_environment()
    if sender is not None:
        for record in records:
            sender.send(record)
        os._exit(0)
    for fd in range(3, 64):
        key_read, key_write = os.pipe()
        os.write(key_write, bytes(32))
        os.close(key_write)
        os.environ[channel.ENV] = f"{{key_read}},{{fd}}"
        try:
            forger = channel.Sender.from_environment()
            for record in records:
                forger.send(record)
            os.write(fd, lines.encode())
        except (OSError, AttributeError):
            pass
    os._exit(0)

_forge()
"""


def append(workspace: Path, relative: str, code: str) -> None:
    path = workspace / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(code)


def in_generate(code: str) -> Callable[[Path], None]:
    """A preparation that runs `code` first thing in GPTVer1.generate (the answer key's)."""

    def prepare(workspace: Path) -> None:
        path = workspace / "mygpt" / "gpt_v1.py"
        source = path.read_text(encoding="utf-8")
        head, sep, rest = source.partition(GENERATE)
        body = rest.index(":\n", rest.index(")")) + 2  # after the signature
        path.write_text(head + sep + rest[:body] + f"        {code}\n" + rest[body:])

    return prepare


def on_stubs(prepare: Callable[[Path], None]) -> Run:
    """A check of step 1 on the stubs (TODO 1-1 unwritten), prepared by `prepare`."""
    return Run("en", prepare, 1, solutions=False)


def on_key(prepare: Callable[[Path], None], select: list[str] | None = None) -> Run:
    """A check of step 1 (or of its `select`ed tests) on the answer key, prepared."""
    return Run("en", prepare, 1, select)


RUNS = {
    # the case: TODO 1-1 unwritten, records forged, an exit
    "forged records, then an exit": on_stubs(lambda w: append(w, "mygpt/gpt_v1.py", THIEF)),
    # a file of the learner's that Python would import instead of pytest (the workspace first)
    "pytest.py in the workspace": on_stubs(lambda w: append(w, "pytest.py", THIEF)),
    # a config file of the learner's that pytest would read instead of the workspace's
    "tests/pytest.ini loading a plugin of the learner's": on_stubs(
        lambda w: (
            append(w, "mygpt/thief.py", THIEF),
            append(w, "tests/pytest.ini", "[pytest]\naddopts = -p mygpt.thief\npythonpath = ..\n"),
        )
    ),
    "tests/pytest.ini leaving out the failing test": on_key(
        lambda w: (
            in_generate("raise RuntimeError('not written yet')")(w),
            append(w, "tests/pytest.ini", "[pytest]\naddopts = -k logits\npythonpath = ..\n"),
        ),
        FAST,
    ),
    "an exit on import": on_key(lambda w: append(w, "mygpt/gpt_v1.py", "import os\nos._exit(0)\n")),
    "an exit in a test": on_key(in_generate("import os; os._exit(3)"), FAST),
    "a skip in the learner's code": on_key(in_generate("import pytest; pytest.skip('!')"), FAST),
}


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> dict[str, tuple[Path, object, str]]:
    """{run: (its workspace, the StepResult, what `course check` prints)}, two runs at a time."""
    keys = {}
    for solutions in (False, True):
        keys[solutions] = tmp_path_factory.mktemp(f"key_{solutions}")
        start(keys[solutions], lang="en", solutions=solutions)
    return run_checks(RUNS, lambda run: keys[run.solutions], tmp_path_factory)


def _not_passed(checked, name: str) -> str:
    workspace, result, out = checked[name]
    assert not result.passed and step_status(workspace, 1) != "done", out
    assert "step 1 done" not in out, out
    return out


def test_records_forged_by_learner_code_never_pass_a_step(checked):
    out = _not_passed(checked, "forged records, then an exit")
    assert catalog.text("channel.forged", "en") in out, out


@pytest.mark.parametrize(
    "name",
    [
        "pytest.py in the workspace",
        "tests/pytest.ini loading a plugin of the learner's",
        "tests/pytest.ini leaving out the failing test",
    ],
)
def test_no_file_of_the_learners_runs_before_the_checker_or_changes_what_runs(checked, name):
    out = _not_passed(checked, name)
    # the course's tests ran as they are: on the stubs, TODO 1-1; with generate broken, its test
    assert "TODO 1-1" in out or "RuntimeError: not written yet" in out, out


def test_an_exit_on_import_is_named_and_never_passes(checked):
    out = _not_passed(checked, "an exit on import")
    how = catalog.text("channel.how_exit", "en", status=0)
    assert catalog.text("channel.incomplete", "en", how=how) in out, out


def test_an_exit_in_a_test_is_named_as_an_exit_not_a_time_out(checked):
    _, result, out = checked["an exit in a test"]
    assert [t.passed for t in result.tests] == [True, False], out
    how = catalog.text("channel.how_exit", "en", status=3)
    assert catalog.text("channel.exited", "en", how=how) in out, out
    assert "did not finish" not in out, out


def test_a_skip_is_not_a_pass(checked):
    _, result, out = checked["a skip in the learner's code"]
    assert [t.passed for t in result.tests] == [True, False], out
    assert catalog.text("channel.skipped", "en") in out, out


def test_the_channel_takes_only_the_senders_lines_in_order(monkeypatch):
    with channel.Listener() as listener:
        monkeypatch.setenv(channel.ENV, listener.environment()[channel.ENV])
        sender = channel.Sender.from_environment()
        assert channel.ENV not in os.environ  # the pipes' numbers are gone
        sender.send({"kind": "collected", "count": 1, "nodeids": ["t"]})
        sender.send({"test": "t", "nodeid": "t", "outcome": "passed"})
        listener.receive(1.0)
        assert [r.get("kind") for r in listener.records] == ["collected", None]
        assert not listener.tampered and listener.ended is None
        # the key's pipe is closed: another Sender gets no key
        monkeypatch.setenv(channel.ENV, f"{listener.child_fds[0]},{listener.child_fds[1]}")
        assert channel.Sender.from_environment() is None
        sender.send({"kind": "end", "exitstatus": 0})
        listener.receive(1.0)
        assert listener.ended == {"kind": "end", "exitstatus": 0}
        # a line written by anyone else (here a copy of a genuine one: its number is wrong)
        os.write(listener.child_fds[1], b"0" * 64 + b' {"seq": 3}\n')
        listener.drain()
        assert listener.tampered and len(listener.records) == 3
        listener.child_fds = (listener.child_fds[1],)  # the key's end is closed already


def test_a_changed_byte_a_replay_or_a_dropped_line_is_tampering():
    def signed(mac) -> list[bytes]:
        """Three records as the plugin sends them, signed with `mac` (its key)."""
        read, write = os.pipe()
        sender = channel.Sender(mac, write)
        for n in range(3):
            sender.send({"test": f"t{n}", "outcome": "failed" if n == 1 else "passed"})
        os.close(write)
        lines = os.read(read, 2**16).splitlines(keepends=True)
        os.close(read)
        return lines

    with channel.Listener() as listener:
        lines = signed(listener._mac)
        listener._take(b"".join(lines))
        assert not listener.tampered and len(listener.records) == 3
    for forged in (
        [lines[0], lines[1].replace(b"failed", b"passed"), lines[2]],  # a changed outcome
        [lines[0], lines[0], lines[2]],  # a replay
        [lines[0], lines[2]],  # a dropped failure
    ):
        with channel.Listener() as fresh:
            fresh._mac = listener._mac
            fresh._take(b"".join(forged))
            assert fresh.tampered and len(fresh.records) == 1
    with channel.Listener() as other:  # another check's key
        other._take(b"".join(lines))
        assert other.tampered and other.records == []


# -- SIGTERM and SIGHUP end the tests too ------------------------------------------------------

# on import (the tests' first use of mygpt): a program of its own, then a long wait
ENDLESS = "\nimport subprocess, time\nsubprocess.Popen(['sleep', '600'])\ntime.sleep(3600)\n"


def _processes_in(workspace: Path) -> dict[int, str]:
    """The processes working in `workspace` (pytest and what it started): their command lines."""
    found = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(entry / "cwd")) == workspace:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().decode()
        except (OSError, ValueError):
            continue
    return found


@pytest.mark.parametrize(
    "action, signum",
    [("check", signal.SIGTERM), ("check", signal.SIGHUP), ("watch", signal.SIGTERM)],
)
def test_a_signal_to_course_check_or_watch_ends_its_tests(action, signum, tmp_path):
    workspace = (tmp_path / "ws").resolve()
    start(workspace, lang="en", solutions=True)
    append(workspace, "mygpt/gpt_v1.py", ENDLESS)
    command = [sys.executable, "-m", "learngpt", "course", action, "--dir", str(workspace),
               "--timeout", "600"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while "sleep\0" not in "".join(_processes_in(workspace).values()):  # the learner's code
            assert process.poll() is None and time.monotonic() < deadline, "no test started"
            time.sleep(0.2)
        process.send_signal(signum)
        out, err = process.communicate(timeout=15)
    finally:
        process.kill()
        left = _processes_in(workspace)
        for pid in left:  # (the check's to end: here only if it failed to)
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    assert left == {}  # no pytest, nor what the learner's code started
    assert process.returncode == 128 + signum, (out, err)
    name = signal.Signals(signum).name
    assert err == f"error: {catalog.text('stopped', 'en', signal=name)}\n", err
