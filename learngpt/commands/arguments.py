"""argparse pieces the sub-commands share: number checks and one flag per config key."""

from __future__ import annotations

import argparse
import typing
from pathlib import Path
from typing import Any

from learngpt.config import flags
from learngpt.errors import UserError


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line is a UserError (one line, no usage dump)."""

    def error(self, message: str):  # type: ignore[override]
        raise UserError(f"{message}; see '{self.prog} --help'")


def _number(kind, text: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None


def non_negative(kind):
    """An argparse `type`: a number of `kind` that is >= 0."""

    def parse(text: str):
        value = _number(kind, text)
        if not value >= 0:
            raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def positive(kind):
    """An argparse `type`: a number of `kind` that is > 0."""

    def parse(text: str):
        value = _number(kind, text)
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


def add_config_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    """One flag per key of the config dataclass `cls` (flat: --n-layers), help from the field.

    Defaults stay in the dataclass: a flag not given leaves nothing in the namespace, so only
    what the user typed overrides the config file.
    """
    group = parser.add_argument_group("config keys (override the config file)")
    for name, flag in flags(cls).items():
        names = ["--" + n.replace("_", "-") for n in (name, *flag.aliases)]
        text = f"{flag.help} (default {flag.default})"
        if flag.kind is bool:
            group.add_argument(
                *names, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=text
            )
        else:
            group.add_argument(
                *names,
                dest=name,
                type=_config_value(flag.kind),
                default=argparse.SUPPRESS,
                metavar=name.upper(),
                help=text,
            )


def _config_value(kind: Any):
    """The argparse `type` for a config field: int, float, str, or an Optional of one."""
    kinds = typing.get_args(kind) or (kind,)
    base = next(k for k in kinds if k is not type(None))
    optional = type(None) in kinds

    def parse(text: str):
        if optional and text.lower() in ("none", "null"):
            return None
        return _number(base, text)

    parse.__name__ = base.__name__
    return parse


def config_flags(overrides: dict[str, Any]) -> list[str]:
    """The flags that give these config keys these values (add_config_flags parses them back)."""
    flags = []
    for name, value in overrides.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            flags.append(flag if value else "--no-" + flag[2:])
        else:
            flags += [flag, "none" if value is None else str(value)]
    return flags


def config_overrides(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The config keys the user gave as flags."""
    keys = flags(cls)
    return {k: v for k, v in vars(args).items() if k in keys}


def add_max_new_tokens(parser: argparse.ArgumentParser) -> None:
    """--max-new-tokens, as `sample` and `demo` both take it."""
    parser.add_argument(
        "--max-new-tokens",
        type=non_negative(int),
        default=500,
        metavar="N",
        help="tokens to generate per sample (default 500)",
    )
