"""A model's loss on its data: exactly, over a whole split (`learngpt eval`), and estimated.

During training the loss is only *estimated*, on a few batches. Here the split is cut into
consecutive windows of block_size tokens and every token after the first is predicted exactly
once (each window predicts its own tokens shifted by one), so the number is deterministic and
two runs can be compared without sampling noise. Bits per character (loss in bits, times the
tokens, over the characters they cover) compares a character run with a BPE run.

`spread_windows` picks a few of those windows, evenly spaced over the split: the trainer's
estimates use them (`eval_batches`), a small systematic sample of this metric. The course's
loop estimates on random batches instead (`estimate_loss` does both). `batch_losses` computes a
process's share of the batches; the trainer sums the shares over its processes in its loop.
"""

from __future__ import annotations

import torch
from torch import nn

from learngpt.data import check_long_enough, get_batch
from learngpt.errors import UserError

Batch = tuple[torch.Tensor, torch.Tensor]  # x, y: (B, T) each


@torch.no_grad()
def split_loss(model: nn.Module, data: torch.Tensor, block_size: int, batch_size: int = 32):
    """(mean loss, tokens predicted) over `data` cut into consecutive block_size windows.

    Window i holds tokens i*T .. i*T+T-1 and predicts tokens i*T+1 .. i*T+T; the last window
    is shorter, so every token but the first is predicted exactly once.
    """
    model.eval()
    device = next(model.parameters()).device
    predicted = len(data) - 1
    if predicted < 1:
        raise UserError("the split is too short to evaluate: it needs at least 2 tokens")
    total = 0.0
    n_full = (len(data) - 1) // block_size  # whole windows, read batch by batch (streamed)
    for start in range(0, n_full, batch_size):
        rows = torch.arange(start, min(start + batch_size, n_full))
        x, y = windows_at(data, rows * block_size, block_size)
        _, loss = model(x.to(device), y.to(device))  # the mean over x.numel() predictions
        total += loss.item() * y.numel()
    rest = predicted - n_full * block_size
    if rest:
        tail = data[n_full * block_size :]  # rest + 1 tokens
        _, loss = model(tail[:-1][None].to(device), tail[1:][None].to(device))
        total += loss.item() * rest
    return total / predicted, predicted


def windows_at(data, starts: torch.Tensor, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """x, y of shape (N, T): the windows of T tokens at `starts` and the tokens they predict.

    Gathered by index, so `data` may be a tensor or a TokenFile (ids on disk, read in place).
    """
    index = starts[:, None] + torch.arange(block_size)
    return data[index], data[index + 1]


def spread_windows(
    data: torch.Tensor, block_size: int, count: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """x, y of shape (min(count, N), T): whole windows, evenly spaced from the split's start to end.

    The same windows every time, so two estimates made with them differ only because the model
    did: comparing two checkpoints this way is free of the sampling noise of random batches. A
    split of `count` windows or fewer gives all of them.
    """
    check_long_enough(data, block_size)
    n_full = (len(data) - 1) // block_size
    if count >= n_full:
        picked = torch.arange(n_full)
    else:
        # float32 holds every window index below 2**24; a bigger split (token files) needs more
        dtype = torch.float32 if n_full < 1 << 24 else torch.float64
        picked = torch.linspace(0, n_full - 1, count, dtype=dtype).round().long()  # distinct
    return windows_at(data, picked * block_size, block_size)


def eval_batches(data, batch_size: int, block_size: int, eval_iters: int) -> list[Batch]:
    """An estimate's batches: eval_iters x batch_size spread windows (the same every time), in
    batches of batch_size (the last may be shorter, if the split has fewer windows)."""
    x_all, y_all = spread_windows(data, block_size, eval_iters * batch_size)
    return [
        (x_all[i : i + batch_size], y_all[i : i + batch_size])
        for i in range(0, len(x_all), batch_size)
    ]


@torch.no_grad()
def batch_losses(model: nn.Module, batches: list[Batch], rank: int = 0, size: int = 1):
    """The loss of each batch that is this process's (batch k is process k % size's) and 0 for
    the others', in eval mode (no dropout): summed over the processes, every batch's loss."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    losses = torch.zeros(len(batches), device=device)  # on the device: one sync per estimate
    for k, (x, y) in enumerate(batches):
        if k % size == rank:
            _, loss = model(x.to(device), y.to(device))
            losses[k] = loss
    model.train(was_training)
    return losses


def mean_loss(losses: torch.Tensor, batches: list[Batch]) -> float:
    """The mean of the batches' losses, each weighed by its rows (the last spread batch may be
    short): weights of exactly 1.0 when the batches are equal, so then the plain mean, to the
    last bit."""
    rows = torch.tensor([len(x) for x, _ in batches], dtype=torch.float32, device=losses.device)
    return (losses * (rows / rows.mean())).mean().item()


def estimate_loss(
    model: nn.Module,
    splits: dict[str, torch.Tensor],
    batch_size: int,
    block_size: int,
    eval_iters: int,
    generator: torch.Generator | None = None,
    spread: bool = False,
) -> dict[str, float]:
    """Mean loss over `eval_iters` batches of each split, in one process.

    The batches are random windows drawn from `generator` (the course's way, nanoGPT's), or, with
    `spread`, the same eval_iters x batch_size windows at every call, evenly spaced over the
    split (eval_batches): then two estimates differ only because the model did, which is what
    choosing the best checkpoint needs.
    """
    out = {}
    for name, data in splits.items():
        if spread:
            batches = eval_batches(data, batch_size, block_size, eval_iters)
        else:
            batches = [
                get_batch(data, batch_size, block_size, generator) for _ in range(eval_iters)
            ]
        out[name] = mean_loss(batch_losses(model, batches), batches)
    return out
