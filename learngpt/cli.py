"""The `learngpt` command line: one sub-command per job, and one way of reporting user errors.

A user error (learngpt.errors.UserError, a bad flag) prints a single `error: ...` line on stderr
and exits with status 2; Ctrl-C exits with 130. `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from learngpt.errors import UserError


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line is a UserError (one line, no usage dump)."""

    def error(self, message: str):  # type: ignore[override]
        raise UserError(f"{message}; see '{self.prog} --help'")


def build_parser() -> ArgumentParser:
    from learngpt import demo

    parser = ArgumentParser(prog="learngpt", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    for module in (demo,):
        module.add_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        return int(args.run(args) or 0)
    except UserError as exc:
        if debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if debug:
            raise
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `learngpt sample | head`
        sys.stderr.close()
        return 0
