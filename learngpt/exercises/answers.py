"""`learngpt course answers N`: the project's evidence-based answers to a step's questions.

The answers ship as package data (learngpt/assets/course/<lang>/answers.md, the same text as
docs/answers.md and docs/answers_kor.md, which tests/test_course_text.py keeps identical), since
docs/ is not in the wheel. A step's answers are its "## Step N" section.
"""

from __future__ import annotations

import re

from learngpt.exercises.catalog import text
from learngpt.resources import asset

STEP_HEADING = re.compile(r"^## Step (\d+)\b", re.MULTILINE)


def step_answers(step: int, lang: str) -> str:
    """Step `step`'s section of the answers, or a line saying it has no questions."""
    answers = asset("course", lang, "answers.md").read_text(encoding="utf-8")
    headings = list(STEP_HEADING.finditer(answers))
    for i, heading in enumerate(headings):
        if int(heading[1]) == step:
            end = headings[i + 1].start() if i + 1 < len(headings) else len(answers)
            return answers[heading.start() : end].rstrip() + "\n\n" + text("answers.source", lang)
    return text("answers.none", lang, step=step)
