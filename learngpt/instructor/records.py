"""The report as data: one record per learner and step, for JSON (a list of objects) and CSV.

Every record has `learner`, `step` and `state` (done, failing, waiting, not started, unchecked,
as `course progress` shows it for the code now in the folder; "not a workspace" or
"unreadable", with `step` null, for a folder that is not one or cannot be read), and with
--verify `verified_state` (the same values, found by re-running the checks) and `mismatch`.
States are these English words in every language, for scripts; notes are in the report's.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from learngpt.exercises.catalog import text
from learngpt.instructor.learners import NOT_A_WORKSPACE, Learner, StepRow

UNREADABLE = "unreadable"
FIELDS = [
    "learner",
    "path",
    "lang",
    "step",
    "state",
    "todos",
    "hints",
    "mistakes",
    "edited",
    "last_check",
    "problem",
]
VERIFIED_FIELDS = [
    "verified_state",
    "verified_todos",
    "verified_mistakes",
    "verified_passed",
    "verified_total",
    "mismatch",
    "verified_note",
]


def iso_time(stamp: float | None) -> str | None:
    return datetime.fromtimestamp(stamp).isoformat(timespec="seconds") if stamp else None


def problems(learner: Learner, lang: str) -> list[str]:
    """What is wrong with the learner's folder itself, in the report's language."""
    if not learner.workspace:
        return [text("report.notes.not_a_workspace", lang)]
    found = []
    if learner.unreadable:
        found.append(text("report.notes.unreadable", lang, error=learner.unreadable))
    if learner.broken_state:
        found.append(text("report.notes.broken_state", lang, files=", ".join(learner.broken_state)))
    return found


def _verified(row: StepRow) -> dict:
    v = row.verified
    if v is None:
        return dict.fromkeys(VERIFIED_FIELDS)
    return {
        "verified_state": v.state,
        "verified_todos": v.todos,
        "verified_mistakes": v.mistakes,
        "verified_passed": v.passed,
        "verified_total": v.total,
        "mismatch": row.mismatch,
        "verified_note": v.note or None,
    }


def learner_records(learner: Learner, lang: str, verified: bool) -> list[dict]:
    """The learner's records: one per step, or one with step null for a folder that is not a
    workspace, or cannot be read."""
    problem = "; ".join(problems(learner, lang)) or None
    base = {"learner": learner.name, "path": str(learner.path), "lang": learner.lang}
    if not learner.workspace or learner.unreadable:
        state = NOT_A_WORKSPACE if not learner.workspace else UNREADABLE
        record = {**dict.fromkeys(FIELDS), **base, "state": state, "problem": problem}
        return [{**record, **dict.fromkeys(VERIFIED_FIELDS)} if verified else record]
    records = []
    for row in learner.steps:
        record = {
            **base,
            "step": row.step,
            "state": row.state,
            "todos": row.todos,
            "hints": row.hints,
            "mistakes": row.mistakes,
            "edited": row.edited,
            "last_check": iso_time(learner.last_check),
            "problem": problem,
        }
        records.append({**record, **_verified(row)} if verified else record)
    return records


def records(learners: list[Learner], lang: str, verified: bool = False) -> list[dict]:
    return [r for learner in learners for r in learner_records(learner, lang, verified)]


def as_json(learners: list[Learner], lang: str, verified: bool = False) -> str:
    return json.dumps(records(learners, lang, verified), ensure_ascii=False, indent=1) + "\n"


def _cell(value: object) -> object:
    """A CSV cell: lists joined by ';', a TODO's state as 1-1=done, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return ";".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def as_csv(learners: list[Learner], lang: str, verified: bool = False) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, FIELDS + (VERIFIED_FIELDS if verified else []), lineterminator="\n"
    )
    writer.writeheader()
    for record in records(learners, lang, verified):
        writer.writerow({key: _cell(value) for key, value in record.items()})
    return out.getvalue()
