"""The path of `learngpt train` through the code (issue 34): few files, few hops, lean imports.

Followed call by call (sys.setprofile) from `run(args)` in learngpt/commands/train.py to the
first optimizer step of `learngpt train --data DIR` on a directory `learngpt prepare` made (CPU,
the default config), leaving out the code that imports run: the calls pass through at most
14 of learngpt's files, with at most 28 distinct caller -> callee pairs of files (a call's caller
is its nearest learngpt frame: torch calling the model's forward counts as whoever called
torch). nanoGPT's train.py is one file and model.py another; nanochat's base_train.py, about 8.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from torch.optim.optimizer import register_optimizer_step_pre_hook
from trainer_helpers import run_cli, write_text

import learngpt
import learngpt.tables
from learngpt.commands import build_parser
from learngpt.data import load_text

PACKAGE = str(Path(learngpt.__file__).resolve().parent) + "/"
MAX_FILES, MAX_PAIRS = 14, 28


class FirstStep(BaseException):
    """Raised by the optimizers' step pre-hook: the path ends at the first optimizer step."""


def learngpt_file(frame) -> str | None:
    name = frame.f_code.co_filename
    return name[len(PACKAGE) :] if name.startswith(PACKAGE) else None


def importing(frame) -> bool:
    """Whether `frame` runs inside an import (a module's own code, run once when imported)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


class Tracer:
    """A sys.setprofile function: the calls into each learngpt file, and the (caller file, callee
    file) pairs of two different files, leaving out what imports run."""

    def __init__(self):
        self.files: Counter = Counter()
        self.pairs: set[tuple[str, str]] = set()

    def __call__(self, frame, event, arg) -> None:
        if event != "call" or learngpt_file(frame) is None or importing(frame):
            return
        callee = learngpt_file(frame)
        self.files[callee] += 1
        caller = frame.f_back
        while caller is not None and learngpt_file(caller) is None:
            caller = caller.f_back
        if caller is not None and learngpt_file(caller) != callee:
            self.pairs.add((learngpt_file(caller), callee))


def trace_to_first_step(argv: list[str]) -> Tracer:
    """Run `learngpt ARGV` (a train command) until its first optimizer step, traced."""
    args = build_parser(argv).parse_args(argv)

    def first_step(optimizer, args, kwargs) -> None:
        raise FirstStep

    hook = register_optimizer_step_pre_hook(first_step)
    tracer = Tracer()
    sys.setprofile(tracer)
    try:
        with pytest.raises(FirstStep):
            args.run(args)
    finally:
        sys.setprofile(None)
        hook.remove()
    return tracer


def test_train_on_prepared_tokens_passes_through_few_files_to_its_first_step(tmp_path):
    text = write_text(tmp_path / "text.txt", 20_000)
    tokens = tmp_path / "tokens"
    prepared = run_cli("prepare", "--data", text, "--out", tokens, "--vocab-size", "300")
    assert prepared.rc == 0, prepared.err
    argv = ["train", "--data", str(tokens), "--out", str(tmp_path / "run"), "--device", "cpu"]
    traced = trace_to_first_step(argv)
    files, pairs = traced.files, traced.pairs
    shown = f"{sorted(files)}\n{sorted(pairs)}"
    # the path starts in the command and reaches the loop, the model and the data
    assert {"commands/train.py", "training/fit.py", "model.py", "data.py"} <= set(files), shown
    assert len(files) <= MAX_FILES, shown
    assert len(pairs) <= MAX_PAIRS, shown


def test_the_counting_sees_files_and_pairs_and_leaves_out_imports(tmp_path):
    # the limits above would hold vacuously if the profile saw nothing: a call from one learngpt
    # file into another counts, a module's own code run by an import does not
    text = write_text(tmp_path / "text.txt", 100)
    tracer = Tracer()
    sys.setprofile(tracer)
    try:
        importlib.reload(learngpt.tables)  # tables.py's module code runs again: an import
        load_text(text)  # data.py reads through fileio.py
    finally:
        sys.setprofile(None)
    assert "tables.py" not in tracer.files
    assert {"data.py", "fileio.py"} <= set(tracer.files)
    assert ("data.py", "fileio.py") in tracer.pairs


FORBIDDEN = ("exercises", "evidence", "experiments", "web", "interop", "course")


def test_train_help_loads_no_course_web_or_interop_module():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "learngpt", "train", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: learngpt train" in result.stdout
    loaded = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    ours = {name for name in loaded if name.startswith("learngpt")}
    assert "learngpt.training.fit" in ours  # the listing is read right
    assert not [m for m in ours if m.split(".")[1:2] and m.split(".")[1] in FORBIDDEN], ours
