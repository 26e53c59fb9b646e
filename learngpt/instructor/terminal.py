"""The report in a terminal: one row per learner, one mark per TODO; and the step views.

Each step's column holds one mark per TODO (✓ done, ✗ failing, ~ waiting, ? unchecked,
- not started: the marks are catalog text, all one column wide in Korean terminals too); with
--verify, the marks are what the re-run found and `!` flags a step whose state claims more.
"""

from __future__ import annotations

import io
from datetime import datetime

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from learngpt.exercises.catalog import catalog, text
from learngpt.exercises.syllabus import get_step
from learngpt.instructor.checker import state_word
from learngpt.instructor.learners import Learner, StepRow
from learngpt.instructor.records import problems
from learngpt.instructor.views import StepView

MARKS = {
    "done": "report.marks.done",
    "failing": "report.marks.failing",
    "waiting": "report.marks.waiting",
    "unchecked": "report.marks.unchecked",
    "not started": "report.marks.not started",
}
COLUMNS = {
    "learner": "report.columns.learner",
    "lang": "report.columns.lang",
    "done": "report.columns.done",
    "verified": "report.columns.verified",
    "hints": "report.columns.hints",
    "last_check": "report.columns.last_check",
    "notes": "report.columns.notes",
}
# a rule under the header in ASCII: box-drawing characters are "ambiguous" in East Asian widths
HEAD_RULE = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


def mark(state: str, lang: str) -> str:
    return text(MARKS[state], lang) if state in MARKS else "?"


def step_cell(row: StepRow, lang: str) -> str:
    todos = row.verified.todos if row.verified is not None else row.todos
    cell = "".join(mark(state, lang) for state in todos.values())
    return cell + (text("report.marks.mismatch", lang) if row.mismatch else "")


def hints_cell(learner: Learner) -> str:
    return " ".join(f"{r.step}:{r.hints}" for r in learner.steps if r.hints)


def notes(learner: Learner, lang: str) -> list[str]:
    """Everything an instructor should look at: the folder's problems, edited course files, and
    (with --verify) the steps whose state claims more than the re-run found."""
    found = problems(learner, lang)
    if learner.edited:
        found.append(text("report.notes.edited", lang, files=", ".join(learner.edited)))
    for row in learner.steps:
        if row.verified is not None and row.mismatch and row.state != row.verified.state:
            claimed, verified = state_word(row.state, lang), state_word(row.verified.state, lang)
            found.append(
                text(
                    "report.notes.mismatch", lang, step=row.step, claimed=claimed, verified=verified
                )
            )
    return found


def mistake_text(key: str, lang: str) -> str:
    """A named mistake in words (its key, where the catalog no longer has it)."""
    return str(catalog(lang).get(f"mistakes.{key}", key))


def short_time(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M") if stamp else ""


def grid(learners: list[Learner], steps: list[int], lang: str, verified: bool) -> Table:
    table = Table(box=HEAD_RULE, pad_edge=False, show_edge=False)
    columns = ["learner", "lang", *map(str, steps), "done"]
    columns += ["verified"] if verified else []
    for column in [*columns, "hints", "last_check", "notes"]:
        header = column if column.isdigit() else text(COLUMNS[column], lang)
        table.add_column(Text(header), no_wrap=True)
    for learner in learners:
        cells = [learner.name, learner.lang or ""]
        by_step = {r.step: r for r in learner.steps}
        cells += [step_cell(by_step[s], lang) if s in by_step else "" for s in steps]
        cells.append(str(learner.done()) if learner.workspace else "")
        if verified:
            cells.append(str(learner.done(verified=True)) if learner.workspace else "")
        cells += [hints_cell(learner), short_time(learner.last_check)]
        cells.append("; ".join(notes(learner, lang)))
        table.add_row(*map(Text, cells))  # Text: a name is never read as rich's markup
    return table


def render(before: list[str], table: Table, after: list[str], width: int | None = None) -> str:
    """Lines of text, the table, more lines: plain text (no colour, no padding at the ends of
    lines). The table is never squeezed (rich would cut a learner's name short, or a step's
    marks): it has the width it needs, and a narrower terminal wraps its lines."""
    console = Console(file=io.StringIO(), width=width, highlight=False, color_system=None)
    wide = console.options.update(max_width=10_000)
    console.width = max(console.width, Measurement.get(console, wide, table).maximum)
    with console.capture() as captured:
        console.print(table)
    drawn = [line.rstrip() for line in captured.get().splitlines()]
    return "\n".join([*before, *drawn, *after]) + "\n"


def view_lines(view: StepView, lang: str) -> list[str]:
    """Who is where at one step, and the named mistakes counted, most common first."""
    lines = [
        text("report.view.header", lang, step=view.step, title=get_step(view.step).title(lang))
    ]
    for state, names in view.by_state.items():
        lines.append(
            text(
                "report.view.state",
                lang,
                state=state_word(state, lang),
                count=len(names),
                total=view.learners,
                learners=", ".join(names),
            )
        )
    if not view.mistakes:
        return [*lines, text("report.view.no_mistakes", lang)]
    lines.append(text("report.view.mistakes", lang))
    for m in view.mistakes:
        lines.append(
            text(
                "report.view.mistake",
                lang,
                count=m.count,
                learners=", ".join(m.learners),
                mistake=mistake_text(m.key, lang),
            )
        )
    return lines
