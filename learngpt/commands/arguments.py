"""argparse pieces the sub-commands share: one-line errors, number checks, output files."""

from __future__ import annotations

import argparse
from pathlib import Path

from learngpt.errors import UserError


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line is a UserError (one line, no usage dump)."""

    def error(self, message: str):  # type: ignore[override]
        raise UserError(f"{message}; see '{self.prog} --help'")


def number(kind, text: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None


def non_negative(kind):
    """An argparse `type`: a number of `kind` that is >= 0."""

    def parse(text: str):
        value = number(kind, text)
        if not value >= 0:
            raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def positive(kind):
    """An argparse `type`: a number of `kind` that is > 0."""

    def parse(text: str):
        value = number(kind, text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be a positive {kind.__name__}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def output_file(text: str) -> Path:
    """An argparse `type`: a file to write, in a folder that exists.

    Checked when the command line is read, so that a long run does not fail at its end. The
    folder runs/ (learngpt's own) is made when the file is written.
    """
    path = Path(text)
    if not (path.parent.is_dir() or path.parent.parts[:1] == ("runs",)):
        raise argparse.ArgumentTypeError(
            f"cannot write {path}: folder {path.parent} does not exist"
        )
    return path


def add_max_new_tokens(parser: argparse.ArgumentParser) -> None:
    """--max-new-tokens, as `sample` and `demo` both take it."""
    parser.add_argument(
        "--max-new-tokens",
        type=non_negative(int),
        default=500,
        metavar="N",
        help="tokens to generate per sample (default 500)",
    )
