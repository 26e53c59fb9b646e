"""The class seen step by step: who finished a step, who is where, and the mistakes they make.

`step_view(learners, step)` groups the learners by their state at the step (the re-run's state
when the report was verified) and counts the named mistakes their last failures showed, the
mistakes most of the group makes first. `--step N` shows one step; `--by-step 7-10` the steps
week 2 gives to its teams, one after another.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from learngpt.instructor.learners import Learner, StepRow

STATES = ("done", "failing", "waiting", "unchecked", "not started")


@dataclass
class MistakeCount:
    key: str  # mistakes.<key> in the catalog
    learners: list[str]

    @property
    def count(self) -> int:
        return len(self.learners)


@dataclass
class StepView:
    step: int
    by_state: dict[str, list[str]] = field(default_factory=dict)  # state -> learners' names
    mistakes: list[MistakeCount] = field(default_factory=list)
    learners: int = 0  # how many workspaces were read at the step


def state_of(row: StepRow) -> str:
    """The step's state the views use: the re-run's, when there was one."""
    return row.verified.state if row.verified is not None else row.state


def mistakes_of(row: StepRow) -> list[str]:
    return row.verified.mistakes if row.verified is not None else row.mistakes


def step_view(learners: list[Learner], step: int) -> StepView:
    view = StepView(step)
    shown: dict[str, list[str]] = {}
    for learner in learners:
        row = next((r for r in learner.steps if r.step == step), None)
        if row is None:
            continue
        view.learners += 1
        view.by_state.setdefault(state_of(row), []).append(learner.name)
        for key in mistakes_of(row):
            shown.setdefault(key, []).append(learner.name)
    order = {state: i for i, state in enumerate(STATES)}
    view.by_state = dict(sorted(view.by_state.items(), key=lambda kv: order.get(kv[0], 99)))
    counts = Counter({key: len(names) for key, names in shown.items()})
    view.mistakes = [MistakeCount(key, shown[key]) for key, _ in counts.most_common()]
    return view


def parse_steps(spec: str, numbers: list[int]) -> list[int] | None:
    """ "7-10" -> [7, 8, 9, 10]; "2" -> [2]; None when `spec` names no steps of `numbers`."""
    first, sep, last = spec.strip().partition("-")
    try:
        low, high = int(first), int(last) if sep else int(first)
    except ValueError:
        return None
    if low not in numbers or high not in numbers or high < low:
        return None
    return [n for n in numbers if low <= n <= high]
