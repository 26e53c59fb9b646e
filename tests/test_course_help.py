"""Every course command's --help in the workspace's language (issue 33, item 4): its description,
arguments and options from the catalogs (help.yaml), Korean outside a workspace, --lang (before
or after --help) and --dir choosing; no Hangul in an English workspace's help."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from learngpt.commands import build_parser, main
from learngpt.exercises.catalog import catalog, text
from learngpt.exercises.columns import width
from learngpt.exercises.workspace import start


def course_parsers() -> dict[str, argparse.ArgumentParser]:
    """The parser of `course` ("") and of each of its actions, by name."""
    (commands,) = [a for a in build_parser(["course"])._actions if a.dest == "command"]
    course = commands.choices["course"]
    (actions,) = [a for a in course._actions if a.dest == "action"]
    return {"": course, **actions.choices}


def help_keys(parser: argparse.ArgumentParser) -> list[str]:
    """The catalog keys a parser's help is written from: its description and every argument's."""
    return [parser.description, *(a.help for a in parser._actions if a.help)]


def help_of(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    return capsys.readouterr().out


def flat(words: str) -> str:
    return " ".join(words.split())


def hangul(out: str) -> bool:
    return any("가" <= c <= "힣" for c in out)


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory) -> dict[str, object]:
    made = {}
    for lang in ("ko", "en"):
        made[lang] = tmp_path_factory.mktemp(lang) / "ws"
        start(made[lang], lang=lang)
    return made


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_help_speaks_the_workspaces_language(workspaces, monkeypatch, capsys, lang):
    monkeypatch.chdir(workspaces[lang] / "mygpt")
    monkeypatch.setenv("COLUMNS", "80")
    for name, parser in course_parsers().items():
        keys = help_keys(parser)
        assert all(key in catalog(lang) for key in keys), (name, keys)  # every word from there
        out = help_of(["course", *([name] if name else []), "--help"], capsys)
        assert out.startswith(text("help.usage", lang) + "learngpt course"), name
        for key in keys:
            assert flat(text(key, lang, default=30, max=86400)) in flat(out), (name, key)
        assert text("help.options", lang) + ":" in out
        positionals = [a for a in parser._actions if not a.option_strings]
        assert (text("help.positionals", lang) + ":" in out) == bool(positionals)
        assert hangul(out) == (lang == "ko"), name
        assert max(width(line) for line in out.splitlines()) <= 80, name  # Hangul as two


def test_outside_a_workspace_korean_unless_lang_or_dir_says(workspaces, tmp_path, monkeypatch,
                                                           capsys):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    korean = text("help.check.description", "ko", default=30, max=86400)
    assert flat(korean) in flat(help_of(["course", "check", "--help"], capsys))
    for argv in (
        ["course", "check", "--help", "--lang", "en"],  # --lang after --help counts too
        ["course", "check", "--lang=en", "--help"],
        ["course", "check", "--help", "--dir", str(workspaces["en"])],
        ["course", "--help", "--lang", "en"],
    ):
        assert not hangul(help_of(argv, capsys)), argv
    monkeypatch.chdir(workspaces["en"])
    assert hangul(help_of(["course", "hint", "--help", "--lang", "ko"], capsys))


def test_course_check_help_in_a_korean_workspace_is_korean(workspaces):
    done = subprocess.run(
        [sys.executable, "-m", "learngpt", "course", "check", "--help"],
        cwd=workspaces["ko"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0].startswith("사용법: learngpt course check")
    rows = [line for line in lines if line.startswith(("  -", "  N "))]  # arguments, options
    assert len(rows) == 6 and all(hangul(row) for row in rows), rows
    assert all(hangul(line) for line in lines[4:6])  # the description
