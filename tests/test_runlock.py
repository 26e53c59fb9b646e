"""One trainer per run directory (issue 29, case 2): a second `train` on a directory in use is
one error line naming the trainer's pid, whatever its flags; a lock left by a killed trainer
never blocks; a refused input leaves no run directory behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from forked_cli import cli_fixture, wait_for  # noqa: F401 (the fixture `cli`)
from trainer_helpers import TINY, assert_user_error, run_cli, snapshot, write_text

from learngpt.runs import LOCK

FOREVER = [*TINY, "--max-iters", "100000", "--eval-interval", "50"]


@pytest.fixture(scope="module")
def busy_run(cli, tmp_path_factory):
    """A run directory that a real trainer (another process) is training into right now."""
    tmp_path = tmp_path_factory.mktemp("busy")
    data = write_text(tmp_path / "text.txt", 3000)
    out = tmp_path / "run"
    log = tmp_path / "log.txt"
    pid = cli.start(log, "train", "--data", data, "--out", out, *FOREVER)
    wait_for(out / LOCK, f"{pid}\n")  # locked: from here on the directory is its
    wait_for(out / "latest.json")  # and it has a checkpoint to --resume
    yield out, data, pid
    os.kill(pid, signal.SIGKILL)
    cli.wait()


@pytest.mark.parametrize("flags", [[], ["--overwrite"], ["--resume"]])
def test_a_second_trainer_on_a_directory_in_use_is_refused_naming_the_pid(busy_run, flags):
    out, data, pid = busy_run
    result = run_cli("train", "--data", data, "--out", out, *TINY, *flags)
    assert_user_error(result, "in use", f"process {pid}")
    assert result.rc == 2


def test_a_lock_taken_before_anything_is_written_blocks_until_its_holder_is_killed(tmp_path):
    """The lock is what a trainer takes first: a holder that wrote nothing else still blocks
    (here a bare process holding flock(2) on the lock file, as a trainer does); killed, it
    blocks nothing (tests/test_commit_points.py resumes after a real trainer's kill -9)."""
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(out / LOCK)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        data = write_text(tmp_path / "text.txt", 3000)
        before = snapshot(out)
        refused = run_cli("train", "--data", data, "--out", out, *TINY)
        assert_user_error(refused, "in use", f"process {holder.pid}")
        assert snapshot(out) == before  # the loser wrote nothing
    finally:
        holder.kill()  # the kernel drops its lock
        holder.wait()
    result = run_cli("train", "--data", data, "--out", out, *TINY)
    assert result.rc == 0, result.err
    assert (out / "latest.json").is_file()


HOLD_THE_LOCK = textwrap.dedent(
    """
    import fcntl, os, sys, time

    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, f"{os.getpid()}\\n".encode())
    print("locked", flush=True)
    time.sleep(600)
    """
)


def test_a_refused_input_leaves_no_run_directory(tmp_path):
    out = tmp_path / "new"
    result = run_cli("train", "--data", "/dev/zero", "--out", out, *TINY)
    assert_user_error(result, "/dev/zero", "device")
    assert not out.exists()
