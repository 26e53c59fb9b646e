"""`learngpt course`: the course as exercises, in a workspace of your own.

learngpt course start DIR [--lang ko|en] [--force] [--solutions]
learngpt course check [N | --all] [--dir DIR]
learngpt course hint [N] | solution [N] | answers [N]   [--dir DIR]
learngpt course progress | watch   [--dir DIR]
learngpt course restore [--backup [TIME]] | reset N   [--dir DIR]
learngpt course check and watch take --timeout SECONDS: each test's time limit (at most a day);
  stopped by Ctrl-C, SIGTERM or SIGHUP, they end the tests they were running
learngpt course report DIR... : for instructors, the class (course_report.py)

Given no N, check, hint, solution and answers act on the current step (the first not done yet)
and say which. reset, restore and start --force print the command that puts back what they
replaced (restore --backup TIME, or latest).

Every action takes --lang: the workspace remembers the language it was made in (Korean unless
`start --lang en`), and --lang overrides it; outside a workspace the course speaks Korean. So
does every --help (course_help.py).
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
from learngpt.commands.arguments import ArgumentParser
from learngpt.commands.course_help import CourseParser, speaking, with_help
from learngpt.errors import UserError
from learngpt.exercises import backup, integrity, limits, tutor, workspace
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
    course = commands.add_parser(
        "course",
        help="learn by building: the course as exercises",
        description="help.course.description",
        add_help=False,
    )
    # add_parser makes the top level's kind of parser; the course's speaks the learner's language
    course.__class__ = CourseParser
    with_help(course)
    actions = course.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=ArgumentParser,
        help="help.course.action",
    )  # fmt: skip

    def action(name: str, run: Callable, step: str | None = None, in_workspace: bool = True):
        """The parser of `course NAME`; `step`: "current" (optional, the current step by
        default) or "needed"; `in_workspace`: it takes --dir."""
        parser = with_help(actions.add_parser(name, help=f"help.{name}.summary",
                                              description=f"help.{name}.description",
                                              add_help=False))  # fmt: skip
        if step is not None:
            current = step == "current"
            parser.add_argument("step", type=int, choices=STEP_NUMBERS, metavar="N",
                                nargs="?" if current else None,
                                help="help.step_current" if current else "help.step")  # fmt: skip
        if in_workspace:
            parser.add_argument("--dir", type=Path, help="help.dir")
        parser.add_argument("--lang", choices=LANGS, help="help.lang")
        parser.set_defaults(run=run)
        return parser

    start = action("start", run_start, in_workspace=False)
    start.add_argument("dir", type=Path, help="help.start.dir")
    start.add_argument("--force", action="store_true", help="help.start.force")
    start.add_argument("--solutions", action="store_true", help="help.start.solutions")
    check_p = action("check", run_check, "current")
    check_p.add_argument("--all", action="store_true", help="help.check.all")
    for parser in (check_p, action("watch", run_watch)):
        parser.add_argument("--timeout", metavar="SECONDS", help="help.check.timeout")
    action("progress", run_progress)
    action("hint", run_hint, "current")
    action("solution", run_solution, "current")
    action("answers", run_answers, "current")
    restore = action("restore", run_restore)
    restore.add_argument("--backup", nargs="?", const=backup.LATEST, metavar="TIME",
                         help="help.restore.backup")  # fmt: skip
    action("reset", run_reset, "needed")
    report = action("report", run_report, in_workspace=False)
    course_report.add_arguments(report)
    report.set_defaults(dir=None)  # (lang_anywhere looks for a workspace where it is run)
    course.family = list(actions.choices.values())


def here(args: argparse.Namespace) -> tuple[Path, str]:
    """The workspace and the language to speak in it (--lang, else the workspace's)."""
    where = workspace.find(args.dir, args.lang)
    return where, workspace.lang_of(where, args.lang)


def lang_anywhere(args: argparse.Namespace) -> str:
    """For the actions that need no workspace: --lang, else the workspace's if in one, else ko."""
    return speaking(args.lang, args.dir)


def step_here(args: argparse.Namespace, action: str, mark: str = "") -> tuple[int, str]:
    """The step an action acts on, and the language: the step it was given, else the current
    one of the workspace (the first not done yet), said on a line of its own (after `mark`)."""
    if args.step is not None:
        return args.step, lang_anywhere(args)
    try:
        where = workspace.find(args.dir, args.lang)
    except UserError:
        where_asked = args.dir or Path.cwd()
        message = text("current.not_workspace", lang_anywhere(args), dir=where_asked, action=action)
        raise UserError(message) from None
    lang = workspace.lang_of(where, args.lang)
    step, line = tutor.current(where, lang, action)
    print(mark + line, flush=True)
    return step, lang


def say_kept(kept: Path | None, lang: str, directory: Path | None = None) -> None:
    """Where the learner's files were kept, and the command that puts them back."""
    if kept is None:
        return
    print(text("check.kept", lang, where=kept))
    if directory is None:
        print(text("backup.undo", lang, name=kept.name))
    else:
        print(text("backup.undo_in", lang, name=kept.name, dir=directory))


def run_start(args: argparse.Namespace) -> int:
    lang = args.lang or DEFAULT_LANG
    written = workspace.start(args.dir, lang=lang, force=args.force, solutions=args.solutions)
    if written[-1].startswith(backup.BACKUP_DIR):
        say_kept(Path(args.dir) / written[-1], lang, args.dir)
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
    steps = STEP_NUMBERS if args.all else [step_here(args, "check")[0]]
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
    step, _ = step_here(args, "hint")
    print(tutor.next_hint(where, step, lang))
    return 0


def run_solution(args: argparse.Namespace) -> int:
    step, lang = step_here(args, "solution", mark="# ")  # the solution stays Python
    print(tutor.solution(step, lang), end="")
    return 0


def run_answers(args: argparse.Namespace) -> int:
    from learngpt.exercises import answers  # rich's Markdown: loaded for this command only

    step, lang = step_here(args, "answers")
    answers.show(step, lang)
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
    if args.backup is not None:
        source, restored, kept = backup.put_back(where, args.backup, lang)
        done = "backup.restored" if restored else "backup.same"
        print(text(done, lang, name=source.name, files=", ".join(restored)))
    else:
        restored, kept = integrity.restore(where)
        if restored:
            print(text("check.restored", lang, files=", ".join(restored)))
        else:
            print(text("check.nothing_to_restore", lang))
    say_kept(kept, lang)
    return 0


def run_reset(args: argparse.Namespace) -> int:
    where, lang = here(args)
    files, kept = workspace.reset(where, args.step, lang)
    print(text("check.reset", lang, step=args.step, files=", ".join(files)))
    if kept is None:
        print(text("check.nothing_kept", lang))
    say_kept(kept, lang)
    return 0


def run_report(args: argparse.Namespace) -> int:
    return course_report.run(args, lang_anywhere(args), timeout_of(args) if args.verify else None)
