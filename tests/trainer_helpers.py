"""Helpers for the tests of `learngpt train`, `sample`, `eval` and their errors.

Each test gets its own copy of a tiny trained run (trained once per test module), and calls
the command line in-process with `run_cli`, which is much cheaper than a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from learngpt import commands as cli

ROOT = Path(__file__).resolve().parent.parent

# A model and a run small enough to train in about a second on a busy 2-core machine.
TINY = [
    "--n-layers", "1", "--embed-size", "16", "--n-heads", "2", "--block-size", "16",
    "--batch-size", "4", "--max-iters", "6", "--eval-interval", "3", "--eval-iters", "2",
    "--warmup-iters", "2", "--device", "cpu", "--max-time", "0", "--tokenizer", "char",
    "--no-compile",
]  # fmt: skip


@dataclass
class Result:
    rc: int
    out: str
    err: str


def run_cli(*argv: str) -> Result:
    """Run `learngpt ARGV...` in this process; return its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main([str(a) for a in argv])
    return Result(rc, out.getvalue(), err.getvalue())


def write_text(path: Path, n_chars: int = 6000) -> Path:
    """The first n_chars of data/input.txt, as a data file of our own."""
    text = (ROOT / "data" / "input.txt").read_text(encoding="utf-8")[:n_chars]
    path.write_text(text, encoding="utf-8")
    return path


def train_tiny(out: Path, data: Path, *extra: str) -> Result:
    return run_cli("train", "--data", data, "--out", out, *TINY, *extra)


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` and its bytes, to show that nothing on disk changed."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(Path(directory).rglob("*"))
        if p.is_file()
    }


def assert_user_error(result: Result, *fragments: str) -> None:
    """One `error: ` line on stderr naming the problem, a non-zero status, no traceback."""
    assert result.rc != 0
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("error: "), result.err
    assert sum(line.startswith("error: ") for line in lines) == 1
    assert "Traceback" not in result.err + result.out
    for fragment in fragments:
        assert fragment in lines[-1], (fragment, lines[-1])


@dataclass
class Run:
    out: Path
    data: Path


@pytest.fixture(scope="module")
def trained_template(tmp_path_factory) -> Run:
    base = tmp_path_factory.mktemp("template")
    data = write_text(base / "text.txt")
    result = train_tiny(base / "run", data)
    assert result.rc == 0, result.err
    return Run(base / "run", data)


@pytest.fixture
def trained_run(trained_template: Run, tmp_path: Path) -> Run:
    """A fresh copy of a tiny trained run (6 steps, checkpoints at steps 3 and 6)."""
    out = tmp_path / "run"
    shutil.copytree(trained_template.out, out)
    return Run(out, trained_template.data)
