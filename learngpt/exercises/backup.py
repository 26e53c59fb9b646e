"""Keeping a learner's files before the course writes over them: plain copies in .backup/<time>/.

`course reset N` (workspace.reset), `course restore` (integrity.restore) and `course start
--force` call `keep` first, so no command ever destroys what a learner wrote; they say where the
copies are.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

BACKUP_DIR = ".backup"


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


def keep_changed(workspace: Path, texts: dict[str, str]) -> Path | None:
    """`keep` the files that `texts` would change (by relative path): the learner's versions."""
    changed = [
        relative
        for relative, text in texts.items()
        if (workspace / relative).is_file()
        and (workspace / relative).read_text(encoding="utf-8", errors="replace") != text
    ]
    return keep(workspace, changed)
