"""The report as one HTML page: a grid with one row per learner and one column per TODO.

The page stands alone: its style is inline, it has no script and loads nothing (it opens from
disk, or as an e-mail attachment). Every learner's name and note is escaped.
"""

from __future__ import annotations

from html import escape

from learngpt.exercises.catalog import text
from learngpt.exercises.syllabus import get_step, get_todo, todos_of
from learngpt.instructor.checker import state_word
from learngpt.instructor.learners import Learner, StepRow
from learngpt.instructor.terminal import COLUMNS, hints_cell, mark, notes, short_time, view_lines
from learngpt.instructor.views import StepView

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table.grid { border-collapse: collapse; font-size: 0.9em; }
.grid th, .grid td { border: 1px solid #ccc; padding: 0.2em 0.45em; text-align: center; }
.grid td.learner, .grid td.notes { text-align: left; }
.s-done { background: #d9f2d9; } .s-failing { background: #f8d0d0; }
.s-waiting { background: #fbeec2; } .s-unchecked { background: #e4e9f5; }
.s-not-started { color: #999; } .mismatch { outline: 3px solid #c00; outline-offset: -3px; }
.legend, .summary { color: #555; } section pre { font: inherit; white-space: pre-wrap; }
"""


def _css(state: str) -> str:
    return "s-" + state.replace(" ", "-")


def todo_cells(row: StepRow, lang: str) -> list[str]:
    """One <td> per TODO of the row's step: its mark, its state in words as the cell's title."""
    cells = []
    for todo_id, state in row.todos.items():
        shown = row.verified.todos[todo_id] if row.verified is not None else state
        title = f"{get_todo(todo_id).name(lang)}: {state_word(state, lang)}"
        if row.verified is not None:
            title += f" / {text(COLUMNS['verified'], lang)}: {state_word(shown, lang)}"
        css = _css(shown) + (" mismatch" if row.mismatch else "")
        cells.append(f'<td class="{css}" title="{escape(title)}">{escape(mark(shown, lang))}</td>')
    return cells


def header(steps: list[int], lang: str, verified: bool) -> str:
    first = [f'<th rowspan="2">{escape(text(COLUMNS[c], lang))}</th>' for c in ("learner", "lang")]
    second = []
    for step in steps:
        todos = todos_of(step)
        title = escape(get_step(step).title(lang))
        first.append(f'<th colspan="{len(todos)}" title="{title}">{step}</th>')
        second += [f'<th title="{escape(t.instruction(lang))}">{t.id}</th>' for t in todos]
    tail = ["done", *(["verified"] if verified else []), "hints", "last_check", "notes"]
    first += [f'<th rowspan="2">{escape(text(COLUMNS[c], lang))}</th>' for c in tail]
    return f"<thead><tr>{''.join(first)}</tr><tr>{''.join(second)}</tr></thead>"


def learner_row(learner: Learner, steps: list[int], lang: str, verified: bool) -> str:
    cells = [
        f'<td class="learner">{escape(learner.name)}</td>',
        f"<td>{escape(learner.lang or '')}</td>",
    ]
    by_step = {r.step: r for r in learner.steps}
    for step in steps:
        if step in by_step:
            cells += todo_cells(by_step[step], lang)
        else:
            cells += ["<td></td>"] * len(todos_of(step))
    done = [learner.done(), *([learner.done(verified=True)] if verified else [])]
    cells += [f"<td>{n if learner.workspace else ''}</td>" for n in done]
    cells += [
        f"<td>{escape(hints_cell(learner))}</td>",
        f"<td>{escape(short_time(learner.last_check))}</td>",
        f'<td class="notes">{"<br>".join(map(escape, notes(learner, lang)))}</td>',
    ]
    return f"<tr>{''.join(cells)}</tr>"


def page(
    learners: list[Learner], steps: list[int], lang: str, lines: list[str], views: list[StepView]
) -> str:
    """The whole page: `lines` (the summary) above the grid, the legend and `views` below."""
    verified = any(r.verified is not None for learner in learners for r in learner.steps)
    rows = "\n".join(learner_row(learner, steps, lang, verified) for learner in learners)
    legend = [text("report.legend", lang), *([text("report.legend_verified", lang)] * verified)]
    sections = "\n".join(
        f"<section><pre>{escape(chr(10).join(view_lines(view, lang)))}</pre></section>"
        for view in views
    )
    summary = "".join(f'<p class="summary">{escape(line)}</p>' for line in lines)
    title = escape(text("report.title", lang))
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{title}</title><style>{STYLE}</style></head>
<body>
<h1>{title}</h1>
{summary}
<table class="grid">
{header(steps, lang, verified)}
<tbody>
{rows}
</tbody>
</table>
{"".join(f'<p class="legend">{escape(line)}</p>' for line in legend)}
{sections}
</body>
</html>
"""
