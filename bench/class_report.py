"""`learngpt course report` over a class of N workspaces (issue 36's goal: 30 in under 5 s).

The class is made once: a third of the learners solved steps 1-3 and checked them, a third's
state claims every step, a third just started. Timed in this process, in turns (best of
--repeats): the report in each format, against the baseline an instructor has without it,
`course progress` in every workspace one after another (in process too, so without the start-up
of N Pythons). Then the whole command once, as a user runs it (a fresh Python, torch's import
included).

    nice .venv/bin/python bench/class_report.py --learners 30
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from learngpt.exercises import check, tutor
from learngpt.exercises.skeleton import workspace_source
from learngpt.exercises.syllabus import STEPS, files_of
from learngpt.exercises.workspace import start
from learngpt.instructor import classreport

ALL_STEPS = [step.number for step in STEPS]


def cpu_name() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    names = [line.split(":", 1)[1].strip() for line in lscpu.splitlines()
             if line.startswith("Model name")]  # fmt: skip
    return names[0] if names else "unknown CPU"


def passed(workspace: Path, steps: list[int]) -> None:
    for step in steps:
        check.remember(workspace, check.StepResult(step, [check.TestResult(f"test_{step}", True)]))


def make_class(root: Path, learners: int) -> None:
    templates = {name: root / f".{name}" for name in ("solved", "claimed", "fresh")}
    for name, folder in templates.items():
        start(folder, lang="en" if name == "solved" else "ko")
    for step in (1, 2, 3):
        for f in files_of(step):
            source = workspace_source(f, solutions=True, lang="en")
            (templates["solved"] / "mygpt" / f.name).write_text(source, encoding="utf-8")
    passed(templates["solved"], [1, 2, 3])
    passed(templates["claimed"], ALL_STEPS)  # stub code: progress says "not started"
    kinds = list(templates.values())
    for i in range(learners):
        shutil.copytree(kinds[i % 3], root / f"learner{i:03}")


def best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_class(root, args.learners)
        folders = sorted(root.glob("learner*"))

        def baseline() -> None:
            for folder in folders:
                tutor.progress_table(folder, "en")

        def report(form: str) -> None:
            learners = classreport.collect([root], ALL_STEPS, "en")
            classreport.render(learners, ALL_STEPS, "en", form)

        print(f"{args.learners} workspaces on {cpu_name()}; best of {args.repeats}")
        base = best_of(args.repeats, baseline)
        print(f"  baseline: `course progress` in each, in process  {base:6.2f} s")
        for form in classreport.FORMATS:
            seconds = best_of(args.repeats, lambda form=form: report(form))
            print(f"  course report --format {form:5s} (in process)     {seconds:6.2f} s"
                  f"  {base / seconds:5.2f}x the baseline's speed")  # fmt: skip
        whole = wall([sys.executable, "-m", "learngpt", "course", "report", str(root)])
        start_up = wall([sys.executable, "-c", "import learngpt.commands"])
        print(f"  learngpt course report DIR (a fresh Python)     {whole:6.2f} s  (goal: < 5 s)")
        print(f"    of which the start-up, import learngpt (torch) {start_up:6.2f} s")


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
