"""Tests a learner can't fake: the workspace's tests, conftest and config must be the course's.

`course check` compares them with the copies learngpt ships before it runs anything: a changed
or missing file fails the check (also for a step whose code is right) and names the file.
`course restore` puts the shipped copies back, keeping the learner's versions in .backup/.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from learngpt.exercises.backup import keep
from learngpt.exercises.workspace import PYTEST_INI
from learngpt.fileio import atomic_write
from learngpt.resources import asset, course_config_path, shakespeare_path

SHARED = ("tests/conftest.py", "pytest.ini", "config.yaml", "input.txt")
NOT_SHIPPED = ("conftest.py",)  # pytest would load it too: it could change any test


def shipped() -> dict[str, Path | bytes]:
    """What the course ships, by path in the workspace: a file to copy, or its bytes."""
    out: dict[str, Path | bytes] = {}
    for entry in sorted(asset("course", "tests").glob("*.py")):
        out[f"tests/{entry.name}"] = entry
    out["pytest.ini"] = PYTEST_INI.encode("utf-8")
    out["config.yaml"] = course_config_path()
    out["input.txt"] = shakespeare_path()
    return out


def _digest(data: Path | bytes) -> str:
    return hashlib.sha256(data.read_bytes() if isinstance(data, Path) else data).hexdigest()


def changed(workspace: Path, step: int | None = None) -> list[str]:
    """The course's files that differ from the shipped copies (those of `step`, or all), and the
    files that are not the course's but would change its tests."""
    ship = shipped()
    names = [f"tests/test_{step}.py", *SHARED] if step is not None else list(ship)
    differ = [
        name
        for name in names
        if not (workspace / name).is_file() or _digest(workspace / name) != _digest(ship[name])
    ]
    return differ + [name for name in NOT_SHIPPED if (workspace / name).exists()]


def restore(workspace: Path) -> tuple[list[str], Path | None]:
    """Put back every shipped file that differs (the learner's versions go to .backup/)."""
    names = changed(workspace)
    backup = keep(workspace, names)
    ship = shipped()
    for name in names:
        target = workspace / name
        if name in NOT_SHIPPED:
            target.unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        source = ship[name]
        if isinstance(source, Path):
            atomic_write(target, lambda tmp, source=source: shutil.copyfile(source, tmp))
        else:
            atomic_write(target, lambda tmp, source=source: tmp.write_bytes(source))
    return names, backup
