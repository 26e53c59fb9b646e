"""`learngpt course report DIR...`: the class report for instructors and study groups.

learngpt course report DIR... [--format table|csv|json|html] [--step N | --by-step 7-10]
                              [--verify [--jobs N] [--timeout SECONDS]] [--lang ko|en]

DIR: learners' workspaces, or folders that hold them. Exits 0 whenever the report is printed
(mismatches found by --verify included); 2, with one `error:` line, when no DIR holds a workspace.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from learngpt.errors import UserError
from learngpt.exercises.catalog import text
from learngpt.exercises.syllabus import STEPS
from learngpt.instructor import FORMATS

STEP_NUMBERS = [step.number for step in STEPS]


def add_arguments(report: argparse.ArgumentParser) -> None:
    """The report's arguments (their help: catalog keys, help.yaml; see course_help.py)."""
    report.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="help.report.dirs")
    report.add_argument("--format", choices=FORMATS, default="table", help="help.report.format")
    which = report.add_mutually_exclusive_group()
    which.add_argument("--step", type=int, choices=STEP_NUMBERS, metavar="N",
                       help="help.report.step")  # fmt: skip
    which.add_argument("--by-step", metavar="N-M", help="help.report.by_step")
    report.add_argument("--verify", action="store_true", help="help.report.verify")
    report.add_argument("--jobs", default="1", metavar="N", help="help.report.jobs")
    report.add_argument("--timeout", metavar="SECONDS", help="help.report.timeout")


def steps_of(args: argparse.Namespace, lang: str) -> list[int]:
    if args.step is not None:
        return [args.step]
    if args.by_step is None:
        return STEP_NUMBERS
    from learngpt.instructor import views  # the instructor's modules load for a report only

    steps = views.parse_steps(args.by_step, STEP_NUMBERS)
    if steps is None:
        raise UserError(text("report.errors.steps", lang, flag="--by-step", value=args.by_step))
    return steps


def jobs_of(args: argparse.Namespace, lang: str) -> int:
    if not args.jobs.isdigit() or int(args.jobs) < 1:
        raise UserError(text("report.errors.jobs", lang, value=args.jobs))
    return int(args.jobs)


def verify_class(learners: list, args: argparse.Namespace, lang: str, timeout: float) -> None:
    """Re-run the checks, saying on stderr who has been checked (it can take minutes)."""
    jobs, total = jobs_of(args, lang), sum(learner.workspace for learner in learners)
    print(text("report.verifying", lang, learners=total, jobs=jobs), file=sys.stderr, flush=True)
    count = iter(range(1, total + 1))

    def on_done(learner, seconds: float) -> None:
        if learner.workspace:
            line = text(
                "report.verified_one",
                lang,
                learner=learner.name,
                seconds=seconds,
                n=next(count),
                total=total,
            )
            print(line, file=sys.stderr, flush=True)

    from learngpt.instructor import verify

    verify.verify_class(learners, lang, timeout, jobs, on_done)


def run(args: argparse.Namespace, lang: str, timeout: float | None) -> int:
    """The report of args.dirs in `lang`; `timeout`: --verify's limit (None: no --verify)."""
    from learngpt.instructor import classreport

    steps = steps_of(args, lang)
    if timeout is not None:
        jobs_of(args, lang)  # a bad --jobs is refused before anything runs
    learners = classreport.collect(args.dirs, steps, lang)
    if timeout is not None:
        verify_class(learners, args, lang, timeout)
    views_wanted = args.step is not None or args.by_step is not None
    print(classreport.render(learners, steps, lang, args.format, views_wanted, timeout), end="")
    return 0
