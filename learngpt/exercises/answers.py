"""`learngpt course answers N`: the project's evidence-based answers to a step's questions.

The answers are the learner's text, one Markdown file per language: learngpt/assets/course/<lang>/
answers.md, the one source (tests/test_answers.py checks its tables against the code that computes
them; docs/answers.md tells how they are made). A step's answers are its `## ` section, the one
whose heading holds the step's number. Its figures are in the workspace's answers/img/, copied by
`course start` from learngpt/assets/course/answers/img/.

`show` prints them for the terminal with rich: wrapped to the terminal's width (80 columns when
the output is not a terminal; COLUMNS is respected), each table as aligned columns (or, where its
columns do not fit, one record per row: a title line and the row's header/value pairs), each
figure as the path of its file in the workspace, and no Markdown syntax left over.
"""

from __future__ import annotations

import re
import sys
from typing import TextIO

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.markdown import ImageItem, Markdown, TableElement
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from learngpt.exercises.catalog import text
from learngpt.resources import asset

SECTION = re.compile(r"^## \D*?(\d+)(?!\d)", re.MULTILINE)  # "## Step 9: ..." / "## 9단계: ..."
FIGURES = "answers/img"  # where a workspace keeps the answers' figures
# rich's SIMPLE_HEAD with an ASCII rule: box-drawing characters are "ambiguous" in East Asian
# widths, and some Korean terminals draw them two columns wide
HEAD_RULE = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


def step_answers(step: int, lang: str) -> str | None:
    """Step `step`'s section of the answers (Markdown), or None if it has no questions."""
    answers = asset("course", lang, "answers.md").read_text(encoding="utf-8")
    headings = list(SECTION.finditer(answers))
    for i, heading in enumerate(headings):
        if int(heading[1]) == step:
            end = headings[i + 1].start() if i + 1 < len(headings) else len(answers)
            return answers[heading.start() : end].rstrip() + "\n"
    return None


def show(step: int, lang: str, file: TextIO | None = None) -> None:
    """Print step `step`'s answers for the terminal `file` (default stdout) is."""
    console = Console(file=file or sys.stdout, highlight=False)
    section = step_answers(step, lang)
    if section is None:
        console.print(text("answers.none", lang, step=step))
        return
    with console.capture() as captured:
        console.print(AnswerMarkdown(section + "\n" + text("answers.source", lang), lang))
    lines = [line.rstrip(" ") for line in captured.get().splitlines()]  # rich pads to the width
    for i, line in enumerate(lines):
        if line or (i and lines[i - 1]):  # one empty line between blocks, not two
            console.file.write(line + "\n")


class Figure(ImageItem):
    """An image: the path of its file in the workspace and its caption (its alt text)."""

    @classmethod
    def create(cls, markdown: AnswerMarkdown, token) -> Figure:
        figure = cls(str(token.attrs.get("src", "")), hyperlinks=False)
        figure.lang = markdown.lang
        return figure

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        path = f"{FIGURES}/{self.destination.rsplit('/', 1)[-1]}"
        yield Text(text("answers.figure", self.lang, path=path, caption=self.text.plain))


class FittedTable(TableElement):
    """A table as aligned columns where they fit the width; else one record per row."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        header = [cell.content for cell in self.header.row.cells] if self.header else []
        rows = [[cell.content for cell in row.cells] for row in self.body.rows] if self.body else []
        columns = Table(box=HEAD_RULE, pad_edge=False, show_edge=False, collapse_padding=True)
        for heading in header:
            columns.add_column(heading, header_style="bold", overflow="fold")
        for row in rows:
            columns.add_row(*row)
        unwrapped = Measurement.get(console, options.update(max_width=10_000), columns)
        if unwrapped.maximum <= options.max_width:
            yield columns
        else:
            yield records(header, rows)


def records(header: list[Text], rows: list[list[Text]]) -> Group:
    """Each row as a record: "header 0: cell 0" on a line, then "  header  cell" per column."""
    label_width = 2 + max((heading.cell_len for heading in header[1:]), default=0)
    parts = []
    for i, row in enumerate(rows):
        parts.append(Text.assemble(header[0], ": ", row[0], style="bold"))
        pairs = Table(box=None, show_header=False, pad_edge=False, padding=(0, 2, 0, 0))
        pairs.add_column(width=min(label_width, 40), overflow="fold")
        pairs.add_column(overflow="fold")
        for heading, cell in zip(header[1:], row[1:], strict=False):
            pairs.add_row(Text.assemble("  ", heading), cell)
        parts += [pairs, Text("")] if i + 1 < len(rows) else [pairs]
    return Group(*parts)


class AnswerMarkdown(Markdown):
    """rich's Markdown, with figures as workspace paths and tables that fit the terminal."""

    elements = {**Markdown.elements, "image": Figure, "table_open": FittedTable}

    def __init__(self, markup: str, lang: str):
        super().__init__(markup, hyperlinks=False)
        self.lang = lang
