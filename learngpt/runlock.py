"""One trainer per run directory: an OS advisory lock on `.lock` inside it.

The lock is flock(2) on an open file: the kernel releases it when the process ends, however it
ends (a kill -9 included), so a lock left by a dead trainer never blocks. The file itself stays
(deleting it would let two trainers lock two different files); it holds the pid of the last
process that locked it, for the refusal's message only.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from learngpt import checkpoint
from learngpt.errors import UserError
from learngpt.fileio import sweep_temporary_files

LOCK = ".lock"
ANY = object()  # expect_latest for --overwrite: whatever the directory holds now is replaced


def check_free(run_dir: str | Path) -> None:
    """UserError if a trainer holds `run_dir` now (checked first, before reading the run, so a
    second trainer is told so, not that a checkpoint vanished under it). Creates nothing."""
    path = Path(run_dir) / LOCK
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return  # no lock file: no trainer ever held it (or we cannot tell: acquire() will)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise UserError(_in_use(path.parent, _holder(fd))) from None
    finally:
        os.close(fd)


class RunLock:
    """Held from `acquire()` until `release()` (or the process's end).

    `expect_latest`: the checkpoint directory latest.json named when the run was checked (None:
    no checkpoint). If another trainer changed it before this one got the lock, the checks
    no longer hold and acquire() refuses.
    """

    def __init__(self, run_dir: str | Path, expect_latest: str | None | object = ANY):
        self.path = Path(run_dir) / LOCK
        self.expect_latest = expect_latest
        self.fd: int | None = None

    def acquire(self) -> RunLock:
        """Lock the run directory (which must exist), or UserError naming the holder's pid."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise UserError(_in_use(self.path.parent, holder)) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        self._check_unchanged()
        sweep_temporary_files(self.path.parent)  # left by a killed trainer; none is writing now
        return self

    def _check_unchanged(self) -> None:
        if self.expect_latest is ANY:
            return
        run_dir = self.path.parent
        has = checkpoint.has_checkpoint(run_dir)
        latest = checkpoint.read_manifest(run_dir)["dir"] if has else None
        if latest != self.expect_latest:
            self.release()
            raise UserError(
                f"another learngpt train changed {self.path.parent} while this one was "
                "starting; look at it, then train again"
            )

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the only descriptor drops the lock
            self.fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _in_use(run_dir: Path, holder: str) -> str:
    return (
        f"{run_dir} is in use by another learngpt train (process {holder}); wait for it to "
        "end, stop it, or train into another --out"
    )


def _holder(fd: int) -> str:
    """The pid the holder wrote (it writes it just after locking: wait a moment for it)."""
    for _ in range(50):
        with contextlib.suppress(OSError, ValueError):
            return str(int(os.pread(fd, 32, 0).decode().strip()))
        time.sleep(0.01)
    return "unknown"
