"""The project's training loop: AdamW on random windows, with a periodic train/val loss estimate.

Every course test, `learngpt experiment` and the command-line trainer train through `train()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from learngpt.config import CourseConfig
from learngpt.data import get_batch


@dataclass
class History:
    """The loss estimates taken during training, one entry per evaluation."""

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)

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
) -> dict[str, float]:
    """Mean loss over `eval_iters` random batches of each split, in eval mode (no dropout)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = {}
    for name, data in splits.items():
        losses = torch.zeros(eval_iters)
        for k in range(eval_iters):
            x, y = get_batch(data, batch_size, block_size, generator)
            _, loss = model(x.to(device), y.to(device))
            losses[k] = loss.item()
        out[name] = losses.mean().item()
    model.train(was_training)
    return out


def train(
    model: nn.Module,
    train_data: torch.Tensor,
    val_data: torch.Tensor,
    config: CourseConfig,
) -> History:
    """Train `model` in place with AdamW for `config.max_iters` steps; return the loss history.

    The training batches and the evaluation batches each come from their own generator seeded
    with `config.seed`, so two models trained with the same seed see exactly the same data.
    The model's own initialisation is the caller's business (seed torch before building it).
    """
    device = next(model.parameters()).device
    batch_rng = torch.Generator().manual_seed(config.seed)
    eval_rng = torch.Generator().manual_seed(config.seed + 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate)
    splits = {"train": train_data, "val": val_data}
    history = History()
    model.train()
    for step in range(config.max_iters + 1):
        if step % config.eval_interval == 0 or step == config.max_iters:
            losses = estimate_loss(
                model, splits, config.batch_size, config.block_size, config.eval_iters, eval_rng
            )
            history.add(step, losses)
        if step == config.max_iters:
            break
        x, y = get_batch(train_data, config.batch_size, config.block_size, batch_rng)
        _, loss = model(x.to(device), y.to(device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return history
