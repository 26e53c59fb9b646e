"""argparse pieces the sub-commands share: number checks and one flag per config key."""

from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any

from learngpt.config import field_types
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


def add_config_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    """One flag per field of the config dataclass `cls`, --key-with-hyphens, help from the field.

    Defaults stay in the dataclass: a flag not given leaves nothing in the namespace, so only
    what the user typed overrides the config file.
    """
    group = parser.add_argument_group("config keys (override the config file)")
    helps = {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    for name, kind in field_types(cls).items():
        flag = "--" + name.replace("_", "-")
        text = f"{helps[name]} (default {defaults[name]})"
        if kind is bool:
            group.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=text
            )
        else:
            group.add_argument(
                flag,
                dest=name,
                type=_config_value(kind),
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


def config_overrides(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The config keys the user gave as flags."""
    keys = field_types(cls)
    return {k: v for k, v in vars(args).items() if k in keys}
