"""Files in and out: reads of regular files only, of a bounded size; and writes that a kill at
any moment cannot half-finish (a temporary file, fsync, then a rename)."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

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
    # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        _refuse(what, path, st, limit)
        os.set_blocking(fd, True)
        chunks, total = [], 0
        while chunk := os.read(fd, min(max(st.st_size, 1 << 16), limit + 1 - total) or 1):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # it grew since fstat
                raise UserError(f"{what} {path} is over the limit of {limit:,} bytes")
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)  # no copy of a text
    finally:
        os.close(fd)


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

    `path` must not exist yet (or be an empty directory). Readers never see a half-filled one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        os.replace(tmp, path)  # fails if `path` has appeared meanwhile with files in it
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def can_be_new_directory(path: Path) -> bool:
    """Whether `path` may become a new_directory(): it does not exist, or is an empty directory."""
    path = Path(path)
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask
