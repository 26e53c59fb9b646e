"""Real `learngpt` processes without paying Python's and torch's start-up for each one.

A helper process imports the trainer once, then forks one child per command: each child is a
process of its own (its own pid, real signals, real files) that runs `learngpt ARGV` as the
command line does and exits with its status. The helper never runs a torch operation itself,
so forking it is safe (no thread pools to inherit).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import learngpt

ROOT = Path(learngpt.__file__).resolve().parent.parent  # the learngpt these tests import

HELPER = textwrap.dedent(
    """
    import json, os, sys
    import torch._dynamo  # noqa: F401  (the optimizers import it on first use: seconds)
    from learngpt import commands
    from learngpt.plots import pyplot
    from learngpt.training import fit  # noqa: F401  (imported once, before any fork)

    pyplot().figure()  # matplotlib's imports and font cache, once too
    from learngpt.tokenizers.bpe import GPT2_SPLIT_PATTERN
    from learngpt.tokenizers.fast import rust_pattern

    rust_pattern(GPT2_SPLIT_PATTERN)  # tiktoken's pattern for learngpt's BPE (0.6 s), once too

    for line in sys.stdin:
        log, argv, session = json.loads(line)
        pid = os.fork()
        if pid == 0:
            if session:  # a process group of its own, as a shell's job: signals to the group
                os.setsid()
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            code = 1
            try:
                code = commands.main(argv)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)
    """
)


@pytest.fixture(scope="module", name="cli")
def cli_fixture():
    """`cli`: a ForkedCLI for the test module (import cli_fixture into it)."""
    cli = ForkedCLI()
    yield cli
    cli.close()


class ForkedCLI:
    """Start `learngpt ARGV` processes one at a time: start() -> pid, wait() -> exit status."""

    def __init__(self):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        self.helper = subprocess.Popen(
            [sys.executable, "-c", HELPER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    done = True  # whether the last process started has been waited for

    def start(self, log: Path, *argv: str, session: bool = False) -> int:
        """Start `learngpt ARGV` (in a session and process group of its own if `session`)."""
        assert self.done, "one process at a time"
        self.helper.stdin.write(json.dumps([str(log), [str(a) for a in argv], session]) + "\n")
        self.helper.stdin.flush()
        self.done = False
        self.pid = int(self.helper.stdout.readline())
        return self.pid

    def wait(self) -> int:
        status = int(self.helper.stdout.readline())
        self.done = True
        return status

    def close(self) -> None:
        if not self.done:  # a test failed while its process ran: end that one first
            os.kill(self.pid, signal.SIGKILL)
            self.wait()
        self.helper.stdin.close()
        self.helper.wait(30)


def wait_for(path: Path, text: str = "", count: int = 1, timeout: float = 60) -> None:
    """Wait until the file `path` exists and contains `text` (`count` times)."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text(errors="replace").count(text) >= count):
        assert time.monotonic() < deadline, f"{text!r} never appeared in {path}"
        time.sleep(0.005)
