"""Named mistakes: when a step's test fails, which of the mistakes learners make is it?

Each probe (learngpt/exercises/probes/) is one mistake in one TODO's class: it runs the class
on a small input and tests a property of what it computes that the mistake breaks (of its own,
not the learner's code or the reference's), so two mistakes in one class are both found.
`diagnose(todos, course)` tries the probes of the TODOs a failing test exercises and returns
every matching key; its message is `mistakes.<key>` in the catalog. A probe that raises, or
returns anything odd, simply does not match: nothing here may crash on a learner's values.
Probes never match correct code, however it is written (tests/test_mistakes.py keeps to that).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterable

import torch

from learngpt.exercises import limits
from learngpt.exercises.probes import MISTAKES, Mistake, get_mistake

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


def diagnose(todos: Iterable[str], course: object) -> list[str]:
    """The keys of the mistakes of `todos` that `course`'s classes make, in the catalog's order."""
    wanted = set(todos)
    return [m.key for m in MISTAKES if m.todo in wanted and _matches(m.probe, course)]


def diagnose_workspace(todos: Iterable[str]) -> list[str]:
    """`diagnose` on the learner's package (`mygpt`, importable where the check runs)."""
    try:
        course = importlib.import_module("mygpt")
    except Exception:
        return []
    return diagnose(todos, course)


__all__ = ["MISTAKES", "Mistake", "diagnose", "diagnose_workspace", "get_mistake"]
