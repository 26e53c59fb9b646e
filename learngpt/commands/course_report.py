"""`learngpt course report DIR...`: the class report for instructors and study groups.

learngpt course report DIR... [--format table|csv|json|html] [--step N | --by-step 7-10]
                              [--verify [--jobs N] [--timeout SECONDS]] [--lang ko|en]

DIR: learners' workspaces, or folders that hold them. Exits 0 whenever the report is printed
(mismatches found by --verify included); 2, with one `error:` line, when no DIR holds a workspace.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from learngpt.errors import UserError
from learngpt.exercises import limits
from learngpt.exercises.catalog import text
from learngpt.exercises.syllabus import STEPS
from learngpt.instructor import classreport, verify, views

STEP_NUMBERS = [step.number for step in STEPS]


def add_parser(actions: argparse._SubParsersAction, with_lang: Callable) -> argparse.ArgumentParser:
    report = with_lang(
        actions.add_parser(
            "report", help="for instructors: every learner's progress, from many workspaces"
        )
    )
    report.add_argument(
        "dirs",
        nargs="+",
        type=Path,
        metavar="DIR",
        help="learners' workspaces, or folders that hold them",
    )
    report.add_argument(
        "--format",
        choices=classreport.FORMATS,
        default="table",
        help="table (default), csv or json (a record per learner and step), "
        "html (one page, a column per TODO)",
    )
    which = report.add_mutually_exclusive_group()
    which.add_argument(
        "--step",
        type=int,
        choices=STEP_NUMBERS,
        help="one step: who finished it, the named mistakes counted",
    )
    which.add_argument(
        "--by-step", metavar="N-M", help="the view of each step from N to M (week 2's teams: 7-10)"
    )
    report.add_argument(
        "--verify",
        action="store_true",
        help="re-run every learner's checks with the course's own tests",
    )
    report.add_argument(
        "--jobs",
        default="1",
        metavar="N",
        help="with --verify: learners checked at once (default 1)",
    )
    report.add_argument(
        "--timeout",
        metavar="SECONDS",
        help="with --verify: each test's time limit, as for `course check` "
        f"(default {limits.DEFAULT_S:g})",
    )
    return report


def steps_of(args: argparse.Namespace, lang: str) -> list[int]:
    if args.step is not None:
        return [args.step]
    if args.by_step is None:
        return STEP_NUMBERS
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

    verify.verify_class(learners, lang, timeout, jobs, on_done)


def run(args: argparse.Namespace, lang: str, timeout: float | None) -> int:
    """The report of args.dirs in `lang`; `timeout`: --verify's limit (None: no --verify)."""
    steps = steps_of(args, lang)
    if timeout is not None:
        jobs_of(args, lang)  # a bad --jobs is refused before anything runs
    learners = classreport.collect(args.dirs, steps, lang)
    if timeout is not None:
        verify_class(learners, args, lang, timeout)
    views_wanted = args.step is not None or args.by_step is not None
    print(classreport.render(learners, steps, lang, args.format, views_wanted, timeout), end="")
    return 0
