"""`learngpt course`: the course as exercises, in a workspace of your own.

learngpt course start DIR [--lang ko|en] [--force] [--solutions]
learngpt course check [N | --all] [--dir DIR]
learngpt course progress | hint N | solution N | watch   [--dir DIR]
learngpt course restore | reset N   [--dir DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from learngpt.errors import UserError
from learngpt.exercises import backup, integrity, limits, tutor, workspace
from learngpt.exercises.catalog import text
from learngpt.exercises.check import check, current_step, format_result
from learngpt.exercises.syllabus import STEPS

STEP_NUMBERS = [step.number for step in STEPS]


def seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"'{value}' is not a number of seconds above 0")
    return number


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("course", help="learn by building: the course as exercises")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))

    start = actions.add_parser("start", help="write a learner workspace into DIR")
    start.add_argument("dir", type=Path, help="a new (or empty) directory")
    start.add_argument("--lang", choices=workspace.LANGS, default="ko",
                       help="TODOs show both; this one first (default ko)")  # fmt: skip
    start.add_argument("--force", action="store_true",
                       help="write into a non-empty DIR, over the files there")  # fmt: skip
    start.add_argument("--solutions", action="store_true",
                       help="every solution in place: the answer key for instructors")  # fmt: skip
    start.set_defaults(run=run_start)

    def with_dir(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--dir", type=Path, help="the workspace (default: where you are)")
        return parser

    check_p = with_dir(actions.add_parser("check", help="run a step's tests on your code"))
    check_p.add_argument("step", nargs="?", type=int, choices=STEP_NUMBERS,
                         help="the step (default: the first unfinished one)")  # fmt: skip
    check_p.add_argument("--all", action="store_true", help="check every step in order")
    check_p.set_defaults(run=run_check)
    watch = with_dir(actions.add_parser("watch", help="re-check the current step on every save"))
    for parser in (check_p, watch):
        parser.add_argument("--timeout", type=seconds, default=limits.DEFAULT_S, metavar="SECONDS",
                            help="each test's time limit (twenty times it for a claim's training; "
                            "default %(default)g)")  # fmt: skip

    with_dir(actions.add_parser("progress", help="every step and TODO: done or not")).set_defaults(
        run=run_progress
    )
    hint = with_dir(actions.add_parser("hint", help="one more hint for a step each time"))
    hint.add_argument("step", type=int, choices=STEP_NUMBERS)
    hint.set_defaults(run=run_hint)
    solution = actions.add_parser("solution", help="print the reference solution of a step")
    solution.add_argument("step", type=int, choices=STEP_NUMBERS)
    solution.set_defaults(run=run_solution)
    watch.set_defaults(run=run_watch)
    restore = actions.add_parser("restore", help="put back the course's tests, conftest, config")
    with_dir(restore).set_defaults(run=run_restore)
    reset = with_dir(actions.add_parser("reset", help="a step's files back to their stubs"))
    reset.add_argument("step", type=int, choices=STEP_NUMBERS)
    reset.set_defaults(run=run_reset)


def run_start(args: argparse.Namespace) -> int:
    written = workspace.start(args.dir, lang=args.lang, force=args.force, solutions=args.solutions)
    if written[-1].startswith(backup.BACKUP_DIR):
        print(text("check.kept", args.lang, where=Path(args.dir) / written[-1]))
    what = "with every solution in place" if args.solutions else "with the TODOs to write"
    print(f"wrote the course workspace to {args.dir} ({what}).")
    print(f"next: cd {args.dir} && learngpt course check   (README.md lists the steps)")
    return 0


def run_check(args: argparse.Namespace) -> int:
    if args.all and args.step is not None:
        raise UserError("give a step number or --all, not both")
    where = workspace.find(args.dir)
    steps = STEP_NUMBERS if args.all else [args.step or current_step(where)]
    ok = True
    for step in steps:
        started = time.perf_counter()
        result = check(where, step, args.timeout)
        print(format_result(result) + f"  ({time.perf_counter() - started:.0f} s)", flush=True)
        ok = ok and result.passed
    return 0 if ok else 1


def run_progress(args: argparse.Namespace) -> int:
    print(tutor.progress_table(workspace.find(args.dir)))
    return 0


def run_hint(args: argparse.Namespace) -> int:
    print(tutor.next_hint(workspace.find(args.dir), args.step))
    return 0


def run_solution(args: argparse.Namespace) -> int:
    print(tutor.solution(args.step), end="")
    return 0


def run_watch(args: argparse.Namespace) -> int:
    where = workspace.find(args.dir)

    def recheck() -> None:
        step = current_step(where)
        print(f"\n== {time.strftime('%H:%M:%S')} checking step {step}", flush=True)
        print(format_result(check(where, step, args.timeout)), flush=True)
        print("watching mygpt/ for changes (Ctrl-C to stop)", flush=True)

    try:
        tutor.watch(where, recheck)
    except KeyboardInterrupt:
        print("\nstopped watching.")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    where = workspace.find(args.dir)
    lang = workspace.lang_of(where)
    restored, kept = integrity.restore(where)
    if not restored:
        print(text("check.nothing_to_restore", lang))
        return 0
    print(text("check.restored", lang, files=", ".join(restored)))
    if kept:
        print(text("check.kept", lang, where=kept))
    return 0


def run_reset(args: argparse.Namespace) -> int:
    where = workspace.find(args.dir)
    lang = workspace.lang_of(where)
    files, kept = backup.reset(where, args.step)
    print(text("check.reset", lang, step=args.step, files=", ".join(files)))
    print(text("check.kept", lang, where=kept) if kept else text("check.nothing_kept", lang))
    return 0
