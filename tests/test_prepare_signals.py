"""`learngpt prepare` stops cleanly (issue 35, item 2), on real processes with real signals.

SIGTERM, SIGHUP and one or two Ctrl-Cs (up to 50 ms apart, to the whole process group, as a
terminal sends them) during encoding: the main process ends the workers, removes its partial
output and exits within seconds, with one `error:` line; ten times each. A run killed outright
takes its workers along, and the next run sweeps the directory it left; a second run for a
directory being written is refused. The commands are forked from a helper that imported
learngpt once (tests/forked_cli.py), so that forty runs take seconds, not minutes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from forked_cli import ForkedCLI, cli_fixture  # noqa: F401 (the fixture `cli`)
from trainer_helpers import assert_user_error, run_cli

from learngpt.resources import shakespeare_path
from learngpt.tokenizers import GPT2_SPLIT_PATTERN, BPETokenizer

CORPUS_MB = 8  # big enough to be mid-encoding when the signal comes, whatever the machine
REPEATS = 10
WORKERS = min(2, len(os.sched_getaffinity(0)))  # --workers 2 (one core: none, it encodes itself)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, Path]:
    """(a text file of CORPUS_MB, a folder with a BPE tokenizer.json for it)."""
    folder = tmp_path_factory.mktemp("corpus")
    text = shakespeare_path().read_text(encoding="utf-8")
    path = folder / "big.txt"
    path.write_text(text * (CORPUS_MB * 1_000_000 // len(text) + 1), encoding="utf-8")
    (folder / "tokenizer").mkdir()
    tokenizer = BPETokenizer.train(text[:50_000], 400, pattern=GPT2_SPLIT_PATTERN)
    tokenizer.save(folder / "tokenizer" / "tokenizer.json")
    return path, folder / "tokenizer"


def start(cli: ForkedCLI, corpus, folder: Path, log: Path) -> int:
    data, tokenizer = corpus
    argv = ["prepare", "--data", data, "--out", folder / "out", "--tokenizer-from", tokenizer]
    return cli.start(log, *argv, "--chunk-mb", "0.1", "--workers", "2", session=True)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and parent_of(int(entry.name)) == pid:
                found.append(int(entry.name))
        except OSError:
            pass  # it ended meanwhile
    return found


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def alive(pid: int) -> bool:
    try:  # a zombie has ended: only its exit status is left
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_encoding(folder: Path, pid: int, timeout: float = 60) -> list[int]:
    """Wait until the run has its workers and has written ids; the workers' pids."""
    deadline = time.monotonic() + timeout
    while True:
        assert alive(pid) and time.monotonic() < deadline, "the run never got to encoding"
        partial = [p / "train.bin" for p in folder.glob(".out.*")]
        if any(p.exists() and p.stat().st_size for p in partial):
            workers = children(pid)
            if len(workers) == (WORKERS if WORKERS > 1 else 0):
                return workers
        time.sleep(0.005)


def wait_exit(cli: ForkedCLI, pid: int, timeout: float) -> int:
    """The run's exit status, if it ends within `timeout` seconds (else it is killed)."""
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    ended = not alive(pid)
    if not ended:
        os.killpg(pid, signal.SIGKILL)
    status = cli.wait()
    assert ended, f"the run was still there {timeout} s after the signal"
    return status


SIGNALS = {  # how: (the signals, sent to the main process alone or to its group), the status
    "SIGTERM": ([signal.SIGTERM], os.kill, 128 + signal.SIGTERM),
    "SIGHUP": ([signal.SIGHUP], os.killpg, 128 + signal.SIGHUP),
    "Ctrl-C": ([signal.SIGINT], os.killpg, 130),
    "Ctrl-C twice": ([signal.SIGINT, signal.SIGINT], os.killpg, 130),
}


@pytest.mark.parametrize("how", SIGNALS)
def test_a_stop_signal_ends_the_workers_and_leaves_nothing(cli, corpus, tmp_path, how):
    signals, send, status = SIGNALS[how]
    for attempt in range(REPEATS):
        folder, log = tmp_path / f"run{attempt}", tmp_path / f"log{attempt}.txt"
        folder.mkdir()
        pid = start(cli, corpus, folder, log)
        workers = wait_encoding(folder, pid)
        for n, signum in enumerate(signals):
            if n:  # the second one 0 to 50 ms later: anywhere in the clean-up, or after it
                time.sleep(0.05 * attempt / (REPEATS - 1))
            with contextlib.suppress(ProcessLookupError):  # (all done already)
                send(pid, signum)
        assert wait_exit(cli, pid, timeout=10) == status, log.read_text()
        lines = log.read_text().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: stopped by"), lines
        assert not [w for w in workers if alive(w)], f"attempt {attempt}: workers left"
        assert list(folder.iterdir()) == [], f"attempt {attempt}: files left"


def test_a_killed_run_takes_its_workers_along_and_the_next_run_sweeps_its_leftovers(
    cli, corpus, tmp_path
):
    pid = start(cli, corpus, tmp_path, tmp_path / "log.txt")
    workers = wait_encoding(tmp_path, pid)
    os.kill(pid, signal.SIGKILL)
    assert cli.wait() == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while [w for w in workers if alive(w)]:
        assert time.monotonic() < deadline, "the workers outlived their killed parent"
        time.sleep(0.01)
    left = [p.name for p in tmp_path.glob(".out.*")]
    assert len(left) == 1  # a kill -9 cannot clean up: the next run does
    small = tmp_path / "small.txt"
    small.write_text(shakespeare_path().read_text(encoding="utf-8")[:20_000], encoding="utf-8")
    result = run_cli("prepare", "--data", small, "--out", tmp_path / "out", "--tokenizer", "char")
    assert result.rc == 0, result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.txt", "out", "small.txt"]


def test_a_second_run_for_a_directory_being_written_is_refused(cli, corpus, tmp_path):
    pid = start(cli, corpus, tmp_path, tmp_path / "log.txt")
    wait_encoding(tmp_path, pid)
    try:
        result = run_cli("prepare", "--data", corpus[0], "--out", tmp_path / "out")
        assert_user_error(result, "being written by another process", f"pid {pid}")
        assert result.rc == 2
    finally:
        os.kill(pid, signal.SIGTERM)
        assert wait_exit(cli, pid, timeout=10) == 128 + signal.SIGTERM


def test_a_run_started_with_nohup_goes_on_after_a_hangup(corpus, tmp_path):
    """SIGHUP is the hangup that `nohup` protects from: an ignored signal stays ignored."""
    data, tokenizer = corpus
    command = [sys.executable, "-m", "learngpt", "prepare", "--data", data, "--out",
               tmp_path / "out", "--tokenizer-from", tokenizer, "--chunk-mb", "0.1",
               "--workers", "2"]  # fmt: skip
    with open(tmp_path / "log.txt", "w") as log:
        run = subprocess.Popen(["nohup", *map(str, command)], stderr=log, start_new_session=True)
    try:
        wait_encoding(tmp_path, run.pid)
        os.killpg(run.pid, signal.SIGHUP)
        assert run.wait(120) == 0, (tmp_path / "log.txt").read_text()
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert (tmp_path / "out" / "meta.json").is_file()
