"""Keeping a learner's files before the course writes over them, and putting them back: plain
copies in .backup/<time>/ (YYYYMMDD-HHMMSS, with -2, -3 ... for a second one within a second).

`course reset N` (workspace.reset), `course restore` (integrity.restore) and `course start
--force` call `keep` first, so no command ever destroys what a learner wrote; they say where the
copies are, and the command that brings them back: `course restore --backup TIME` (or
`latest`), which puts a backup's files back (`put_back`) after keeping, in a backup of its own,
the files it replaces. Its own backup is then the latest, so a second `--backup latest` undoes
the first.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from learngpt.errors import UserError
from learngpt.exercises.catalog import text
from learngpt.fileio import atomic_write

BACKUP_DIR = ".backup"
LATEST = "latest"
STAMP = re.compile(r"^(\d{8}-\d{6})(?:-(\d+))?$")  # a folder `keep` made


def keep(workspace: Path, relatives: list[str]) -> Path | None:
    """Copy the files among `relatives` that exist into a new .backup/<time>/; None if none do."""
    present = [r for r in relatives if (workspace / r).is_file()]
    if not present:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = workspace / BACKUP_DIR / stamp
    n = 1
    while target.exists():  # two backups within a second
        n += 1
        target = workspace / BACKUP_DIR / f"{stamp}-{n}"
    for relative in present:
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(workspace / relative, target / relative)
    return target


def keep_changed(workspace: Path, contents: dict[str, str | bytes]) -> Path | None:
    """`keep` the files that `contents` (text or bytes, by relative path) would change: the
    learner's versions."""
    changed = []
    for relative, content in contents.items():
        path = workspace / relative
        new = content.encode("utf-8") if isinstance(content, str) else content
        if path.is_file() and path.read_bytes() != new:
            changed.append(relative)
    return keep(workspace, changed)


def backups(workspace: Path) -> list[str]:
    """The backups `keep` made in the workspace, oldest first."""
    folder = workspace / BACKUP_DIR
    names = [p.name for p in folder.iterdir() if p.is_dir()] if folder.is_dir() else []
    made = {name: STAMP.match(name) for name in names}
    order = {name: (m[1], int(m[2] or 1)) for name, m in made.items() if m}
    return sorted(order, key=order.__getitem__)


def chosen(workspace: Path, name: str, lang: str) -> Path:
    """The backup folder `name` names: `latest`, or one of the folders in .backup/."""
    folder = workspace / BACKUP_DIR
    made = backups(workspace)
    if name == LATEST and made:
        return folder / made[-1]
    if name != LATEST and name in {p.name for p in folder.iterdir() if p.is_dir()}:
        return folder / name
    if not made:
        raise UserError(text("backup.none", lang, folder=folder))
    shown = ", ".join(made[-5:])  # the latest five
    raise UserError(text("backup.unknown", lang, name=name, names=shown, latest=LATEST))


def files_of(backup: Path) -> dict[str, bytes]:
    """The files a backup holds (regular files only), by their path in the workspace."""
    found = sorted(p for p in backup.rglob("*") if p.is_file() and not p.is_symlink())
    return {p.relative_to(backup).as_posix(): p.read_bytes() for p in found}


def put_back(workspace: Path, name: str, lang: str) -> tuple[Path, list[str], Path | None]:
    """Put the files of backup `name` back where they were, the files they replace kept first
    in a new backup. Returns the backup, the files it changed, and the new backup (None when
    nothing had to be kept)."""
    backup = chosen(workspace, name, lang)
    contents = files_of(backup)
    kept = keep_changed(workspace, contents)
    changed = []
    for relative, content in contents.items():
        target = workspace / relative
        if target.is_file() and target.read_bytes() == content:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda tmp, content=content: tmp.write_bytes(content))
        changed.append(relative)
    return backup, changed, kept
