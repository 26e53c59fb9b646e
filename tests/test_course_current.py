"""`course hint`, `answers`, `solution` and `check` with no number act on the current step (the
first not done yet) and say which it is (issue 33, item 1), in both languages."""

from __future__ import annotations

import pytest

from learngpt.commands import main
from learngpt.exercises import check as checks
from learngpt.exercises.catalog import text
from learngpt.exercises.skeleton import workspace_source
from learngpt.exercises.syllabus import STEPS, files_of
from learngpt.exercises.tutor import solution
from learngpt.exercises.workspace import start


def hangul(out: str) -> bool:
    return any("가" <= c <= "힣" for c in out)


def passed(workspace, step: int) -> None:
    """Keep a passing check of `step` on the code as it is, as `course check` keeps it."""
    checks.remember(workspace, checks.StepResult(step, [checks.TestResult(f"test_{step}", True)]))


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_fresh_workspace_is_at_step_1_and_says_so(tmp_path, monkeypatch, capsys, lang):
    start(tmp_path, lang=lang)
    monkeypatch.chdir(tmp_path / "mygpt")  # anywhere inside the workspace
    said = {
        a: text("current.step", lang, step=1, action=a) for a in ("hint", "answers", "solution")
    }
    assert "1단계" in said["hint"] if lang == "ko" else "step 1" in said["hint"]

    assert main(["course", "hint"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == said["hint"]
    assert lines[1].startswith(text("hint.line", lang, step=1, n=1, total=3, hint="")[:8])
    assert main(["course", "answers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [said["answers"], text("answers.none", lang, step=1)]
    assert main(["course", "solution"]) == 0
    out = capsys.readouterr().out
    assert out == f"# {said['solution']}\n" + solution(1, lang)
    compile(out, "gpt_v1.py", "exec")  # still Python: the line that says which is a comment
    if lang == "en":
        assert not hangul(said["hint"] + said["answers"] + out)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_check_with_no_number_checks_the_current_step_and_says_which(tmp_path, capsys, lang):
    start(tmp_path, lang=lang)
    assert main(["course", "check", "--dir", str(tmp_path)]) == 1  # TODO 1-1 is not written
    out = capsys.readouterr().out
    assert out.splitlines()[0] == text("current.step", lang, step=1, action="check")
    assert text("result.header", lang, step=1, title=STEPS[0].title(lang)) in out
    assert hangul(out) == (lang == "ko")
    assert main(["course", "check", "1", "--dir", str(tmp_path)]) == 1
    assert text("current.step", lang, step=1, action="check") not in capsys.readouterr().out


def test_the_current_step_moves_on_as_steps_are_done(tmp_path, capsys):
    start(tmp_path, solutions=True)
    for f in files_of(3):  # step 3 not written yet; 1 and 2 checked and passed
        (tmp_path / "mygpt" / f.name).write_text(workspace_source(f), encoding="utf-8")
    passed(tmp_path, 1)
    passed(tmp_path, 2)
    ws = ["--dir", str(tmp_path)]
    assert main(["course", "hint", *ws]) == 0
    out = capsys.readouterr().out
    assert out.startswith(text("current.step", "ko", step=3, action="hint") + "\n")
    assert "3단계, 힌트 1/" in out
    assert main(["course", "answers", "--lang", "en", *ws]) == 0
    assert capsys.readouterr().out.startswith("step 3: the first step not done yet")

    for f in files_of(3):  # every step done: the last one, said as such
        (tmp_path / "mygpt" / f.name).write_text(workspace_source(f, solutions=True))
    for step in STEPS:
        passed(tmp_path, step.number)
    assert main(["course", "answers", *ws]) == 0
    out = capsys.readouterr().out
    assert out.startswith(text("current.all_done", "ko", step=10, action="answers") + "\n")
    assert "10단계: dropout" in out and "10a." in out


@pytest.mark.parametrize("action", ["hint", "answers", "solution", "check"])
def test_outside_a_workspace_no_number_is_one_clear_line(tmp_path, monkeypatch, capsys, action):
    monkeypatch.chdir(tmp_path)
    assert main(["course", action]) == 2
    err = capsys.readouterr().err
    expected = text("current.not_workspace", "ko", dir=tmp_path, action=action)
    if action in ("hint", "check"):  # these need a workspace even with a number
        expected = text("errors.not_workspace", "ko", dir=tmp_path)
    assert err == f"error: {expected}\n"
    if action in ("answers", "solution"):  # a number needs no workspace
        assert main(["course", action, "3", "--lang", "en"]) == 0
        assert not hangul(capsys.readouterr().out)
