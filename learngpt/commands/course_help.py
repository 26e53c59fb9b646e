"""The course's --help in the learner's language: every word of it from the catalogs (help.yaml).

The course's parsers are built with catalog keys where argparse takes words (`help="help.lang"`,
`description=...`); `CatalogHelp` looks each key up when the help is written. Which language:
`CourseParser` reads it from the arguments it is given before argparse parses them (so that
`--help` anywhere on the line already speaks it): --lang, else the language of the workspace that
--dir names or the current folder is in, else Korean. argparse's own words (the usage prefix,
section headings, -h) are catalog keys too.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Sequence
from pathlib import Path

from learngpt.commands.arguments import ArgumentParser
from learngpt.errors import UserError
from learngpt.exercises import columns, limits, workspace
from learngpt.exercises.catalog import DEFAULT_LANG, LANGS, catalog, text

HEADINGS = {  # argparse's section headings (3.10+ says "options"; before, "optional arguments")
    "positional arguments": "help.positionals",
    "options": "help.options",
    "optional arguments": "help.options",
}
FIELDS = {"default": limits.DEFAULT_S, "max": limits.MAX_S}  # what the help texts may name
PREFIX = "\0"  # stands in for each column of the usage prefix until the help is written


def speaking(lang: str | None, directory: Path | None) -> str:
    """The language to speak: `lang` (--lang), else that of the workspace at `directory` (or the
    one the current folder is in), else the course's (outside a workspace, or its state damaged).
    """
    if lang in LANGS:
        return lang
    try:
        return workspace.lang_of(workspace.find(directory))
    except UserError:
        return DEFAULT_LANG


def option(args: Sequence[str], name: str) -> str | None:
    """The value of option `name` in `args` ("--lang en" or "--lang=en"), if given."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


class CatalogHelp(argparse.HelpFormatter):
    """argparse's help with the catalog's words in `lang`: a help, description or heading that is
    a catalog key is replaced by its text."""

    def __init__(self, prog: str, lang: str = DEFAULT_LANG):
        super().__init__(prog, max_help_position=30)
        self.lang = lang

    def words(self, key: str | None) -> str | None:
        if key in catalog(self.lang):
            return text(key, self.lang, **FIELDS)
        return key

    def add_usage(self, usage, actions, groups, prefix=None) -> None:  # noqa: ANN001 (argparse's)
        # argparse counts characters, a terminal columns: stand-ins as wide as the prefix
        stand_in = PREFIX * columns.width(self.words("help.usage"))
        super().add_usage(usage, actions, groups, stand_in)

    def format_help(self) -> str:
        prefix = self.words("help.usage")
        return super().format_help().replace(PREFIX * columns.width(prefix), prefix, 1)

    def start_section(self, heading: str | None) -> None:
        super().start_section(self.words(HEADINGS.get(heading or "", heading)))

    def add_text(self, text: str | None) -> None:
        super().add_text(self.words(text))

    def _get_help_string(self, action: argparse.Action) -> str:
        return (self.words(action.help) or "").replace("%", "%%")  # argparse fills %(...)s

    # argparse wraps by characters; Hangul takes two columns
    def _split_lines(self, text: str, width: int) -> list[str]:
        return columns.wrap(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + line for line in columns.wrap(text, width - len(indent)))


class CourseParser(ArgumentParser):
    """A parser of the course's: its help, and that of the parsers in `family` (its actions'),
    in the language the arguments it parses ask for."""

    family: list[argparse.ArgumentParser] = []

    def parse_known_args(self, args=None, namespace=None):  # noqa: ANN001 (argparse's)
        given = list(args or [])
        directory = option(given, "--dir")
        lang = speaking(option(given, "--lang"), Path(directory) if directory else None)
        for parser in [self, *self.family]:
            parser.formatter_class = functools.partial(CatalogHelp, lang=lang)
        return super().parse_known_args(args, namespace)


def with_help(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """`parser` (made with add_help=False) with its -h, --help in the catalog's words."""
    parser.add_argument("-h", "--help", action="help", help="help.help")
    return parser
