"""The lessons agree with the workspace they are read in (issue 33, items 3 and 9).

Every figure a lesson shows is shown at no less than 0.6 of its pixel width (so its text stays
readable); every file a lesson names is in the workspace; every TODO a lesson states asks for
what the stub asks (each method the reference solves for that TODO).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from PIL import Image

from learngpt.exercises.catalog import LANGS
from learngpt.exercises.workspace import start

COURSE = Path(__file__).resolve().parent.parent / "learngpt" / "course"
IMG = re.compile(r"<img\s[^>]*>")
EXTENSIONS = "py|md|txt|yaml|png|ini|json"
FILE_NAME = re.compile(rf"(--[\w-]+[ =])?([\w./-]*\w\.(?:{EXTENSIONS}))(?![A-Za-z0-9_])")
TODO_LINE = re.compile(r"^\s*(?:>|-)\s*TODO (\d+-\d+)\b(.*)$", re.MULTILINE)


@pytest.fixture(scope="module", params=LANGS)
def workspace(request, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp(f"ws_{request.param}")
    start(directory, lang=request.param)
    return directory


def lessons(workspace: Path) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(workspace.glob("lessons/*.md"))}


def shown_images(lesson: Path, markdown: str) -> list[tuple[Path, int | None]]:
    """(image file, the width it is shown at, None if none is given) of every <img> and ![]()."""
    found = []
    for tag in IMG.findall(markdown):
        src = re.search(r"src=['\"]([^'\"]+)['\"]", tag)[1]
        width = re.search(r"width=['\"]?(\d+)", tag)
        found.append((lesson.parent / src, int(width[1]) if width else None))
    for src in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", markdown):
        found.append((lesson.parent / src, None))
    return found


def test_every_figure_is_shown_at_no_less_than_six_tenths_of_its_width(workspace):
    shown = [
        image for lesson, text in lessons(workspace).items() for image in shown_images(lesson, text)
    ]
    assert len(shown) >= 7
    for path, width in shown:
        with Image.open(path) as image:
            pixels = image.width
        assert width is None or width >= 0.6 * pixels, f"{path.name}: {width} of {pixels} px"


def test_the_check_finds_a_figure_shown_too_small(tmp_path):
    lesson = tmp_path / "lessons" / "x.md"
    lesson.parent.mkdir()
    assert shown_images(lesson, '<img src="../img/a.png" width="120" alt="a">\n![b](b.png)') == [
        (tmp_path / "lessons" / "../img/a.png", 120),
        (tmp_path / "lessons" / "b.png", None),
    ]


def named_files(markdown: str) -> set[str]:
    """The file names a lesson mentions, less an option's value (`--plot bpe.png` is an
    output the learner names) and web addresses."""
    text = re.sub(r"https?://\S+", "", markdown)
    return {match[2] for match in FILE_NAME.finditer(text) if not match[1]}


def test_every_file_a_lesson_names_is_in_the_workspace(workspace):
    missing = []
    for lesson, text in lessons(workspace).items():
        names = named_files(text)
        assert names or lesson.name == "10_dropout.md", lesson  # the check reads something
        for name in names:
            places = (lesson.parent / name, workspace / name, workspace / "mygpt" / name)
            if not any(place.is_file() for place in places):
                missing.append(f"{lesson.name}: {name}")
    assert missing == []


def test_the_check_of_named_files_finds_one_the_workspace_lacks():
    text = (
        "BPE를 main_bpe.py에 구현했습니다. `learngpt bpe-explore --plot bpe.png`, mygpt/gpt_v1.py"
    )
    assert named_files(text) == {"main_bpe.py", "mygpt/gpt_v1.py"}


def solved_methods() -> dict[str, set[str]]:
    """TODO id -> the methods (or classes) of the reference whose code that TODO solves."""
    solved: dict[str, set[str]] = {}
    for path in sorted(COURSE.glob("step*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef):
                continue
            for line in lines[node.lineno - 1 : node.end_lineno]:
                begin = re.search(r"# BEGIN SOLUTION (\d+-\d+)", line)
                if begin:
                    solved.setdefault(begin[1], set()).add(node.name)
    return solved


def todo_asks_for_all(statement: str, methods: set[str]) -> bool:
    """A TODO's line asks for every method it needs: it names them all (`Class.method` or
    `method`), or names none of them (the whole class, e.g. "write `FeedForward`")."""
    named = set(re.findall(r"`(?:\w+\.)?(\w+)`", statement)) & methods
    named |= {m for m in methods if re.search(rf"`\w+\.{m}`", statement)}
    mentions_method = re.search(r"`\w+\.\w+`", statement) or named
    return not mentions_method or methods <= named


def test_every_todo_a_lesson_states_asks_for_what_the_stub_asks(workspace):
    solved = solved_methods()
    assert solved["10-1"] == {"__init__", "forward"}
    stated = 0
    for lesson, text in lessons(workspace).items():
        for todo, statement in TODO_LINE.findall(text):
            stated += 1
            assert todo_asks_for_all(statement, solved[todo]), f"{lesson.name}: TODO {todo}"
    assert stated >= 15


def test_the_todo_check_finds_a_lesson_that_asks_for_part_of_the_stub():
    assert not todo_asks_for_all("`BlockVer4.forward`를 구현해주세요", {"__init__", "forward"})
    assert todo_asks_for_all("`BlockVer4`의 `__init__`과 `forward`", {"__init__", "forward"})
    assert todo_asks_for_all("write `FeedForward`.", {"__init__", "forward"})
