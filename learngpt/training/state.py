"""Where a training run is, as data: `TrainState` (the trainer's) and `History` (the course's).

Saving a run after step n and loading it back continues exactly: the model, the optimizer and
the batches (learngpt.data.Batches) save and restore themselves (state_dict); the rest of what
the loop changes between two steps is a TrainState, plain fields and no behaviour, which
learngpt/training/fit.py reads and writes in the open.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainState:
    """The trainer's loop state besides the weights, the optimizer and the batches."""

    step: int = 0  # optimizer steps done
    # time.perf_counter() when the run's clock read 0: a resumed run's earlier seconds count
    started: float = field(default_factory=time.perf_counter)
    train_seconds: float = 0.0  # spent in steps (not estimates) since the last estimate
    steps_timed: int = 0  # steps since the last estimate
    eval_seconds: float = 0.0  # what the last estimate took, with its log and checkpoint
    best: float = math.inf  # the lowest val loss estimated so far
    saved_step: int = -1  # the step of the checkpoint on disk (-1: none)
    records: list[dict[str, Any]] = field(default_factory=list)  # log.jsonl so far
    stopped: bool = False  # a stop signal ended the run before its budget
    last_plot: float = 0.0  # time.perf_counter() when loss.png was last drawn


@dataclass
class History:
    """The loss estimates the course's loop took, one entry per evaluation."""

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    step: int = 0  # optimizer steps done when train_model() returned
    stopped: bool = False  # True if should_stop() ended the run before its budget

    def add(self, step: int, losses: dict[str, float]) -> None:
        self.steps.append(step)
        self.train_loss.append(losses["train"])
        self.val_loss.append(losses["val"])

    @property
    def final(self) -> dict[str, float]:
        return {"train": self.train_loss[-1], "val": self.val_loss[-1]}
