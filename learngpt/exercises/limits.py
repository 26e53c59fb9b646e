"""Time limits for the learner's code while a check runs: a soft one and a hard one.

The soft limit (SIGALRM) raises `TimeLimit` wherever the learner's Python code is, so the test
fails with a traceback that shows their line and the next test runs. The hard limit
(faulthandler) is for code stuck inside one long C call that no signal interrupts: it writes
every thread's stack to a file and ends the process; `course check` then reads the file.
"""

from __future__ import annotations

import faulthandler
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

HARD_GRACE_S = 5.0  # how long after the soft limit the hard one ends the process
DEFAULT_S = 30.0  # a test's limit: the slowest test that trains no claim takes 5 s on a busy
# 2-core machine, and a learner waits at most half a minute to hear that their loop never ends
MAX_S = 86400.0  # a day: more than any test needs, and what the timers take (times 20) with room
TRAINING_FACTOR = 20  # a claim's two trainings took up to 140 s there: 600 s is over 4x that.
# (Its models run once before the limit is stretched, so an endless forward still stops at 30 s.)


class TimeLimit(BaseException):  # noqa: N818 - a learner's `except Exception` must not catch it
    """The learner's code ran past its time limit (its one argument: the limit, in seconds)."""


def _raise_time_limit(signum, frame):
    raise TimeLimit(_armed["limit"])


_armed: dict = {"seconds": None, "dump": None, "limit": None}


def _arm(seconds: float) -> None:
    _armed["limit"] = seconds
    signal.setitimer(signal.ITIMER_REAL, seconds)
    if _armed["dump"] is not None:
        faulthandler.dump_traceback_later(seconds + HARD_GRACE_S, exit=True, file=_armed["dump"])


@contextmanager
def deadline(seconds: float | None, dump: TextIO | None = None) -> Iterator[None]:
    """Within the block, `TimeLimit` is raised after `seconds`; with `dump`, the process ends
    HARD_GRACE_S later if it is still running, its stacks written to `dump`."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise_time_limit)
    _armed.update(seconds=seconds, dump=dump)
    _arm(seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if dump is not None:
            faulthandler.cancel_dump_traceback_later()
        _armed.update(seconds=None, dump=None, limit=None)


def stretch(factor: float) -> None:
    """Give the running test `factor` times its limit from now (for tests that train models)."""
    if _armed["seconds"] and threading.current_thread() is threading.main_thread():
        _arm(_armed["seconds"] * factor)
