"""The wheel works for someone who `pip install`s it: from any directory, writing only under runs/.

One wheel is built from a copy of the sources (offline, with the running setuptools) and
installed, not editable, into a throw-away venv. That venv reuses the running torch through a
.pth file instead of installing it again; the .pth adds the running site-packages to the end of
sys.path, so learngpt itself is the wheel's copy. Every command then runs from an empty folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A model small enough that 20 steps, sampling and an exact evaluation take seconds.
TINY = ["--batch-size", "4", "--block-size", "16", "--embed-size", "32", "--n-layers", "1"]
TINY += ["--n-heads", "2", "--eval-iters", "2", "--eval-interval", "10"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin/ folder of a fresh venv with the wheel installed (no -e)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"  # a copy: building in place would leave build/ in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "learngpt", source / "learngpt", ignore=ignore)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    offline = ["--no-deps", "--no-index"]
    run([*pip, "wheel", *offline, "--no-build-isolation", "-w", tmp / "dist", source], tmp)
    (wheel,) = (tmp / "dist").glob("learngpt-*.whl")

    env = tmp / "venv"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    run([*pip, "--python", python, "install", *offline, wheel], tmp)
    # torch and the other dependencies: the running interpreter's, appended to sys.path
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
                   .strip())  # fmt: skip
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (purelib / "running_site_packages.pth").write_text("\n".join(sorted(ours)) + "\n")
    return env / "bin"


def run(argv: list, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, env=clean_env()
    )
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def clean_env() -> dict[str, str]:
    """This environment without what would point Python at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["MPLBACKEND"] = "Agg"
    return env


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_the_installed_wheel_is_not_the_checkout(installed, tmp_path):
    spec = "import importlib.util as u; print(u.find_spec('learngpt').origin)"
    origin = Path(run([installed / "python", "-c", spec], tmp_path).strip())
    assert installed.parent in origin.parents and ROOT not in origin.parents


def test_every_command_runs_from_an_empty_folder_and_writes_only_under_runs(
    installed, tmp_path, shakespeare
):
    learngpt, work = installed / "learngpt", tmp_path / "work"
    work.mkdir()
    small = tmp_path / "small.txt"  # train, sample and evaluate on a small text: seconds
    small.write_text(shakespeare[:20_000], encoding="utf-8")
    run([learngpt, "train", "--data", small, "--max-iters", "20", *TINY], work)
    out = "runs/shakespeare_char"
    assert len(run([learngpt, "sample", "--out", out, "--max-new-tokens", "20"], work)) > 20
    loss = json.loads(run([learngpt, "eval", "--out", out, "--json"], work))
    assert 0 < loss["loss"] < 5  # a char model after 20 steps: below ln(65) = 4.17, or near it
    # the rest use the Shakespeare the wheel ships
    run([learngpt, "demo", "--max-time", "1", "--max-new-tokens", "20"], work)
    run([learngpt, "bpe-explore", "--merges", "20"], work)
    run([learngpt, "answers", "--quick", "--no-experiments"], work)
    table = run([learngpt, "experiment", "ffn", "--seeds", "0", "--max-iters", "2"], work)
    assert "mean" in table

    written = files_under(work)
    assert all(name.startswith("runs/") for name in written), written
    for expected in (f"{out}/config.yaml", "runs/demo/", "runs/bpe_vocab.png", "runs/answers/"):
        assert any(name.startswith(expected) for name in written), (expected, written)


def test_the_course_ships_whole_lessons_figures_catalogs_and_answers(installed, tmp_path):
    learngpt = installed / "learngpt"
    assert "코스 작업 공간" in run([learngpt, "course", "start", "ws"], tmp_path)  # Korean
    workspace = tmp_path / "ws"
    assert len(list((workspace / "lessons").glob("*.md"))) == 10
    assert len(list((workspace / "img").glob("*.png"))) == 7
    assert len(list((workspace / "answers" / "img").glob("*.png"))) >= 7
    assert "힌트 1/3" in run([learngpt, "course", "hint", "1", "--dir", "ws"], tmp_path)
    # the current step's reference, read as text from the installed package; help in Korean
    solution = run([learngpt, "course", "solution", "--dir", "ws"], tmp_path)
    assert solution.startswith("# 1단계: ") and "def generate" in solution
    assert "사용법: " in run([learngpt, "course", "check", "--help"], workspace)
    answers = run([learngpt, "course", "answers", "7", "--lang", "en"], tmp_path)
    assert "\n7a. Do MultiHeadVer1 and HeadVer4 differ" in answers  # rendered: no "###"


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--data", "missing.txt"],
        ["train", "--block-size", "0"],
        ["sample", "--out", "runs/none"],
        ["experiment", "ffn", "--json", "no/such/folder/results.json"],
    ],
    ids=["missing data", "bad config value", "no such run", "no folder for the results"],
)
def test_bad_input_is_one_error_line_and_creates_nothing(installed, tmp_path, argv):
    done = subprocess.run(
        [installed / "learngpt", *argv], cwd=tmp_path, capture_output=True, text=True,
        env=clean_env(),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1
    assert files_under(tmp_path) == [] and not (tmp_path / "runs").exists()
