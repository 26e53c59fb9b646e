"""`learngpt course`: the course as exercises, in a workspace of your own.

learngpt course start DIR [--lang ko|en] [--force] [--solutions]
learngpt course check [N | --all] [--dir DIR]
learngpt course progress | hint N | solution N | answers N | watch   [--dir DIR]
learngpt course restore | reset N   [--dir DIR]
learngpt course check and watch take --timeout SECONDS: each test's time limit (at most a day);
  stopped by Ctrl-C, SIGTERM or SIGHUP, they end the tests they were running
learngpt course report DIR... : for instructors, the class (course_report.py)

Every action takes --lang: the workspace remembers the language it was made in (Korean unless
`start --lang en`), and --lang overrides it; outside a workspace the course speaks Korean.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from learngpt.commands import course_report
from learngpt.errors import UserError
from learngpt.exercises import answers, backup, integrity, limits, tutor, workspace
from learngpt.exercises.catalog import DEFAULT_LANG, LANGS, text
from learngpt.exercises.check import check, current_step, format_result
from learngpt.exercises.syllabus import STEPS

STEP_NUMBERS = [step.number for step in STEPS]


def timeout_of(args: argparse.Namespace) -> float:
    """--timeout as seconds (a number above 0); refused in the learner's language."""
    if args.timeout is None:
        return limits.DEFAULT_S
    try:
        number = float(args.timeout)
    except ValueError:
        number = 0.0
    if not number > 0 or number == float("inf"):
        raise UserError(text("errors.timeout", lang_anywhere(args), value=args.timeout))
    if number > limits.MAX_S:
        raise UserError(text("limits.timeout_too_long", lang_anywhere(args), value=args.timeout,
                             max=limits.MAX_S))  # fmt: skip
    return number


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised wherever the main thread is (as Ctrl-C's KeyboardInterrupt):
    on its way out, the check under way kills its tests' process group (runner.run_child)."""


@contextlib.contextmanager
def stopped_by_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP (a closed terminal) raise Stopped."""

    def stop(signum: int, frame: object) -> None:
        raise Stopped(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def until_stopped(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """`run`, ended by SIGTERM or SIGHUP as by Ctrl-C, no test left running: one line on stderr,
    exit status 128 + the signal's number, as if the signal had ended the process."""

    def stoppable(args: argparse.Namespace) -> int:
        try:
            with stopped_by_signals():
                return run(args)
        except Stopped as stopped:
            (signum,) = stopped.args
            name = signal.Signals(signum).name
            print(f"error: {text('stopped', lang_anywhere(args), signal=name)}", file=sys.stderr)
            return 128 + signum

    return stoppable


def add_command(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("course", help="learn by building: the course as exercises")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=type(p))

    def with_lang(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument(
            "--lang",
            choices=LANGS,
            help="the language to speak (default: the workspace's, else ko)",
        )
        return parser

    start = with_lang(actions.add_parser("start", help="write a learner workspace into DIR"))
    start.add_argument("dir", type=Path, help="a new (or empty) directory")
    start.add_argument("--force", action="store_true",
                       help="write into a non-empty DIR, over the files there")  # fmt: skip
    start.add_argument("--solutions", action="store_true",
                       help="every solution in place: the answer key for instructors")  # fmt: skip
    start.set_defaults(run=run_start)

    def with_dir(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--dir", type=Path, help="the workspace (default: where you are)")
        return with_lang(parser)

    check_p = with_dir(actions.add_parser("check", help="run a step's tests on your code"))
    check_p.add_argument("step", nargs="?", type=int, choices=STEP_NUMBERS,
                         help="the step (default: the first unfinished one)")  # fmt: skip
    check_p.add_argument("--all", action="store_true", help="check every step in order")
    check_p.set_defaults(run=run_check)
    watch = with_dir(actions.add_parser("watch", help="re-check the current step on every save"))
    for parser in (check_p, watch):
        parser.add_argument("--timeout", metavar="SECONDS",
                            help="each test's time limit (twenty times it for a claim's training; "
                            f"default {limits.DEFAULT_S:g})")  # fmt: skip

    with_dir(actions.add_parser("progress", help="every step and TODO: done or not")).set_defaults(
        run=run_progress
    )
    hint = with_dir(actions.add_parser("hint", help="one more hint for a step each time"))
    hint.add_argument("step", type=int, choices=STEP_NUMBERS)
    hint.set_defaults(run=run_hint)
    solution = with_dir(
        actions.add_parser("solution", help="print the reference solution of a step")
    )
    solution.add_argument("step", type=int, choices=STEP_NUMBERS)
    solution.set_defaults(run=run_solution)
    answer = with_dir(
        actions.add_parser(
            "answers", help="the project's evidence-based answers to a step's questions"
        )
    )
    answer.add_argument("step", type=int, choices=STEP_NUMBERS)
    answer.set_defaults(run=run_answers)
    watch.set_defaults(run=run_watch)
    restore = actions.add_parser("restore", help="put back the course's tests, conftest, config")
    with_dir(restore).set_defaults(run=run_restore)
    reset = with_dir(actions.add_parser("reset", help="a step's files back to their stubs"))
    reset.add_argument("step", type=int, choices=STEP_NUMBERS)
    reset.set_defaults(run=run_reset)
    course_report.add_parser(actions, with_lang).set_defaults(run=run_report, dir=None)


def here(args: argparse.Namespace) -> tuple[Path, str]:
    """The workspace and the language to speak in it (--lang, else the workspace's)."""
    where = workspace.find(args.dir, args.lang)
    return where, workspace.lang_of(where, args.lang)


def lang_anywhere(args: argparse.Namespace) -> str:
    """For the actions that need no workspace: --lang, else the workspace's if in one, else ko."""
    if args.lang:
        return args.lang
    try:
        return workspace.lang_of(workspace.find(args.dir))
    except UserError:
        return DEFAULT_LANG


def run_start(args: argparse.Namespace) -> int:
    lang = args.lang or DEFAULT_LANG
    written = workspace.start(args.dir, lang=lang, force=args.force, solutions=args.solutions)
    if written[-1].startswith(backup.BACKUP_DIR):
        print(text("check.kept", lang, where=Path(args.dir) / written[-1]))
    wrote = "start.wrote_solutions" if args.solutions else "start.wrote_todos"
    print(text(wrote, lang, dir=args.dir))
    print(text("start.next", lang, dir=args.dir))
    return 0


@until_stopped
def run_check(args: argparse.Namespace) -> int:
    if args.all and args.step is not None:
        raise UserError(text("errors.step_or_all", lang_anywhere(args)))
    timeout = timeout_of(args)
    where, lang = here(args)
    steps = STEP_NUMBERS if args.all else [args.step or current_step(where)]
    ok = True
    for step in steps:
        started = time.perf_counter()
        result = check(where, step, lang, timeout)
        seconds = time.perf_counter() - started
        print(
            format_result(result, lang) + text("result.seconds", lang, seconds=seconds), flush=True
        )
        ok = ok and result.passed
    return 0 if ok else 1


def run_progress(args: argparse.Namespace) -> int:
    where, lang = here(args)
    print(tutor.progress_table(where, lang))
    return 0


def run_hint(args: argparse.Namespace) -> int:
    where, lang = here(args)
    print(tutor.next_hint(where, args.step, lang))
    return 0


def run_solution(args: argparse.Namespace) -> int:
    print(tutor.solution(args.step, lang_anywhere(args)), end="")
    return 0


def run_answers(args: argparse.Namespace) -> int:
    answers.show(args.step, lang_anywhere(args))
    return 0


@until_stopped
def run_watch(args: argparse.Namespace) -> int:
    timeout = timeout_of(args)
    where, lang = here(args)

    def recheck() -> None:
        step = current_step(where)
        print("\n" + text("watch.checking", lang, time=time.strftime("%H:%M:%S"), step=step),
              flush=True)  # fmt: skip
        print(format_result(check(where, step, lang, timeout), lang), flush=True)
        print(text("watch.watching", lang), flush=True)

    try:
        tutor.watch(where, recheck)
    except Stopped:
        raise
    except KeyboardInterrupt:
        print("\n" + text("watch.stopped", lang))
    return 0


def run_restore(args: argparse.Namespace) -> int:
    where, lang = here(args)
    restored, kept = integrity.restore(where)
    if not restored:
        print(text("check.nothing_to_restore", lang))
        return 0
    print(text("check.restored", lang, files=", ".join(restored)))
    if kept:
        print(text("check.kept", lang, where=kept))
    return 0


def run_reset(args: argparse.Namespace) -> int:
    where, lang = here(args)
    files, kept = workspace.reset(where, args.step)
    print(text("check.reset", lang, step=args.step, files=", ".join(files)))
    print(text("check.kept", lang, where=kept) if kept else text("check.nothing_kept", lang))
    return 0


def run_report(args: argparse.Namespace) -> int:
    return course_report.run(args, lang_anywhere(args), timeout_of(args) if args.verify else None)
