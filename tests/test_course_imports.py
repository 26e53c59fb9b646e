"""The course's commands that need no model start at once: they never import torch (issue 33,
item 7). `check` and `watch` run the tests in a child process; the command itself imports no
torch either, also when the step's tests are not run (an earlier step is unwritten)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from learngpt.exercises.workspace import start

NO_MODEL = [
    ["progress"],
    ["hint"],
    ["hint", "3"],
    ["answers"],
    ["answers", "9"],
    ["solution"],
    ["solution", "5"],
    ["reset", "2"],
    ["restore"],
    ["restore", "--backup", "latest"],
    ["report", "."],
    ["check", "3"],  # step 2 is unwritten: no test runs
    ["check", "--help"],
    ["watch", "--help"],
]


def imported(workspace: Path, action: list[str]) -> list[str]:
    """The modules `learngpt course ACTION` imports, from -X importtime."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "learngpt", "course", *action],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, done.stderr
    modules = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)$", done.stderr, re.MULTILINE)
    assert "learngpt.exercises.catalog" in modules  # -X importtime reported the imports
    return modules


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_commands_that_need_no_model_import_no_torch(tmp_path, lang):
    start(tmp_path, lang=lang)
    for action in NO_MODEL:
        modules = imported(tmp_path, action)
        assert not [m for m in modules if m.split(".")[0] in ("torch", "numpy")], action
