"""Named mistakes: when a step's test fails, which of the mistakes learners make is it?

Each probe (learngpt/exercises/probes/) is one mistake: it runs the learner's class on a small
input and says whether the output is exactly what that mistake computes (a formula of its own,
not the learner's code or the reference's). `diagnose(step, course)` tries the probes of the
step, then of the steps it builds on, and returns the first matching key; its message is
`mistakes.<key>` in the catalog. A probe that raises, or returns anything odd, simply does not
match: nothing here may crash on a learner's values. Probes never match correct code
(tests/test_mistakes.py keeps to that).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable

import torch

from learngpt.exercises import limits
from learngpt.exercises.probes import MISTAKES, Mistake, get_mistake
from learngpt.exercises.syllabus import get_step

PROBE_S = 2.0  # a probe's time limit (the learner's code may loop forever)


def _matches(probe: Callable[[object], bool], course: object) -> bool:
    try:
        with (
            limits.deadline(PROBE_S),
            torch.random.fork_rng(),
            torch.no_grad(),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            torch.manual_seed(0)
            return probe(course) is True
    except (Exception, limits.TimeLimit):  # the learner's code failing is no match
        return False


def diagnose(step: int, course: object) -> str | None:
    """The key of the one mistake that matches `course`'s classes, for a failure of `step`."""
    steps = [step, *reversed(get_step(step).needs)]
    for number in steps:
        for m in MISTAKES:
            if m.step == number and _matches(m.probe, course):
                return m.key
    return None


def diagnose_workspace(step: int) -> str | None:
    """`diagnose` on the learner's package (`mygpt`, importable where the check runs)."""
    try:
        course = importlib.import_module("mygpt")
    except Exception:
        return None
    return diagnose(step, course)


__all__ = ["MISTAKES", "Mistake", "diagnose", "diagnose_workspace", "get_mistake"]
