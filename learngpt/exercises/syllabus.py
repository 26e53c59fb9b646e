"""The course as exercises: its ten steps, their TODOs, and which workspace file holds which class
of learngpt/course. Structure only: every word a learner reads (titles, TODO instructions, hints,
the course's questions) is in the catalogs, learngpt/assets/course/<lang>/course.yaml.

The TODO ids match the `# BEGIN SOLUTION <id>` markers in learngpt/course/stepNN_*.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from learngpt.exercises.catalog import DEFAULT_LANG, catalog, text, texts


@dataclass(frozen=True)
class Todo:
    id: str  # "5-1": step 5, first TODO
    cls: str  # the class it is in ("HeadVer4")
    course_label: str | None = None  # the week-2 course's own number for it ("2-1"), if any

    @property
    def step(self) -> int:
        return int(self.id.split("-")[0])

    @property
    def file(self) -> str:
        """The learner's file that holds it: "mygpt/head_v4.py"."""
        return f"mygpt/{next(f.name for f in WORKSPACE_FILES if self.cls in f.classes)}"

    def instruction(self, lang: str = DEFAULT_LANG) -> str:
        return text(f"todos.{self.id}", lang)

    def name(self, lang: str = DEFAULT_LANG) -> str:
        """ "TODO 8-1", with the course's own label for week 2: "TODO 8-1 (2주차 TODO 2-1)"."""
        if self.course_label is None:
            return text("todo.name", lang, id=self.id)
        return text("todo.week2", lang, id=self.id, label=self.course_label)


@dataclass(frozen=True)
class Step:
    number: int
    lesson: str  # its lesson's file name in lessons/, without .md
    classes: tuple[str, ...]  # the classes this step's TODOs are in
    needs: tuple[int, ...]  # earlier steps whose code this step's tests run

    def title(self, lang: str = DEFAULT_LANG) -> str:
        return text(f"steps.{self.number}.title", lang)

    def teaches(self, lang: str = DEFAULT_LANG) -> str:
        return text(f"steps.{self.number}.teaches", lang)

    def hints(self, lang: str = DEFAULT_LANG) -> list[str]:
        """From a nudge to nearly the answer."""
        return texts(f"steps.{self.number}.hints", lang)

    def questions(self, lang: str = DEFAULT_LANG) -> list[str]:
        """The course's questions, in its words (week 2 only)."""
        key = f"steps.{self.number}.questions"
        return texts(key, lang) if key in catalog(lang) else []


@dataclass(frozen=True)
class WorkspaceFile:
    name: str  # the file in mygpt/
    module: str  # the learngpt.course module that holds the reference
    classes: tuple[str, ...]


# Week 2 numbers its TODOs on its own: TODO 1, 2-1, 2-2, 2-3, 3-1, 3-2, 4 (week2_kor.md).
TODOS = (
    Todo("1-1", "GPTVer1"),
    Todo("2-1", "HeadVer1"),
    Todo("2-2", "GPTVer2"),
    Todo("3-1", "HeadVer2"),
    Todo("4-1", "HeadVer3"),
    Todo("4-2", "HeadVer3"),
    Todo("5-1", "HeadVer4"),
    *(Todo(i, "GPTVer3") for i in ("6-1", "6-2", "6-3", "6-4", "6-5")),
    Todo("7-1", "MultiHeadVer1", "1"),
    Todo("8-1", "FeedForward", "2-1"),
    Todo("8-2", "BlockVer1", "2-2"),
    Todo("8-3", "BlockVer2", "2-3"),
    Todo("9-1", "LayerNorm", "3-1"),
    Todo("9-2", "BlockVer3", "3-2"),
    Todo("10-1", "BlockVer4", "4"),
)

STEPS = (
    Step(1, "01_bigram", ("GPTVer1",), ()),
    Step(2, "02_loop_average", ("HeadVer1", "GPTVer2"), (1,)),
    Step(3, "03_matmul_average", ("HeadVer2",), (2,)),
    Step(4, "04_softmax_average", ("HeadVer3",), (2, 3)),
    Step(5, "05_self_attention", ("HeadVer4",), (1, 2, 4)),
    Step(6, "06_positional_encoding", ("GPTVer3",), (1, 2, 4, 5)),
    Step(7, "07_multi_head", ("MultiHeadVer1",), (1, 2, 4, 5)),
    Step(8, "08_feed_forward", ("FeedForward", "BlockVer1", "BlockVer2"), (1, 2, 4)),
    Step(9, "09_layer_norm", ("LayerNorm", "BlockVer3"), (1, 2, 4, 8)),
    Step(10, "10_dropout", ("BlockVer4",), (1, 2, 4, 8, 9)),
)

# The learner's files, in the order the course introduces them, and where their classes live.
WORKSPACE_FILES = (
    WorkspaceFile("gpt_v1.py", "step01_bigram", ("GPTVer1",)),
    WorkspaceFile("head_v1.py", "step02_loop_average", ("HeadVer1",)),
    WorkspaceFile("gpt_v2.py", "step02_loop_average", ("GPTVer2",)),
    WorkspaceFile("head_v2.py", "step03_matmul_average", ("HeadVer2",)),
    WorkspaceFile("head_v3.py", "step04_softmax_average", ("HeadVer3",)),
    WorkspaceFile("head_v4.py", "step05_self_attention", ("HeadVer4",)),
    WorkspaceFile("gpt_v3.py", "step06_positional_encoding", ("GPTVer3",)),
    WorkspaceFile("multi_head_v1.py", "step07_multi_head", ("MultiHeadVer1",)),
    WorkspaceFile("multi_head_v2.py", "step07_multi_head", ("MultiHeadVer2",)),
    WorkspaceFile("gpt_v4.py", "step07_multi_head", ("GPTVer4",)),
    WorkspaceFile("feed_forward.py", "step08_feed_forward", ("FeedForward",)),
    WorkspaceFile("block_v1.py", "step08_feed_forward", ("BlockVer1",)),
    WorkspaceFile("block_v2.py", "step08_feed_forward", ("BlockVer2",)),
    WorkspaceFile("layer_normalization.py", "step09_layer_norm", ("LayerNorm",)),
    WorkspaceFile("block_v3.py", "step09_layer_norm", ("BlockVer3",)),
    WorkspaceFile("block_v4.py", "step10_dropout", ("BlockVer4",)),
)


def get_step(number: int) -> Step:
    for step in STEPS:
        if step.number == number:
            return step
    raise ValueError(f"the course has steps 1 to {len(STEPS)}, not {number}")


def todos_of(step: int) -> list[Todo]:
    return [todo for todo in TODOS if todo.step == step]


def get_todo(todo_id: str) -> Todo:
    return next(todo for todo in TODOS if todo.id == todo_id)


def files_of(step: int) -> list[WorkspaceFile]:
    """The workspace files the learner edits in `step`."""
    classes = set(get_step(step).classes)
    return [f for f in WORKSPACE_FILES if classes & set(f.classes)]
