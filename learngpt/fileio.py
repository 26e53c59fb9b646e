"""Files in and out: reads of regular files only, of a bounded size; and writes that a kill at
any moment cannot half-finish (a temporary file, fsync, then a rename)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from learngpt.errors import UserError

MiB = 1 << 20
# the most learngpt reads of a small file: a JSON manifest, a YAML config, run.json, a log
SMALL_FILE = 64 * MiB
# the most it reads of a training text (the whole text is held in memory, as str and tokens)
TEXT_FILE = 2048 * MiB

TMP_SUFFIX = ".tmp"  # atomic_write's temporary files: .NAME.XXXXXXXX.tmp


def _kind(mode: int) -> str | None:
    """What a file that is not a regular one is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    kinds = {
        stat.S_ISDIR: "a directory",
        stat.S_ISCHR: "a device",
        stat.S_ISBLK: "a device",
        stat.S_ISFIFO: "a pipe (FIFO)",
        stat.S_ISSOCK: "a socket",
    }
    return next((name for test, name in kinds.items() if test(mode)), "not a regular file")


def _refuse(what: str, path: Path, st: os.stat_result, limit: int) -> None:
    kind = _kind(st.st_mode)
    if kind:
        raise UserError(f"{what} {path} is {kind}, not a regular file; pass a regular file")
    if st.st_size > limit:
        raise UserError(
            f"{what} {path} has {st.st_size:,} bytes, over the limit of {limit:,}; "
            "pass a smaller file"
        )


def check_regular(path: Path, what: str, limit: int) -> os.stat_result:
    """Stat `path` (a file some library will open): UserError unless it is a regular file of at
    most `limit` bytes. A missing file raises FileNotFoundError, for the caller to explain."""
    st = os.stat(path)
    _refuse(what, Path(path), st, limit)
    return st


def read_bytes(path: Path, what: str, limit: int = SMALL_FILE) -> bytes:
    """The bytes of the regular file `path`, of at most `limit` bytes; UserError naming `what`
    for a device, a FIFO, a socket, a directory or a larger file (before reading a byte).
    OSError (a missing file, no permission) is left to the caller, which knows the remedy."""
    path = Path(path)
    fd, st = _open_regular(path, what, limit)
    try:
        chunks, total = [], 0
        while chunk := os.read(fd, min(max(st.st_size, 1 << 16), limit + 1 - total) or 1):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew since fstat
                raise UserError(f"{what} {path} is over the limit of {limit:,} bytes")
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)  # no copy of a text
    finally:
        os.close(fd)


def _open_regular(path: Path, what: str, limit: int) -> tuple[int, os.stat_result]:
    """A descriptor open for reading on the regular file `path`, and its stat; UserError (as
    read_bytes says) before a byte is read."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        _refuse(what, path, st, limit)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def open_regular(path: Path, what: str) -> BinaryIO:
    """The regular file `path`, open for reading in binary, of any size; UserError naming `what`
    for a device, a FIFO (never waited on), a socket or a directory. OSError is the caller's."""
    fd, _ = _open_regular(Path(path), what, sys.maxsize)
    return os.fdopen(fd, "rb")


def read_text(path: Path, what: str, limit: int = SMALL_FILE) -> str:
    """read_bytes decoded as UTF-8 (UnicodeDecodeError, a ValueError, if it is not)."""
    return read_bytes(path, what, limit).decode("utf-8")


def sweep_temporary_files(directory: Path) -> None:
    """Delete the temporary files that a kill in the middle of atomic_write left behind.

    Only for a directory that one process writes (a run directory, under its lock)."""
    for path in Path(directory).glob(f".*{TMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            if path.is_file():
                path.unlink()


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` to fill a temporary file beside `path`, then rename it over `path`.

    The rename is atomic on POSIX: readers see the old file or the new one, never a mix. If
    anything fails (a full disk, a signal) the temporary file is removed and `path` is untouched.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


@contextlib.contextmanager
def new_directory(path: Path) -> Iterator[Path]:
    """Fill a temporary directory beside `path`; it becomes `path` only if the block succeeds.

    `path` must not exist yet (or be an empty directory). Readers never see a half-filled one,
    and a failure leaves nothing: the temporary directory goes, and the parents made for it.
    The process filling it holds a lock on WRITER_LOCK inside it, so that a directory left by a
    killed run (its lock free) is swept by the next run for the same path, and a run for a path
    that another process is filling right now is refused.
    """
    path = Path(path)
    made = _make_parents(path.parent)
    try:
        _sweep_abandoned(path)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        lock = _lock_new(tmp / WRITER_LOCK)
    except BaseException:
        _remove_made(made)
        raise
    try:
        yield tmp
        os.unlink(tmp / WRITER_LOCK)  # no part of the result (the lock holds until the close)
        os.chmod(tmp, 0o777 & ~_umask())
        try:
            os.replace(tmp, path)  # fails if `path` has appeared meanwhile with files in it
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                raise
            raise UserError(
                f"{path} was created by something else meanwhile; nothing was written to it: "
                "run again with a new directory"
            ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_made(made)
        raise
    finally:
        os.close(lock)


WRITER_LOCK = ".writer.lock"  # in a new_directory() being filled, locked by its writer
KERNEL_FILE_SYSTEMS = (Path("/proc"), Path("/sys"))


def check_new_directory(path: Path, what: str) -> None:
    """UserError unless `path` can become a new_directory(), checked before any work: it does not
    exist (or is an empty directory), is not under /proc or /sys, lies under directories only,
    no other process is filling it, and the nearest folder that exists lets us create a
    directory in it (the real test of a permission, a read-only disk: one is made, removed)."""
    path = Path(path)
    try:
        for root in KERNEL_FILE_SYSTEMS:
            if path.resolve().is_relative_to(root):
                raise UserError(
                    f"{what} {path} is under {root}, the kernel's own file system; "
                    "choose a directory on a disk"
                )
        if path.exists() or path.is_symlink():
            _check_empty_directory(path, what)
        existing = next(p for p in (path.parent, *path.parent.parents) if p.exists())
        if not existing.is_dir():
            raise UserError(f"{what} {path} is under {existing}, a file: choose another path")
        if existing == path.parent:
            _abandoned(path)  # another process writing it now: refused here, before any work
        os.rmdir(tempfile.mkdtemp(prefix=".learngpt-probe.", dir=existing))
    except OSError as exc:
        raise UserError(
            f"cannot create {what} {path}: {exc.strerror} ({exc.filename or path}); choose a "
            "directory you can write to"
        ) from None


def _check_empty_directory(path: Path, what: str) -> None:
    if path.is_symlink() and not path.exists():
        raise UserError(f"{what} {path} is a link to {os.readlink(path)}, which does not exist")
    if not path.is_dir():
        kind = "a file" if path.is_file() else _kind(os.stat(path).st_mode)
        raise UserError(f"{what} {path} is {kind}, not a directory: name a new directory")
    if any(path.iterdir()):
        raise UserError(f"{what} {path} already exists and is not empty; choose a new directory")


def _make_parents(directory: Path) -> list[Path]:
    """mkdir -p `directory`; the directories it made, the deepest last."""
    missing = [p for p in (directory, *directory.parents) if not p.exists()][::-1]
    made = []
    for folder in missing:
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
            made.append(folder)
    return made


def _remove_made(made: list[Path]) -> None:
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if still empty


def _lock_new(path: Path) -> int:
    """Create and lock `path` (it holds our pid, for a refusal's message); the descriptor."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # new: nobody else has it
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _sweep_abandoned(path: Path) -> None:
    """Remove the temporary directories that killed writers of `path` left."""
    for folder in _abandoned(path):
        shutil.rmtree(folder, ignore_errors=True)


def _abandoned(path: Path) -> list[Path]:
    """The temporary directories (.NAME.xxxxxxxx) of `path` whose writer has ended; UserError if
    a live process is filling one now."""
    prefix = f".{path.name}."
    found = []
    with os.scandir(path.parent) as entries:
        candidates = [e.path for e in entries if e.name.startswith(prefix) and e.is_dir()]
    for candidate in candidates:
        if Path(candidate).is_symlink():
            continue
        try:  # only new_directory()'s own directories have the lock file
            fd = os.open(Path(candidate) / WRITER_LOCK, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            raise UserError(
                f"{path} is being written by another process (pid {holder}); wait for it to "
                "end, or choose another directory"
            ) from None
        finally:
            os.close(fd)
        found.append(Path(candidate))  # its lock was free: its writer has ended
    return found


def can_be_new_directory(path: Path) -> bool:
    """Whether `path` may become a new_directory(): it does not exist, or is an empty directory."""
    path = Path(path)
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask
