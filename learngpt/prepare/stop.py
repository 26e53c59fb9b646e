"""Ctrl-C, SIGTERM and SIGHUP during `learngpt prepare`: one exception, raised once.

The first of these signals raises `Interrupted` in the main thread, wherever it is (reading,
learning the vocabulary, waiting for a worker); the clean-up it sets off (the workers ended and
waited for, the temporary directory removed: encode.py, fileio.new_directory) then runs to its
end, because any later signal (a second Ctrl-C 50 ms after the first) is ignored.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived: the run was abandoned and nothing was written."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP raise Interrupted, once (those not ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (and receives the signals)
        return
    raised = False

    def handle(signum, frame):
        nonlocal raised
        if not raised:  # later ones: the clean-up is under way, let it finish
            raised = True
            raise Interrupted(signum)

    # one that is ignored stays ignored (`nohup`, or `&` in a script: SIGINT)
    previous = {s: signal.signal(s, handle) for s in SIGNALS if not ignored(s)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def ignored(signum: int) -> bool:
    return signal.getsignal(signum) is signal.SIG_IGN
