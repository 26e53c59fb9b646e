"""The project's training loop: AdamW on random windows, with a periodic train/val loss estimate.

Every course test, `learngpt experiment` and the command-line trainer train through `train_model()`.
Called with a model, the data and a config, it is the course's plain loop (constant learning
rate, AdamW with torch's defaults). The command-line trainer (learngpt/training/run.py) passes the
rest through keyword arguments: its own optimizer, a learning-rate schedule, gradient clipping,
a time budget, a start step and random generators to resume from, and hooks that show progress,
save checkpoints and ask the loop to stop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from learngpt.config import CourseConfig, TrainConfig
from learngpt.data import get_batch
from learngpt.evaluate import spread_windows
from learngpt.training.distributed import (
    ONE_PROCESS,
    World,
    check_batch_split,
    gradient_sync,
    rank_rows,
    without_ddp,
)


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


@torch.no_grad()
def estimate_loss(
    model: nn.Module,
    splits: dict[str, torch.Tensor],
    batch_size: int,
    block_size: int,
    eval_iters: int,
    generator: torch.Generator | None = None,
    world: World = ONE_PROCESS,
    spread: bool = False,
) -> dict[str, float]:
    """Mean loss over `eval_iters` batches of each split, in eval mode (no dropout).

    The batches are random windows drawn from `generator` (the course's way, nanoGPT's), or, with
    `spread`, the same eval_iters x batch_size windows at every call, evenly spaced over the
    split (learngpt.evaluate.spread_windows): then two estimates differ only because the model
    did, which is what choosing the best checkpoint needs.

    With several processes (`world`), each evaluates every W-th batch and the losses are summed
    over the processes: each batch's loss comes from exactly one of them, so the mean is the
    single-process number.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = {}
    for name, data in splits.items():
        if spread:
            x_all, y_all = spread_windows(data, block_size, eval_iters * batch_size)
            batches = [
                (x_all[i : i + batch_size], y_all[i : i + batch_size])
                for i in range(0, len(x_all), batch_size)
            ]
        else:  # drawn here, by every rank, so that every rank's generator stays in step
            batches = [
                get_batch(data, batch_size, block_size, generator) for _ in range(eval_iters)
            ]
        losses = torch.zeros(len(batches), device=device)  # on the device: one sync per split
        for k, (x, y) in enumerate(batches):
            if k % world.size == world.rank:
                _, loss = model(x.to(device), y.to(device))
                losses[k] = loss
        # each batch weighs by its rows (the spread's last one may be short): weights of exactly
        # 1.0 when the batches are equal, so then this is the plain mean, to the last bit
        rows = torch.tensor([len(x) for x, _ in batches], dtype=torch.float32, device=device)
        out[name] = (world.all_sum(losses) * (rows / rows.mean())).mean().item()
    model.train(was_training)
    return out


def cosine_schedule(config: TrainConfig) -> Callable[[int, float], float]:
    """lr_at(step, elapsed_s): linear warmup over warmup_iters steps, then cosine decay.

    The decay follows the fraction of the budget spent: steps / max_iters, or, with a time
    budget (max_time > 0), elapsed / max_time if that is further along. It ends at
    min_lr_ratio * learning_rate.
    """
    peak, floor = config.learning_rate, config.learning_rate * config.min_lr_ratio

    def lr_at(step: int, elapsed: float) -> float:
        progress = step / config.max_iters
        if config.max_time > 0:
            progress = max(progress, elapsed / config.max_time)
        decayed = floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
        warmup = min(1.0, (step + 1) / (config.warmup_iters + 1))
        return decayed * warmup

    return lr_at


def wsd_schedule(config: TrainConfig) -> Callable[[int, float], float]:
    """lr_at(step, elapsed_s): warmup, stable at the peak, then linear decay (the speed-runs').

    The peak holds until 1 - decay_ratio of the budget is spent (steps or time, as in
    cosine_schedule), then the rate falls linearly to min_lr_ratio * learning_rate at the end.
    """
    peak, floor = config.learning_rate, config.learning_rate * config.min_lr_ratio

    def lr_at(step: int, elapsed: float) -> float:
        progress = step / config.max_iters
        if config.max_time > 0:
            progress = max(progress, elapsed / config.max_time)
        decay = min(1.0, max(0.0, (progress - 1 + config.decay_ratio) / config.decay_ratio))
        warmup = min(1.0, (step + 1) / (config.warmup_iters + 1))
        return (peak - (peak - floor) * decay) * warmup

    return lr_at


def lr_schedule(config: TrainConfig) -> Callable[[int, float], float]:
    """The schedule config.lr_schedule names."""
    return wsd_schedule(config) if config.lr_schedule == "wsd" else cosine_schedule(config)


def train_model(
    model: nn.Module,
    train_data: torch.Tensor,
    val_data: torch.Tensor,
    config: CourseConfig,
    *,
    optimizer: torch.optim.Optimizer | None = None,
    lr_at: Callable[[int, float], float] | None = None,
    grad_clip: float = 0.0,
    max_time: float = 0.0,
    start_step: int = 0,
    elapsed: float = 0.0,
    batch_rng: torch.Generator | None = None,
    eval_rng: torch.Generator | None = None,
    on_step: Callable[[int, torch.Tensor, float], None] | None = None,
    on_eval: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    grad_accum: int = 1,
    world: World = ONE_PROCESS,
    spread_eval: bool = False,
) -> History:
    """Train `model` in place with AdamW for `config.max_iters` steps; return the loss history.

    The training batches and the evaluation batches each come from their own generator seeded
    with `config.seed`, so two models trained with the same seed see exactly the same data.
    The model's own initialisation is the caller's business (seed torch before building it).

    The loss is estimated before the first step and after every eval_interval-th step and the
    last one. Keyword arguments, all optional:
      optimizer: used instead of AdamW(model.parameters(), config.learning_rate).
      lr_at(step, elapsed_s) -> the learning rate of the next step (else constant).
      grad_clip: clip the gradient's global norm to this (0: no clipping).
      max_time: stop after this many seconds (0: no limit), counting `elapsed` and the final
        estimate: the loop stops early enough for it, guessing its cost from the last one.
      start_step, elapsed, batch_rng, eval_rng: where a resumed run left off (steps done,
        seconds spent, and the generators' states at that point).
      on_step(step, loss, lr) after each step (loss: a 0-d tensor, still on the device: reading
        it waits for the device, so read it only now and then).
      on_eval(record) after each estimate, with
        record = {step, train_loss, val_loss, lr, elapsed_s, tokens_per_s}.
      should_stop() -> True ends the run before the next step (history.stopped is then True).
      grad_accum: split each batch into this many micro-batches, one backward pass each, and
        step once (same gradient, less memory).
      world: this process's place among several training processes (training/distributed.py),
        with `model` wrapped in DDP; batch_size stays the global batch. Every rank calls
        train_model; they agree on when to stop and on the clock, so they step in lockstep.
      spread_eval: estimate on the same windows every time, spread over each split, instead of
        random batches from eval_rng (see estimate_loss).
    Everything the loop does between two steps depends only on the model, the optimizer and
    the generators, so saving those after step n and resuming from them continues exactly.
    """
    check_batch_split(config.batch_size, world.size, grad_accum)
    device = next(model.parameters()).device
    if batch_rng is None:
        batch_rng = torch.Generator().manual_seed(config.seed)
    if eval_rng is None:
        eval_rng = torch.Generator().manual_seed(config.seed + 1)
    if optimizer is None:
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    splits = {"train": train_data, "val": val_data}
    history = History(step=start_step)
    started = time.perf_counter() - elapsed  # so that elapsed_s() continues a resumed run
    train_seconds = 0.0  # time spent in steps (not estimates) since the last estimate
    tokens_per_step = config.batch_size * config.block_size

    def elapsed_s() -> float:
        return time.perf_counter() - started

    eval_seconds = 0.0  # what the last estimate and its hooks (checkpoint, plot) took

    def evaluate(step: int, lr: float, steps_since: int) -> None:
        nonlocal eval_seconds
        eval_started = time.perf_counter()
        losses = estimate_loss(
            without_ddp(model),
            splits,
            config.batch_size,
            config.block_size,
            config.eval_iters,
            eval_rng,
            world,
            spread_eval,
        )
        history.add(step, losses)
        if on_eval is not None:
            speed = steps_since * tokens_per_step / train_seconds if train_seconds else 0.0
            on_eval(
                {
                    "step": step,
                    "train_loss": losses["train"],
                    "val_loss": losses["val"],
                    "lr": lr,
                    "elapsed_s": round(elapsed_s(), 3),
                    "tokens_per_s": round(speed, 1),
                }
            )
        eval_seconds = time.perf_counter() - eval_started

    model.train()
    lr = lr_at(start_step, elapsed) if lr_at else config.learning_rate
    if start_step == 0:
        evaluate(0, lr, 0)
    step, steps_since = start_step, 0
    while step < config.max_iters:
        # every rank must take the same decisions: stop if any rank was asked to, and follow
        # the slowest clock (the schedule may depend on the time)
        stop, now = world.all_max(should_stop is not None and should_stop(), elapsed_s())
        if stop:
            history.stopped = True
            break
        t0 = time.perf_counter()
        if lr_at is not None:
            lr = lr_at(step, now)
            for group in optimizer.param_groups:  # lr_scale: see learngpt/training/optim.py
                group["lr"] = lr * group.get("lr_scale", 1.0)
        # this rank reads only its own rows of the batch, (B/W, T), then (B/(W*K), T) each
        mine = rank_rows(config.batch_size, world)
        x, y = get_batch(train_data, config.batch_size, config.block_size, batch_rng, mine)
        optimizer.zero_grad(set_to_none=True)
        batches = list(zip(x.chunk(grad_accum), y.chunk(grad_accum), strict=True))
        micro_losses = []
        for i, (xb, yb) in enumerate(batches):
            # DDP all-reduces the gradients in the last micro-step's backward only
            with gradient_sync(model, enabled=i == grad_accum - 1):
                _, micro_loss = model(xb.to(device), yb.to(device))
                if grad_accum > 1:
                    micro_loss = micro_loss / grad_accum  # the K gradients add up to the mean's
                micro_loss.backward()
            micro_losses.append(micro_loss.detach())
        if grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        step += 1
        steps_since += 1
        history.step = step
        train_seconds += time.perf_counter() - t0
        if on_step is not None:
            on_step(step, sum(micro_losses), lr)  # this rank's rows' loss, still a tensor
        # stop early enough for the final estimate too (guessed from the last one's cost)
        out_of_time = max_time > 0 and world.all_max(elapsed_s() + eval_seconds)[0] >= max_time
        if step % config.eval_interval == 0 or step == config.max_iters or out_of_time:
            evaluate(step, lr, steps_since)
            train_seconds, steps_since = 0.0, 0
        if out_of_time:
            break
    return history
