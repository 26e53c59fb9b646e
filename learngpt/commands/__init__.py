"""The `learngpt` command line: one sub-command per job, and one way of reporting user errors.

A user error (learngpt.errors.UserError, a bad flag) prints a single `error: ...` line on stderr
and exits with status 2; the machine refusing (a full disk, no permission) also prints one line
and exits with 1; Ctrl-C exits with 130. `--debug` shows the traceback instead.

Each command's module is imported only when that command runs (`learngpt train` never loads the
course, the web server or GPT-2 interop); `learngpt --help` imports them all to list them.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import os
import sys
from collections.abc import Sequence

from learngpt.commands.arguments import ArgumentParser
from learngpt.errors import ReportedElsewhere, UserError

DESCRIPTION = (
    "learnGPT: build a GPT step by step (`learngpt course start DIR`), then train, sample "
    "and serve small GPTs. `learngpt COMMAND --help` explains each command."
)


# The sub-commands in the order `learngpt --help` lists them; each is learngpt.commands.<module>
# with add_command(subparsers) and run(args).
COMMANDS = {
    "demo": "demo",
    "prepare": "prepare",
    "train": "train",
    "sample": "sample",
    "eval": "eval",
    "experiment": "experiment",
    "answers": "answers",
    "bpe-explore": "bpe_explore",
    "import-hf": "import_hf",
    "export-hf": "export_hf",
    "course": "course",
    "serve": "serve",
}


def chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command that argv names (its first word that is not an option), if it is one."""
    words = [a for a in argv if not a.startswith("-")]
    return words[0] if words and words[0] in COMMANDS else None


def build_parser(argv: Sequence[str] | None = None) -> ArgumentParser:
    """The parser for argv: the command it names in full (the others by name only, so that a
    typo is still told the choices), or every command when it names none."""
    parser = ArgumentParser(prog="learngpt", description=DESCRIPTION)
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=ArgumentParser
    )
    chosen = chosen_command(argv or [])
    for name, module in COMMANDS.items():
        if chosen in (None, name):
            importlib.import_module(f"learngpt.commands.{module}").add_command(commands)
        else:
            commands.add_parser(name)
    return parser


# OSError numbers that come from the user's machine rather than from a bug in learngpt
USER_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


def one_line(message: str) -> str:
    """An error message as the single line the `error: ` convention promises."""
    return " ".join(message.split())


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args, unknown = build_parser(argv).parse_known_args(argv)
        if unknown:  # name the sub-command whose --help lists the flags
            raise UserError(
                f"unrecognized arguments: {' '.join(unknown)}; see 'learngpt {args.command} --help'"
            )
        return int(args.run(args) or 0)
    except UserError as exc:
        if debug:
            raise
        if not isinstance(exc, ReportedElsewhere):
            print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `learngpt sample | head`: the reader has all it wants
        # point stdout at /dev/null so that Python's final flush does not fail again
        with contextlib.suppress(OSError, ValueError):  # e.g. stdout is not a real file
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        # the machine said no (a full disk, no permission, a read-only file system): not a bug
        if debug or exc.errno not in USER_ERRNOS:
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        print(
            f"error: {exc.strerror}{where}; free some space or fix the permissions, then retry",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        if debug:
            raise
        print("error: interrupted", file=sys.stderr)
        return 130
