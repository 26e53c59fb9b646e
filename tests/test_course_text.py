"""The course's text: whole inside the workspace, one language per workspace, links that resolve.

A Korean workspace speaks Korean (at most 5% of its output lines English prose), an English one
holds and prints no Korean; the lessons carry the course's 11 questions in its words; every
relative link of the workspace's and docs/'s Markdown resolves. (The figures: test_figures.py;
the answers: test_answers.py.)
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path
from urllib.parse import unquote

from learngpt.commands import main
from learngpt.exercises.catalog import LANGS, text
from learngpt.exercises.check import reason
from learngpt.exercises.skeleton import BEGIN, CLASS_NAMES, END, class_source, workspace_source
from learngpt.exercises.syllabus import STEPS, TODOS, files_of, get_step
from learngpt.exercises.workspace import start
from learngpt.resources import asset

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
HANGUL = re.compile("[\uac00-\ud7a3]")
PROSE = re.compile(r"[A-Za-z']{2,}[ ,]+[A-Za-z']{2,}[ ,]+[A-Za-z']{2,}")  # three words in a row


def english_prose(line: str) -> bool:
    """No Hangul, and three English words in a row once `code` spans are taken out."""
    return not HANGUL.search(line) and bool(PROSE.search(re.sub(r"`[^`]*`", "", line)))


def run(argv: list[str], capsys) -> list[str]:
    """`learngpt ARGV`'s output lines (stdout and stderr), empty ones left out."""
    main(argv)
    captured = capsys.readouterr()
    return [line for line in (captured.out + captured.err).splitlines() if line.strip()]


def learner_session(tmp_path: Path, lang: str, capsys, solve: bool = True) -> list[str]:
    """What a learner meets on step 3: start, check (fails), hint x3, progress, blocked step 4,
    check (passes, if `solve`), and the error of a course command outside a workspace."""
    workspace = tmp_path / f"ws_{lang}"
    lines = run(["course", "start", str(workspace), "--solutions", "--lang", lang], capsys)
    for f in files_of(3):  # step 3 not written yet, in the workspace's language
        source = workspace_source(f, lang=lang)
        (workspace / "mygpt" / f.name).write_text(source, encoding="utf-8")
    ws = ["--dir", str(workspace)]
    lines += run(["course", "check", "3", *ws], capsys)
    lines += run(["course", "check", "4", *ws], capsys)
    for _ in range(3):
        lines += run(["course", "hint", "3", *ws], capsys)
    lines += run(["course", "progress", *ws], capsys)
    if solve:
        for f in files_of(3):
            solved = workspace_source(f, solutions=True, lang=lang)
            (workspace / "mygpt" / f.name).write_text(solved, encoding="utf-8")
        lines += run(["course", "check", "3", *ws], capsys)
    outside = ["course", "check", "--dir", str(tmp_path / "nowhere")]
    lines += run(outside + (["--lang", "en"] if lang == "en" else []), capsys)  # else Korean
    return lines


def test_a_korean_workspace_speaks_korean_and_an_english_one_no_korean(tmp_path, capsys):
    korean = learner_session(tmp_path, "ko", capsys)
    english_lines = [line for line in korean if english_prose(line)]
    assert len(english_lines) <= 0.05 * len(korean), english_lines
    assert text("errors.not_workspace", "ko", dir=tmp_path / "nowhere") in korean[-1]
    assert any(text("result.done", "ko") in line for line in korean)  # the check that passed

    english = learner_session(tmp_path, "en", capsys, solve=False)  # one check less: faster
    assert not [line for line in english if HANGUL.search(line)]
    assert any("TODO 3-1 is not written yet" in line for line in english)
    for path in (tmp_path / "ws_en").rglob("*"):
        if path.is_file() and path.suffix in {".py", ".md", ".ini", ".json", ".yaml"}:
            assert not HANGUL.search(path.read_text(encoding="utf-8")), path


def test_every_workspace_file_of_a_korean_workspace_is_korean_or_code(tmp_path):
    start(tmp_path, lang="ko")
    for path in [*(tmp_path / "mygpt").glob("*.py"), tmp_path / "README.md"]:
        lines = path.read_text(encoding="utf-8").splitlines()
        prose = [line for line in lines if english_prose(line) and "learngpt course" not in line]
        assert not [line for line in prose if line.lstrip().startswith(("#", '"""', "'"))], path


def prose_lines(markdown: str) -> list[str]:
    """The non-empty lines outside code blocks."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and line.strip():
            out.append(line)
    return out


def hangul_share(markdown: str) -> float:
    lines = prose_lines(markdown)
    return sum(bool(HANGUL.search(line)) for line in lines) / len(lines)


def lesson(lang: str, step: int) -> str:
    path = asset("course", lang, "lessons", f"{get_step(step).lesson}.md")
    return path.read_text(encoding="utf-8")


def test_the_lessons_hold_the_courses_11_questions_in_its_words():
    course = (DOCS / "course" / "course_kor.md").read_text(encoding="utf-8")
    course += (DOCS / "course" / "week2_kor.md").read_text(encoding="utf-8")
    count = 0
    for step in STEPS:
        for ko, en in zip(step.questions("ko"), step.questions("en"), strict=True):
            assert ko in course, ko  # the seeds' own words
            assert ko in lesson("ko", step.number), (step.number, ko)
            assert en in lesson("en", step.number), (step.number, en)
            count += 1
    assert count == 11


def test_the_korean_lessons_are_as_korean_as_the_course_text():
    course = (DOCS / "course" / "course_kor.md").read_text(encoding="utf-8")
    course += (DOCS / "course" / "week2_kor.md").read_text(encoding="utf-8")
    lessons = "\n".join(lesson("ko", step.number) for step in STEPS)
    assert hangul_share(lessons) >= hangul_share(course)
    assert not HANGUL.search("\n".join(lesson("en", step.number) for step in STEPS))


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)|<img\s[^>]*src=['\"]([^'\"]+)['\"]")


def broken_links(markdown_file: Path) -> list[str]:
    """The relative links and images of a Markdown file that point at no file."""
    broken = []
    for line in prose_lines(markdown_file.read_text(encoding="utf-8")):
        for match in LINK.finditer(line):
            target = unquote((match[1] or match[2]).split("#")[0])
            if not target or re.match(r"^[a-z]+:", target):  # http:, mailto:, an anchor
                continue
            if not (markdown_file.parent / target).exists():
                broken.append(f"{markdown_file}: {target}")
    return broken


def test_every_relative_link_and_image_in_the_workspace_and_docs_resolves(tmp_path):
    files = [ROOT / "README.md", *DOCS.rglob("*.md")]
    for lang in ("ko", "en"):
        start(tmp_path / lang, lang=lang)
        files += list((tmp_path / lang).rglob("*.md"))
    assert len(files) > 30
    assert [link for f in files for link in broken_links(f)] == []
    sample = tmp_path / "sample.md"
    sample.write_text("![a](img/none.png) <img src='../nope.png'> [ok](sample.md)\n")
    assert len(broken_links(sample)) == 2  # the check itself finds what is missing


def test_week_2_todos_show_the_courses_own_labels_in_the_stubs_and_messages(tmp_path):
    start(tmp_path / "ko", lang="ko")
    start(tmp_path / "en", lang="en")
    stub = (tmp_path / "ko" / "mygpt" / "feed_forward.py").read_text(encoding="utf-8")
    assert "# TODO 8-1 (2주차 TODO 2-1)" in stub
    assert "# TODO 10-1 (week 2 TODO 4)" in (tmp_path / "en" / "mygpt" / "block_v4.py").read_text()
    why, todo = reason({"kind": "todo", "todo": "9-2"}, "ko", 9)
    assert todo == "9-2" and why.startswith("아직 작성하지 않은 TODO 9-2 (2주차 TODO 3-2): ")
    why, _ = reason({"kind": "todo", "todo": "8-3"}, "en", 9)
    assert why == "it needs TODO 8-3 (week 2 TODO 2-3): finish step 8 first"


# ----------------------------------------------------------------------------------------------
# Hints that work: the code a hint shows is the answer key's


def solution_regions(step: int) -> list[tuple[str, str, str]]:
    """(TODO id, "Class.method", its code) of each solution region of the step's classes."""
    regions = []
    for f in files_of(step):
        for cls in f.classes:
            method, todo, lines = "", None, []
            # (a class's source ends at its last statement: its last region has no END line)
            for line in [*class_source(f.module, cls).splitlines(), "# END SOLUTION"]:
                method = (re.match(r"^    def (\w+)\(", line) or [None, method])[1]
                if BEGIN.match(line):
                    todo, lines = BEGIN.match(line)["id"], []
                elif END.match(line) and todo:
                    regions.append((todo, f"{cls}.{method}", textwrap.dedent("\n".join(lines))))
                    todo = None
                elif todo:
                    lines.append(line)
    return regions


def hint_code(hint: str) -> list[tuple[str | None, str]]:
    """A hint's code blocks (its lines indented by 4): (the `Class.method` its line names, code)."""
    blocks, label, lines = [], None, []
    for line in [*hint.splitlines(), ""]:
        if line.startswith("    "):
            lines.append(line[4:])
            continue
        if lines:
            blocks.append((label, "\n".join(lines)))
            lines = []
        names = re.findall(r"`(\w+\.\w+)`", line)
        label = names[-1] if names else None
    return blocks


def matches(pattern: ast.AST, node: ast.AST) -> bool:
    """`node` is `pattern`, where `...` stands for anything and a call may pass more keywords."""
    if isinstance(pattern, ast.Constant) and pattern.value is Ellipsis:
        return True
    if type(pattern) is not type(node):
        return False
    for name, value in ast.iter_fields(pattern):
        other = getattr(node, name, None)
        if name == "keywords":
            if not all(any(matches(k, o) for o in other) for k in value):
                return False
        elif isinstance(value, list):
            if len(value) != len(other) or not all(map(matches, value, other)):
                return False
        elif isinstance(value, ast.AST):
            if not isinstance(value, ast.expr_context) and not matches(value, other):
                return False
        elif value != other:
            return False
    return True


def shown_in(fragment: str, code: str) -> bool:
    """The fragment of code a hint quotes is part of `code`."""
    (statement,) = ast.parse(fragment).body
    pattern = statement.value if isinstance(statement, ast.Expr) else statement
    return any(matches(pattern, node) for node in ast.walk(ast.parse(code)))


def test_every_todo_is_in_the_class_the_syllabus_names():
    found = {
        todo: method.split(".")[0] for s in STEPS for todo, method, _ in solution_regions(s.number)
    }
    assert found == {t.id: t.cls for t in TODOS}


def test_every_hint_that_shows_code_shows_the_answer_keys_code():
    """Pasted as the step's code, a hint's code is the answer key's, statement for statement, so
    it passes the step's tests (tests/test_course.py runs them on the answer key); each piece of
    code an earlier hint quotes is a part of it. The code is the same in both languages."""
    for step in STEPS:
        regions = solution_regions(step.number)
        blocks = {lang: [b for h in step.hints(lang) for b in hint_code(h)] for lang in LANGS}
        assert blocks["ko"] == blocks["en"] and blocks["en"], step.number
        for method, code in blocks["en"]:
            same = [
                r
                for _, m, r in regions
                if m == method and ast.dump(ast.parse(r)) == ast.dump(ast.parse(code))
            ]
            assert same, (step.number, method, code)
        for lang in LANGS:
            for hint in step.hints(lang):
                for fragment in re.findall(r"`([^`]+)`", hint):
                    if (
                        re.fullmatch(r"\w+\.\w+", fragment)
                        and fragment.split(".")[0] in CLASS_NAMES
                    ):
                        continue  # a name: `HeadVer1.forward`
                    assert any(shown_in(fragment, r) for _, _, r in regions), (
                        step.number,
                        fragment,
                    )
