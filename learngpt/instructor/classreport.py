"""`learngpt course report`: the class, read (and with --verify checked again), in one format.

collect() finds and reads the learners; verify.verify_class() re-runs their checks; render()
writes the report: a terminal table (with the step views under it for --step / --by-step),
CSV or JSON (one record per learner and step), or one HTML page.
"""

from __future__ import annotations

import time
from pathlib import Path

from learngpt.errors import UserError
from learngpt.exercises.catalog import text
from learngpt.instructor import page, records, terminal
from learngpt.instructor.learners import Learner, find_learners
from learngpt.instructor.views import step_view


def collect(paths: list[Path], steps: list[int], lang: str) -> list[Learner]:
    """The learners under `paths`, read at `steps`; a UserError when none is a workspace."""
    learners = find_learners(paths, steps)
    if not any(learner.workspace for learner in learners):
        where = ", ".join(str(p) for p in paths)
        raise UserError(text("report.errors.no_workspace", lang, paths=where))
    return learners


def summary(learners: list[Learner], lang: str, timeout: float | None) -> list[str]:
    """What the report covers: how many learners, when; with --verify, under what limit."""
    workspaces = sum(learner.workspace for learner in learners)
    when = time.strftime("%Y-%m-%d %H:%M")
    lines = [text("report.summary", lang, learners=len(learners), workspaces=workspaces, when=when)]
    if timeout is not None:
        lines.append(text("report.verified_summary", lang, seconds=f"{timeout:g}"))
    return lines


def render(
    learners: list[Learner],
    steps: list[int],
    lang: str,
    form: str = "table",
    views: bool = False,
    timeout: float | None = None,
) -> str:
    """The report in `form`; `views`: the step views too (table, html); `timeout`: the limit
    the checks were re-run under (None: they were not)."""
    verified = timeout is not None
    if form == "json":
        return records.as_json(learners, lang, verified)
    if form == "csv":
        return records.as_csv(learners, lang, verified)
    shown = [step_view(learners, step) for step in steps] if views else []
    lines = summary(learners, lang, timeout)
    if form == "html":
        return page.page(learners, steps, lang, lines, shown)
    legend = [text("report.legend", lang), *([text("report.legend_verified", lang)] * verified)]
    grid = terminal.grid(learners, steps, lang, verified)
    below = [*legend, *(line for view in shown for line in ["", *terminal.view_lines(view, lang)])]
    return terminal.render(lines, grid, below)
