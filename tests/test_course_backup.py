"""A way back (issue 33, item 6): `course reset`, `course restore` and `course start --force`
keep the learner's files in .backup/<time>/ and print the one command that puts them back,
`course restore --backup TIME` (or `latest`), which itself keeps what it replaces."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from learngpt.commands import main
from learngpt.exercises import backup
from learngpt.exercises.catalog import text
from learngpt.exercises.integrity import changed
from learngpt.exercises.skeleton import workspace_source
from learngpt.exercises.syllabus import files_of
from learngpt.exercises.workspace import start

UNDO = re.compile(r"learngpt (course restore --backup \S+(?: --dir \S+)?)$", re.MULTILINE)


def undo_command(out: str) -> list[str]:
    """The command the output says undoes what was done (it is printed once)."""
    (command,) = UNDO.findall(out)
    return shlex.split(command)


def hangul(out: str) -> bool:
    return any("가" <= c <= "힣" for c in out)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_reset_is_undone_by_the_command_it_prints(tmp_path, monkeypatch, capsys, lang):
    start(tmp_path, lang=lang)
    monkeypatch.chdir(tmp_path)
    (stub,) = files_of(3)
    head_v2 = tmp_path / "mygpt" / stub.name
    mine = workspace_source(stub, solutions=True, lang=lang) + "# my own note\n"
    head_v2.write_text(mine, encoding="utf-8")

    assert main(["course", "reset", "3"]) == 0
    out = capsys.readouterr().out
    assert head_v2.read_text(encoding="utf-8") == workspace_source(stub, lang=lang)
    undo = undo_command(out)
    (kept,) = backup.backups(tmp_path)
    assert undo == ["course", "restore", "--backup", kept]
    assert text("backup.undo", lang, name=kept) in out
    assert hangul(out) == (lang == "ko")

    assert main(undo) == 0  # the learner's code is back, and the stub it replaced is kept
    out = capsys.readouterr().out
    assert head_v2.read_text(encoding="utf-8") == mine
    assert text("backup.restored", lang, name=kept, files=f"mygpt/{stub.name}") in out
    kept_stub = backup.backups(tmp_path)[-1]
    assert (tmp_path / ".backup" / kept_stub / "mygpt" / stub.name).read_text(
        encoding="utf-8"
    ) == workspace_source(stub, lang=lang)
    assert undo_command(out) == ["course", "restore", "--backup", kept_stub]
    assert hangul(out) == (lang == "ko")

    # `latest` (or --backup alone) is the newest backup: here the stub, so it undoes the undo
    assert main(["course", "restore", "--backup"]) == 0
    assert head_v2.read_text(encoding="utf-8") == workspace_source(stub, lang=lang)
    capsys.readouterr()
    assert main(["course", "restore", "--backup", "latest"]) == 0
    assert head_v2.read_text(encoding="utf-8") == mine
    assert len(backup.backups(tmp_path)) == 4  # nothing was ever lost
    # putting back what is already there changes nothing and keeps nothing
    capsys.readouterr()
    assert main(["course", "restore", "--backup", kept]) == 0
    assert capsys.readouterr().out == text("backup.same", lang, name=kept) + "\n"
    assert len(backup.backups(tmp_path)) == 4


def test_restore_of_the_courses_tests_prints_its_way_back_too(tmp_path, capsys):
    start(tmp_path, lang="en")
    test_3 = tmp_path / "tests" / "test_3.py"
    test_3.write_text("# my own test\n")
    (tmp_path / "mygpt" / "gpt_v1.py").unlink()  # a file that is gone comes back too
    assert main(["course", "restore", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert changed(tmp_path) == []
    undo = undo_command(out)
    assert main([*undo, "--dir", str(tmp_path)]) == 0
    assert test_3.read_text() == "# my own test\n"
    assert not hangul(out + capsys.readouterr().out)


def test_start_force_prints_the_way_back_with_the_folder(tmp_path, capsys):
    workspace = tmp_path / "ws"
    start(workspace, lang="en")
    gpt_v1 = workspace / "mygpt" / "gpt_v1.py"
    gpt_v1.write_text("# mine\n")
    assert main(["course", "start", str(workspace), "--force", "--lang", "en"]) == 0
    undo = undo_command(capsys.readouterr().out)
    assert undo[-2:] == ["--dir", str(workspace)]
    assert main(undo) == 0
    assert gpt_v1.read_text() == "# mine\n"


def test_a_backup_that_is_not_there_is_one_clear_line(tmp_path, capsys):
    start(tmp_path, lang="ko")
    ws = ["--dir", str(tmp_path)]
    assert main(["course", "restore", "--backup", "latest", *ws]) == 2
    folder = tmp_path / backup.BACKUP_DIR
    assert capsys.readouterr().err == f"error: {text('backup.none', 'ko', folder=folder)}\n"
    for step in (1, 2, 3):
        (tmp_path / "mygpt" / "gpt_v1.py").write_text(f"# mine {step}\n")
        assert main(["course", "reset", "1", *ws]) == 0
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    capsys.readouterr()
    for name in ("nope", "../mygpt", ".", ""):
        assert main(["course", "restore", "--backup", name, *ws, "--lang", "en"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: --backup {name}: no such backup; the latest: ")
        assert ", ".join(backup.backups(tmp_path)) in err and err.count("\n") == 1
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_backups_are_ordered_by_time_then_by_their_count(tmp_path):
    for name in (
        "20250101-120000-10",
        "20250101-120000",
        "20250101-120000-2",
        "mine",
        "20241231-235959",
    ):
        (tmp_path / ".backup" / name).mkdir(parents=True)
    assert backup.backups(tmp_path) == [
        "20241231-235959", "20250101-120000", "20250101-120000-2", "20250101-120000-10",
    ]  # fmt: skip
    # a folder of the learner's own is chosen by name, never as the latest
    assert backup.chosen(tmp_path, "mine", "en") == Path(tmp_path, ".backup", "mine")
    assert backup.chosen(tmp_path, "latest", "en").name == "20250101-120000-10"
