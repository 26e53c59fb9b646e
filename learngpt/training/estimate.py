"""The loss estimate the loop takes now and then: mean loss over batches of each split."""

from __future__ import annotations

import torch
from torch import nn

from learngpt.data import get_batch
from learngpt.evaluate import spread_windows
from learngpt.training.distributed import ONE_PROCESS, World


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
        out[name] = mean_loss(model, batches, device, world)
    model.train(was_training)
    return out


def skip_estimate(
    splits: dict[str, torch.Tensor],
    batch_size: int,
    block_size: int,
    eval_iters: int,
    generator: torch.Generator,
) -> None:
    """Draw the batches `estimate_loss` would draw from `generator`, and nothing else: the next
    estimate is then the one it would have been (for a caller that needs only the last one)."""
    for data in splits.values():
        for _ in range(eval_iters):
            get_batch(data, batch_size, block_size, generator)


def mean_loss(model: nn.Module, batches: list, device: torch.device, world: World) -> float:
    """The mean loss over `batches`, each computed by one rank, weighted by its rows."""
    losses = torch.zeros(len(batches), device=device)  # on the device: one sync per split
    for k, (x, y) in enumerate(batches):
        if k % world.size == world.rank:
            _, loss = model(x.to(device), y.to(device))
            losses[k] = loss
    # each batch weighs by its rows (the spread's last one may be short): weights of exactly
    # 1.0 when the batches are equal, so then this is the plain mean, to the last bit
    rows = torch.tensor([len(x) for x, _ in batches], dtype=torch.float32, device=device)
    return (world.all_sum(losses) * (rows / rows.mean())).mean().item()
