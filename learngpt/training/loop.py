"""The course's training loop: `train_model(model, train, val, config)`, nanoGPT's plain loop.

Every course test, `learngpt experiment` and the web page's workspace models train through
here: AdamW with torch's defaults at a constant learning rate, random batches, a loss estimate
on random batches every eval_interval steps. (The command-line trainer, with its schedule,
clipping, checkpoints and processes, is learngpt/training/fit.py.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from learngpt.data import get_batch
from learngpt.evaluate import estimate_loss
from learngpt.training.state import History

__all__ = ["History", "Hooks", "estimate_loss", "train_model"]


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
    c, hooks, history = config, hooks or Hooks(), History()
    optimizer = torch.optim.AdamW(model.parameters(), lr=c.learning_rate)
    batch_rng = torch.Generator().manual_seed(c.seed)
    eval_rng = torch.Generator().manual_seed(c.seed + 1)
    device = next(model.parameters()).device
    clock = {"started": time.perf_counter(), "seconds": 0.0, "steps": 0}  # steps since an estimate

    def evaluate() -> None:
        splits = {"train": train_data, "val": val_data}
        if final_only and history.step < c.max_iters:
            skip_estimate(splits, c, eval_rng)
            return
        losses = estimate_loss(model, splits, c.batch_size, c.block_size, c.eval_iters, eval_rng)
        history.add(history.step, losses)
        if hooks.on_eval is not None:
            tokens = clock["steps"] * c.batch_size * c.block_size
            speed = tokens / clock["seconds"] if clock["seconds"] else 0.0
            elapsed = round(time.perf_counter() - clock["started"], 3)
            record = {"step": history.step, "train_loss": losses["train"]}
            record |= {"val_loss": losses["val"], "lr": c.learning_rate, "elapsed_s": elapsed}
            hooks.on_eval(record | {"tokens_per_s": round(speed, 1)})
        clock["seconds"], clock["steps"] = 0.0, 0

    model.train()
    evaluate()
    while history.step < c.max_iters:
        if hooks.should_stop is not None and hooks.should_stop():
            history.stopped = True
            break
        t0 = time.perf_counter()
        x, y = get_batch(train_data, c.batch_size, c.block_size, batch_rng)
        optimizer.zero_grad(set_to_none=True)
        _, loss = model(x.to(device), y.to(device))
        loss.backward()
        optimizer.step()
        history.step += 1
        clock["seconds"] += time.perf_counter() - t0
        clock["steps"] += 1
        if hooks.on_step is not None:
            hooks.on_step(history.step, loss.detach(), c.learning_rate)
        if history.step % c.eval_interval == 0 or history.step == c.max_iters:
            evaluate()
    return history


def skip_estimate(splits: dict[str, torch.Tensor], config, generator: torch.Generator) -> None:
    """Draw the batches an estimate would draw from `generator`, and nothing else: the next
    estimate is then the one it would have been (for a caller that needs only the last one)."""
    for data in splits.values():
        for _ in range(config.eval_iters):
            get_batch(data, config.batch_size, config.block_size, generator)
