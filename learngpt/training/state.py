"""A training run in memory: the model, its optimizer, schedule, generators, clock and step.

`TrainState` is everything the loop (learngpt/training/loop.py) reads and changes between two
steps. Saving it after step n and rebuilding it from that save continues exactly (the
trainer's checkpoints, learngpt/training/run.py). Its methods are the loop's parts that are not
the step itself: the learning rate, the loss estimate, the stop decision.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from learngpt.training.distributed import (
    ONE_PROCESS,
    World,
    gradient_sync,
    rank_rows,
    without_ddp,
)
from learngpt.training.estimate import estimate_loss, skip_estimate


@dataclass
class History:
    """The loss estimates taken during training, one entry per evaluation."""

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


@dataclass
class Hooks:
    """What a caller hears from the loop and how it asks it to stop; each optional.

    on_step(step, loss, lr) after each step (loss: a 0-d tensor, still on the device: reading it
    waits for the device, so read it only now and then); on_eval(record) after each estimate,
    record = {step, train_loss, val_loss, lr, elapsed_s, tokens_per_s}; should_stop() -> True
    ends the run before the next step.
    """

    on_step: Callable[[int, torch.Tensor, float], None] | None = None
    on_eval: Callable[[dict[str, Any]], None] | None = None
    should_stop: Callable[[], bool] | None = None


class Clock:
    """Seconds of training so far, across resumes; and the time spent in steps since a mark."""

    def __init__(self, elapsed: float = 0.0):
        self.resumed = elapsed  # the seconds spent before this process took over
        self.started = time.perf_counter() - elapsed
        self.train_seconds = 0.0  # in steps (not estimates) since the last estimate
        self.steps = 0  # steps since the last estimate
        self.eval_seconds = 0.0  # what the last estimate and its hooks (checkpoint, plot) took

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def tokens_per_s(self, tokens_per_step: int) -> float:
        return self.steps * tokens_per_step / self.train_seconds if self.train_seconds else 0.0


@dataclass
class TrainState:
    """The loop's state. `model` is what steps (maybe wrapped in DDP or compiled); `world` says
    this process's place among several (training/distributed.py): batch_size stays the global
    batch, and every rank agrees on when to stop and on the clock, so they step in lockstep."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    config: Any  # CourseConfig or TrainConfig: batch_size, block_size, max_iters, eval_* ...
    splits: dict[str, torch.Tensor]  # {"train": ids, "val": ids}
    batch_rng: torch.Generator
    eval_rng: torch.Generator | None = None  # None: estimates on spread windows (estimate_loss)
    lr_at: Callable[[int, float], float] | None = None  # lr_at(step, elapsed_s); None: constant
    grad_clip: float = 0.0  # clip the gradient's global norm to this (0: no clipping)
    grad_accum: int = 1  # micro-batches per step, one backward pass each (same gradient)
    max_time: float = 0.0  # stop after this many seconds, the final estimate included (0: none)
    step: int = 0
    clock: Clock = field(default_factory=Clock)
    world: World = ONE_PROCESS
    hooks: Hooks = field(default_factory=Hooks)
    history: History = field(default_factory=History)
    # only the estimate after the last step is computed; the earlier ones only draw their batches
    # (the same last estimate, less work; for callers that read only History.final)
    final_only: bool = False

    def __post_init__(self) -> None:
        self.device = next(self.model.parameters()).device  # the batches go there

    def lr(self, now: float) -> float:
        """The learning rate of the next step, set on every param group (times its lr_scale)."""
        if self.lr_at is None:
            return self.config.learning_rate
        lr = self.lr_at(self.step, now)
        for group in self.optimizer.param_groups:  # lr_scale: see learngpt/training/optim.py
            group["lr"] = lr * group.get("lr_scale", 1.0)
        return lr

    def stop_requested(self) -> tuple[bool, float]:
        """(stop?, elapsed seconds), agreed by every rank: stop if any rank was asked to, and
        follow the slowest clock (the schedule may depend on the time)."""
        asked = self.hooks.should_stop is not None and self.hooks.should_stop()
        stop, now = self.world.all_max(asked, self.clock.elapsed())
        return bool(stop), now

    def out_of_time(self) -> bool:
        """Whether the budget leaves no room for another step and the final estimate (its cost
        guessed from the last one's)."""
        if self.max_time <= 0:
            return False
        return (
            self.world.all_max(self.clock.elapsed() + self.clock.eval_seconds)[0] >= self.max_time
        )

    @property
    def rows(self) -> slice:
        """The rows of each global batch that this rank trains on."""
        return rank_rows(self.config.batch_size, self.world)

    def forward_backward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """This rank's rows of the batch (B/W, T) in grad_accum micro-steps of (B/(W*K), T);
        their summed loss (a tensor)."""
        losses = []
        micro = zip(x.chunk(self.grad_accum), y.chunk(self.grad_accum), strict=True)
        for i, (xb, yb) in enumerate(micro):
            # DDP all-reduces the gradients in the last micro-step's backward only
            with gradient_sync(self.model, enabled=i == self.grad_accum - 1):
                _, loss = self.model(xb.to(self.device), yb.to(self.device))
                if self.grad_accum > 1:
                    loss = loss / self.grad_accum  # the K gradients add up to the mean's
                loss.backward()
            losses.append(loss.detach())
        return sum(losses)

    def evaluate(self, lr: float) -> None:
        """Estimate the loss of both splits, record it, and tell on_eval."""
        started = time.perf_counter()
        c = self.config
        if self.final_only and self.step < c.max_iters and self.eval_rng is not None:
            skip_estimate(self.splits, c.batch_size, c.block_size, c.eval_iters, self.eval_rng)
            return
        losses = estimate_loss(
            without_ddp(self.model),
            self.splits,
            c.batch_size,
            c.block_size,
            c.eval_iters,
            self.eval_rng,
            self.world,
            spread=self.eval_rng is None,
        )
        self.history.add(self.step, losses)
        if self.hooks.on_eval is not None:
            speed = self.clock.tokens_per_s(c.batch_size * c.block_size)
            record = {"step": self.step, "train_loss": losses["train"], "val_loss": losses["val"]}
            record |= {"lr": lr, "elapsed_s": round(self.clock.elapsed(), 3)}
            self.hooks.on_eval(record | {"tokens_per_s": round(speed, 1)})
        self.clock.train_seconds, self.clock.steps = 0.0, 0
        self.clock.eval_seconds = time.perf_counter() - started
