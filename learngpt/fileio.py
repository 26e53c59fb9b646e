"""Writes that a kill at any moment cannot half-finish: a temporary file, fsync, then a rename."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` to fill a temporary file beside `path`, then rename it over `path`.

    The rename is atomic on POSIX: readers see the old file or the new one, never a mix. If
    anything fails (a full disk, a signal) the temporary file is removed and `path` is untouched.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
