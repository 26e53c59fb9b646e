"""Stretches of work that a Ctrl-C must not cut in two (a checkpoint's save and its commit).

Inside `interrupts_deferred()`, SIGINT and SIGTERM are only recorded; when the block ends, the
handlers that were in place get them, in order, as if they had just arrived. So a second Ctrl-C
during a save stops the trainer after the manifests are written, never between them.
A kill (SIGKILL, the OOM killer) cannot be deferred; the writes' order makes it harmless.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import NoReturn

DEFERRED = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, then deliver them to the usual handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals (and may change their handlers)
        return
    arrived: list[tuple[int, object]] = []
    previous = {s: signal.getsignal(s) for s in DEFERRED}
    for s in DEFERRED:
        if callable(previous[s]):  # SIG_DFL and SIG_IGN stay: the kernel acts on those
            signal.signal(s, lambda signum, frame: arrived.append((signum, frame)))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for signum, frame in arrived:  # (a first Ctrl-C only asks the trainer to stop)
            previous[signum](signum, frame)


def exit_at_once(status: int = 130) -> NoReturn:
    """End the process now, as a second Ctrl-C asks: one line, no traceback, no clean-up.

    Raising KeyboardInterrupt from a signal handler would do it anywhere, a finalizer included
    (where Python prints "Exception ignored" and a traceback, and carries on). Ending here is
    safe: every file learngpt writes is replaced atomically, a save is never cut in two
    (interrupts_deferred), the kernel drops the run's lock, and the next run sweeps the rest.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with contextlib.suppress(Exception):
        sys.stderr.write("error: interrupted\n")
        sys.stderr.flush()
    os._exit(status)
