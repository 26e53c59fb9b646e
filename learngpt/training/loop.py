"""The project's training loop, top to bottom as in nanoGPT's train.py.

Every course test, `learngpt experiment` and the command-line trainer train through here.
`train_model(model, train, val, config)` is the course's plain loop (constant learning rate,
AdamW with torch's defaults). The command-line trainer (learngpt/training/run.py) builds a
richer TrainState (its optimizer, schedule, clipping, time budget, resumed step and generators,
hooks for progress, checkpoints and stop signals) and runs the same `run(state)`.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from learngpt.data import get_batch
from learngpt.training.distributed import check_batch_split
from learngpt.training.estimate import estimate_loss
from learngpt.training.state import History, Hooks, TrainState

__all__ = ["History", "Hooks", "TrainState", "estimate_loss", "run", "train_model"]


def train_model(
    model: nn.Module,
    train_data: torch.Tensor,
    val_data: torch.Tensor,
    config,
    hooks: Hooks | None = None,
    final_only: bool = False,
) -> History:
    """Train `model` in place with AdamW for `config.max_iters` steps; return the loss history.

    The training batches and the evaluation batches each come from their own generator seeded
    with `config.seed`, so two models trained with the same seed see exactly the same data.
    The model's own initialisation is the caller's business (seed torch before building it).
    The loss is estimated before the first step and after every eval_interval-th step and the
    last one; with `final_only`, only the last one (the earlier ones only draw their batches, so
    it is the same number).
    """
    state = TrainState(
        model=model,
        optimizer=torch.optim.AdamW(model.parameters(), lr=config.learning_rate),
        config=config,
        splits={"train": train_data, "val": val_data},
        batch_rng=torch.Generator().manual_seed(config.seed),
        eval_rng=torch.Generator().manual_seed(config.seed + 1),
        hooks=hooks or Hooks(),
        final_only=final_only,
    )
    return run(state)


def run(s: TrainState) -> History:
    """Step `s` until max_iters, a stop request or the time budget; estimate the loss on the way.

    Everything between two steps depends only on the model, the optimizer and the generators,
    so saving those after step n and resuming from them continues exactly.
    """
    c = s.config
    check_batch_split(c.batch_size, s.world.size, s.grad_accum)
    s.model.train()
    s.history.step = s.step  # a resumed run stopped before its first step is still at step n
    lr = s.lr(s.clock.resumed)
    if s.step == 0:
        s.evaluate(lr)
    while s.step < c.max_iters:
        stop, now = s.stop_requested()  # a signal on any rank stops every rank
        if stop:
            s.history.stopped = True
            break
        t0 = time.perf_counter()
        lr = s.lr(now)
        # this rank's rows of the global batch, (B/W, T): read from the data, the rest only drawn
        x, y = get_batch(s.splits["train"], c.batch_size, c.block_size, s.batch_rng, s.rows)
        s.optimizer.zero_grad(set_to_none=True)
        loss = s.forward_backward(x, y)
        if s.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(s.model.parameters(), s.grad_clip)
        s.optimizer.step()
        s.step += 1
        s.history.step = s.step
        s.clock.steps += 1
        s.clock.train_seconds += time.perf_counter() - t0
        if s.hooks.on_step is not None:
            s.hooks.on_step(s.step, loss, lr)  # this rank's rows' loss, still a tensor
        out_of_time = s.out_of_time()
        if s.step % c.eval_interval == 0 or s.step == c.max_iters or out_of_time:
            s.evaluate(lr)
        if out_of_time:
            break
    return s.history
